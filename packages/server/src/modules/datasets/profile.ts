import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/*
 * Schema and profile of delimited text (CSV, TSV), computed in one streaming pass: memory stays
 * bounded by the number of columns (and the capped distinct-value sets), never by the file size.
 */

export type ColumnType = 'long' | 'double' | 'boolean' | 'string';

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Non-empty values. */
  count: number;
  /** Empty cells (and missing trailing cells). */
  nulls: number;
  /** Distinct non-empty values, exact up to {@link DISTINCT_CAP}; `distinctCapped` says when it stopped. */
  distinct: number;
  distinctCapped: boolean;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
}

export interface TableProfile {
  format: 'csv' | 'tsv';
  numRows: number;
  numColumns: number;
  columns: ColumnProfile[];
}

export const DISTINCT_CAP = 10_000;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

class ColumnStats {
  count = 0;
  nulls = 0;
  numeric = true;
  integer = true;
  boolean = true;
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  readonly seen = new Set<string>();
  capped = false;

  constructor(readonly name: string) {}

  add(v: string): void {
    if (v === '') {
      this.nulls++;
      return;
    }
    this.count++;
    if (!this.capped) {
      this.seen.add(v);
      if (this.seen.size > DISTINCT_CAP) this.capped = true;
    }
    if (this.boolean && !/^(true|false)$/i.test(v)) this.boolean = false;
    if (!this.numeric) return;
    if (!NUMBER.test(v)) {
      this.numeric = false;
      return;
    }
    if (this.integer && !INTEGER.test(v)) this.integer = false;
    // Welford's online mean and variance: one pass, numerically stable.
    const x = Number(v);
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  profile(): ColumnProfile {
    const type: ColumnType =
      this.count === 0
        ? 'string'
        : this.numeric
          ? this.integer
            ? 'long'
            : 'double'
          : this.boolean
            ? 'boolean'
            : 'string';
    const base = {
      name: this.name,
      type,
      count: this.count,
      nulls: this.nulls,
      distinct: Math.min(this.seen.size, DISTINCT_CAP),
      distinctCapped: this.capped,
    };
    if (!this.numeric || this.n === 0) return base;
    return {
      ...base,
      min: this.min,
      max: this.max,
      mean: this.mean,
      std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0,
    };
  }
}

/**
 * Reads a delimited file with a header row (RFC 4180 quoting: `"a, b"`, doubled quotes inside)
 * and profiles each column. Rows with more cells than the header are counted; their extra cells
 * are ignored.
 */
export async function profileDelimited(stream: Readable, format: 'csv' | 'tsv'): Promise<TableProfile> {
  const sep = format === 'csv' ? ',' : '\t';
  let columns: ColumnStats[] | null = null;
  let numRows = 0;
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;

  const endCell = () => {
    row.push(cell);
    cell = '';
    afterQuote = false;
  };
  const endRow = () => {
    endCell();
    if (columns === null) {
      columns = row.map((name, i) => new ColumnStats(name.trim() || `column_${i}`));
    } else if (!(row.length === 1 && row[0] === '')) {
      numRows++;
      for (let i = 0; i < columns.length; i++) columns[i]!.add(row[i] ?? '');
    }
    row = [];
  };

  // Decoded here rather than with setEncoding, so other listeners still see the raw bytes.
  const decoder = new StringDecoder('utf8');
  for await (const bytes of stream as AsyncIterable<Buffer>) {
    const chunk = decoder.write(bytes);
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (c === '\n') continue;
      }
      if (quoted) {
        if (c === '"') {
          if (chunk[i + 1] === '"') {
            cell += '"';
            i++;
          } else {
            // Closing, unless a quote follows at the start of the next chunk (a split "").
            quoted = false;
            afterQuote = true;
          }
        } else cell += c;
        continue;
      }
      const wasAfterQuote = afterQuote;
      afterQuote = false;
      if (c === '"') {
        if (wasAfterQuote) {
          // The second half of a doubled quote split across chunks.
          cell += '"';
          quoted = true;
        } else if (cell === '') quoted = true;
        else cell += c;
      } else if (c === sep) endCell();
      else if (c === '\n') endRow();
      else if (c === '\r') {
        endRow();
        pendingCr = true;
      } else cell += c;
    }
  }
  if (cell !== '' || row.length > 0) endRow();
  const cols: ColumnStats[] = columns ?? [];
  return { format, numRows, numColumns: cols.length, columns: cols.map((c) => c.profile()) };
}

/** The MLflow-style schema (`{"mlflow_colspec": [...]}`) of a profiled table. */
export function schemaOf(profile: TableProfile): { mlflow_colspec: { name: string; type: ColumnType }[] } {
  return { mlflow_colspec: profile.columns.map((c) => ({ name: c.name, type: c.type })) };
}
