import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * The model registry: registered models (in a project, with an owner team and a risk tier), their
 * versions (numbered per model from a counter on the model row, so concurrent registrations get
 * distinct numbers and a number is never reused), tags of both, and aliases (alias -> version).
 * Versions point at the model by its id, so renaming a model touches one row.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema
    .createTable('registered_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // Null: owned by the project's team (and follows the project if it moves to another team).
    .addColumn('owner_team_id', 'text', (c) => c.references('teams.id').onDelete('set null'))
    .addColumn('risk_tier', 'text', (c) => c.notNull().defaultTo('low'))
    // The last version number handed out; incremented under the row lock by each registration.
    .addColumn('last_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('user_id', 'text')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('registered_models_project_name_uq', ['project_id', 'name'])
    .execute();
  await db.schema.createIndex('registered_models_owner_idx').on('registered_models').column('owner_team_id').execute();

  await db.schema
    .createTable('registered_model_tags')
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_id', 'key'])
    .execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.id').onDelete('cascade'))
    .addColumn('version', 'bigint', (c) => c.notNull())
    // As the client gave it (runs:/..., models:/..., mlflow-artifacts:/...).
    .addColumn('source', 'text', (c) => c.notNull())
    // Where the files are: always an mlflow-artifacts:/ location of this server.
    .addColumn('storage_location', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('logged_model_id', 'text')
    .addColumn('run_link', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text')
    .addColumn('stage', 'text', (c) => c.notNull().defaultTo('None'))
    .addColumn('description', 'text')
    .addColumn('user_id', 'text')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // JSON {inputs, outputs, params} from the MLmodel file, or null when it has none.
    .addColumn('signature', 'text')
    .addColumn('framework', 'text')
    .addColumn('format', 'text')
    .addColumn('size_bytes', 'bigint')
    .addColumn('file_count', 'integer')
    // sha256:<hex> over the sorted "<file sha256>  <path>" lines of the model's files.
    .addColumn('checksum', 'text')
    .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
    .execute();
  await db.schema.createIndex('model_versions_run_idx').on('model_versions').column('run_id').execute();
  await db.schema
    .createIndex('model_versions_logged_model_idx')
    .on('model_versions')
    .column('logged_model_id')
    .execute();
  await db.schema
    .createIndex('model_versions_stage_idx')
    .on('model_versions')
    .columns(['model_id', 'stage', 'version'])
    .execute();

  await db.schema
    .createTable('model_version_tags')
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_version_tags_pk', ['model_id', 'version', 'key'])
    .addForeignKeyConstraint(
      'model_version_tags_version_fk',
      ['model_id', 'version'],
      'model_versions',
      ['model_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('registered_model_aliases')
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('alias', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('registered_model_aliases_pk', ['model_id', 'alias'])
    // Deleting a version deletes the aliases that point at it.
    .addForeignKeyConstraint(
      'registered_model_aliases_version_fk',
      ['model_id', 'version'],
      'model_versions',
      ['model_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('registered_model_aliases_version_idx')
    .on('registered_model_aliases')
    .columns(['model_id', 'version'])
    .execute();
}
