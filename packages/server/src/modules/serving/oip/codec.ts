import { isUtf8 } from 'node:buffer';
import { InputError } from '../../../core/errors.js';
import { DATATYPES, type Datatype, type InferResponse, type Tensor, type TensorData } from '../tensors.js';

/*
 * Open Inference Protocol v2 REST codec: JSON tensors and the binary tensor data extension, as
 * tritonclient.http speaks them. A binary request is the JSON header (its byte length in the
 * Inference-Header-Content-Length header) followed by each binary tensor's bytes, in the order the
 * tensors are listed, each tensor marked with `parameters.binary_data_size`. Numeric data is
 * little-endian, row-major, unpadded; BOOL is one byte 0/1; a BYTES element is a 4-byte
 * little-endian length followed by its bytes.
 */

/** The request is malformed or its tensors are invalid; the message names the input or field. Routes answer 400. */
export class InferInputError extends InputError {}

/** A response from another Open Inference Protocol server could not be decoded (that server's fault, not the caller's). */
export class InferResponseError extends Error {
  override readonly name = 'InferResponseError';
}

export interface ParsedInferRequest {
  id?: string;
  inputs: Tensor[];
  outputs?: { name: string; binary: boolean }[];
  /** binary_data_output request parameter: every output binary unless an output says otherwise. */
  binaryOutputsByDefault: boolean;
  parameters?: Record<string, unknown>;
}

/** Bounds the work one request may cause. */
export interface CodecLimits {
  /** Elements across all tensors of one request. */
  maxElements: number;
  /** Bytes of one BYTES element. */
  maxBytesPerElement?: number;
}

export interface EncodedResponse {
  body: Buffer;
  /** Set when the body has a binary section: the JSON header's byte length (the Inference-Header-Content-Length header). */
  headerLength?: number;
  contentType: string;
}

type NumericData = Exclude<TensorData, Buffer[]>;
type ErrorClass = new (message: string) => Error;

export const ITEM_SIZE: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

// [min, max] of the integer types small enough to live in a JS number exactly.
export const INT_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
};

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);

// Binary tensors are copied byte for byte into typed arrays, which use the host's byte order.
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether `s` names an OIP datatype. */
export function isDatatype(s: unknown): s is Datatype {
  return typeof s === 'string' && DATATYPE_SET.has(s);
}

/** A zeroed typed array of `n` elements of a numeric datatype, as `TensorData` holds it. */
export function allocateNumeric(datatype: Exclude<Datatype, 'BYTES'>, n: number): NumericData {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(n);
    case 'UINT16':
    case 'FP16':
      return new Uint16Array(n);
    case 'UINT32':
      return new Uint32Array(n);
    case 'UINT64':
      return new BigUint64Array(n);
    case 'INT8':
      return new Int8Array(n);
    case 'INT16':
      return new Int16Array(n);
    case 'INT32':
      return new Int32Array(n);
    case 'INT64':
      return new BigInt64Array(n);
    case 'FP32':
      return new Float32Array(n);
    case 'FP64':
      return new Float64Array(n);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE 754 binary16 bits of `v`, rounded to nearest even (via float32, as numpy's float32 -> float16
 * does); overflow gives infinity, NaN stays NaN.
 */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** The number that IEEE 754 binary16 bits `h` encode. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Decodes an inference request body: pure JSON (`headerLength` undefined) or a JSON header of
 * `headerLength` bytes followed by the binary tensor data. Every input's data (flat or nested
 * row-major) is validated against its datatype and shape and decoded into `TensorData`: numbers for
 * numeric types (null read as NaN for floats; integers exact and in range, so 64-bit ones within
 * 2^53 in JSON), booleans for BOOL, strings for BYTES (UTF-8, or base64 when the input says
 * `content_type: "base64"`). Binary sections must add up to the body exactly. Throws
 * `InferInputError` naming the input or field for anything malformed, and for more than
 * `limits.maxElements` elements in all.
 */
