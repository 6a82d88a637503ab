import { createHash, randomBytes } from 'node:crypto';
import {
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { stopServer } from '../../core/lib/children.js';
import { REPO_ROOT, startHangar } from '../../core/lib/hangar.js';
import { waitFor200 } from '../../core/lib/http.js';
import { freePort } from '../../core/lib/proc.js';
import { line } from '../../core/lib/report.js';
import { spawnMlflowServer } from '../../identity/lib/mlflow-auth.js';
import {
  allRuns,
  HISTORY_EXPERIMENT,
  HISTORY_EXPERIMENT_NAME,
  metricRows,
  SEARCH_EXPERIMENT,
  SEARCH_EXPERIMENT_NAME,
  USER,
  type GeneratedRun,
  type Scale,
} from './data.js';

/*
 * The loaded stores, built once and cached. Loading 8M metric rows through either server's REST
 * API would take hours (MLflow) or minutes (Hangar), so each store is created by its own server
 * (started once on an empty directory: its migrations, its bootstrap) and then filled with SQL in
 * that server's own schema: MLflow's tables runs/params/tags/metrics/latest_metrics, Hangar's
 * runs/run_params/run_tags/metrics/latest_metrics. The secondary indexes are dropped for the load
 * and re-created afterwards from their own CREATE statements, so the finished files have exactly
 * the schema the servers made. No ANALYZE is run on either (neither server runs one on its own).
 *
 * Cache: $HANGAR_BENCH_CACHE or ~/.cache/hangar/bench-tracking/<key>/, one entry per store. The key
 * holds the data version, the scale, and for Hangar a digest of the built server's migrations
 * (a new migration means a rebuild), for MLflow its version. Building a new entry deletes older
 * entries of the same store and scale. A benchmark run works on copies, never on the cache.
 */

/** Bump when the generated data or the loading changes. */
const DATA_VERSION = 1;

export const cacheRoot = () =>
  process.env.HANGAR_BENCH_CACHE ?? path.join(homedir(), '.cache', 'hangar', 'bench-tracking');

export interface CachedStore {
  /** The cache entry (a data dir for Hangar, a directory holding mlflow.db for MLflow). */
  dir: string;
  /** Seconds it took to build, now or when it was built. */
  buildSeconds: number;
  built: boolean;
  /** Hangar's admin API token (the store was bootstrapped with it). */
  token?: string;
  bytes: number;
}

interface Meta {
  token?: string;
  buildSeconds: number;
  metricRows: number;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return n;
}

/** Returns the cache entry `key`, building it with `build(dir)` if missing. */
async function cached(
  kind: string,
  key: string,
  build: (dir: string) => Promise<Omit<Meta, 'buildSeconds'>>,
): Promise<CachedStore> {
  const root = cacheRoot();
  const dir = path.join(root, key);
  const metaFile = path.join(dir, 'bench-meta.json');
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
    return { dir, buildSeconds: meta.buildSeconds, built: false, token: meta.token, bytes: dirBytes(dir) };
  }
  mkdirSync(root, { recursive: true });
  // Older entries of this store and scale (and half-built ones) would only fill the disk.
  const prefix = `${kind}-`;
  for (const name of readdirSync(root)) if (name.startsWith(prefix) && name !== key) removeEntry(root, name);
  const partial = path.join(root, `${key}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const started = performance.now();
  try {
    const meta = await build(partial);
    const buildSeconds = (performance.now() - started) / 1000;
    writeFileSync(path.join(partial, 'bench-meta.json'), JSON.stringify({ ...meta, buildSeconds }, null, 2), {
      mode: 0o600,
    });
    renameSync(partial, dir);
    return { dir, buildSeconds, built: true, token: meta.token, bytes: dirBytes(dir) };
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

function removeEntry(root: string, name: string): void {
  // A partial entry of a live process (another benchmark building right now) is left alone.
  const m = /\.partial-(\d+)$/.exec(name);
  if (m) {
    try {
      process.kill(Number(m[1]), 0);
      return;
    } catch {
      // its builder is gone
    }
  }
  rmSync(path.join(root, name), { recursive: true, force: true });
}

/** Copies a cache entry to `to` (a reflink where the file system has them). */
export function copyStore(from: string, to: string): void {
  cpSync(from, to, { recursive: true, mode: constants.COPYFILE_FICLONE });
}

/** A digest of the migrations the built server runs: a store made by other migrations is not reused. */
function migrationsDigest(): string {
  const dir = path.join(REPO_ROOT, 'packages/server/dist/db/migrations');
  const h = createHash('sha256');
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.js'))
    .sort()) {
    h.update(name).update(readFileSync(path.join(dir, name)));
  }
  return h.digest('hex').slice(0, 12);
}

/** A statement inserting `chunk` rows at once; rows are pushed flat and flushed when full. */
class BulkInsert {
  private readonly full: SqliteDatabase.Statement;
  private readonly one: SqliteDatabase.Statement;
  private values: unknown[] = [];
  rows = 0;

  constructor(
    db: SqliteDatabase.Database,
    table: string,
    private readonly columns: readonly string[],
    private readonly chunk = 64,
  ) {
    const tuple = `(${columns.map(() => '?').join(',')})`;
    const head = `insert into ${table} (${columns.map((c) => `"${c}"`).join(',')}) values `;
    this.full = db.prepare(head + Array.from({ length: chunk }, () => tuple).join(','));
    this.one = db.prepare(head + tuple);
  }

  push(...row: unknown[]): void {
    for (const v of row) this.values.push(v);
    this.rows++;
    if (this.values.length === this.columns.length * this.chunk) {
      this.full.run(this.values);
      this.values = [];
    }
  }

  flush(): void {
    const n = this.columns.length;
    for (let i = 0; i < this.values.length; i += n) this.one.run(this.values.slice(i, i + n));
    this.values = [];
  }
}

interface LoadTarget {
  tables: string[];
  begin(db: SqliteDatabase.Database): void;
  run(r: GeneratedRun): void;
  end(): void;
}

/**
 * Opens `file`, drops the secondary indexes of `tables`, inserts every run in one transaction,
 * re-creates the indexes from their saved CREATE statements, and restores the journal mode.
 */
function bulkLoad(file: string, scale: Scale, target: LoadTarget): void {
  const db = new SqliteDatabase(file);
  try {
    const journal = String(db.pragma('journal_mode', { simple: true }));
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('foreign_keys = OFF');
    db.pragma('cache_size = -1000000');
    const list = target.tables.map((t) => `'${t}'`).join(',');
    const indexes = db
      .prepare<[], { name: string; sql: string }>(
        `select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${list})`,
      )
      .all();
    for (const ix of indexes) db.exec(`drop index "${ix.name}"`);
    db.transaction(() => {
      target.begin(db);
      for (const r of allRuns(scale)) target.run(r);
      target.end();
    })();
    for (const ix of indexes) db.exec(ix.sql);
    db.pragma(`journal_mode = ${journal}`);
  } finally {
    db.close();
  }
}

function forEachPoint(r: GeneratedRun, f: (key: string, value: number, step: number, timestamp: number) => void) {
  r.keys.forEach((key, k) => {
    for (let s = 0; s < r.steps; s++) f(key, r.values[k * r.steps + s]!, s, r.timestamp(k, s));
  });
}

const lastStep = (r: GeneratedRun, k: number) => ({
  value: r.values[k * r.steps + r.steps - 1]!,
  step: r.steps - 1,
  timestamp: r.timestamp(k, r.steps - 1),
});

/** Hangar's store: bootstrapped by the server itself, then loaded in its schema. */
export async function hangarStore(scale: Scale, log = line): Promise<CachedStore> {
  const key = `hangar-${scale.label}-d${DATA_VERSION}-migrations${migrationsDigest()}`;
  return cached(`hangar-${scale.label}`, key, async (dir) => {
    log(
      `building Hangar's store (${scale.label} scale, ${metricRows(scale).toLocaleString('en-US')} metric rows) in ${dir} ...`,
    );
    const token = `hgr_${randomBytes(24).toString('base64url')}`;
    // The first start creates the schema, the admin (with this token), the default project and
    // the Default experiment.
    const { child } = await startHangar({ dataDir: dir, env: { HANGAR_ADMIN_TOKEN: token } });
    await stopServer(child);
    const t0 = performance.now();
    let runs: BulkInsert, params: BulkInsert, tags: BulkInsert, metrics: BulkInsert, latest: BulkInsert;
    bulkLoad(path.join(dir, 'hangar.db'), scale, {
      tables: ['experiments', 'runs', 'run_params', 'run_tags', 'metrics', 'latest_metrics'],
      begin(db) {
        const project = db.prepare<[], { id: string }>("select id from projects where name = 'default'").get();
        if (!project) throw new Error("Hangar's store has no default project after its first start");
        const now = Date.now();
        const exp = db.prepare(
          'insert into experiments (id, project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)',
        );
        exp.run(
          SEARCH_EXPERIMENT,
          project.id,
          SEARCH_EXPERIMENT_NAME,
          `mlflow-artifacts:/${SEARCH_EXPERIMENT}`,
          'active',
          now,
          now,
        );
        exp.run(
          HISTORY_EXPERIMENT,
          project.id,
          HISTORY_EXPERIMENT_NAME,
          `mlflow-artifacts:/${HISTORY_EXPERIMENT}`,
          'active',
          now,
          now,
        );
        runs = new BulkInsert(db, 'runs', [
          'id',
          'experiment_id',
          'name',
          'user_id',
          'username',
          'status',
          'start_time',
          'end_time',
          'lifecycle_stage',
          'artifact_uri',
          'parent_run_id',
        ]);
        params = new BulkInsert(db, 'run_params', ['run_id', 'key', 'value']);
        tags = new BulkInsert(db, 'run_tags', ['run_id', 'key', 'value']);
        metrics = new BulkInsert(db, 'metrics', ['run_id', 'key', 'value', 'is_nan', 'step', 'timestamp']);
        latest = new BulkInsert(db, 'latest_metrics', ['run_id', 'key', 'value', 'is_nan', 'step', 'timestamp']);
      },
      run(r) {
        runs.push(
          r.id,
          r.experimentId,
          r.name,
          null,
          USER,
          'FINISHED',
          r.startTime,
          r.endTime,
          'active',
          `mlflow-artifacts:/${r.experimentId}/${r.id}/artifacts`,
          null,
        );
        for (const p of r.params) params.push(r.id, p.key, p.value);
        for (const t of r.tags) tags.push(r.id, t.key, t.value);
        forEachPoint(r, (key, value, step, timestamp) => metrics.push(r.id, key, value, 0, step, timestamp));
        r.keys.forEach((key, k) => {
          const l = lastStep(r, k);
          latest.push(r.id, key, l.value, 0, l.step, l.timestamp);
        });
      },
      end() {
        for (const b of [runs, params, tags, metrics, latest]) b.flush();
      },
    });
    log(`  loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return { token, metricRows: metricRows(scale) };
  });
}

/** MLflow's store: created by `mlflow server` itself, then loaded in its schema. */
export async function mlflowStore(scale: Scale, mlflowVersion: string, log = line): Promise<CachedStore> {
  const v = /(\d+\.\d+\.\d+\S*)/.exec(mlflowVersion)?.[1] ?? 'unknown';
  const key = `mlflow-${scale.label}-d${DATA_VERSION}-mlflow${v}`;
  return cached(`mlflow-${scale.label}`, key, async (dir) => {
    log(`building MLflow's store (${scale.label} scale) in ${dir} ...`);
    const port = await freePort();
    const child = spawnMlflowServer(dir, port, { auth: false });
    try {
      await waitFor200(`http://127.0.0.1:${port}/health`, child, performance.now(), 180_000, 100);
    } finally {
      await stopServer(child);
    }
    rmSync(path.join(dir, 'art'), { recursive: true, force: true });
    const t0 = performance.now();
    let runs: BulkInsert, params: BulkInsert, tags: BulkInsert, metrics: BulkInsert, latest: BulkInsert;
    bulkLoad(path.join(dir, 'mlflow.db'), scale, {
      tables: ['experiments', 'runs', 'params', 'tags', 'metrics', 'latest_metrics'],
      begin(db) {
        const now = Date.now();
        const exp = db.prepare(
          'insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) values (?, ?, ?, ?, ?, ?)',
        );
        exp.run(
          SEARCH_EXPERIMENT,
          SEARCH_EXPERIMENT_NAME,
          `mlflow-artifacts:/${SEARCH_EXPERIMENT}`,
          'active',
          now,
          now,
        );
        exp.run(
          HISTORY_EXPERIMENT,
          HISTORY_EXPERIMENT_NAME,
          `mlflow-artifacts:/${HISTORY_EXPERIMENT}`,
          'active',
          now,
          now,
        );
        // What MLflow's own create_run writes for a run started from a local script.
        runs = new BulkInsert(db, 'runs', [
          'run_uuid',
          'name',
          'source_type',
          'source_name',
          'entry_point_name',
          'user_id',
          'status',
          'start_time',
          'end_time',
          'source_version',
          'lifecycle_stage',
          'artifact_uri',
          'experiment_id',
          'deleted_time',
        ]);
        params = new BulkInsert(db, 'params', ['key', 'value', 'run_uuid']);
        tags = new BulkInsert(db, 'tags', ['key', 'value', 'run_uuid']);
        metrics = new BulkInsert(db, 'metrics', ['key', 'value', 'timestamp', 'run_uuid', 'step', 'is_nan']);
        latest = new BulkInsert(db, 'latest_metrics', ['key', 'value', 'timestamp', 'step', 'is_nan', 'run_uuid']);
      },
      run(r) {
        runs.push(
          r.id,
          r.name,
          'LOCAL',
          '',
          '',
          USER,
          'FINISHED',
          r.startTime,
          r.endTime,
          '',
          'active',
          `mlflow-artifacts:/${r.experimentId}/${r.id}/artifacts`,
          r.experimentId,
          null,
        );
        for (const p of r.params) params.push(p.key, p.value, r.id);
        for (const t of r.tags) tags.push(t.key, t.value, r.id);
        forEachPoint(r, (key, value, step, timestamp) => metrics.push(key, value, timestamp, r.id, step, 0));
        r.keys.forEach((key, k) => {
          const l = lastStep(r, k);
          latest.push(key, l.value, l.timestamp, l.step, 0, r.id);
        });
      },
      end() {
        for (const b of [runs, params, tags, metrics, latest]) b.flush();
      },
    });
    log(`  loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return { metricRows: metricRows(scale) };
  });
}
