// Tensors as the prediction log keeps them, and their JSON text. The log's rows carry tensors, not
// text, as far as the sink: the SQLite sink's writer thread makes the JSON there, off the request
// thread. Made on the request thread, it cost a major collection every few seconds under load: V8
// allocates the text of a number that misses its number-string cache (a new number, or one whose
// slot another took) straight in the old generation, and live traffic's numbers miss it often.
import { halfToFloat } from './oip/codec.js';
import { elementCount, type Datatype, type Tensor } from './tensors.js';

/**
 * The tensors to log, or null when there are none or more elements than `maxElements` in all
 * (the row keeps its summary columns). Throws when a tensor's data does not match its shape.
 */
export function loggable(tensors: readonly Tensor[] | null, maxElements: number): readonly Tensor[] | null {
  if (!tensors) return null;
  let total = 0;
  for (const t of tensors) {
    const n = elementCount(t.shape);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape holds ${n} elements, data ${t.data.length}`);
    total += n;
  }
  return total > maxElements ? null : tensors;
}

/**
 * A tensor as it crosses to the writer thread: name, datatype, shape, and its elements' offset in
 * the batch's arena (byte strings travel as text instead). Structured cloning a batch of these
 * and one arena costs about a third of cloning the tensors themselves, whose typed arrays each
 * take an ArrayBuffer of their own to copy and to allocate again on the other side.
 */
export type PackedTensor = [name: string, datatype: Datatype, shape: number[], data: number | string[]];

/** Copies tensors' elements into one Float64Array (64-bit integers as numbers, as their JSON has them). */
export class TensorPacker {
  readonly arena: Float64Array;
  private at = 0;

  constructor(elements: number) {
    this.arena = new Float64Array(elements);
  }

  /** How many arena elements the tensors take. */
  static size(tensors: readonly Tensor[] | null): number {
    let n = 0;
    for (const t of tensors ?? []) if (!Array.isArray(t.data)) n += t.data.length;
    return n;
  }

  pack(tensors: readonly Tensor[] | null): PackedTensor[] | null {
    if (!tensors) return null;
    return tensors.map((t): PackedTensor => {
      const d = t.data;
      if (Array.isArray(d)) return [t.name, t.datatype, t.shape, d.map((b) => b.toString('utf8'))];
      const offset = this.at;
      if (d instanceof BigInt64Array || d instanceof BigUint64Array)
        for (let i = 0; i < d.length; i++) this.arena[offset + i] = Number(d[i]);
      else this.arena.set(d, offset);
      this.at += d.length;
      return [t.name, t.datatype, t.shape, offset];
    });
  }
}

/** The writer thread's side of TensorPacker.pack: tensors whose numeric data are views into the arena. */
export function unpack(packed: PackedTensor[], arena: Float64Array): LoggedTensor[] {
  return packed.map(([name, datatype, shape, data]) => ({
    name,
    datatype,
    shape,
    data: typeof data === 'number' ? arena.subarray(data, data + elementCount(shape)) : data,
  }));
}

/** A tensor as the log formats it: the served tensor itself, or one unpacked on the writer thread. */
export type LoggedTensor =
  Tensor | { name: string; datatype: Datatype; shape: number[]; data: Float64Array | string[] };

/** Tensor element `i` as a JSON value: bigints as numbers, half floats decoded, byte strings as UTF-8 text. */
export function elementAt(t: LoggedTensor, i: number): number | string | boolean {
  const d = t.data;
  if (Array.isArray(d)) {
    const v = d[i]!;
    return typeof v === 'string' ? v : v.toString('utf8');
  }
  const v = d[i]!;
  if (typeof v === 'bigint') return Number(v);
  if (t.datatype === 'FP16') return halfToFloat(v);
  return t.datatype === 'BOOL' ? v !== 0 : v;
}

const FLOAT: ReadonlySet<Datatype> = new Set(['FP32', 'FP64']);

function allFinite(d: ArrayLike<number | bigint>): boolean {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

/** `{name: {datatype, shape, data}}` as JSON. */
export function tensorsJson(tensors: readonly LoggedTensor[]): string {
  const parts: string[] = [];
  for (const t of tensors) {
    parts.push(
      `${JSON.stringify(t.name)}:{"datatype":"${t.datatype}","shape":[${t.shape.join(',')}],"data":${dataJson(t)}}`,
    );
  }
  return `{${parts.join(',')}}`;
}

/**
 * A tensor's elements as a JSON array. Numeric typed arrays are joined natively (about 5x faster
 * than building an array for JSON.stringify) unless they hold NaN or an infinity, which JSON
 * cannot hold: those become null, as JSON.stringify would make them.
 */
function dataJson(t: LoggedTensor): string {
  const d = t.data;
  // The writer thread's arena holds every numeric type as doubles, so the datatype, not the array's
  // class, says whether a value can be non-finite; looking at the numbers is cheaper than at the text.
  if (!Array.isArray(d) && t.datatype !== 'BOOL' && t.datatype !== 'FP16' && (!FLOAT.has(t.datatype) || allFinite(d)))
    return `[${d.join(',')}]`;
  const n = elementCount(t.shape);
  const data = new Array<unknown>(n);
  for (let i = 0; i < n; i++) data[i] = elementAt(t, i);
  return JSON.stringify(data);
}
