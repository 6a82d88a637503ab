import { createHash } from 'node:crypto';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { InputError } from '../../../core/errors.js';

/*
 * Keyset paging over a multi-key order. Each page ends at a row; the page token holds that row's
 * sort values, and the next page is "rows after it" in the same total order. Unlike offsets, rows
 * inserted meanwhile (new runs are the common case) neither repeat nor hide rows on later pages.
 *
 * A key may have a `group`: rows sort first by the group (0 = has a value, then e.g. NaN, then
 * missing: MLflow puts those last in both directions) and by the value only inside group 0.
 */

export type SortKind = 'integer' | 'real' | 'text';

export interface SortKey {
  /** What ORDER BY and the paging comparisons use (text already collated by code point). */
  order: RawBuilder<unknown>;
  /** The plain value, selected to build the next page token. */
  value: RawBuilder<unknown>;
  kind: SortKind;
  ascending: boolean;
  group?: { expr: RawBuilder<number>; max: number };
}

type KeyValue = number | string | null;
/** Per key: `[group, value]` for grouped keys, `[value]` otherwise. */
export type Cursor = KeyValue[][];

const FIELD = 'page_token';
const column = (i: number, part: 'g' | 'v') => `k${i}${part}`;

/** The SELECT items that expose each key's group and value as `k<i>g` / `k<i>v`. */
export function sortSelections(keys: readonly SortKey[]): RawBuilder<unknown>[] {
  return keys.flatMap((k, i) => [
    ...(k.group ? [sql`${k.group.expr} as ${sql.id(column(i, 'g'))}`] : []),
    sql`${k.value} as ${sql.id(column(i, 'v'))}`,
  ]);
}

export function orderByItems(keys: readonly SortKey[]): RawBuilder<unknown> {
  return sql.join(
    keys.flatMap((k) => [
      ...(k.group ? [sql`${k.group.expr} asc`] : []),
      sql`${k.order} ${sql.raw(k.ascending ? 'asc' : 'desc')}`,
    ]),
  );
}

/** Rows strictly after the cursor row in the order of `keys` (a lexicographic comparison). */
export function afterCursor(keys: readonly SortKey[], cursor: Cursor): RawBuilder<SqlBool> {
  const terms: RawBuilder<SqlBool>[] = [];
  const equal: RawBuilder<SqlBool>[] = [];
  const and = (parts: RawBuilder<SqlBool>[]) => sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
  keys.forEach((k, i) => {
    const c = cursor[i]!;
    let value = c[0];
    if (k.group) {
      const g = c[0] as number;
      value = c[1];
      if (g < k.group.max) terms.push(and([...equal, sql<SqlBool>`${k.group.expr} > ${g}`]));
      equal.push(sql<SqlBool>`${k.group.expr} = ${g}`);
      // Within a NULL or NaN group every row ties on this key.
      if (g !== 0) return;
    }
    terms.push(and([...equal, sql<SqlBool>`${k.order} ${sql.raw(k.ascending ? '>' : '<')} ${value}`]));
    equal.push(sql<SqlBool>`${k.order} = ${value}`);
  });
  if (terms.length === 0) return sql<SqlBool>`1 = 0`;
  const after = sql<SqlBool>`(${sql.join(terms, sql` or `)})`;
  // Implied by the terms, but a plain range the planner can seek to: deep pages of an index-ordered
  // scan start at the cursor instead of walking every earlier row.
  const k0 = keys[0]!;
  const c0 = cursor[0]!;
  if (k0.group) return sql<SqlBool>`${k0.group.expr} >= ${c0[0]} and ${after}`;
  return sql<SqlBool>`${k0.order} ${sql.raw(k0.ascending ? '>=' : '<=')} ${c0[0]} and ${after}`;
}

function invalid(detail: string): InputError {
  return new InputError(`Invalid page token: ${detail}`, FIELD);
}

/** JSON has no ±Infinity; metric sort values may be infinite. */
function encodeNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

function decodeValue(kind: SortKind, v: unknown): KeyValue {
  if (kind === 'text' && typeof v === 'string') return v;
  if (kind === 'integer' && Number.isSafeInteger(v)) return v as number;
  if (kind === 'real') {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (v === 'Infinity' || v === '-Infinity') return Number(v);
  }
  throw invalid('it does not match this search');
}

/** The cursor of a result row (which carries the `k<i>g` / `k<i>v` columns). */
export function cursorOf(keys: readonly SortKey[], row: Record<string, unknown>): Cursor {
  return keys.map((k, i) => {
    const raw = row[column(i, 'v')];
    const v = raw === null || raw === undefined ? null : k.kind === 'text' ? String(raw) : Number(raw);
    if (!k.group) return [v];
    const g = Number(row[column(i, 'g')]);
    return [g, g === 0 ? v : null];
  });
}

/** A short digest of what defines the result set and its order; tokens only fit their own search. */
export function fingerprint(search: unknown): string {
  const json = JSON.stringify(search, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  return createHash('sha256').update(json).digest('base64url').slice(0, 16);
}

/** An opaque token: base64url JSON of the search's fingerprint and the last row's sort values. */
export function encodePageToken(print: string, cursor: Cursor): string {
  const k = cursor.map((c) => c.map((v) => (typeof v === 'number' ? encodeNumber(v) : v)));
  return Buffer.from(JSON.stringify({ f: print, k })).toString('base64url');
}

/** Reads a token made by encodePageToken for the same search; anything else is an InputError. */
export function decodePageToken(token: string, print: string, keys: readonly SortKey[]): Cursor {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_=+/-]+$/.test(token)) throw new Error('not base64');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('could not decode it; pass back the next_page_token of a previous page');
  }
  const t = parsed as { f?: unknown; k?: unknown } | null;
  if (typeof t !== 'object' || t === null || typeof t.f !== 'string' || !Array.isArray(t.k)) {
    throw invalid('could not decode it; pass back the next_page_token of a previous page');
  }
  if (t.f !== print) {
    throw invalid('it belongs to a different search (filter, order_by, experiments or view type changed)');
  }
  const list = t.k as unknown[];
  if (list.length !== keys.length) throw invalid('it does not match this search');
  return keys.map((k, i) => {
    const c = list[i];
    if (!Array.isArray(c) || c.length !== (k.group ? 2 : 1)) throw invalid('it does not match this search');
    if (!k.group) return [decodeValue(k.kind, c[0])];
    const g: unknown = c[0];
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g > k.group.max) {
      throw invalid('it does not match this search');
    }
    if (g !== 0) {
      if (c[1] !== null) throw invalid('it does not match this search');
      return [g, null];
    }
    return [g, decodeValue(k.kind, c[1])];
  });
}
