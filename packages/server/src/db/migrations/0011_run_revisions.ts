import { sql, type Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/** Tables whose rows are part of what a run search returns for a run (MLflow's Run message). */
const RUN_PARTS = ['run_params', 'run_tags', 'latest_metrics', 'run_inputs', 'run_models'] as const;

/**
 * SQLite only: `runs.rev`, a revision of everything a search returns for a run, so the server may
 * keep each run's serialized form and reuse it while the revision stands (ADR 0012).
 *
 * Triggers give the revision a new random value (53 bits, exact as a JavaScript number) in the same
 * transaction as any change to the run's row, params, tags, latest metrics, inputs or model links,
 * whichever code path makes it. Random rather than counted: a value is never current twice, so an
 * entry built from newer data than the revision it was filed under can never be served as current.
 *
 * PostgreSQL has neither: there, many servers write at once, and a trigger updating the run's row
 * would take that row's lock after the rows of the statement, in an order that can deadlock
 * concurrent writers to one run. Runs are read from their tables there on every search.
 *
 * Also on SQLite: an index on runs (id, experiment_id, lifecycle_stage). A metric-ordered search
 * probes runs by id for every candidate; with the filter columns in the index SQLite checks them
 * there and reads the table only for runs that match (its deferred seek).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'sqlite') return;
  await db.schema
    .alterTable('runs')
    .addColumn('rev', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  const bump = (id: string) => sql.raw(`update runs set rev = random() >> 11 where id = ${id};`);
  for (const table of RUN_PARTS) {
    for (const [op, row] of [
      ['insert', 'new'],
      ['update', 'new'],
      ['delete', 'old'],
    ] as const) {
      await sql`create trigger ${sql.id(`${table}_${op}_rev`)} after ${sql.raw(op)} on ${sql.table(table)}
        begin ${bump(`${row}.run_id`)} end`.execute(db);
    }
  }
  // The trigger's own update changes rev, so it does not match its WHEN clause again.
  await sql`create trigger runs_update_rev after update on runs when new.rev is old.rev
    begin ${bump('new.id')} end`.execute(db);
  await db.schema
    .createIndex('runs_id_filter_idx')
    .on('runs')
    .columns(['id', 'experiment_id', 'lifecycle_stage'])
    .execute();
}
