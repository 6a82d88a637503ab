import type { Kysely } from 'kysely';
import { autoIncrementColumn, autoIncrementType, type Engine } from '../dialect.js';

/**
 * What stands between a model version and production: the evaluation spec of each registered model
 * and the gate evaluations of its versions; releases (promotion of a version to an environment)
 * with their stage history and the one approval decision each may get; the domain event log and
 * the webhooks its events are delivered to, with a delivery log.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  // One spec per registered model; replaced whole when edited (the gate snapshots it per run).
  await db.schema
    .createTable('evaluation_specs')
    .addColumn('model_id', 'text', (c) => c.primaryKey().references('registered_models.id').onDelete('cascade'))
    // The held-out set: a dataset version of the model's project.
    .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.id'))
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('label_column', 'text', (c) => c.notNull())
    // JSON [{metric, op: ">=" | "<=", threshold}].
    .addColumn('thresholds', 'text', (c) => c.notNull())
    // JSON {metric, maxDegradation} or null: not worse than the champion by more than maxDegradation.
    .addColumn('champion_rule', 'text')
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // Every gate evaluation of a version; the newest is the version's gate result.
  await db.schema
    .createTable('model_version_gates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    // pending | running | passed | failed | skipped (no spec) ; overridden keeps the failed result.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text')
    // JSON: the spec as it was when the gate started.
    .addColumn('spec', 'text')
    // pyfunc | onnx: which scoring path scored it.
    .addColumn('scorer', 'text')
    .addColumn('rows', 'bigint')
    // JSON {metric: value}.
    .addColumn('metrics', 'text')
    // JSON [{metric, op, threshold, value, passed}] (thresholds and the champion rule).
    .addColumn('checks', 'text')
    .addColumn('champion_version', 'bigint')
    .addColumn('champion_metrics', 'text')
    // Why it failed (or was skipped), in words.
    .addColumn('reason', 'text')
    .addColumn('override_by', 'text')
    .addColumn('override_reason', 'text')
    .addColumn('override_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addForeignKeyConstraint(
      'model_version_gates_version_fk',
      ['model_id', 'version'],
      'model_versions',
      ['model_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('model_version_gates_version_idx')
    .on('model_version_gates')
    .columns(['model_id', 'version', 'created_at'])
    .execute();

  await db.schema
    .createTable('releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    // staging | production
    .addColumn('environment', 'text', (c) => c.notNull())
    // gate | approval | approved | deploying | done | rejected | blocked | rolled_back | cancelled
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_by_id', 'text')
    .addColumn('note', 'text')
    // The one approval decision: set once, by a conditional update on status = 'approval'.
    .addColumn('decided_by', 'text')
    .addColumn('decided_by_id', 'text')
    .addColumn('decision', 'text')
    .addColumn('decision_reason', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addForeignKeyConstraint(
      'releases_version_fk',
      ['model_id', 'version'],
      'model_versions',
      ['model_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('releases_model_idx').on('releases').columns(['model_id', 'created_at']).execute();
  await db.schema.createIndex('releases_status_idx').on('releases').columns(['status', 'created_at']).execute();

  // Each stage a release entered, in order: its history.
  await db.schema
    .createTable('release_transitions')
    .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('release_transitions_pk', ['release_id', 'seq'])
    .execute();

  // The domain event log (version created, gate passed/failed, approvals, promotions, rollbacks).
  await db.schema
    .createTable('events')
    .addColumn('seq', autoIncrementType(engine), autoIncrementColumn(engine))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // JSON body delivered to webhooks.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_project_idx').on('events').columns(['project_id', 'seq']).execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    // JSON array of event types (or ["*"]).
    .addColumn('events', 'text', (c) => c.notNull())
    // The HMAC key, sealed with the server's secret box.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('description', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_project_idx').on('webhooks').column('project_id').execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // pending | delivered | failed (attempts exhausted)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('job_id', 'text')
    .addColumn('response_status', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_webhook_idx')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'created_at'])
    .execute();
}
