import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ModelRuntime } from './runtime.js';
import { OnnxRuntime } from './runtimes/onnx-runtime.js';
import { ShadowRunner } from './shadow-runner.js';
import type { Tensor } from './tensors.js';

const EVAL_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'evaluation', 'fixtures');

/** The first `n` feature rows of the binary classifier's held-out CSV (the last column is the label). */
function rows(n: number): Float32Array[] {
  const lines = readFileSync(path.join(EVAL_FIXTURES, 'binary.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, n + 1);
  return lines.map((l) => Float32Array.from(l.split(',').slice(0, -1).map(Number)));
}

const input = (row: Float32Array): Tensor[] => [{ name: 'input', datatype: 'FP32', shape: [1, row.length], data: row }];

interface Done {
  result: Tensor[] | null;
  err: unknown;
}

/** Counts the calls a runtime receives and how many rows each had. */
function counting(inner: ModelRuntime): { runtime: ModelRuntime; calls: number[] } {
  const calls: number[] = [];
  const runtime: ModelRuntime = {
    kind: inner.kind,
    metadata: () => inner.metadata(),
    ready: () => inner.ready(),
    close: () => inner.close(),
    infer: (inputs, outputs) => {
      calls.push(inputs[0]!.shape[0]!);
      return inner.infer(inputs, outputs);
    },
  };
  return { runtime, calls };
}

describe('shadow runner', () => {
  it('runs a copy alone when idle, stacks copies that arrive during a call, and gives each its own rows', async () => {
    const onnx = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'binary.onnx'));
    try {
      const name = onnx.metadata().inputs[0]!.name;
      const { runtime, calls } = counting(onnx);
      const runner = new ShadowRunner(runtime, 8);
      const data = rows(20);
      const tensors = data.map((r) => [{ ...input(r)[0]!, name }]);
      const done = await Promise.all(
        tensors.map(
          (inputs) =>
            new Promise<Done>((resolve) =>
              runner.submit({ inputs, outputs: undefined, done: (result, err) => resolve({ result, err }) }),
            ),
        ),
      );
      // The first copy found no call running; the other 19 waited and went in calls of at most 8 rows.
      assert.deepEqual(calls, [1, 8, 8, 3]);
      for (const [i, d] of done.entries()) {
        assert.equal(d.err, null);
        const alone = await onnx.infer(tensors[i]!);
        assert.deepEqual(
          d.result!.map((t) => [t.name, t.shape]),
          alone.map((t) => [t.name, t.shape]),
        );
        // Stacked and single-row calls may take different kernels: float32 agrees to rounding.
        d.result!.forEach((t, j) => {
          const got = Array.from(t.data as ArrayLike<number | bigint>, Number);
          const want = Array.from(alone[j]!.data as ArrayLike<number | bigint>, Number);
          got.forEach((v, k) =>
            assert.ok(Math.abs(v - want[k]!) < 1e-6, `copy ${i}, ${t.name}[${k}]: ${v} vs ${want[k]}`),
          );
        });
      }
    } finally {
      await onnx.close();
    }
  });

  it('a copy that breaks a stacked call fails alone; the others still get answers', async () => {
    const onnx = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'binary.onnx'));
    try {
      const name = onnx.metadata().inputs[0]!.name;
      const runner = new ShadowRunner(onnx, 8);
      const data = rows(4);
      // Copy 2 has one feature too few: it cannot share a call with the others and fails on its own.
      const copies: Tensor[][] = data.map((r, i) => [
        { name, datatype: 'FP32', shape: [1, i === 2 ? r.length - 1 : r.length], data: i === 2 ? r.slice(1) : r },
      ]);
      const done = await Promise.all(
        copies.map(
          (inputs) =>
            new Promise<Done>((resolve) =>
              runner.submit({ inputs, outputs: undefined, done: (result, err) => resolve({ result, err }) }),
            ),
        ),
      );
      assert.deepEqual(
        done.map((d) => d.err === null),
        [true, true, false, true],
      );
    } finally {
      await onnx.close();
    }
  });

  it('falls back to one copy per call for a model whose outputs are not per-row', async () => {
    let calls = 0;
    // A model answering one summary value whatever the batch: not stackable.
    const summary: ModelRuntime = {
      kind: 'onnx',
      metadata: () => ({ platform: 'test', inputs: [], outputs: [] }),
      ready: () => true,
      close: () => Promise.resolve(),
      infer: async (inputs) => {
        calls++;
        await new Promise((r) => setImmediate(r));
        const x = inputs[0]!.data as Float32Array;
        return [{ name: 'sum', datatype: 'FP32', shape: [1], data: Float32Array.of(x.reduce((a, b) => a + b, 0)) }];
      },
    };
    const runner = new ShadowRunner(summary, 8);
    const done = await Promise.all(
      [1, 2, 3, 4].map(
        (v) =>
          new Promise<Done>((resolve) =>
            runner.submit({
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(v) }],
              outputs: undefined,
              done: (result, err) => resolve({ result, err }),
            }),
          ),
      ),
    );
    assert.deepEqual(
      done.map((d) => (d.result![0]!.data as Float32Array)[0]),
      [1, 2, 3, 4],
    );
    // 1 alone, then 3 stacked (answered with one row: not per-row), then each of the 3 alone.
    assert.equal(calls, 5);
  });

  it('when a stacked call fails, each copy runs alone, so only the copy that broke it fails', async () => {
    const calls: number[] = [];
    // Refuses any call holding a negative value.
    const picky: ModelRuntime = {
      kind: 'onnx',
      metadata: () => ({ platform: 'test', inputs: [], outputs: [] }),
      ready: () => true,
      close: () => Promise.resolve(),
      infer: async (inputs) => {
        const x = inputs[0]!.data as Float32Array;
        calls.push(x.length);
        await new Promise((r) => setImmediate(r));
        if (x.some((v) => v < 0)) throw new Error('negative input');
        return [{ name: 'y', datatype: 'FP32', shape: [x.length], data: x.map((v) => v * 2) }];
      },
    };
    const runner = new ShadowRunner(picky, 8);
    const done = await Promise.all(
      [1, 2, -3, 4].map(
        (v) =>
          new Promise<Done>((resolve) =>
            runner.submit({
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: Float32Array.of(v) }],
              outputs: undefined,
              done: (result, err) => resolve({ result, err }),
            }),
          ),
      ),
    );
    assert.deepEqual(
      done.map((d) => (d.result ? (d.result[0]!.data as Float32Array)[0] : String(d.err))),
      [2, 4, 'Error: negative input', 8],
    );
    assert.deepEqual(calls, [1, 3, 1, 1, 1]);
  });
});
