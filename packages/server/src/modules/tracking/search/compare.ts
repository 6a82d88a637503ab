import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { InputError } from '../../../core/errors.js';
import type { Engine } from '../../../db/dialect.js';
import type { ListComparator, NumericComparator, StringComparator } from './ast.js';

/*
 * Comparisons that must behave the same on SQLite and PostgreSQL. This is the only place in the
 * search compiler where the SQL differs by engine:
 *
 * - LIKE is case-sensitive on both. SQLite's LIKE ignores ASCII case, so there LIKE runs as GLOB
 *   (always case-sensitive) on a translated pattern; ILIKE runs as SQLite's LIKE. Case folding for
 *   ILIKE is guaranteed for ASCII letters; beyond ASCII it follows the engine (and its locale).
 * - In patterns `%` and `_` are wildcards and a backslash makes the next character literal (as in
 *   PostgreSQL, where MLflow's LIKE also treats backslash as the escape); a final lone backslash is
 *   a literal backslash.
 * - Text sorts by code point on both: PostgreSQL orders with COLLATE "C", SQLite's BINARY already
 *   does (UTF-8 byte order is code point order).
 */

type LikePart = { kind: 'text'; text: string } | { kind: 'any' } | { kind: 'one' };

/** SQLite refuses LIKE and GLOB patterns longer than this many bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH). */
const MAX_PATTERN_BYTES = 50_000;

function parseLike(pattern: string): LikePart[] {
  const parts: LikePart[] = [];
  const text = (c: string) => {
    const last = parts.at(-1);
    if (last?.kind === 'text') last.text += c;
    else parts.push({ kind: 'text', text: c });
  };
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) text(chars[++i]!);
    else if (c === '%') parts.push({ kind: 'any' });
    else if (c === '_') parts.push({ kind: 'one' });
    else text(c);
  }
  return parts;
}

function render(parts: LikePart[], any: string, one: string, literal: (c: string) => string): string {
  const out = parts
    .map((p) => (p.kind === 'any' ? any : p.kind === 'one' ? one : [...p.text].map(literal).join('')))
    .join('');
  if (Buffer.byteLength(out) > MAX_PATTERN_BYTES) {
    throw new InputError(`LIKE pattern is too long (more than ${MAX_PATTERN_BYTES} bytes)`, 'filter');
  }
  return out;
}

/** The pattern for `LIKE ... ESCAPE '\'` / `ILIKE ... ESCAPE '\'`, normalised. */
export function likePattern(pattern: string): string {
  return render(parseLike(pattern), '%', '_', (c) => (c === '%' || c === '_' || c === '\\' ? `\\${c}` : c));
}

/** The same pattern for SQLite's GLOB: `*`, `?` and `[` become literal through a bracket class. */
export function globPattern(pattern: string): string {
  return render(parseLike(pattern), '*', '?', (c) => (c === '*' || c === '?' || c === '[' ? `[${c}]` : c));
}

const FALSE = sql<SqlBool>`1 = 0`;
const TRUE = sql<SqlBool>`1 = 1`;

/** `column <comparator> value` for text columns. */
export function compareText(
  engine: Engine,
  column: Expression<unknown>,
  comparator: StringComparator,
  value: string,
): RawBuilder<SqlBool> {
  switch (comparator) {
    case '=':
      return sql<SqlBool>`${column} = ${value}`;
    case '!=':
      return sql<SqlBool>`${column} <> ${value}`;
    case 'LIKE':
      return engine === 'postgres'
        ? sql<SqlBool>`${column} like ${likePattern(value)} escape '\\'`
        : sql<SqlBool>`${column} glob ${globPattern(value)}`;
    case 'ILIKE':
      return engine === 'postgres'
        ? sql<SqlBool>`${column} ilike ${likePattern(value)} escape '\\'`
        : sql<SqlBool>`${column} like ${likePattern(value)} escape '\\'`;
  }
}

/** `column [NOT] IN (values)`; an empty list matches nothing (IN) or everything (NOT IN). */
export function compareList(column: Expression<unknown>, comparator: ListComparator, values: readonly string[]) {
  if (values.length === 0) return comparator === 'IN' ? FALSE : TRUE;
  const list = sql.join(values.map((v) => sql`${v}`));
  return comparator === 'IN' ? sql<SqlBool>`${column} in (${list})` : sql<SqlBool>`${column} not in (${list})`;
}

/** `column <comparator> value` for double-precision columns (±Infinity compare as numbers). */
export function compareReal(column: Expression<unknown>, comparator: NumericComparator, value: number) {
  return sql<SqlBool>`${column} ${sql.raw(comparator === '!=' ? '<>' : comparator)} ${value}`;
}

/** Stored integers (epoch milliseconds) never leave ±2^53, so this bound loses no answer. */
const INTEGER_BOUND = 2 ** 53;

/**
 * `column <comparator> value` for BIGINT columns and any number (1.5, 1e30, Infinity): the bound is
 * rounded to the integer with the same answer, so PostgreSQL never sees a non-integer bigint.
 */
export function compareInteger(
  column: Expression<unknown>,
  comparator: NumericComparator,
  value: number,
): RawBuilder<SqlBool> {
  const clamp = (n: number) => Math.max(-INTEGER_BOUND, Math.min(INTEGER_BOUND, n));
  const exact = Number.isInteger(value) && Math.abs(value) <= INTEGER_BOUND;
  switch (comparator) {
    case '=':
      return exact ? sql<SqlBool>`${column} = ${value}` : FALSE;
    case '!=':
      return exact ? sql<SqlBool>`${column} <> ${value}` : sql<SqlBool>`${column} is not null`;
    case '>':
      return sql<SqlBool>`${column} > ${clamp(Math.floor(value))}`;
    case '>=':
      return sql<SqlBool>`${column} >= ${clamp(Math.ceil(value))}`;
    case '<':
      return sql<SqlBool>`${column} < ${clamp(Math.ceil(value))}`;
    case '<=':
      return sql<SqlBool>`${column} <= ${clamp(Math.floor(value))}`;
  }
}

/** A text expression as it must be ordered and compared for paging: by code point. */
export function byCodePoint(engine: Engine, expr: Expression<unknown>): RawBuilder<unknown> {
  return engine === 'postgres' ? sql`${expr} collate "C"` : sql`${expr}`;
}
