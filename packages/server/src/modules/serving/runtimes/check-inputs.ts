import { RuntimeInputError } from '../runtime.js';
import { elementCount, type Datatype, type Tensor, type TensorSpec } from '../tensors.js';

/** The typed array each OIP datatype travels in (tensors.ts); BYTES is an array of Buffers. */
const ARRAY_OF: Record<Exclude<Datatype, 'BYTES'>, { name: string; is: (d: unknown) => boolean }> = {
  BOOL: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  UINT8: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  UINT16: { name: 'Uint16Array', is: (d) => d instanceof Uint16Array },
  UINT32: { name: 'Uint32Array', is: (d) => d instanceof Uint32Array },
  UINT64: { name: 'BigUint64Array', is: (d) => d instanceof BigUint64Array },
  INT8: { name: 'Int8Array', is: (d) => d instanceof Int8Array },
  INT16: { name: 'Int16Array', is: (d) => d instanceof Int16Array },
  INT32: { name: 'Int32Array', is: (d) => d instanceof Int32Array },
  INT64: { name: 'BigInt64Array', is: (d) => d instanceof BigInt64Array },
  FP16: { name: 'Uint16Array', is: (d) => d instanceof Uint16Array },
  FP32: { name: 'Float32Array', is: (d) => d instanceof Float32Array },
  FP64: { name: 'Float64Array', is: (d) => d instanceof Float64Array },
};

export interface CheckOptions {
  /**
   * Accept a rank that differs from the declared one only by trailing dimensions of size 1
   * (`[n, 1]` for a declared `[-1]` and the reverse). Model servers whose metadata comes from
   * MLflow column signatures declare `[-1]` per column and take either form.
   */
  squeezeTrailingOnes?: boolean;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function dimsMatch(declared: readonly number[], given: readonly number[]): boolean {
  if (declared.length !== given.length) return false;
  for (let i = 0; i < declared.length; i++) {
    const d = declared[i]!;
    if (d >= 0 && d !== given[i]) return false;
  }
  return true;
}

function withoutTrailingOnes(shape: readonly number[]): readonly number[] {
  let end = shape.length;
  while (end > 1 && shape[end - 1] === 1) end--;
  return end === shape.length ? shape : shape.slice(0, end);
}

/**
 * Checks a request's input tensors against a model's declared inputs, before they reach the model
 * (whose own messages are cryptic or, for model servers, a bare 500): every declared input present
 * once, no unknown names, the declared datatype carried in its typed array, the declared rank and
 * every fixed dimension, and as many values as the shape holds. A declared shape of `[]` means
 * unknown rank (onnxruntime reports it so) and is not checked. Throws RuntimeInputError naming
 * the input; returns nothing when all is well. `specs` empty = the model declares nothing: only
 * the tensors' own consistency is checked.
 */
export function checkInputs(
  specs: ReadonlyMap<string, TensorSpec>,
  inputs: readonly Tensor[],
  opts: CheckOptions = {},
): void {
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    const spec = specs.get(t.name);
    if (spec === undefined && specs.size > 0) {
      throw new RuntimeInputError(
        `unknown input "${t.name}": the model takes ${[...specs.keys()].map((n) => `"${n}"`).join(', ')}`,
      );
    }
    for (let j = 0; j < i; j++) {
      if (inputs[j]!.name === t.name) throw new RuntimeInputError(`input "${t.name}" is given more than once`);
    }
    if (spec !== undefined) {
      if (t.datatype !== spec.datatype) {
        throw new RuntimeInputError(`input "${t.name}" is ${t.datatype}: the model takes ${spec.datatype}`);
      }
      if (spec.shape.length > 0 && !dimsMatch(spec.shape, t.shape)) {
        const squeezed =
          opts.squeezeTrailingOnes === true && dimsMatch(withoutTrailingOnes(spec.shape), withoutTrailingOnes(t.shape));
        if (!squeezed) {
          throw new RuntimeInputError(
            `input "${t.name}" has shape ${shapeText(t.shape)}: the model takes ${shapeText(spec.shape)} (-1 = any size)`,
          );
        }
      }
    }
    checkData(t);
  }
  if (inputs.length < specs.size) {
    for (const name of specs.keys()) {
      if (!inputs.some((t) => t.name === name)) throw new RuntimeInputError(`missing input "${name}"`);
    }
  }
}

/** The tensor's data is the array its datatype travels in and holds as many values as its shape. */
function checkData(t: Tensor): void {
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RuntimeInputError(
        `input "${t.name}" has shape ${shapeText(t.shape)}: dimensions are whole numbers >= 0`,
      );
    }
  }
  if (t.datatype === 'BYTES') {
    if (!Array.isArray(t.data))
      throw new RuntimeInputError(`input "${t.name}" is BYTES but its data is not byte strings`);
  } else {
    const want = ARRAY_OF[t.datatype];
    if (want === undefined)
      throw new RuntimeInputError(`input "${t.name}" has an unknown datatype ${String(t.datatype)}`);
    if (!want.is(t.data)) {
      throw new RuntimeInputError(`input "${t.name}" is ${t.datatype} but its data is not a ${want.name}`);
    }
  }
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw new RuntimeInputError(
      `input "${t.name}" has ${t.data.length} values but its shape ${shapeText(t.shape)} holds ${n}`,
    );
  }
}

/**
 * Checks requested output names against the declared outputs: throws RuntimeInputError naming the
 * first unknown or repeated one. Nothing requested (undefined or empty) is always fine: all outputs.
 */
export function checkOutputs(specs: ReadonlyMap<string, TensorSpec>, outputs: readonly string[] | undefined): void {
  if (outputs === undefined) return;
  for (let i = 0; i < outputs.length; i++) {
    const name = outputs[i]!;
    if (specs.size > 0 && !specs.has(name)) {
      throw new RuntimeInputError(
        `unknown output "${name}": the model has ${[...specs.keys()].map((n) => `"${n}"`).join(', ')}`,
      );
    }
    if (outputs.indexOf(name) !== i) throw new RuntimeInputError(`output "${name}" is requested more than once`);
  }
}

/** Declared tensors by name, in declaration order (Maps keep insertion order). */
export function specMap(specs: readonly TensorSpec[]): Map<string, TensorSpec> {
  return new Map(specs.map((s) => [s.name, s]));
}
