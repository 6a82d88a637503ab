import { sql, type Expression, type Kysely, type Selectable, type SqlBool, type Updateable } from 'kysely';
import type { Engine } from '../../db/dialect.js';
import { inChunks } from '../../db/in-chunks.js';
import type { DB, LoggedModelMetricsTable, LoggedModelsTable, RunModelsTable } from '../../db/schema.js';
import {
  compareInteger,
  compareList,
  compareReal,
  compareText,
  type LoggedModelClause,
  type NumericComparator,
  type StringComparator,
} from '../tracking/search/index.js';
import type { KeyValue } from '../tracking/store.js';

export type LoggedModelRow = Selectable<LoggedModelsTable>;
export type LoggedModelMetricRow = Selectable<LoggedModelMetricsTable>;
export type RunModelRow = Selectable<RunModelsTable>;

/** An order_by item of a logged-model search: an attribute column or `metrics.<key>`. */
export type LoggedModelOrder =
  | {
      type: 'attribute';
      column: 'name' | 'id' | 'created_at' | 'updated_at' | 'status' | 'model_type' | 'source_run_id';
      ascending: boolean;
    }
  | { type: 'metric'; key: string; ascending: boolean; datasetName?: string; datasetDigest?: string };

/** The column of each logged-model attribute MLflow's grammar names (filters and order_by). */
export const ATTRIBUTE_COLUMNS = {
  name: 'name',
  model_id: 'id',
  model_type: 'model_type',
  status: 'status',
  source_run_id: 'source_run_id',
  creation_timestamp: 'created_at',
  last_updated_timestamp: 'updated_at',
} as const;