export function parseInferRequest(
  body: Buffer,
  headerLength: number | undefined,
  limits: CodecLimits,
): ParsedInferRequest {
  const root = parseHeader(body, headerLength, InferInputError);
  const parsed: ParsedInferRequest = { inputs: [], binaryOutputsByDefault: false };
  if (root.id !== undefined) {
    if (typeof root.id !== 'string') throw new InferInputError('field "id" must be a string', 'id');
    parsed.id = root.id;
  }
  if (root.parameters !== undefined) {
    if (!isObject(root.parameters)) throw new InferInputError('field "parameters" must be an object', 'parameters');
    const bdo = root.parameters.binary_data_output;
    if (bdo !== undefined && typeof bdo !== 'boolean')
      throw new InferInputError('parameter "binary_data_output" must be a boolean', 'parameters');
    parsed.binaryOutputsByDefault = bdo === true;
    parsed.parameters = root.parameters;
  }
  parsed.inputs = decodeTensors(root.inputs, 'input', body, headerLength, limits, InferInputError);
  if (root.outputs !== undefined) parsed.outputs = parseRequestedOutputs(root.outputs, parsed.binaryOutputsByDefault);
  return parsed;
}

/**
 * Which outputs of a parsed request go in the binary section, in the form `encodeInferResponse`
 * takes: the outputs that asked for binary when the request lists outputs, else all or none by the
 * `binary_data_output` request parameter (tritonclient sets it when it lists no outputs).
 */
export function binaryOutputSelection(req: ParsedInferRequest): ReadonlySet<string> | 'all' | 'none' {
  if (!req.outputs || req.outputs.length === 0) return req.binaryOutputsByDefault ? 'all' : 'none';
  const names = req.outputs.filter((o) => o.binary).map((o) => o.name);
  return names.length === 0 ? 'none' : new Set(names);
}

function parseRequestedOutputs(raw: unknown, binaryByDefault: boolean): { name: string; binary: boolean }[] {
  if (!Array.isArray(raw)) throw new InferInputError('field "outputs" must be an array', 'outputs');
  const out: { name: string; binary: boolean }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const o: unknown = raw[i];
    if (!isObject(o) || typeof o.name !== 'string' || o.name === '')
      throw new InferInputError(`outputs[${i}] must be an object with a non-empty "name"`, 'outputs');
    const name = o.name;
    if (out.some((x) => x.name === name))
      throw new InferInputError(`output "${name}" is requested more than once`, 'outputs');
    let binary = binaryByDefault;
    if (o.parameters !== undefined) {
      if (!isObject(o.parameters))
        throw new InferInputError(`output "${name}": "parameters" must be an object`, 'outputs');
      const b = o.parameters.binary_data;
      if (b !== undefined) {
        if (typeof b !== 'boolean')
          throw new InferInputError(`output "${name}": parameter "binary_data" must be a boolean`, 'outputs');
        binary = b;
      }
      // Triton's classification extension would change the output's meaning; refuse rather than ignore it.
      const c = o.parameters.classification;
      if (c !== undefined && c !== 0)
        throw new InferInputError(`output "${name}": parameter "classification" is not supported`, 'outputs');
    }
    out.push({ name, binary });
  }
  return out;
}

/** Validates the header length and parses the JSON header into an object. */
function parseHeader(body: Buffer, headerLength: number | undefined, Err: ErrorClass): Record<string, unknown> {
  let end = body.length;
  if (headerLength !== undefined) {
    if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length)
      throw new Err(
        `Inference-Header-Content-Length ${headerLength} is not between 0 and the body length ${body.length}`,
      );
    end = headerLength;
  }
  let root: unknown;
  try {
    root = JSON.parse(body.toString('utf8', 0, end));
  } catch (e) {
    throw new Err(`malformed JSON: ${(e as Error).message}`);
  }
  if (!isObject(root)) throw new Err('the body must be a JSON object');
  return root;
}

/**
 * Decodes the `inputs` (or a response's `outputs`) array. Binary tensors take their bytes from the
 * section after the header, in list order; the section must be consumed exactly.
 */
