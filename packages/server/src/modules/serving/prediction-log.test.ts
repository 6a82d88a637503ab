import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { halfToFloat } from './oip/codec.js';
import { decodeTensors, encodeTensors, loggable } from './logged-tensors.js';
import { PredictionLog, summarize, type PredictionRecord } from './prediction-log.js';
import { asStored, COLUMNS, toBatch, withTensorBytes, writerThreadSink, type LogRow } from './prediction-sink.js';
import type { Tensor } from './tensors.js';

describe('prediction log rows', () => {
  it('logs tensors of every datatype as bytes that read back as {name: {datatype, shape, data}}', () => {
    const half = 0x3e00; // 1.5 as an IEEE half float
    const tensors: Tensor[] = [
      { name: 'x "quoted" ü', datatype: 'FP32', shape: [1, 3], data: Float32Array.of(0.5, -2, 1e-7) },
      { name: 'f64', datatype: 'FP64', shape: [2], data: Float64Array.of(NaN, -Infinity) },
      { name: 'f32', datatype: 'FP32', shape: [2], data: Float32Array.of(Infinity, 1) },
      { name: 'i64', datatype: 'INT64', shape: [2], data: BigInt64Array.of(-5n, 2n ** 40n) },
      { name: 'u8', datatype: 'UINT8', shape: [2], data: Uint8Array.of(0, 255) },
      { name: 'b', datatype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0) },
      { name: 'h', datatype: 'FP16', shape: [1], data: Uint16Array.of(half) },
      { name: 's', datatype: 'BYTES', shape: [2], data: [Buffer.from('né'), Buffer.from('"x"')] },
    ];
    const bytes = encodeTensors(loggable(tensors, 100)!);
    assert.deepEqual(decodeTensors(bytes), {
      'x "quoted" ü': { datatype: 'FP32', shape: [1, 3], data: [0.5, -2, Math.fround(1e-7)] },
      f64: { datatype: 'FP64', shape: [2], data: [null, null] },
      f32: { datatype: 'FP32', shape: [2], data: [null, 1] },
      i64: { datatype: 'INT64', shape: [2], data: [-5, 2 ** 40] },
      u8: { datatype: 'UINT8', shape: [2], data: [0, 255] },
      b: { datatype: 'BOOL', shape: [2], data: [true, false] },
      h: { datatype: 'FP16', shape: [1], data: [halfToFloat(half)] },
      s: { datatype: 'BYTES', shape: [2], data: ['né', '"x"'] },
    });
    assert.equal(halfToFloat(half), 1.5);
  });

  it('logs null beyond the size bound, and null for no tensors', () => {
    const t: Tensor = { name: 'x', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) };
    assert.equal(loggable([t], 5), null);
    assert.notEqual(loggable([t], 6), null);
    assert.equal(loggable(null, 10), null);
    assert.throws(() => loggable([{ ...t, shape: [7] }], 10), /tensor x: shape holds 7 elements, data 6/);
  });

  it('hands the writer thread the tensors of each row as the bytes encodeTensors makes', () => {
    const body = Buffer.alloc(4096); // a view into a larger buffer, as a decoded request body gives
    const view = new Float32Array(body.buffer, body.byteOffset + 16, 2);
    view.set([1.5, NaN]);
    const tensors: Tensor[] = [
      { name: 'v', datatype: 'FP32', shape: [2], data: view },
      { name: 'i64', datatype: 'INT64', shape: [2], data: BigInt64Array.of(-5n, 2n ** 40n) },
      { name: 'h', datatype: 'FP16', shape: [1], data: Uint16Array.of(0x3e00) },
      { name: 'ß', datatype: 'BYTES', shape: [1], data: [Buffer.from('né')] },
    ];
    const row = (id: string, inputs: Tensor[] | null, outputs: Tensor[] | null, shadow: Tensor[] | null): LogRow => ({
      deployment_id: 'd1',
      request_id: id,
      version: 1,
      route: 'stable',
      outcome: 'ok',
      error: null,
      latency_ms: 1,
      output_label: null,
      output_value: null,
      inputs,
      outputs,
      created_at: 1,
      shadow_version: shadow ? 2 : null,
      shadow_outcome: shadow ? 'ok' : null,
      shadow_error: null,
      shadow_latency_ms: shadow ? 1 : null,
      shadow_label: null,
      shadow_value: null,
      shadow_outputs: shadow,
    });
    const rows = [
      row('a', tensors.slice(0, 2), null, null),
      row('b', null, tensors.slice(2), tensors.slice(1, 2)),
      row('c', tensors, tensors.slice(3), null),
    ];
    const batch = toBatch(rows);
    // Through a structured clone, as postMessage sends it.
    const values = withTensorBytes(structuredClone(batch));
    const at = (r: number, column: string) => values[r * COLUMNS.length + COLUMNS.indexOf(column as never)];
    rows.forEach((r, i) => {
      for (const column of ['inputs', 'outputs', 'shadow_outputs'] as const) {
        const expected = r[column] ? encodeTensors(r[column]) : null;
        assert.deepEqual(at(i, column), expected, `row ${i} ${column}`);
      }
      assert.equal(at(i, 'request_id'), r.request_id);
    });
  });

  it('summarizes the first output as a label (integers, strings) or a value (floats)', () => {
    assert.deepEqual(summarize([{ name: 'label', datatype: 'INT64', shape: [1], data: BigInt64Array.of(3n) }]), {
      label: '3',
      value: null,
    });
    assert.deepEqual(summarize([{ name: 'y', datatype: 'FP16', shape: [1], data: Uint16Array.of(0x3e00) }]), {
      label: null,
      value: 1.5,
    });
    assert.deepEqual(summarize([{ name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.of(NaN) }]), {
      label: null,
      value: null,
    });
  });
});

