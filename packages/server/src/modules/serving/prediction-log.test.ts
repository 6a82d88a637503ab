import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { halfToFloat } from './oip/codec.js';
import { summarize, tensorsJson } from './prediction-log.js';
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
