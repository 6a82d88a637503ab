import type { Readable } from 'node:stream';
import { readDelimitedRows } from './csv.js';

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
 * Reads a delimited file with a header row (RFC 4180 quoting) and profiles each column. Rows with
 * more cells than the header are counted; their extra cells are ignored.
 */
export async function profileDelimited(stream: Readable, format: 'csv' | 'tsv'): Promise<TableProfile> {
  let columns: ColumnStats[] | null = null;
  let numRows = 0;
  for await (const row of readDelimitedRows(stream, format === 'csv' ? ',' : '\t')) {
    if (columns === null) {
      columns = row.map((name, i) => new ColumnStats(name.trim() || `column_${i}`));
    } else if (!(row.length === 1 && row[0] === '')) {
      numRows++;
      for (let i = 0; i < columns.length; i++) columns[i]!.add(row[i] ?? '');
    }
  }
  const cols: ColumnStats[] = columns ?? [];
  return { format, numRows, numColumns: cols.length, columns: cols.map((c) => c.profile()) };
}

/** The MLflow-style schema (`{"mlflow_colspec": [...]}`) of a profiled table. */
export function schemaOf(profile: TableProfile): { mlflow_colspec: { name: string; type: ColumnType }[] } {
  return { mlflow_colspec: profile.columns.map((c) => ({ name: c.name, type: c.type })) };
}
