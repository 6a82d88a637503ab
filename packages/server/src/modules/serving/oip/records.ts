import type { Datatype, Tensor, TensorData, TensorSpec } from '../tensors.js';
import { INT_RANGE, InferInputError, allocateNumeric, floatToHalf, halfToFloat } from './codec.js';

/*
 * The records endpoint (`POST /v1/deployments/{name}/predict`) speaks MLflow's `/invocations`
 * formats: rows or columns of scalars, turned into the model's input tensors and back into
 * `{"predictions": ...}`.
 */

export type Cell = number | string | boolean | null;

/** A table of scalars, column-major: `columns[j][i]` is row `i` of column `names[j]`. */
export interface Columns {
  names: string[];
  rows: number;
  columns: Cell[][];
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a request body the way MLflow's scoring server does: `{"dataframe_split":{"columns","data"}}`,
 * `{"dataframe_records":[{...}]}`, `{"instances":[{...}]}` (or positional `[[...]]`, or scalars for
 * one column), `{"inputs": {...} | [...]}` (columnar object or rows). Positional rows take their
 * names from `expectedColumns`, or `"0"`, `"1"`, ... without it. With `expectedColumns` the result
 * has exactly those columns in that order: extra columns are ignored, as MLflow does, and a missing
 * one is an error. A record without a key another record has gets null there. Throws
 * `InferInputError` naming the field, column or row for a missing or ambiguous format, ragged rows,
 * cells that are not scalars, no rows, or more than `limits.maxRows` rows.
 */
export function parseRecords(
  body: unknown,
  expectedColumns: readonly string[] | null,
  limits: { maxRows: number },
): Columns {
  const formats = FORMATS.map((f) => `"${f}"`).join(', ');
  if (!isObject(body)) throw new InferInputError(`the body must be a JSON object with one of ${formats}`);
  const present = FORMATS.filter((f) => body[f] !== undefined);
  if (present.length === 0) throw new InferInputError(`the body must have one of ${formats}`);
  if (present.length > 1)
    throw new InferInputError(`the body has ${present.map((f) => `"${f}"`).join(' and ')}; send only one`);
  const format = present[0]!;
  const value = body[format];
  const ctx: Ctx = { expected: expectedColumns, maxRows: limits.maxRows };
  let table: Columns;
  switch (format) {
    case 'dataframe_split': {
      if (!isObject(value) || !Array.isArray(value.data))
        throw new InferInputError('"dataframe_split" must be an object with a "data" array', format);
      const data = value.data as unknown[];
      if (value.columns === undefined) {
        table = fromPositional(data, `${format}.data`, ctx);
      } else {
        const cols = value.columns;
        if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string'))
          throw new InferInputError('"dataframe_split.columns" must be an array of strings', format);
        const dup = cols.find((c, i) => cols.indexOf(c) !== i);
        if (dup !== undefined) throw new InferInputError(`column ${JSON.stringify(dup)} is given more than once`, dup);
        table = fromRows(data, cols as string[], `${format}.data`, ctx);
      }
      break;
    }
    case 'dataframe_records':
      if (!Array.isArray(value)) throw new InferInputError('"dataframe_records" must be an array of objects', format);
      table = fromRecords(value, format, ctx);
      break;
    case 'instances':
    case 'inputs':
      if (Array.isArray(value)) {
        const first: unknown = value[0];
        if (isObject(first)) table = fromRecords(value, format, ctx);
        else if (Array.isArray(first)) table = fromPositional(value, format, ctx);
        else table = fromScalars(value, format, ctx);
      } else if (isObject(value)) {
        table = fromColumnar(value, format, ctx);
      } else {
        throw new InferInputError(`"${format}" must be an array of rows or an object of columns`, format);
      }
      break;
  }
  return select(table, expectedColumns);
}

interface Ctx {
  expected: readonly string[] | null;
  maxRows: number;
}

function checkRows(rows: number, field: string, ctx: Ctx): void {
  if (rows === 0) throw new InferInputError(`"${field}" has no rows`, field);
  if (rows > ctx.maxRows)
    throw new InferInputError(`"${field}" has ${rows} rows, more than the limit of ${ctx.maxRows}`, field);
}

function cell(v: unknown, column: string, row: number): Cell {
  if (v === undefined || v === null) return null;
  const t = typeof v;
  if (t === 'number' || t === 'string' || t === 'boolean') return v as Cell;
  throw new InferInputError(
    `column ${JSON.stringify(column)} row ${row}: expected a number, string, boolean or null, got ${Array.isArray(v) ? 'an array' : 'an object'}`,
    column,
  );
}

function fromRows(data: unknown[], names: string[], field: string, ctx: Ctx): Columns {
  checkRows(data.length, field, ctx);
  const rows = data.length;
  const width = names.length;
  const columns: Cell[][] = names.map(() => new Array<Cell>(rows));
  for (let r = 0; r < rows; r++) {
    const row: unknown = data[r];
    if (!Array.isArray(row)) throw new InferInputError(`${field}[${r}] must be an array`, field);
    if (row.length !== width) {
      const want = ctx.expected === names ? ` (the model's columns: ${names.join(', ')})` : '';
      throw new InferInputError(`${field}[${r}] has ${row.length} values, expected ${width}${want}`, field);
    }
    for (let c = 0; c < width; c++) columns[c]![r] = cell(row[c], names[c]!, r);
  }
  return { names, rows, columns };
}

function fromPositional(data: unknown[], field: string, ctx: Ctx): Columns {
  const first: unknown = data[0];
  const width = Array.isArray(first) ? first.length : 0;
  const names = ctx.expected ? (ctx.expected as string[]) : Array.from({ length: width }, (_, i) => String(i));
  return fromRows(data, names, field, ctx);
}

function fromScalars(data: unknown[], field: string, ctx: Ctx): Columns {
  checkRows(data.length, field, ctx);
  if (ctx.expected && ctx.expected.length !== 1)
    throw new InferInputError(
      `"${field}" holds single values but the model takes ${ctx.expected.length} columns (${ctx.expected.join(', ')})`,
      field,
    );
  const name = ctx.expected?.[0] ?? '0';
  const column = new Array<Cell>(data.length);
  for (let r = 0; r < data.length; r++) {
    if (Array.isArray(data[r]) || isObject(data[r]))
      throw new InferInputError(`${field}[${r}]: rows must all be of one kind (values, arrays or objects)`, field);
    column[r] = cell(data[r], name, r);
  }
  return { names: [name], rows: data.length, columns: [column] };
}

function fromRecords(data: unknown[], field: string, ctx: Ctx): Columns {
  checkRows(data.length, field, ctx);
  const rows = data.length;
  const names: string[] = [];
  const columns: Cell[][] = [];
  const index = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const rec: unknown = data[r];
    if (!isObject(rec)) throw new InferInputError(`${field}[${r}] must be an object`, field);
    for (const key in rec) {
      let j = index.get(key);
      if (j === undefined) {
        j = names.length;
        index.set(key, j);
        names.push(key);
        // Rows before the first one with this key lack it: null, as pandas fills NaN.
        columns.push(new Array<Cell>(rows).fill(null));
      }
      columns[j]![r] = cell(rec[key], key, r);
    }
  }
  return { names, rows, columns };
}

