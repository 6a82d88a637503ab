// Tensors as the prediction log stores them: bytes, not JSON text (ADR 0015). Making the text of
// every logged tensor, and SQLite storing it, was about half of what logging a prediction cost on
// the writer thread; the bytes are the tensors' own memory, copied once on the request thread.
import { allocateNumeric, halfToFloat, ITEM_SIZE, LITTLE_ENDIAN } from './oip/codec.js';
import { DATATYPES, elementCount, type Datatype, type Tensor } from './tensors.js';

/**
 * The tensors to log, or null when there are none or more elements than `maxElements` in all
 * (the row keeps its summary columns), or when the encoding cannot hold them (a name of more than
 * 65,535 bytes, a rank above 255, a dimension of 2^32 or more). Throws when a tensor's data does
 * not match its shape.
 */
export function loggable(tensors: readonly Tensor[] | null, maxElements: number): readonly Tensor[] | null {
  if (!tensors) return null;
  let total = 0;
  for (const t of tensors) {
    const n = elementCount(t.shape);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape holds ${n} elements, data ${t.data.length}`);
    total += n;
    if (t.name.length > MAX_NAME / 3 && Buffer.byteLength(t.name) > MAX_NAME) return null;
    if (t.shape.length > 255 || t.shape.some((d) => d > 0xffffffff)) return null;
  }
  return total > maxElements || tensors.length > 0xffff ? null : tensors;
}

/*
 * The encoding, format 1, little-endian: the byte 1, a u16 tensor count, then per tensor a u16
 * name length and the name's UTF-8 bytes, a u8 datatype (its index in DATATYPES), a u8 rank and a
 * u32 per dimension, then the data as the Open Inference Protocol's binary tensor extension lays it
 * out: the raw elements, or for BYTES each element as a u32 length and its bytes. JSON text that
 * earlier versions stored starts with `{` (0x7b), which is how `decodeTensors` tells it apart.
 */
const FORMAT = 1;
const JSON_TEXT = 0x7b;
const MAX_NAME = 0xffff;
const CODE = Object.fromEntries(DATATYPES.map((d, i) => [d, i])) as Record<Datatype, number>;

/**
 * At least the bytes `encodeInto` writes for these tensors: names are counted at three bytes per
 * UTF-16 unit, the most UTF-8 needs, so no name is measured twice on the request path.
 */
export function encodedSizeBound(tensors: readonly Tensor[] | null): number {
  if (!tensors) return 0;
  let n = 3;
  for (const t of tensors) {
    n += 4 + 3 * t.name.length + 4 * t.shape.length;
    const d = t.data;
    if (Array.isArray(d)) for (const b of d) n += 4 + b.length;
    else n += d.byteLength;
  }
  return n;
}

/** Writes the tensors' encoding into `out` from `at` (room for `encodedSizeBound`); returns where it ended. */
export function encodeInto(tensors: readonly Tensor[], out: Buffer, at: number): number {
  if (!LITTLE_ENDIAN) throw new Error('the prediction log needs a little-endian host');
  out[at] = FORMAT;
  out.writeUInt16LE(tensors.length, at + 1);
  at += 3;
  for (const t of tensors) {
    const name = writeName(t.name, out, at + 2);
    out.writeUInt16LE(name, at);
    at += 2 + name;
    out[at++] = CODE[t.datatype];
    out[at++] = t.shape.length;
    for (const d of t.shape) at = out.writeUInt32LE(d, at);
    const d = t.data;
    if (Array.isArray(d)) {
      for (const b of d) {
        at = out.writeUInt32LE(b.length, at);
        at += b.copy(out, at);
      }
    } else {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
      at += d.byteLength;
    }
  }
  return at;
}

/**
 * Writes a name's UTF-8 bytes; returns their count. Names are mostly short and ASCII, which a loop
 * copies in a fraction of what Buffer's write costs for a few characters.
 */
function writeName(name: string, out: Buffer, at: number): number {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return out.write(name, at, 'utf8');
    out[at + i] = c;
  }
  return name.length;
}

/** The tensors' encoding in a buffer of its own (for a sink that writes rows one by one). */
export function encodeTensors(tensors: readonly Tensor[]): Buffer {
  const out = Buffer.allocUnsafe(encodedSizeBound(tensors));
  return out.subarray(0, encodeInto(tensors, out, 0));
}

/** A logged tensor as the API returns it; non-finite numbers are null, as JSON has no other way. */
export interface TensorJson {
  datatype: Datatype;
  shape: number[];
  data: (number | string | boolean | null)[];
}

/** A stored tensor column as `{name: {datatype, shape, data}}`, whichever format it was written in. */
export function decodeTensors(stored: Uint8Array | string | null): Record<string, TensorJson> | null {
  if (stored === null) return null;
  if (typeof stored === 'string') return JSON.parse(stored) as Record<string, TensorJson>;
  const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (b[0] === JSON_TEXT) return JSON.parse(b.toString('utf8')) as Record<string, TensorJson>;
  if (b[0] !== FORMAT) throw new Error(`the prediction log holds tensors in an unknown format (${b[0]})`);
  const out: Record<string, TensorJson> = {};
  let at = 3;
  for (let k = b.readUInt16LE(1); k > 0; k--) {
    const nameEnd = at + 2 + b.readUInt16LE(at);
    const name = b.toString('utf8', at + 2, nameEnd);
    at = nameEnd;
    const datatype = DATATYPES[b[at++]!]!;
    const shape: number[] = [];
    for (let rank = b[at++]!; rank > 0; rank--, at += 4) shape.push(b.readUInt32LE(at));
    const n = elementCount(shape);
    const data = new Array<number | string | boolean | null>(n);
    if (datatype === 'BYTES') {
      for (let i = 0; i < n; i++) {
        const len = b.readUInt32LE(at);
        data[i] = b.toString('utf8', at + 4, at + 4 + len);
        at += 4 + len;
      }
    } else {
      // Copied into a typed array of its own: the bytes need not be aligned for a view.
      const typed = allocateNumeric(datatype, n);
      const size = n * ITEM_SIZE[datatype];
      new Uint8Array(typed.buffer).set(b.subarray(at, at + size));
      at += size;
      const t: Tensor = { name, datatype, shape, data: typed };
      for (let i = 0; i < n; i++) {
        const v = elementAt(t, i);
        data[i] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
      }
    }
    out[name] = { datatype, shape, data };
  }
  return out;
}

/** Tensor element `i` as a JSON value: bigints as numbers, half floats decoded, byte strings as UTF-8 text. */
export function elementAt(t: Tensor, i: number): number | string | boolean {
  const d = t.data;
  if (Array.isArray(d)) return d[i]!.toString('utf8');
  const v = d[i]!;
  if (typeof v === 'bigint') return Number(v);
  if (t.datatype === 'FP16') return halfToFloat(v);
  return t.datatype === 'BOOL' ? v !== 0 : v;
}
