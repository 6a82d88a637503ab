import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { halfToFloat } from './oip/codec.js';
import { PredictionLog, summarize, tensorsJson, type PredictionRecord } from './prediction-log.js';
import type { NewPrediction } from './store.js';
import type { Tensor } from './tensors.js';

describe('prediction log rows', () => {
  it('logs tensors as {name: {datatype, shape, data}} JSON, whatever their datatype', () => {
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
    const text = tensorsJson(tensors, 100)!;
    assert.deepEqual(JSON.parse(text), {
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
    assert.equal(tensorsJson([t], 5), null);
    assert.notEqual(tensorsJson([t], 6), null);
    assert.equal(tensorsJson(null, 10), null);
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
    const written: NewPrediction[] = [];
    const log = new PredictionLog(
      { insert: (rows) => (written.push(...rows), Promise.resolve()), close: () => Promise.resolve() },
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
      written.map((r) => [r.request_id, r.output_label, r.inputs]),
      [
        ['a', '1', '{"x":{"datatype":"FP32","shape":[1,2],"data":[1,2]}}'],
        ['b', '0', '{"x":{"datatype":"FP32","shape":[1,2],"data":[1,2]}}'],
      ],
    );
    assert.equal(log.dropped, 1);
    assert.equal(log.written, 2);
    await log.close();
    log.append(record('late', label(1n)));
    assert.equal(log.dropped, 2);
  });
});