function fromColumnar(obj: Record<string, unknown>, field: string, ctx: Ctx): Columns {
  const names = Object.keys(obj);
  if (names.length === 0) throw new InferInputError(`"${field}" has no columns`, field);
  let rows = -1;
  const columns: Cell[][] = [];
  for (const name of names) {
    const raw = obj[name];
    const values: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (rows === -1) {
      rows = values.length;
      checkRows(rows, field, ctx);
    } else if (values.length !== rows) {
      throw new InferInputError(
        `column ${JSON.stringify(name)} has ${values.length} values, column ${JSON.stringify(names[0])} has ${rows}`,
        name,
      );
    }
    const column = new Array<Cell>(rows);
    for (let r = 0; r < rows; r++) column[r] = cell(values[r], name, r);
    columns.push(column);
  }
  return { names, rows, columns };
}

function select(table: Columns, expected: readonly string[] | null): Columns {
  if (!expected) return table;
  if (table.names === expected) return { ...table, names: [...expected] };
  const columns = expected.map((name) => {
    const j = table.names.indexOf(name);
    if (j === -1) throw new InferInputError(`missing column ${JSON.stringify(name)}`, name);
    return table.columns[j]!;
  });
  return { names: [...expected], rows: table.rows, columns };
}

/**
 * Builds the model's input tensors from a table. A model whose every input is named like a column
 * and takes one column (shape [-1] or [-1,1]) gets one tensor per column; a model with one input
 * gets all columns in `columnOrder` (default: the table's order) as one [rows, n] tensor, the
 * scikit-learn layout. Cells are converted to the declared datatype: numbers (numeric strings too)
 * for numeric types, null as NaN for floats, booleans (or 0/1, "true"/"false") for BOOL, strings for
 * BYTES. Throws `InferInputError` naming the column and row of a cell that does not convert, or the
 * missing column.
 */
