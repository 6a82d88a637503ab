import { sql, type Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * Run search reads latest_metrics by (run_id, key) for every candidate run and walks a key's
 * values in order for metric order_by (see search/compile-run-search.ts).
 *
 * - The (key, value) index becomes (key, is_nan, value): the order MLflow sorts a metric in
 *   (numbers, then NaN) within one key, and an equality on is_nan for filters, so a metric
 *   order_by can read the index in order and stop at the page size.
 * - SQLite: latest_metrics becomes a WITHOUT ROWID table clustered on its primary key
 *   (run_id, key). A lookup by run and key is then one B-tree search instead of two (index, then
 *   row), and the key index holds run_id (the primary key), so it covers what search reads.
 *   Rebuilt in one transaction; a rerun after a crash finds the table already converted.
 * - PostgreSQL: run_id is added to the index so a walk over it needs no heap visits.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'postgres') {
    await db.schema.dropIndex('latest_metrics_key_idx').execute();
    await db.schema
      .createIndex('latest_metrics_key_idx')
      .on('latest_metrics')
      .columns(['key', 'is_nan', 'value', 'run_id'])
      .execute();
    return;
  }
  const current = await sql<{ sql: string }>`
    select sql from sqlite_master where type = 'table' and name = 'latest_metrics'`.execute(db);
  if (/without rowid\s*$/i.test(current.rows[0]?.sql ?? '')) return;
  await db.transaction().execute(async (tx) => {
    await tx.schema.dropTable('latest_metrics_new').ifExists().execute();
    await tx.schema
      .createTable('latest_metrics_new')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('is_nan', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
      .modifyEnd(sql`without rowid`)
      .execute();
    await sql`insert into latest_metrics_new (run_id, key, value, is_nan, step, timestamp)
      select run_id, key, value, is_nan, step, timestamp from latest_metrics`.execute(tx);
    await tx.schema.dropTable('latest_metrics').execute();
    await tx.schema.alterTable('latest_metrics_new').renameTo('latest_metrics').execute();
    await tx.schema
      .createIndex('latest_metrics_key_idx')
      .on('latest_metrics')
      .columns(['key', 'is_nan', 'value'])
      .execute();
  });
}
