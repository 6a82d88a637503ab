import { CompiledQuery, sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import { InputError } from '../../core/errors.js';
import { inChunks } from '../../db/in-chunks.js';
import type { DB, ExperimentsTable, LifecycleStage, MetricRowFields, RunsTable } from '../../db/schema.js';

export type ExperimentRow = Selectable<ExperimentsTable>;
export type RunRow = Selectable<RunsTable>;
export type MetricRow = MetricRowFields;
export interface KeyValue {
  key: string;
  value: string;
}

interface GroupedWrite {
  fn: (store: TrackingStore) => Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Writes committed together at most; bounds a group's transaction and the wait of its last write. */
const MAX_GROUP = 64;

/** SQL of experiments, runs and what is logged to them. `with(tx)` binds it to a transaction. */
export class TrackingStore {
  private readonly pending: GroupedWrite[] = [];
  private committing = false;

  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): TrackingStore {
    return new TrackingStore(tx);
  }

  /** Runs `fn` with a store bound to one transaction (writes that are not audited). */
  transaction<T>(fn: (store: TrackingStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => fn(new TrackingStore(tx)));
  }

  /**
   * Like {@link transaction}, for the many small writes of logging, with group commit on SQLite:
   * writes that arrive while a commit is under way wait for it and then share one transaction,
   * each inside its own savepoint. A write that throws is rolled back alone and rejects with its
   * error; the others commit. Each promise settles only after its group's COMMIT, so an
   * acknowledged write is as durable as before; a failed COMMIT rejects the whole group (nothing
   * of it was written). SQLite has one connection and syncs its log once per commit, so a group of
   * n costs one sync instead of n. PostgreSQL already overlaps commits of its pooled connections,
   * and grouping there would add lock-order hazards between runs, so it keeps a transaction per call.
   */
  groupedTransaction(fn: (store: TrackingStore) => Promise<void>): Promise<void> {
    if (placeholderStyle(this.db) !== 'question') return this.transaction(fn);
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, resolve, reject });
      if (!this.committing) void this.commitPending();
    });
  }

  private async commitPending(): Promise<void> {
    this.committing = true;
    try {
      for (;;) {
        // Requests that waited for the connection during the last commit (their run lookups need
        // it too) get one turn of the event loop to queue their writes before the next group.
        if (this.pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
        if (this.pending.length === 0) break;
        const group = this.pending.splice(0, MAX_GROUP);
        const failed = new Map<GroupedWrite, unknown>();
        try {
          await this.db.transaction().execute(async (tx) => {
            const store = new TrackingStore(tx);
            if (group.length === 1) return group[0]!.fn(store);
            for (const w of group) {
              await sql`savepoint grouped_write`.execute(tx);
              try {
                await w.fn(store);
              } catch (err) {
                failed.set(w, err);
                await sql`rollback to savepoint grouped_write`.execute(tx);
              }
              await sql`release savepoint grouped_write`.execute(tx);
            }
          });
        } catch (err) {
          for (const w of group) w.reject(failed.get(w) ?? err);
          continue;
        }
        for (const w of group) {
          if (failed.has(w)) w.reject(failed.get(w));
          else w.resolve();
        }
      }
    } finally {
      this.committing = false;
    }
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
    return inChunks(ids, (c) =>
      this.db.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', c).execute(),
    );
  }

  async setExperimentTag(id: number, key: string, value: string) {
    await this.db
      .insertInto('experiment_tags')
      .values({ experiment_id: id, key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteExperimentTag(id: number, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('experiment_tags')
      .where('experiment_id', '=', id)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  runById(id: string) {
    return this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  runsByIds(ids: string[]) {
    return inChunks(ids, (c) => this.db.selectFrom('runs').selectAll().where('id', 'in', c).execute());
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
    // In key order on both engines (PostgreSQL would otherwise return an updated row last), which
    // is also the primary key's order, so SQLite reads it without sorting.
    const [params, tags, metrics] = await Promise.all([
      inChunks(ids, (c) =>
        this.db
          .selectFrom('run_params')
          .selectAll()
          .where('run_id', 'in', c)
          .orderBy('run_id')
          .orderBy('key')
          .execute(),
      ),
      inChunks(ids, (c) =>
        this.db.selectFrom('run_tags').selectAll().where('run_id', 'in', c).orderBy('run_id').orderBy('key').execute(),
      ),
      inChunks(ids, (c) =>
        this.db
          .selectFrom('latest_metrics')
          .selectAll()
          .where('run_id', 'in', c)
          .orderBy('run_id')
          .orderBy('key')
          .execute(),
      ),
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
   *
   * This is the ingest hot path, so both statements are written as SQL text directly: building a
   * 1000-row insert through the query builder costs more CPU than SQLite takes to store it. Rows
   * go in a few fixed statement shapes (CHUNK_ROWS), so the driver's statement cache reuses the
   * prepared statements. The latest values go in one multi-row upsert instead of one per key.
   */
  async insertMetrics(metrics: MetricRow[]) {
    if (metrics.length === 0) return;
    const style = placeholderStyle(this.db);
    for (const chunk of chunked(metrics)) {
      const params: unknown[] = [];
      for (const m of chunk) params.push(m.run_id, m.key, m.value, m.is_nan, m.step, m.timestamp);
      await this.db.executeQuery(CompiledQuery.raw(insertMetricsSql(style, chunk.length), params));
    }
    const latest = new Map<string, MetricRow>();
    for (const m of metrics) {
      const k = `${m.run_id}\n${m.key}`;
      const cur = latest.get(k);
      if (!cur || newer(m, cur)) latest.set(k, m);
    }
    // In (run, key) order, so concurrent batches lock latest rows in one order (no deadlocks); one
    // row per (run, key), as an upsert may not touch a row twice.
    const ordered = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
    for (const chunk of chunked(ordered)) {
      const params: unknown[] = [];
      for (const m of chunk) params.push(m.run_id, m.key, m.value, m.is_nan, m.step, m.timestamp);
      await this.db.executeQuery(CompiledQuery.raw(upsertLatestSql(style, chunk.length), params));
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

/**
 * Rows per metric statement, largest first: 1000 (6 parameters each, well inside SQLite's 32766
 * and PostgreSQL's 65535) for MLflow's full batches, then powers of two for the rest. A batch of any
 * size is split into these few shapes, so the statement texts (and the driver's prepared
 * statements) stay few instead of one per batch size.
 */
const CHUNK_ROWS = [1000, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1];

function* chunked<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length;) {
    const size = CHUNK_ROWS.find((n) => n <= rows.length - i)!;
    yield rows.slice(i, i + size);
    i += size;
  }
}
const METRIC_COLUMNS = '("run_id", "key", "value", "is_nan", "step", "timestamp")';

type PlaceholderStyle = 'question' | 'dollar';
const styles = new WeakMap<object, PlaceholderStyle>();

/** How the engine behind `db` numbers parameters (`?` for SQLite, `$1` for PostgreSQL), once per handle. */
function placeholderStyle(db: Kysely<DB>): PlaceholderStyle {
  let style = styles.get(db);
  if (!style) {
    style = sql`${0}`.compile(db).sql === '?' ? 'question' : 'dollar';
    styles.set(db, style);
  }
  return style;
}

const sqlTexts = new Map<string, string>();

/** `(?,?,?,?,?,?),...` or `($1,...,$6),...` for `rows` rows of six values, cached by shape (few: see CHUNK_ROWS). */
function valuesSql(style: PlaceholderStyle, rows: number): string {
  const key = `${style}:${rows}`;
  let text = sqlTexts.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      const p = (c: number) => (style === 'question' ? '?' : `$${r * 6 + c + 1}`);
      tuples.push(`(${[0, 1, 2, 3, 4, 5].map(p).join(',')})`);
    }
    text = tuples.join(',');
    sqlTexts.set(key, text);
  }
  return text;
}

const insertMetricsSql = (style: PlaceholderStyle, rows: number) =>
  `insert into "metrics" ${METRIC_COLUMNS} values ${valuesSql(style, rows)}`;

/** The point replaces the stored latest one only if it is newer by {@link newer}'s rule. */
const upsertLatestSql = (style: PlaceholderStyle, rows: number) =>
  `insert into "latest_metrics" ${METRIC_COLUMNS} values ${valuesSql(style, rows)}
  on conflict ("run_id", "key") do update set "value" = excluded."value", "is_nan" = excluded."is_nan",
    "step" = excluded."step", "timestamp" = excluded."timestamp"
  where "latest_metrics"."step" < excluded."step"
    or ("latest_metrics"."step" = excluded."step" and "latest_metrics"."timestamp" < excluded."timestamp")
    or ("latest_metrics"."step" = excluded."step" and "latest_metrics"."timestamp" = excluded."timestamp"
      and "latest_metrics"."value" <= excluded."value")`;

function newer(a: MetricRow, b: MetricRow): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value >= b.value;
}