export function columnsToTensors(
  cols: Columns,
  inputs: readonly TensorSpec[],
  columnOrder: readonly string[] | null,
): Tensor[] {
  if (inputs.length === 0) throw new InferInputError('the model declares no inputs');
  const rows = cols.rows;
  const oneColumnEach = inputs.every((s) => cols.names.includes(s.name) && takesOneColumn(s));
  if (oneColumnEach) {
    return inputs.map((s) => {
      const column = cols.columns[cols.names.indexOf(s.name)]!;
      const data = convert(s.datatype, [column], [s.name], rows);
      return { name: s.name, datatype: s.datatype, shape: s.shape.length === 1 ? [rows] : [rows, 1], data };
    });
  }
  if (inputs.length > 1) {
    const missing = inputs.find((s) => !cols.names.includes(s.name));
    if (missing) throw new InferInputError(`missing column ${JSON.stringify(missing.name)}`, missing.name);
    const wide = inputs.find((s) => !takesOneColumn(s))!;
    throw new InferInputError(
      `input ${JSON.stringify(wide.name)} of shape [${wide.shape.join(',')}] cannot be filled from one column`,
      wide.name,
    );
  }
  const spec = inputs[0]!;
  const order = columnOrder ?? cols.names;
  const picked = order.map((name) => {
    const j = cols.names.indexOf(name);
    if (j === -1) throw new InferInputError(`missing column ${JSON.stringify(name)}`, name);
    return cols.columns[j]!;
  });
  const n = picked.length;
  let shape: number[];
  if (spec.shape.length === 2) {
    const want = spec.shape[1]!;
    if (want >= 0 && want !== n)
      throw new InferInputError(
        `input ${JSON.stringify(spec.name)} takes ${want} columns, the request has ${n}`,
        spec.name,
      );
    shape = [rows, n];
  } else if (spec.shape.length === 1 && n === 1) {
    shape = [rows];
  } else {
    throw new InferInputError(
      `input ${JSON.stringify(spec.name)} of shape [${spec.shape.join(',')}] cannot be filled from ${n} columns`,
      spec.name,
    );
  }
  return [{ name: spec.name, datatype: spec.datatype, shape, data: convert(spec.datatype, picked, order, rows) }];
}

function takesOneColumn(s: TensorSpec): boolean {
  return s.shape.length === 1 || (s.shape.length === 2 && (s.shape[1] === 1 || s.shape[1] === -1));
}

/** Row-major data of `columns` (each `rows` long) side by side, converted to `datatype`. */
function convert(datatype: Datatype, columns: Cell[][], names: readonly string[], rows: number): TensorData {
  const n = columns.length;
  if (datatype === 'BYTES') {
    const out = new Array<Buffer>(rows * n);
    for (let c = 0; c < n; c++) {
      const col = columns[c]!;
      for (let r = 0; r < rows; r++) {
        const v = col[r] ?? null;
        if (typeof v !== 'string') throw cellError(names[c]!, r, v, 'is not a string');
        out[r * n + c] = Buffer.from(v, 'utf8');
      }
    }
    return out;
  }
  const out = allocateNumeric(datatype, rows * n);
  for (let c = 0; c < n; c++) {
    const col = columns[c]!;
    const name = names[c]!;
    for (let r = 0; r < rows; r++) {
      const v = col[r] ?? null;
      const i = r * n + c;
      switch (datatype) {
        case 'FP32':
        case 'FP64':
          (out as Float32Array | Float64Array)[i] = v === null ? NaN : toNumber(v, name, r);
          break;
        case 'FP16':
          (out as Uint16Array)[i] = floatToHalf(v === null ? NaN : toNumber(v, name, r));
          break;
        case 'BOOL':
          (out as Uint8Array)[i] = toBool(v, name, r);
          break;
        case 'INT64':
        case 'UINT64':
          (out as BigInt64Array | BigUint64Array)[i] = toBigInt(v, datatype, name, r);
          break;
        default: {
          const x = toInteger(v, name, r);
          const [min, max] = INT_RANGE[datatype]!;
          if (x < min || x > max) throw cellError(name, r, v, `is out of range for ${datatype}`);
          (out as Int32Array)[i] = x;
        }
      }
    }
  }
  return out;
}

function cellError(column: string, row: number, v: Cell, what: string): InferInputError {
  return new InferInputError(`column ${JSON.stringify(column)} row ${row}: ${JSON.stringify(v)} ${what}`, column);
}

