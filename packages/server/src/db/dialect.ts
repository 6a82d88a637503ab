import { ConflictError } from '../core/errors.js';
import { sql, type ColumnDefinitionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely';

/*
 * Every difference between SQLite and PostgreSQL that store code needs lives in this module, so a
 * reader can audit engine-specific behaviour in one place.
 */

export type Engine = 'sqlite' | 'postgres';

/** Row locking for queue claims: PostgreSQL skips rows other workers hold; SQLite has one writer. */
export function forUpdateSkipLocked<DB, TB extends keyof DB, O>(
  engine: Engine,
  query: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return engine === 'postgres' ? query.forUpdate().skipLocked() : query;
}

/** Column type of a surrogate integer key that the database assigns. */
export function autoIncrementType(engine: Engine) {
  return engine === 'postgres' ? ('bigserial' as const) : ('integer' as const);
}

export function autoIncrementColumn(engine: Engine) {
  return (col: ColumnDefinitionBuilder) =>
    engine === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement();
}

/** True when the error is a unique-constraint violation, whichever driver raised it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A deterministic text dump of the schema, used to detect drift between migrations and committed dumps. */
export async function dumpSchema(engine: Engine, db: Kysely<unknown>): Promise<string> {
  if (engine === 'sqlite') {
    const rows = await sql<{ type: string; name: string; sql: string | null }>`
      select type, name, sql from sqlite_master
      where name not like 'sqlite_%' and sql is not null
      order by case type when 'table' then 0 else 1 end, name`.execute(db);
    return rows.rows.map((r) => `${r.sql!.replace(/\s+/g, ' ').trim()};`).join('\n') + '\n';
  }
  const cols = await sql<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
  }>`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = current_schema()
    order by table_name, ordinal_position`.execute(db);
  const idx = await sql<{ indexdef: string }>`
    select indexdef from pg_indexes where schemaname = current_schema() order by tablename, indexname`.execute(db);
  const cons = await sql<{ table_name: string; def: string }>`
    select c.conrelid::regclass::text as table_name, pg_get_constraintdef(c.oid) as def
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
    where n.nspname = current_schema() and c.contype in ('f', 'c')
    order by 1, 2`.execute(db);
  const lines: string[] = [];
  let table = '';
  for (const c of cols.rows) {
    if (c.table_name !== table) {
      table = c.table_name;
      lines.push(`table ${table}`);
    }
    const dflt = c.column_default ? ` default ${c.column_default}` : '';
    lines.push(`  ${c.column_name} ${c.data_type}${c.is_nullable === 'NO' ? ' not null' : ''}${dflt}`);
  }
  for (const c of cons.rows) lines.push(`constraint on ${c.table_name}: ${c.def}`);
  for (const i of idx.rows) lines.push(`${i.indexdef};`);
  return lines.join('\n') + '\n';
}

/** For `.catch()`: turns a unique-constraint violation (a race lost to a concurrent create) into a 409. */
export function rethrowUnique(message: string) {
  return (err: unknown): never => {
    if (isUniqueViolation(err)) throw new ConflictError(message);
    throw err;
  };
}