describe('prediction log queue', () => {
  const silent = { error: () => {} } as unknown as ConstructorParameters<typeof PredictionLog>[1];
  const record = (requestId: string, outputs: Tensor[]): PredictionRecord => ({
    deploymentId: 'd1',
    requestId,
    version: 1,
    route: 'stable',
    error: null,
    latencyMs: 1,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) }],
    outputs,
    at: 1_000,
    shadow: null,
  });

  it('turns records into rows after the turn that appended them, and drops (counts) one that cannot be', async () => {
    const written: LogRow[] = [];
    const log = new PredictionLog(
      { insert: (rows) => (written.push(...rows), Promise.resolve()), concurrency: 1, close: () => Promise.resolve() },
      silent,
      { flushMs: 1 },
    );
    const label = (v: bigint): Tensor[] => [
      { name: 'label', datatype: 'INT64', shape: [1], data: BigInt64Array.of(v) },
    ];
    log.append(record('a', label(1n)));
    // Its shape says two strings, its data holds one: no row can be made of it.
    log.append(record('bad', [{ name: 's', datatype: 'BYTES', shape: [2], data: [Buffer.from('x')] }]));
    log.append(record('b', label(0n)));
    await log.flush();
    assert.deepEqual(
      written.map(asStored).map((r) => [r.request_id, r.output_label, decodeTensors(r.inputs ?? null)]),
      [
        ['a', '1', { x: { datatype: 'FP32', shape: [1, 2], data: [1, 2] } }],
        ['b', '0', { x: { datatype: 'FP32', shape: [1, 2], data: [1, 2] } }],
      ],
    );
    assert.equal(log.dropped, 1);
    assert.equal(log.written, 2);
    await log.close();
    log.append(record('late', label(1n)));
    assert.equal(log.dropped, 2);
  });

  it("posts a batch while the last is still being written, up to the sink's concurrency; rows in flight count against the bound", async () => {
    const pending: { rows: number; done: () => void }[] = [];
    const log = new PredictionLog(
      {
        insert: (rows) => new Promise<void>((done) => pending.push({ rows: rows.length, done })),
        concurrency: 2,
        close: () => Promise.resolve(),
      },
      silent,
      { batchSize: 2, maxQueue: 5, flushMs: 5 },
    );
    const nextTurn = () => new Promise((r) => setImmediate(r));
    for (const id of ['a', 'b']) log.append(record(id, []));
    await nextTurn();
    for (const id of ['c', 'd']) log.append(record(id, []));
    await nextTurn();
    assert.deepEqual(
      pending.map((p) => p.rows),
      [2, 2],
      'the second batch went out before the first was written',
    );
    for (const id of ['e', 'f']) log.append(record(id, []));
    await nextTurn();
    assert.equal(pending.length, 2, 'no third write while two are in flight');
    assert.equal(log.dropped, 1, 'four rows in flight and one queued fill the bound of five');
    pending[0]!.done();
    await new Promise((r) => setTimeout(r, 30)); // the lone row goes out flushMs after it came

    assert.deepEqual(
      pending.map((p) => p.rows),
      [2, 2, 1],
    );
    for (const p of pending.slice(1)) p.done();
    await log.flush();
    assert.equal(log.written, 5);
  });

  it('a writer thread that cannot start fails every insert at once instead of leaving it waiting', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hangar-writer-'));
    // A database without the predictions table: the writer fails while preparing its statements.
    const sink = writerThreadSink({ engine: 'sqlite', file: path.join(dir, 'empty.db') });
    try {
      await assert.rejects(sink.insert([]), /SQLITE_ERROR|predictions/);
      await assert.rejects(sink.insert([]), /the prediction log writer stopped: (SQLITE_ERROR|.*predictions)/);
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