function toNumber(v: Cell, column: string, row: number): number {
  if (typeof v === 'number') return v;
  // CSV-born clients send numbers as strings; accept exactly what parses as a finite number.
  if (typeof v === 'string' && v.trim() !== '') {
    const x = Number(v);
    if (Number.isFinite(x)) return x;
  }
  throw cellError(column, row, v, 'is not a number');
}

function toInteger(v: Cell, column: string, row: number): number {
  if (v === null) throw cellError(column, row, v, 'is missing (integer columns cannot hold null)');
  const x = toNumber(v, column, row);
  if (!Number.isInteger(x)) throw cellError(column, row, v, 'is not an integer');
  return x;
}

function toBigInt(v: Cell, datatype: 'INT64' | 'UINT64', column: string, row: number): bigint {
  let x: bigint;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) {
    x = BigInt(v.trim());
  } else {
    const n = toInteger(v, column, row);
    if (!Number.isSafeInteger(n))
      throw cellError(column, row, v, 'is beyond 2^53 and cannot be exact as a JSON number; send it as a string');
    x = BigInt(n);
  }
  const [min, max] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  if (x < min || x > max) throw cellError(column, row, v, `is out of range for ${datatype}`);
  return x;
}

function toBool(v: Cell, column: string, row: number): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 0 || v === 1) return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return 1;
    if (s === 'false') return 0;
  }
  throw cellError(column, row, v, 'is not a boolean');
}

/**
 * `{"predictions": ...}` as MLflow's scoring server answers: with one output, one entry per row (a
 * scalar for shapes [n] and [n,1], else the row's nested array); with several, one object per row
 * keyed by output name. 64-bit integers become numbers (decimal strings beyond 2^53), BOOL booleans,
 * FP16 floats, BYTES UTF-8 strings. Outputs must agree on the row count (a rank-0 output counts as
 * one row); a model that breaks this fails with a plain Error.
 */
export function tensorsToPredictions(outputs: readonly Tensor[]): { predictions: unknown[] } {
  if (outputs.length === 0) return { predictions: [] };
  const rows = rowCount(outputs[0]!);
  for (const t of outputs) {
    if (rowCount(t) !== rows)
      throw new Error(
        `outputs ${JSON.stringify(outputs[0]!.name)} and ${JSON.stringify(t.name)} have different row counts (${rows}, ${rowCount(t)})`,
      );
  }
  const perRow = outputs.map(rowReader);
  const predictions = new Array<unknown>(rows);
  if (outputs.length === 1) {
    const read = perRow[0]!;
    for (let r = 0; r < rows; r++) predictions[r] = read(r);
  } else {
    for (let r = 0; r < rows; r++) {
      const o: Record<string, unknown> = {};
      for (let k = 0; k < outputs.length; k++) o[outputs[k]!.name] = perRow[k]!(r);
      predictions[r] = o;
    }
  }
  return { predictions };
}

function rowCount(t: Tensor): number {
  return t.shape.length === 0 ? 1 : t.shape[0]!;
}

/** A function giving row r of `t`: a scalar, or the nested array of the row's remaining dimensions. */
function rowReader(t: Tensor): (r: number) => unknown {
  const el = elementReader(t);
  const rest = t.shape.slice(1);
  let width = 1;
  for (const d of rest) width *= d;
  if (rest.length === 0 || (rest.length === 1 && rest[0] === 1)) return el;
  const build = (dim: number, start: number, stride: number): unknown[] => {
    const size = rest[dim]!;
    const inner = stride / size;
    const out = new Array<unknown>(size);
    for (let i = 0; i < size; i++)
      out[i] = dim === rest.length - 1 ? el(start + i) : build(dim + 1, start + i * inner, inner);
    return out;
  };
  return (r) => build(0, r * width, width);
}

function elementReader(t: Tensor): (i: number) => unknown {
  switch (t.datatype) {
    case 'BYTES': {
      const d = t.data as Buffer[];
      return (i) => d[i]!.toString('utf8');
    }
    case 'BOOL': {
      const d = t.data as Uint8Array;
      return (i) => d[i] !== 0;
    }
    case 'FP16': {
      const d = t.data as Uint16Array;
      return (i) => halfToFloat(d[i]!);
    }
    case 'INT64':
    case 'UINT64': {
      const d = t.data as BigInt64Array | BigUint64Array;
      return (i) => {
        const x = d[i]!;
        const n = Number(x);
        return Number.isSafeInteger(n) ? n : x.toString();
      };
    }
    default: {
      const d = t.data as ArrayLike<number>;
      return (i) => d[i];
    }
  }
}