function decodeTensors(
  raw: unknown,
  kind: 'input' | 'output',
  body: Buffer,
  headerLength: number | undefined,
  limits: CodecLimits,
  Err: ErrorClass,
): Tensor[] {
  const field = `${kind}s`;
  if (!Array.isArray(raw)) throw new Err(`field "${field}" must be an array`);
  if (kind === 'input' && raw.length === 0) throw new Err('field "inputs" must list at least one input');
  const tensors: Tensor[] = new Array<Tensor>(raw.length);
  let offset = headerLength ?? body.length;
  let elements = 0;
  for (let i = 0; i < raw.length; i++) {
    const t: unknown = raw[i];
    if (!isObject(t) || typeof t.name !== 'string' || t.name === '')
      throw new Err(`${field}[${i}] must be an object with a non-empty "name"`);
    const name = t.name;
    const where = `${kind} ${JSON.stringify(name)}`;
    for (let j = 0; j < i; j++) if (tensors[j]!.name === name) throw new Err(`${where} is given more than once`);
    if (!isDatatype(t.datatype)) {
      throw new Err(
        t.datatype === undefined
          ? `${where}: "datatype" is missing`
          : `${where}: unknown datatype ${JSON.stringify(t.datatype)} (expected one of ${DATATYPES.join(', ')})`,
      );
    }
    const datatype = t.datatype;
    const shape = parseShape(t.shape, where, Err);
    let count = 1;
    for (const d of shape) count *= d;
    elements += count;
    if (elements > limits.maxElements)
      throw new Err(
        elements === count
          ? `${where}: ${count} elements exceed the limit of ${limits.maxElements} elements per request`
          : `${where}: ${count} more elements make ${elements}, over the limit of ${limits.maxElements} elements per request`,
      );

    let parameters: Record<string, unknown> | undefined;
    let binarySize: number | undefined;
    if (t.parameters !== undefined) {
      if (!isObject(t.parameters)) throw new Err(`${where}: "parameters" must be an object`);
      const { binary_data_size: size, ...rest } = t.parameters;
      if (size !== undefined) {
        if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
          throw new Err(`${where}: "binary_data_size" must be a non-negative integer`);
        binarySize = size;
      }
      for (const _ in rest) {
        parameters = rest;
        break;
      }
    }

    let data: TensorData;
    if (binarySize !== undefined) {
      if (t.data !== undefined) throw new Err(`${where}: has both "data" and "binary_data_size"`);
      if (headerLength === undefined)
        throw new Err(`${where}: "binary_data_size" needs the Inference-Header-Content-Length header`);
      if (offset + binarySize > body.length)
        throw new Err(
          `${where}: binary data truncated: binary_data_size is ${binarySize} bytes, ${body.length - offset} remain`,
        );
      data = decodeBinary(where, datatype, shape, count, body, offset, binarySize, limits, Err);
      offset += binarySize;
    } else {
      if (t.data === undefined) throw new Err(`${where}: "data" is missing`);
      data = decodeJson(where, datatype, shape, count, t.data, parameters, limits, Err);
    }
    const tensor: Tensor = { name, datatype, shape, data };
    if (parameters) tensor.parameters = parameters;
    tensors[i] = tensor;
  }
  if (offset !== body.length)
    throw new Err(
      `the binary section has ${body.length - offset} bytes more than the ${field}' binary_data_size add up to`,
    );
  return tensors;
}

