import type { Kysely } from 'kysely';
import { autoIncrementColumn, autoIncrementType, type Engine } from '../dialect.js';

/**
 * The serving plane's state: deployments (an endpoint name over model versions with a traffic
 * policy), each change of their traffic as a numbered revision (what rollback returns to and what
 * serving replicas poll for), rollouts (canary and shadow, with each step's analysis) and the
 * prediction log the data plane writes in batches.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Unique server-wide: it is the model name of the Open Inference Protocol routes.
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.id'))
    // staging | production
    .addColumn('environment', 'text', (c) => c.notNull())
    // auto | onnx | process | external
    .addColumn('runtime', 'text', (c) => c.notNull())
    // JSON {url, model?, version?} for the external runtime.
    .addColumn('external', 'text')
    // JSON {header?, field?}: sticky assignment of A/B traffic.
    .addColumn('routing_key', 'text')
    // JSON {maxBatchSize, maxDelayMs}, or null: no batching.
    .addColumn('batching', 'text')
    // JSON [{version, weight}] summing to 100.
    .addColumn('traffic', 'text', (c) => c.notNull())
    // JSON {version, percent} or null: the version that gets a copy of live traffic.
    .addColumn('shadow', 'text')
    // The version all traffic returns to on rollback.
    .addColumn('stable_version', 'bigint', (c) => c.notNull())
    // The stable version before the last promotion: where a rollback after a finished rollout goes.
    .addColumn('previous_version', 'bigint')
    // deploying | ready | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failure', 'text')
    // Bumped on every change; serving replicas reload a deployment whose revision moved.
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deployments_project_idx').on('deployments').columns(['project_id', 'name']).execute();

  // Every traffic change, in order: the history the portal shows and rollback reads.
  await db.schema
    .createTable('deployment_revisions')
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('traffic', 'text', (c) => c.notNull())
    .addColumn('shadow', 'text')
    .addColumn('stable_version', 'bigint', (c) => c.notNull())
    // created | traffic | rollout | promoted | aborted | rolled_back | failed ...
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_revisions_pk', ['deployment_id', 'revision'])
    .execute();

  await db.schema
    .createTable('rollouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    // canary | shadow
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('candidate_version', 'bigint', (c) => c.notNull())
    // The release this rollout deploys, if a release started it: it ends with the rollout.
    .addColumn('release_id', 'text')
    .addColumn('stable_version', 'bigint', (c) => c.notNull())
    // JSON: steps, step length, thresholds.
    .addColumn('config', 'text', (c) => c.notNull())
    // running | paused | promoted | aborted | stopped
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('step_index', 'integer', (c) => c.notNull())
    .addColumn('step_started_at', 'bigint', (c) => c.notNull())
    // JSON [{step, percent, decision, ...}]: one analysis per finished step.
    .addColumn('analyses', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('rollouts_deployment_idx')
    .on('rollouts')
    .columns(['deployment_id', 'created_at'])
    .execute();
  await db.schema.createIndex('rollouts_status_idx').on('rollouts').column('status').execute();

  await db.schema
    .createTable('predictions')
    .addColumn('seq', autoIncrementType(engine), autoIncrementColumn(engine))
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    // stable | candidate | pinned (a /versions/{v} request) | shadow
    .addColumn('route', 'text', (c) => c.notNull())
    // ok | error
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('latency_ms', 'double precision', (c) => c.notNull())
    // The first element of the first output, for distribution checks without parsing `outputs`:
    // a label as text, or a numeric value.
    .addColumn('output_label', 'text')
    .addColumn('output_value', 'double precision')
    // JSON {name: {datatype, shape, data}}; null when over the logged size bound.
    .addColumn('inputs', 'text')
    .addColumn('outputs', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('predictions_deployment_idx')
    .on('predictions')
    .columns(['deployment_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('predictions_request_idx')
    .on('predictions')
    .columns(['deployment_id', 'request_id'])
    .execute();
}
