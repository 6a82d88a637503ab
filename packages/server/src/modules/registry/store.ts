import {
  sql,
  type Expression,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SqlBool,
  type Updateable,
} from 'kysely';
import type { Engine } from '../../db/dialect.js';
import { inChunks } from '../../db/in-chunks.js';
import type {
  DB,
  ModelStage,
  ModelVersionsTable,
  RegisteredModelAliasesTable,
  RegisteredModelsTable,
} from '../../db/schema.js';
import {
  byCodePoint,
  compareInteger,
  compareList,
  compareText,
  type ModelVersionClause,
  type ModelVersionOrderKey,
  type RegisteredModelClause,
  type RegisteredModelOrderKey,
  type RegistryOrderBy,
  type StringComparator,
} from '../tracking/search/index.js';
import type { KeyValue } from '../tracking/store.js';

export type RegisteredModelRow = Selectable<RegisteredModelsTable>;
export type ModelVersionRow = Selectable<ModelVersionsTable>;
export type AliasRow = Selectable<RegisteredModelAliasesTable>;
/** A version with the name of its registered model (search results span models). */
export type ModelVersionWithName = ModelVersionRow & { model_name: string };
export interface VersionKey {
  modelId: string;
  version: number;
}

/**
 * MLflow marks prompts with this tag, and its client adds `tag.mlflow.prompt.is_prompt != 'true'`
 * to every registered-model search; a model without the tag must match that (MLflow's rule).
 */
const PROMPT_TAG = 'mlflow.prompt.is_prompt';

