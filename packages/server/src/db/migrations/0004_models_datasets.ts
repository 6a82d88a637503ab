import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * Dataset versions and run inputs, MLflow 3 logged models (with their params, tags and metrics)
 * and the links between runs and logged models. Also narrows the params/tags lookup indexes on
 * PostgreSQL, whose B-tree entries cannot exceed ~2.7 kB: MLflow allows 6,000-character param
 * values, which made (key, value) index entries fail on insert.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'postgres') {
    await db.schema.dropIndex('run_params_key_idx').execute();
    await db.schema.dropIndex('run_tags_key_idx').execute();
    // Filters find a key's rows through the index and compare values on those rows.
    await db.schema.createIndex('run_params_key_idx').on('run_params').column('key').execute();
    await db.schema.createIndex('run_tags_key_idx').on('run_tags').column('key').execute();
  }

  await db.schema
    .createTable('datasets')
    // "d-" + 32 hex characters.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    // JSON texts as MLflow carries them (schema: {"mlflow_colspec": [...]}, profile: {"num_rows": ...}).
    .addColumn('schema', 'text')
    .addColumn('profile', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // One version per content: registering identical content again finds this row.
    .addUniqueConstraint('datasets_project_name_digest_uq', ['project_id', 'name', 'digest'])
    .execute();

  await db.schema
    .createTable('run_inputs')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.id').onDelete('cascade'))
    // The mlflow.data.context tag (training, validation, ...), kept apart for search.
    .addColumn('context', 'text')
    // All input tags as a JSON array of {key, value}.
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_inputs_pk', ['run_id', 'dataset_id'])
    .execute();
  await db.schema.createIndex('run_inputs_dataset_idx').on('run_inputs').column('dataset_id').execute();

  await db.schema
    .createTable('logged_models')
    // "m-" + 32 hex characters, like MLflow's model ids.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('artifact_location', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text')
    .addColumn('model_type', 'text')
    .addColumn('source_run_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('logged_models_experiment_idx')
    .on('logged_models')
    .columns(['experiment_id', 'created_at'])
    .execute();
  await db.schema.createIndex('logged_models_run_idx').on('logged_models').column('source_run_id').execute();

  for (const table of ['logged_model_params', 'logged_model_tags'] as const) {
    await db.schema
      .createTable(table)
      .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['model_id', 'key'])
      .execute();
  }

  await db.schema
    .createTable('logged_model_metrics')
    .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('is_nan', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('dataset_name', 'text')
    .addColumn('dataset_digest', 'text')
    .execute();
  await db.schema
    .createIndex('logged_model_metrics_idx')
    .on('logged_model_metrics')
    .columns(['model_id', 'key', 'step'])
    .execute();

  // Logged models a run consumed (inputs) or produced (outputs, at a step).
  await db.schema
    .createTable('run_models')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.id').onDelete('cascade'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('run_models_pk', ['run_id', 'model_id', 'direction'])
    .execute();
  await db.schema.createIndex('run_models_model_idx').on('run_models').column('model_id').execute();
}
