import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { InputError } from '../../core/errors.js';
import type { DB, ExperimentsTable, LifecycleStage, MetricRowFields, RunsTable } from '../../db/schema.js';

export type ExperimentRow = Selectable<ExperimentsTable>;
export type RunRow = Selectable<RunsTable>;
export type MetricRow = MetricRowFields;
export interface KeyValue {
  key: string;
  value: string;
}

/** SQL of experiments, runs and what is logged to them. `with(tx)` binds it to a transaction. */
export class TrackingStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): TrackingStore {
    return new TrackingStore(tx);
  }

  /** Runs `fn` with a store bound to one transaction (writes that are not audited). */
  transaction<T>(fn: (store: TrackingStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => fn(new TrackingStore(tx)));
  }

  experimentById(id: number) {
    return this.db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  experimentByName(projectId: string, name: string) {
    return this.db
      .selectFrom('experiments')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Inserts an experiment (with an explicit id for the Default experiment "0"); returns its id. */
  async insertExperiment(e: Insertable<ExperimentsTable>): Promise<number> {
    const r = await this.db.insertInto('experiments').values(e).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  }

  listExperiments(projectId: string, stages: LifecycleStage[]) {
    return this.db
      .selectFrom('experiments')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('lifecycle_stage', 'in', stages)
      .orderBy('id')
      .execute();
  }

  async updateExperiment(id: number, patch: Updateable<ExperimentsTable>) {
    await this.db.updateTable('experiments').set(patch).where('id', '=', id).execute();
  }

  experimentTags(ids: number[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', ids).execute();
  }

  async setExperimentTag(id: number, key: string, value: string) {
    await this.db
      .insertInto('experiment_tags')
      .values({ experiment_id: id, key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  runById(id: string) {
    return this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertRun(run: RunRow) {
    await this.db.insertInto('runs').values(run).execute();
  }

  async updateRun(id: string, patch: Updateable<RunsTable>) {
    await this.db.updateTable('runs').set(patch).where('id', '=', id).execute();
  }

  /** Params, tags and latest metrics of many runs at once (search results, run pages). */
  async runData(ids: string[]) {
    if (ids.length === 0) return { params: [], tags: [], metrics: [] };
    const [params, tags, metrics] = await Promise.all([
      this.db.selectFrom('run_params').selectAll().where('run_id', 'in', ids).execute(),
      this.db.selectFrom('run_tags').selectAll().where('run_id', 'in', ids).execute(),
      this.db.selectFrom('latest_metrics').selectAll().where('run_id', 'in', ids).execute(),
    ]);
    return { params, tags, metrics };
  }

  paramsOf(runId: string, keys: string[]) {
    if (keys.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('run_params')
      .select(['key', 'value'])
      .where('run_id', '=', runId)
      .where('key', 'in', keys)
      .execute();
  }

  /**
   * Inserts params that are new and leaves existing ones alone; callers compare the stored values
   * afterwards (see TrackingService.logBatch). Rows are written in key order, as by every writer, so
   * concurrent batches on PostgreSQL take their row locks in one order and cannot deadlock.
   */
  async insertParams(runId: string, params: KeyValue[]) {
    if (params.length === 0) return;
    await this.db
      .insertInto('run_params')
      .values(byKey(params).map((p) => ({ run_id: runId, ...p })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doNothing())
      .execute()
      .catch(rethrowIndexLimit);
  }

  /** Sets tags (last value wins), in key order for the same reason as {@link insertParams}. */
  async setTags(runId: string, tags: KeyValue[]) {
    const last = new Map(tags.map((t) => [t.key, t.value]));
    for (const [key, value] of [...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await this.db
        .insertInto('run_tags')
        .values({ run_id: runId, key, value })
        .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value }))
        .execute()
        .catch(rethrowIndexLimit);
    }
  }

  async deleteTag(runId: string, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('run_tags')
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Appends metric points and moves each key's latest value forward (MLflow's rule: the point with
   * the highest step, then the highest timestamp, then the highest value wins).
   */
  async insertMetrics(metrics: MetricRow[]) {
    if (metrics.length === 0) return;
    // Chunked: SQLite allows at most 32766 bound parameters per statement.
    for (let i = 0; i < metrics.length; i += 2000) {
      await this.db
        .insertInto('metrics')
        .values(metrics.slice(i, i + 2000))
        .execute();
    }
    const latest = new Map<string, MetricRow>();
    for (const m of metrics) {
      const k = `${m.run_id}\n${m.key}`;
      const cur = latest.get(k);
      if (!cur || newer(m, cur)) latest.set(k, m);
    }
    // In (run, key) order, so concurrent batches lock latest rows in one order (no deadlocks).
    const ordered = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
    for (const m of ordered) {
      await this.db
        .insertInto('latest_metrics')
        .values(m)
        .onConflict((oc) =>
          oc
            .columns(['run_id', 'key'])
            .doUpdateSet(m)
            .where((eb) =>
              eb.or([
                eb('latest_metrics.step', '<', m.step),
                eb.and([eb('latest_metrics.step', '=', m.step), eb('latest_metrics.timestamp', '<', m.timestamp)]),
                eb.and([
                  eb('latest_metrics.step', '=', m.step),
                  eb('latest_metrics.timestamp', '=', m.timestamp),
                  eb('latest_metrics.value', '<=', m.value),
                ]),
              ]),
            ),
        )
        .execute();
    }
  }

  /** One metric's history in (step, timestamp) order, `limit` points after the `afterId`-th. */
  metricHistory(runId: string, key: string, offset: number, limit: number) {
    return this.db
      .selectFrom('metrics')
      .select(['key', 'value', 'is_nan', 'step', 'timestamp'])
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .orderBy('step')
      .orderBy('timestamp')
      .orderBy('id')
      .offset(offset)
      .limit(limit)
      .execute();
  }
}

const byKey = <T extends { key: string }>(rows: T[]): T[] =>
  [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/**
 * PostgreSQL refuses a btree index entry over 2704 bytes (error 54000), which the (key, value)
 * indexes of run_params and run_tags meet with long incompressible values well inside MLflow's
 * limits. Until those indexes change, such a value is a clear 400, not a 5xx the client retries.
 */
function rethrowIndexLimit(err: unknown): never {
  if ((err as { code?: string } | null)?.code === '54000') {
    throw new InputError(
      'Value too large for this server to index: on PostgreSQL, param and tag values are limited to about 2700 bytes',
      'value',
    );
  }
  throw err;
}

function newer(a: MetricRow, b: MetricRow): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value >= b.value;
}
