// Tensors as the Open Inference Protocol (v2) names them. One representation for the whole
// serving path: the REST codec (JSON and the binary tensor extension) produces these, the router
// hands them to a runtime unchanged, and the prediction log records them.

/** OIP v2 datatypes. */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export const DATATYPES: readonly Datatype[] = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

/**
 * Row-major tensor data: a typed array for numeric types (BigInt64Array/BigUint64Array for the
 * 64-bit integers, Uint16Array holding raw half floats for FP16, Uint8Array of 0/1 for BOOL), an
 * array of Buffers for BYTES (each element one byte string; UTF-8 text for strings).
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Buffer[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Dimensions; the product equals the element count of `data`. */
  shape: number[];
  data: TensorData;
  /** Per-tensor parameters from the request (e.g. content_type), passed through. */
  parameters?: Record<string, unknown>;
}

/** A declared model input or output: OIP's tensor metadata. -1 in `shape` is a variable dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface InferRequest {
  /** The request id: the client's `id` field, else the x-request-id, else generated. */
  id: string;
  inputs: Tensor[];
  /** Requested outputs by name; empty or absent = all. */
  outputs?: string[];
  parameters?: Record<string, unknown>;
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id: string;
  outputs: Tensor[];
  parameters?: Record<string, unknown>;
}

/** Element count a shape describes. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