const sortKeyText = <T extends { key: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** SQL of registered models, model versions, their tags and aliases. `with(tx)` binds it to a transaction. */
export class RegistryStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
  ) {}

  with(tx: Kysely<DB>): RegistryStore {
    return new RegistryStore(tx, this.engine);
  }

  // ---- registered models ----

  modelByName(projectId: string, name: string) {
    return this.db
      .selectFrom('registered_models')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async insertModel(row: RegisteredModelRow) {
    await this.db.insertInto('registered_models').values(row).execute();
  }

  async updateModel(id: string, patch: Updateable<RegisteredModelsTable>) {
    await this.db.updateTable('registered_models').set(patch).where('id', '=', id).execute();
  }

  async deleteModel(id: string) {
    await this.db.deleteFrom('registered_models').where('id', '=', id).execute();
  }

  /**
   * Hands out the model's next version number and touches its update time. The increment is one
   * UPDATE, which takes the row's lock on PostgreSQL (SQLite has one writer), so concurrent
   * registrations of one model get distinct numbers; numbers of deleted versions are never reused.
   * Undefined when the model no longer exists.
   */
  async nextVersion(modelId: string, now: number): Promise<number | undefined> {
    const r = await this.db
      .updateTable('registered_models')
      .set((eb) => ({ last_version: eb('last_version', '+', 1), updated_at: now }))
      .where('id', '=', modelId)
      .returning('last_version')
      .executeTakeFirst();
    return r ? Number(r.last_version) : undefined;
  }

  modelTags(ids: string[]) {
    return inChunks(ids, (c) =>
      this.db.selectFrom('registered_model_tags').selectAll().where('model_id', 'in', c).orderBy('key').execute(),
    );
  }

  async setModelTags(modelId: string, tags: KeyValue[]) {
    for (const { key, value } of sortKeyText(tags)) {
      await this.db
        .insertInto('registered_model_tags')
        .values({ model_id: modelId, key, value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
        .execute();
    }
  }

  async deleteModelTag(modelId: string, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('registered_model_tags')
      .where('model_id', '=', modelId)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async teamIdByName(name: string): Promise<string | undefined> {
    return (await this.db.selectFrom('teams').select('id').where('name', '=', name).executeTakeFirst())?.id;
  }

  /** Team names by id (owner teams of models). */
  async teamNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('teams').select(['id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  // ---- versions ----

  version(modelId: string, version: number) {
    return this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  async insertVersion(row: ModelVersionRow, tags: KeyValue[]) {
    await this.db.insertInto('model_versions').values(row).execute();
    await this.setVersionTags({ modelId: row.model_id, version: row.version }, tags);
  }

  async updateVersion(modelId: string, version: number, patch: Updateable<ModelVersionsTable>) {
    await this.db
      .updateTable('model_versions')
      .set(patch)
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .execute();
  }

  async deleteVersion(modelId: string, version: number) {
    await this.db.deleteFrom('model_versions').where('model_id', '=', modelId).where('version', '=', version).execute();
  }

  /** Moves every other version in `stage` to Archived; returns the versions moved. */
  async archiveStage(modelId: string, stage: ModelStage, except: number, now: number): Promise<number[]> {
    const rows = await this.db
      .updateTable('model_versions')
      .set({ stage: 'Archived', updated_at: now })
      .where('model_id', '=', modelId)
      .where('stage', '=', stage)
      .where('version', '<>', except)
      .returning('version')
      .execute();
    return rows.map((r) => Number(r.version)).sort((a, b) => a - b);
  }

  /** The highest version in each stage, of each model. */
  latestPerStage(modelIds: string[]): Promise<ModelVersionRow[]> {
    if (modelIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('model_versions as mv')
      .selectAll('mv')
      .where('mv.model_id', 'in', modelIds)
      .where(
        'mv.version',
        '=',
        sql<number>`(select max(v2.version) from model_versions as v2 where v2.model_id = mv.model_id and v2.stage = mv.stage)`,
      )
      .orderBy('mv.model_id')
      .orderBy('mv.version')
      .execute();
  }

  /** The newest version of a model, whatever its stage. */
  latestVersion(modelId: string) {
    return this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async versionTags(keys: VersionKey[]) {
    const rows = await inChunks(keys, (part) =>
      this.db
        .selectFrom('model_version_tags')
        .selectAll()
        .where((eb) =>
          eb(
            eb.refTuple('model_id', 'version'),
            'in',
            part.map((k) => eb.tuple(k.modelId, k.version)),
          ),
        )
        .orderBy('key')
        .execute(),
    );
    return rows.map((r) => ({ ...r, version: Number(r.version) }));
  }

  async setVersionTags(v: VersionKey, tags: KeyValue[]) {
    for (const { key, value } of sortKeyText(tags)) {
      await this.db
        .insertInto('model_version_tags')
        .values({ model_id: v.modelId, version: v.version, key, value })
        .onConflict((oc) => oc.columns(['model_id', 'version', 'key']).doUpdateSet({ value }))
        .execute();
    }
  }

  async deleteVersionTag(v: VersionKey, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('model_version_tags')
      .where('model_id', '=', v.modelId)
      .where('version', '=', v.version)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- aliases ----

  async aliasesOf(modelIds: string[]): Promise<AliasRow[]> {
    const rows = await inChunks(modelIds, (c) =>
      this.db.selectFrom('registered_model_aliases').selectAll().where('model_id', 'in', c).orderBy('alias').execute(),
    );
    return rows.map((r) => ({ ...r, version: Number(r.version) }));
  }

  alias(modelId: string, alias: string) {
    return this.db
      .selectFrom('registered_model_aliases')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('alias', '=', alias)
      .executeTakeFirst();
  }

  /** Points the alias at the version (moving it if it pointed elsewhere); returns the previous version. */
  async setAlias(modelId: string, alias: string, version: number): Promise<number | null> {
    const before = await this.alias(modelId, alias);
    await this.db
      .insertInto('registered_model_aliases')
      .values({ model_id: modelId, alias, version })
      .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
      .execute();
    return before ? Number(before.version) : null;
  }

  async deleteAlias(modelId: string, alias: string): Promise<number | null> {
    const r = await this.db
      .deleteFrom('registered_model_aliases')
      .where('model_id', '=', modelId)
      .where('alias', '=', alias)
      .returning('version')
      .executeTakeFirst();
    return r ? Number(r.version) : null;
  }

  // ---- search ----

  /**
   * One page of a project's registered models matching `clauses` (and, when given, owned by a team
   * or holding a version in a stage), in `order` then by name. Models without an owner team belong
   * to their project's team.
   */
  searchModels(
    projectId: string,
    clauses: readonly RegisteredModelClause[],
    order: readonly RegistryOrderBy<RegisteredModelOrderKey>[],
    offset: number,
    limit: number,
    only: { owner?: { teamId: string; isProjectTeam: boolean } | null; stage?: ModelStage | null } = {},
  ): Promise<RegisteredModelRow[]> {
    let q = this.db.selectFrom('registered_models as rm').selectAll('rm').where('rm.project_id', '=', projectId);
    const owner = only.owner;
    if (owner) {
      q = q.where((eb) =>
        owner.isProjectTeam
          ? eb.or([eb('rm.owner_team_id', '=', owner.teamId), eb('rm.owner_team_id', 'is', null)])
          : eb('rm.owner_team_id', '=', owner.teamId),
      );
    }
    const stage = only.stage;
    if (stage) {
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('model_versions as sv')
            .select(sql.lit(1).as('one'))
            .whereRef('sv.model_id', '=', 'rm.id')
            .where('sv.stage', '=', stage),
        ),
      );
    }
    for (const c of clauses) {
      q = q.where(() =>
        c.type === 'tag'
          ? this.tagCondition('registered_model_tags', sql`t.model_id = rm.id`, c.key, c.comparator, c.value)
          : 'values' in c
            ? compareList(sql.ref('rm.name'), c.comparator, c.values)
            : compareText(this.engine, sql.ref('rm.name'), c.comparator, c.value),
      );
    }
    const columns: Record<RegisteredModelOrderKey, RawBuilder<unknown>> = {
      name: byCodePoint(this.engine, sql.ref('rm.name')),
      creation_timestamp: sql`rm.created_at`,
      last_updated_timestamp: sql`rm.updated_at`,
    };
    const keys = [...order];
    if (!keys.some((o) => o.key === 'name')) keys.push({ key: 'name', ascending: true });
    for (const o of keys) q = q.orderBy(columns[o.key], o.ascending ? 'asc' : 'desc');
    return q.offset(offset).limit(limit).execute();
  }

  /**
   * One page of a project's model versions (of one model when `modelId` is given) matching
   * `clauses`, in `order`, then by model name and newest version first.
   */
  async searchVersions(
    projectId: string,
    modelId: string | null,
    clauses: readonly ModelVersionClause[],
    order: readonly RegistryOrderBy<ModelVersionOrderKey>[],
    offset: number,
    limit: number,
  ): Promise<ModelVersionWithName[]> {
    let q = this.db
      .selectFrom('model_versions as mv')
      .innerJoin('registered_models as rm', 'rm.id', 'mv.model_id')
      .selectAll('mv')
      .select('rm.name as model_name')
      .where('rm.project_id', '=', projectId);
    if (modelId !== null) q = q.where('mv.model_id', '=', modelId);
    for (const c of clauses) q = q.where(() => this.versionCondition(c));
    const columns: Record<ModelVersionOrderKey, RawBuilder<unknown>> = {
      name: byCodePoint(this.engine, sql.ref('rm.name')),
      version_number: sql`mv.version`,
      creation_timestamp: sql`mv.created_at`,
      last_updated_timestamp: sql`mv.updated_at`,
    };
    const keys = [...order];
    if (!keys.some((o) => o.key === 'name')) keys.push({ key: 'name', ascending: true });
    if (!keys.some((o) => o.key === 'version_number')) keys.push({ key: 'version_number', ascending: false });
    for (const o of keys) q = q.orderBy(columns[o.key], o.ascending ? 'asc' : 'desc');
    const rows = await q.offset(offset).limit(limit).execute();
    return rows.map((r) => ({ ...r, version: Number(r.version) }));
  }

  private versionCondition(c: ModelVersionClause): Expression<SqlBool> {
    if (c.type === 'tag') {
      return this.tagCondition(
        'model_version_tags',
        sql`t.model_id = mv.model_id and t.version = mv.version`,
        c.key,
        c.comparator,
        c.value,
      );
    }
    if (c.key === 'version_number') return compareInteger(sql.ref('mv.version'), c.comparator, c.value);
    const column = sql.ref(c.key === 'name' ? 'rm.name' : c.key === 'run_id' ? 'mv.run_id' : 'mv.source');
    if ('values' in c) return compareList(column, c.comparator, c.values);
    // A version without a run matches no run_id comparison (as in MLflow), `!=` included.
    const test = compareText(this.engine, column, c.comparator, c.value);
    return c.key === 'run_id' ? sql<SqlBool>`(mv.run_id is not null and ${test})` : test;
  }

  /**
   * A tag comparison: some tag with the key has a matching value. The prompt marker is MLflow's
   * exception: a missing tag matches `!= 'true'` and `= 'false'`.
   */
  private tagCondition(
    table: 'registered_model_tags' | 'model_version_tags',
    owner: RawBuilder<unknown>,
    key: string,
    comparator: StringComparator,
    value: string,
  ): Expression<SqlBool> {
    const t = sql.table(table);
    const test = compareText(this.engine, sql.ref('t.value'), comparator, value);
    const matches = sql<SqlBool>`exists (select 1 from ${t} as t where ${owner} and t.key = ${key} and ${test})`;
    if (key !== PROMPT_TAG) return matches;
    const missingMatches = (comparator === '=' && value === 'false') || (comparator === '!=' && value === 'true');
    if (!missingMatches) return matches;
    return sql<SqlBool>`(${matches} or not exists (select 1 from ${t} as t where ${owner} and t.key = ${key}))`;
  }
}
