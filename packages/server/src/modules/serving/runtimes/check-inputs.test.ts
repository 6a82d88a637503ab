import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeInputError } from '../runtime.js';
import type { Tensor, TensorSpec } from '../tensors.js';
import { checkInputs, checkOutputs, specMap } from './check-inputs.js';

const specs = specMap([
  { name: 'age', datatype: 'FP64', shape: [-1] },
  { name: 'city', datatype: 'BYTES', shape: [-1] },
]);
const age = (shape: number[]): Tensor => ({
  name: 'age',
  datatype: 'FP64',
  shape,
  data: new Float64Array(shape.reduce((a, b) => a * b, 1)),
});
const city = (shape: number[]): Tensor => ({
  name: 'city',
  datatype: 'BYTES',
  shape,
  data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Buffer.from('Paris')),
});

const refuses = (fn: () => void, message: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof RuntimeInputError && message.test(e.message));

describe('checkInputs', () => {
  it('takes inputs as declared, in any order', () => {
    checkInputs(specs, [city([3]), age([3])]);
  });

  it('takes [n, 1] for a declared [-1] (and the reverse) only when told to squeeze trailing ones', () => {
    refuses(
      () => checkInputs(specs, [age([3, 1]), city([3])]),
      /input "age" has shape \[3, 1\]: the model takes \[-1\]/,
    );
    checkInputs(specs, [age([3, 1]), city([3, 1])], { squeezeTrailingOnes: true });
    const wide = specMap([{ name: 'x', datatype: 'FP32', shape: [-1, 1] }]);
    checkInputs(wide, [{ name: 'x', datatype: 'FP32', shape: [2], data: new Float32Array(2) }], {
      squeezeTrailingOnes: true,
    });
    // Squeezing never makes a wrong width fit.
    refuses(
      () => checkInputs(specs, [age([3, 2]), city([3])], { squeezeTrailingOnes: true }),
      /input "age" has shape \[3, 2\]/,
    );
  });

  it('checks BYTES data is byte strings', () => {
    refuses(
      () => checkInputs(specs, [age([1]), { ...city([1]), data: new Uint8Array(1) }]),
      /input "city" is BYTES but its data is not byte strings/,
    );
  });

  it('does not check the rank of an input declared with an unknown shape', () => {
    const any: ReadonlyMap<string, TensorSpec> = specMap([{ name: 'x', datatype: 'INT64', shape: [] }]);
    checkInputs(any, [{ name: 'x', datatype: 'INT64', shape: [2, 2], data: new BigInt64Array(4) }]);
  });

  it('with nothing declared, still checks the tensors are consistent', () => {
    checkInputs(new Map(), [age([2])]);
    refuses(
      () => checkInputs(new Map(), [{ ...age([2]), shape: [3] }]),
      /input "age" has 2 values but its shape \[3\] holds 3/,
    );
  });
});

describe('checkOutputs', () => {
  const outs = specMap([
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'proba', datatype: 'FP32', shape: [-1, 2] },
  ]);

  it('takes nothing, or declared names once each', () => {
    checkOutputs(outs, undefined);
    checkOutputs(outs, []);
    checkOutputs(outs, ['proba', 'label']);
  });

  it('refuses unknown and repeated names', () => {
    refuses(() => checkOutputs(outs, ['score']), /unknown output "score": the model has "label", "proba"/);
    refuses(() => checkOutputs(outs, ['label', 'label']), /output "label" is requested more than once/);
  });
});