function parseShape(raw: unknown, where: string, Err: ErrorClass): number[] {
  if (!Array.isArray(raw)) throw new Err(`${where}: "shape" must be an array of non-negative integers`);
  for (let i = 0; i < raw.length; i++) {
    const d: unknown = raw[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw new Err(`${where}: shape dimension ${i} is ${JSON.stringify(d)}, not a non-negative integer`);
  }
  return raw as number[];
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function decodeBinary(
  where: string,
  datatype: Datatype,
  shape: readonly number[],
  count: number,
  body: Buffer,
  offset: number,
  size: number,
  limits: CodecLimits,
  Err: ErrorClass,
): TensorData {
  if (datatype === 'BYTES') {
    // One copy of the section; elements are views into it, so they do not pin the request body.
    const section = Buffer.from(body.subarray(offset, offset + size));
    const out: Buffer[] = new Array<Buffer>(count);
    let p = 0;
    let n = 0;
    while (p < size) {
      if (n === count)
        throw new Err(`${where}: binary data holds more than the ${count} elements of shape ${describeShape(shape)}`);
      if (p + 4 > size) throw new Err(`${where}: binary element ${n} is truncated (no room for its 4-byte length)`);
      const len = section.readUInt32LE(p);
      p += 4;
      if (limits.maxBytesPerElement !== undefined && len > limits.maxBytesPerElement)
        throw new Err(`${where}: element ${n} has ${len} bytes, more than the limit of ${limits.maxBytesPerElement}`);
      if (p + len > size)
        throw new Err(`${where}: binary element ${n} is truncated (length ${len}, ${size - p} bytes left)`);
      out[n++] = section.subarray(p, p + len);
      p += len;
    }
    if (n !== count)
      throw new Err(`${where}: shape ${describeShape(shape)} needs ${count} elements, binary data has ${n}`);
    return out;
  }
  const expected = count * ITEM_SIZE[datatype];
  if (size !== expected)
    throw new Err(
      `${where}: binary_data_size is ${size} bytes, shape ${describeShape(shape)} of ${datatype} needs ${expected}`,
    );
  if (!LITTLE_ENDIAN) throw new Error('binary tensor data needs a little-endian host');
  const out = allocateNumeric(datatype, count);
  // Copied rather than viewed: the section need not be aligned for the typed array.
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(body.subarray(offset, offset + size));
  if (datatype === 'BOOL') {
    const b = out as Uint8Array;
    for (let i = 0; i < count; i++) if (b[i]! > 1) throw new Err(`${where}: BOOL element ${i} is ${b[i]}, not 0 or 1`);
  }
  return out;
}

/** The leaves of nested `data` in row-major order; flat data is returned as is. */
function flatten(where: string, data: unknown, shape: readonly number[], count: number, Err: ErrorClass): unknown[] {
  if (!Array.isArray(data)) throw new Err(`${where}: "data" must be an array`);
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  const out = new Array<unknown>(count);
  const n = collect(data, out, 0, 1, where, shape, count, Err);
  if (n !== count) throw countError(where, shape, count, n, Err);
  return out;
}

/** Copies the leaves of `node` into `out` from index `n`; returns the next index. */
function collect(
  node: unknown[],
  out: unknown[],
  n: number,
  depth: number,
  where: string,
  shape: readonly number[],
  count: number,
  Err: ErrorClass,
): number {
  // Deeper than the rank cannot be the tensor's natural form; the bound also keeps recursion shallow.
  if (depth > shape.length) throw new Err(`${where}: "data" is nested deeper than shape ${describeShape(shape)}`);
  for (let i = 0; i < node.length; i++) {
    const v = node[i];
    if (Array.isArray(v)) {
      n = collect(v, out, n, depth + 1, where, shape, count, Err);
    } else {
      if (n === count) throw countError(where, shape, count, 'more', Err);
      out[n++] = v;
    }
  }
  return n;
}

function countError(where: string, shape: readonly number[], count: number, has: number | 'more', Err: ErrorClass) {
  return new Err(
    `${where}: shape ${describeShape(shape)} needs ${count} elements, "data" has ${has === 'more' ? 'more' : has}`,
  );
}

function decodeJson(
  where: string,
  datatype: Datatype,
  shape: readonly number[],
  count: number,
  raw: unknown,
  parameters: Record<string, unknown> | undefined,
  limits: CodecLimits,
  Err: ErrorClass,
): TensorData {
  const data = flatten(where, raw, shape, count, Err);
  if (data.length !== count) throw countError(where, shape, count, data.length, Err);
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = data[i];
        // JSON numbers are always finite, so the type check is the whole check. null is how JSON
        // (and encodeInferResponse) writes NaN: a missing value, which tabular models may impute.
        if (typeof v === 'number') out[i] = v;
        else if (v === null) out[i] = NaN;
        else throw new Err(`${where}: element ${i} is not a number`);
      }
      return out;
    }
    case 'FP16': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) {
        const v = data[i];
        if (typeof v !== 'number' && v !== null) throw new Err(`${where}: element ${i} is not a number`);
        out[i] = floatToHalf(v ?? NaN);
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      for (let i = 0; i < count; i++) {
        const v = data[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new Err(`${where}: element ${i} is not an integer`);
        if (datatype === 'UINT64' && v < 0) throw new Err(`${where}: element ${i} (${v}) is out of range for UINT64`);
        // JSON.parse has already rounded larger integers; refuse them rather than pass on a different value.
        if (!Number.isSafeInteger(v))
          throw new Err(`${where}: element ${i} is beyond 2^53 and cannot be exact in JSON; send it as binary data`);
        out[i] = BigInt(v);
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const v = data[i];
        if (typeof v !== 'boolean') throw new Err(`${where}: element ${i} is not a boolean`);
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'BYTES': {
      const base64 = parameters?.content_type === 'base64';
      const out: Buffer[] = new Array<Buffer>(count);
      for (let i = 0; i < count; i++) {
        const v = data[i];
        if (typeof v !== 'string') throw new Err(`${where}: element ${i} is not a string`);
        let b: Buffer;
        if (base64) {
          if (!BASE64.test(v)) throw new Err(`${where}: element ${i} is not valid base64`);
          b = Buffer.from(v, 'base64');
        } else {
          b = Buffer.from(v, 'utf8');
        }
        if (limits.maxBytesPerElement !== undefined && b.length > limits.maxBytesPerElement)
          throw new Err(
            `${where}: element ${i} has ${b.length} bytes, more than the limit of ${limits.maxBytesPerElement}`,
          );
        out[i] = b;
      }
      return out;
    }
    default: {
      const range = INT_RANGE[datatype]!;
      const out = allocateNumeric(datatype, count) as Exclude<NumericData, BigInt64Array | BigUint64Array>;
      const [min, max] = range;
      for (let i = 0; i < count; i++) {
        const v = data[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new Err(`${where}: element ${i} is not an integer`);
        if (v < min || v > max) throw new Err(`${where}: element ${i} (${v}) is out of range for ${datatype}`);
        out[i] = v;
      }
      return out;
    }
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes an inference response per the protocol: `{"model_name","model_version","id",
 * "parameters"?,"outputs":[{"name","datatype","shape","parameters"?,"data"}]}`. Outputs selected
 * by `binary` carry `parameters.binary_data_size` and no `data`, their bytes follow the JSON
 * header, and `headerLength` is set (to be sent as Inference-Header-Content-Length). In JSON, 64-bit
 * integers are written as numbers, FP16 as the floats it encodes, non-finite floats as null (read
 * back as NaN), and
 * BYTES as strings (base64 with `content_type: "base64"` when some element is not UTF-8).
 */
export function encodeInferResponse(res: InferResponse, binary: ReadonlySet<string> | 'all' | 'none'): EncodedResponse {
  let json =
    '{"model_name":' +
    JSON.stringify(res.modelName) +
    ',"model_version":' +
    JSON.stringify(res.modelVersion) +
    ',"id":' +
    JSON.stringify(res.id);
  if (res.parameters !== undefined) json += ',"parameters":' + JSON.stringify(res.parameters);
  json += ',"outputs":[';
  const chunks: Buffer[] = [];
  let anyBinary = false;
  for (let i = 0; i < res.outputs.length; i++) {
    const t = res.outputs[i]!;
    if (i > 0) json += ',';
    const asBinary = binary === 'all' || (binary !== 'none' && binary.has(t.name));
    anyBinary ||= asBinary;
    json += asBinary ? tensorBinaryJson(t, chunks) : tensorJson(t);
  }
  json += ']}';
  if (!anyBinary) return { body: Buffer.from(json), contentType: 'application/json' };
  const header = Buffer.from(json);
  return {
    body: Buffer.concat([header, ...chunks]),
    headerLength: header.length,
    contentType: 'application/octet-stream',
  };
}

/**
 * A JSON inference request body for another Open Inference Protocol server (or a test or benchmark
 * client): every input's data inline, encoded as `encodeInferResponse` encodes JSON outputs.
 */
export function encodeInferRequestJson(req: { id?: string; inputs: Tensor[]; outputs?: string[] }): Buffer {
  let json = '{';
  if (req.id !== undefined) json += '"id":' + JSON.stringify(req.id) + ',';
  json += '"inputs":[';
  for (let i = 0; i < req.inputs.length; i++) json += (i > 0 ? ',' : '') + tensorJson(req.inputs[i]!);
  json += ']';
  if (req.outputs)
    json += ',"outputs":[' + req.outputs.map((n) => '{"name":' + JSON.stringify(n) + '}').join(',') + ']';
  return Buffer.from(json + '}');
}

/**
 * A binary inference request as tritonclient sends one: every input's data in the binary section,
 * `headerLength` for the Inference-Header-Content-Length header. Listed outputs ask for binary data
 * when `binaryOutputs` is true; with no outputs listed, `binary_data_output` asks it for all.
 */
export function encodeInferRequestBinary(req: {
  id?: string;
  inputs: Tensor[];
  outputs?: string[];
  binaryOutputs?: boolean;
}): { body: Buffer; headerLength: number } {
  const binaryOutputs = req.binaryOutputs ?? true;
  const chunks: Buffer[] = [];
  let json = '{';
  if (req.id !== undefined) json += '"id":' + JSON.stringify(req.id) + ',';
  json += '"inputs":[';
  for (let i = 0; i < req.inputs.length; i++) json += (i > 0 ? ',' : '') + tensorBinaryJson(req.inputs[i]!, chunks);
  json += ']';
  if (req.outputs && req.outputs.length > 0) {
    const p = `,"parameters":{"binary_data":${binaryOutputs}}}`;
    json += ',"outputs":[' + req.outputs.map((n) => '{"name":' + JSON.stringify(n) + p).join(',') + ']';
  } else if (binaryOutputs) {
    json += ',"parameters":{"binary_data_output":true}';
  }
  const header = Buffer.from(json + '}');
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}

/**
 * Decodes an inference response from another Open Inference Protocol server, JSON or with a binary
 * section (`headerLength` from its Inference-Header-Content-Length header), with the same checks
 * and limits as requests. Throws `InferResponseError` for anything malformed.
 */
export function parseInferResponse(body: Buffer, headerLength: number | undefined, limits: CodecLimits): InferResponse {
  const root = parseHeader(body, headerLength, InferResponseError);
  const outputs = decodeTensors(root.outputs, 'output', body, headerLength, limits, InferResponseError);
  const res: InferResponse = {
    modelName: typeof root.model_name === 'string' ? root.model_name : '',
    modelVersion: typeof root.model_version === 'string' ? root.model_version : '',
    id: typeof root.id === 'string' ? root.id : '',
    outputs,
  };
  if (isObject(root.parameters)) res.parameters = root.parameters;
  return res;
}

/** The JSON of a tensor with its data inline. */
function tensorJson(t: Tensor): string {
  let params = t.parameters;
  let data: string;
  if (t.datatype === 'BYTES') {
    const elements = t.data as Buffer[];
    if (elements.every((b) => isUtf8(b))) {
      data = elements.map((b) => JSON.stringify(b.toString('utf8'))).join(',');
    } else {
      data = elements.map((b) => '"' + b.toString('base64') + '"').join(',');
      params = { ...params, content_type: 'base64' };
    }
  } else {
    data = numericJson(t.datatype, t.data as NumericData);
  }
  return (
    tensorHead(t) + (params !== undefined ? ',"parameters":' + JSON.stringify(params) : '') + ',"data":[' + data + ']}'
  );
}

/** The JSON of a tensor whose data goes in the binary section; pushes its bytes onto `chunks`. */
function tensorBinaryJson(t: Tensor, chunks: Buffer[]): string {
  const bytes = tensorBytes(t);
  chunks.push(bytes);
  let params = '{"binary_data_size":' + bytes.length + '}';
  if (t.parameters !== undefined) {
    const { binary_data_size: _, ...rest } = t.parameters;
    const extra = JSON.stringify(rest);
    if (extra !== '{}') params = extra.slice(0, -1) + ',"binary_data_size":' + bytes.length + '}';
  }
  return tensorHead(t) + ',"parameters":' + params + '}';
}

function tensorHead(t: Tensor): string {
  return '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']';
}

/** A tensor's data in the binary tensor data format. */
export function tensorBytes(t: Tensor): Buffer {
  if (t.datatype === 'BYTES') {
    const elements = t.data as Buffer[];
    let size = 0;
    for (const b of elements) size += 4 + b.length;
    const out = Buffer.allocUnsafe(size);
    let p = 0;
    for (const b of elements) {
      out.writeUInt32LE(b.length, p);
      b.copy(out, p + 4);
      p += 4 + b.length;
    }
    return out;
  }
  if (!LITTLE_ENDIAN) throw new Error('binary tensor data needs a little-endian host');
  const a = t.data as NumericData;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Comma-separated JSON numbers (booleans for BOOL) of numeric tensor data. */
function numericJson(datatype: Datatype, a: NumericData): string {
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      // A plain loop: TypedArray.prototype.join is several times slower on small float arrays.
      const f = a as Float32Array | Float64Array;
      let s = '';
      for (let i = 0; i < f.length; i++) {
        const v = f[i]!;
        s += (i > 0 ? ',' : '') + (Number.isFinite(v) ? String(v) : 'null');
      }
      return s;
    }
    case 'FP16': {
      const h = a as Uint16Array;
      let s = '';
      for (let i = 0; i < h.length; i++) {
        const v = halfToFloat(h[i]!);
        s += (i > 0 ? ',' : '') + (Number.isFinite(v) ? String(v) : 'null');
      }
      return s;
    }
    case 'BOOL': {
      const b = a as Uint8Array;
      let s = '';
      for (let i = 0; i < b.length; i++) s += (i > 0 ? ',' : '') + (b[i] ? 'true' : 'false');
      return s;
    }
    default: {
      // Integers, BigInts included, print as plain JSON numbers.
      const n = a as ArrayLike<number | bigint>;
      let s = '';
      for (let i = 0; i < n.length; i++) s += (i > 0 ? ',' : '') + String(n[i]);
      return s;
    }
  }
}