const byKey = <T extends { key: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** SQL of MLflow 3 logged models, their params, tags and metrics, and their links to runs. */
export class LoggedModelStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
  ) {}

  with(tx: Kysely<DB>): LoggedModelStore {
    return new LoggedModelStore(tx, this.engine);
  }

  transaction<T>(fn: (store: LoggedModelStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => fn(this.with(tx)));
  }

  byId(id: string) {
    return this.db.selectFrom('logged_models').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: LoggedModelRow) {
    await this.db.insertInto('logged_models').values(row).execute();
  }

  async update(id: string, patch: Updateable<LoggedModelsTable>) {
    await this.db.updateTable('logged_models').set(patch).where('id', '=', id).execute();
  }

  /** Params are immutable once set, like a run's: existing keys are left alone. */
  async insertParams(modelId: string, params: KeyValue[]) {
    if (params.length === 0) return;
    await this.db
      .insertInto('logged_model_params')
      .values(byKey(params).map((p) => ({ model_id: modelId, ...p })))
      .onConflict((oc) => oc.columns(['model_id', 'key']).doNothing())
      .execute();
  }

  paramsOf(modelId: string, keys: string[]) {
    if (keys.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('logged_model_params')
      .select(['key', 'value'])
      .where('model_id', '=', modelId)
      .where('key', 'in', keys)
      .execute();
  }

  async setTags(modelId: string, tags: KeyValue[]) {
    const last = new Map(tags.map((t) => [t.key, t.value]));
    for (const [key, value] of [...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await this.db
        .insertInto('logged_model_tags')
        .values({ model_id: modelId, key, value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
        .execute();
    }
  }

  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('logged_model_tags')
      .where('model_id', '=', modelId)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async insertMetrics(rows: LoggedModelMetricRow[]) {
    if (rows.length === 0) return;
    await this.db.insertInto('logged_model_metrics').values(rows).execute();
  }

  /** Params, tags and metrics of many models at once. */
  async data(ids: string[]) {
    if (ids.length === 0) return { params: [], tags: [], metrics: [] };
    const [params, tags, metrics] = await Promise.all([
      this.db.selectFrom('logged_model_params').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('logged_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.db
        .selectFrom('logged_model_metrics')
        .selectAll()
        .where('model_id', 'in', ids)
        .orderBy('key')
        .orderBy('step')
        .orderBy('timestamp')
        .execute(),
    ]);
    return { params, tags, metrics };
  }

  /** Links a run and a model (first link wins; a model output keeps the step it was logged at). */
  async link(rows: RunModelRow[]) {
    if (rows.length === 0) return;
    await this.db
      .insertInto('run_models')
      .values(rows)
      .onConflict((oc) => oc.columns(['run_id', 'model_id', 'direction']).doNothing())
      .execute();
  }

  /**
   * The models runs consumed and produced, in the order the models were created (the order the
   * client logged them in). Without an ORDER BY the engines return rows in index order, by model
   * id, which is random: the "first model a run produced" would be any of them.
   */
  linksOf(runIds: string[]) {
    return inChunks(runIds, (c) =>
      this.db
        .selectFrom('run_models')
        .innerJoin('logged_models', 'logged_models.id', 'run_models.model_id')
        .selectAll('run_models')
        .where('run_models.run_id', 'in', c)
        .orderBy('logged_models.created_at')
        .orderBy('run_models.model_id')
        .execute(),
    );
  }

  /** One page of models in `experimentIds` matching `clauses`, in `order` (then newest first). */
  search(
    experimentIds: number[],
    clauses: readonly LoggedModelClause[],
    order: readonly LoggedModelOrder[],
    offset: number,
    limit: number,
  ) {
    let q = this.db
      .selectFrom('logged_models')
      .selectAll('logged_models')
      .where('experiment_id', 'in', experimentIds.length ? experimentIds : [-1])
      .where('lifecycle_stage', '=', 'active');
    for (const c of clauses) q = q.where(() => this.condition(c));
    for (const o of order) {
      if (o.type === 'attribute') {
        q = q.orderBy(sql.ref(`logged_models.${o.column}`), o.ascending ? 'asc' : 'desc');
        continue;
      }
      const dataset = sql.join(
        [
          sql`m.model_id = logged_models.id`,
          sql`m.key = ${o.key}`,
          sql`m.is_nan = 0`,
          ...(o.datasetName !== undefined ? [sql`m.dataset_name = ${o.datasetName}`] : []),
          ...(o.datasetDigest !== undefined ? [sql`m.dataset_digest = ${o.datasetDigest}`] : []),
        ],
        sql` and `,
      );
      const latest = sql`(select m.value from logged_model_metrics as m where ${dataset} order by m.step desc, m.timestamp desc limit 1)`;
      // Models without the metric sort last either way, as in MLflow.
      q = q.orderBy(sql`case when ${latest} is null then 1 else 0 end`).orderBy(latest, o.ascending ? 'asc' : 'desc');
    }
    return q.orderBy('created_at', 'desc').orderBy('id').offset(offset).limit(limit).execute();
  }

  private condition(c: LoggedModelClause): Expression<SqlBool> {
    switch (c.type) {
      case 'metric': {
        const test =
          c.comparator === '!='
            ? sql<SqlBool>`(m.is_nan = 1 or ${compareReal(sql.ref('m.value'), '!=', c.value)})`
            : sql<SqlBool>`m.is_nan = 0 and ${compareReal(sql.ref('m.value'), c.comparator, c.value)}`;
        return sql<SqlBool>`exists (select 1 from logged_model_metrics as m where m.model_id = logged_models.id and m.key = ${c.key} and ${test})`;
      }
      case 'parameter':
      case 'tag': {
        const table = sql.table(c.type === 'parameter' ? 'logged_model_params' : 'logged_model_tags');
        const test = compareText(this.engine, sql.ref('kv.value'), c.comparator, c.value);
        return sql<SqlBool>`exists (select 1 from ${table} as kv where kv.model_id = logged_models.id and kv.key = ${c.key} and ${test})`;
      }
      case 'attribute': {
        const column = sql.ref(`logged_models.${ATTRIBUTE_COLUMNS[c.key]}`);
        if ('values' in c) return compareList(column, c.comparator, c.values);
        if (typeof c.value === 'number') return compareInteger(column, c.comparator as NumericComparator, c.value);
        return compareText(this.engine, column, c.comparator as StringComparator, c.value);
      }
    }
  }
}
