import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { stopAll, type Child } from '../core/lib/children.js';
import { buildServer, REPO_ROOT, startHangar, tempDir } from '../core/lib/hangar.js';
import { waitFor200 } from '../core/lib/http.js';
import { ensureMlflow } from '../core/lib/mlflow.js';
import { coreCount, cpuSeconds, freePort, hasTaskset, pinProcess, processTree } from '../core/lib/proc.js';
import { unquietRuns, waitForQuiet } from '../core/lib/quiet.js';
import { heading, isMain, line, mb, median, num, table, target } from '../core/lib/report.js';
import { spawnMlflowServer } from '../identity/lib/mlflow-auth.js';
import {
  callJson,
  closedLoop,
  fetchHistory,
  HISTORY_PAGE,
  type Call,
  type LoadResult,
  type Server,
} from './lib/client.js';
import {
  FULL,
  HISTORY_EXPERIMENT,
  HISTORY_KEY,
  historyRun,
  metricRows,
  QUICK,
  SEARCH_EXPERIMENT,
  type Scale,
} from './lib/data.js';
import { copyStore, hangarStore, mlflowStore } from './lib/stores.js';
import SqliteDatabase from 'better-sqlite3';

/*
 * Experiment tracking, Hangar against `mlflow server` (both on SQLite), through the same MLflow
 * REST endpoints and the same load generator:
 *   (a) runs/log-batch of 1000 metrics from 20 concurrent clients
 *   (b) runs/create from 20 concurrent clients
 *   (c) runs/search with a metric filter and a metric order_by over 20k runs holding 8M metric rows
 *   (d) metrics/get-history of a 100k-point metric, paged as MlflowClient.get_metric_history pages
 *       it, with the server's peak RSS growth meanwhile
 * The loaded stores are built once and cached (lib/stores.ts); every run works on fresh copies.
 * Reads (c, d) run first on the loaded copies, then the writes (b, a) into a new experiment.
 */

const QUICK_RUN = process.env.HANGAR_BENCH_QUICK === '1' || process.argv.includes('--quick');
const SCALE: Scale = QUICK_RUN ? QUICK : FULL;

const T = QUICK_RUN
  ? { rounds: 1, writeWarmMs: 500, writeMs: 2000, createMs: 2000, searchWarmMs: 300, searchMs: 2000, history: 1 }
  : { rounds: 2, writeWarmMs: 2000, writeMs: 10_000, createMs: 5000, searchWarmMs: 1000, searchMs: 8000, history: 3 };

const CLIENTS = 20;
const BATCH = { keys: 10, steps: 100 }; // 1000 metrics per log-batch
const SEARCH_FILTER = 'metrics.val_accuracy > 0.9';
const SEARCH_ORDER = ['metrics.val_loss ASC'];
/** The MLflow UI's page size, and MlflowClient.search_runs' default (SEARCH_MAX_RESULTS_DEFAULT). */
const SEARCH_PAGES = [100, 1000] as const;
const RATIO_TARGET = 10;
const SEARCH_P50_TARGET_MS = 20;

const API = '/api/2.0/mlflow';

interface Side {
  server: Server;
  child: Child;
}

interface Measured extends LoadResult {
  serverCpuMsPerReq: number;
}

const treeCpu = (pid: number) => processTree(pid).reduce((s, p) => s + cpuSeconds(p), 0);
const msf = (x: number) => (Number.isFinite(x) ? (x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`) : '—');
const rate = (x: number) => (x < 100 ? x.toFixed(1) : num(x));
const times = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : '—');

function medianOf(rounds: Measured[]): Measured {
  const m = (f: (x: Measured) => number) => median(rounds.map(f));
  return {
    requests: rounds.reduce((n, x) => n + x.requests, 0),
    seconds: rounds.reduce((n, x) => n + x.seconds, 0),
    rps: m((x) => x.rps),
    p50Ms: m((x) => x.p50Ms),
    p99Ms: m((x) => x.p99Ms),
    meanMs: m((x) => x.meanMs),
    serverCpuMsPerReq: m((x) => x.serverCpuMsPerReq),
    bad: rounds.reduce((n, x) => n + x.bad, 0),
    firstBad: rounds.find((x) => x.firstBad)?.firstBad ?? null,
  };
}

interface Case {
  name: string;
  connections: number;
  warmMs: number;
  durationMs: number;
  minRequests?: number;
  /** Builds request `seq` of client `client` against one side. */
  next: (side: Side) => (client: number, seq: number) => Call;
}

async function measure(side: Side, c: Case): Promise<Measured> {
  const next = c.next(side);
  const loop = (durationMs: number, minRequests: number) =>
    closedLoop(side.server, { connections: c.connections, durationMs, minRequests, maxMs: 120_000 }, next);
  await loop(c.warmMs, 1);
  const cpu0 = treeCpu(side.child.pid);
  const r = await loop(c.durationMs, c.minRequests ?? 0);
  const serverCpuMsPerReq = ((treeCpu(side.child.pid) - cpu0) * 1000) / Math.max(1, r.requests);
  if (r.bad > 0) line(`  note: ${side.server.name} ${c.name}: ${r.bad} failed requests, first: ${r.firstBad}`);
  return { ...r, serverCpuMsPerReq };
}

/**
 * Every case on both sides, `rounds` times, alternating which side goes first. The wait for an idle
 * machine is once per round (both sides then run back to back), which bounds the waiting on a busy
 * machine.
 */
async function runCase(sides: [Side, Side], c: Case, rounds: number): Promise<[Measured, Measured]> {
  const runs: [Measured[], Measured[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    await waitForQuiet();
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) runs[i]!.push(await measure(sides[i]!, c));
  }
  return [medianOf(runs[0]), medianOf(runs[1])];
}

function caseTable(title: string, unit: string, results: { name: string; h: Measured; m: Measured; per?: number }[]) {
  line();
  line(title);
  const rows = [
    [
      '',
      `Hangar ${unit}`,
      `MLflow ${unit}`,
      'ratio',
      'Hangar p50 / p99',
      'MLflow p50 / p99',
      'server CPU/req H / M',
      'requests H / M',
      'failed H / M',
    ],
  ];
  for (const { name, h, m, per = 1 } of results) {
    rows.push([
      name,
      rate(h.rps * per),
      rate(m.rps * per),
      times(h.rps, m.rps),
      `${msf(h.p50Ms)} / ${msf(h.p99Ms)}`,
      `${msf(m.p50Ms)} / ${msf(m.p99Ms)}`,
      `${msf(h.serverCpuMsPerReq)} / ${msf(m.serverCpuMsPerReq)}`,
      `${num(h.requests)} / ${num(m.requests)}`,
      `${h.bad} / ${m.bad}`,
    ]);
  }
  table(rows);
}

/** Sum of resident memory over a fixed set of pids (statm: cheap enough to read every few ms). */
function rssOf(pids: number[]): number {
  let pages = 0;
  for (const p of pids) {
    try {
      pages += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // gone meanwhile
    }
  }
  return pages * PAGE_SIZE;
}
const PAGE_SIZE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;

interface HistoryMeasured {
  ms: number;
  pages: number;
  points: number;
  rssGrowth: number;
  rssBefore: number;
}

async function measureHistory(side: Side, runId: string): Promise<HistoryMeasured> {
  const pids = processTree(side.child.pid);
  const rssBefore = rssOf(pids);
  let peak = rssBefore;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pids))), 5);
  try {
    const f = await fetchHistory(side.server, runId, HISTORY_KEY);
    peak = Math.max(peak, rssOf(pids));
    return { ms: f.ms, pages: f.pages, points: f.points, rssGrowth: peak - rssBefore, rssBefore };
  } finally {
    clearInterval(timer);
  }
}

/** For information: the unmodified MLflow Python client's get_metric_history, timed inside Python. */
function pythonClientHistory(side: Side, runId: string, token: string | null): number[] | string {
  const script = [
    'import sys, time',
    'from mlflow.tracking import MlflowClient',
    'c = MlflowClient(tracking_uri=sys.argv[1])',
    'out = []',
    'for _ in range(2):',
    '    t = time.perf_counter(); h = c.get_metric_history(sys.argv[2], sys.argv[3]); out.append((time.perf_counter() - t) * 1000)',
    '    assert len(h) == int(sys.argv[4]), len(h)',
    'print(" ".join(f"{x:.1f}" for x in out))',
  ].join('\n');
  try {
    const out = execFileSync(
      path.join(REPO_ROOT, 'bench/.venv/bin/python'),
      ['-c', script, side.server.url, runId, HISTORY_KEY, String(SCALE.historyPoints)],
      {
        encoding: 'utf8',
        timeout: 300_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...(token ? { MLFLOW_TRACKING_TOKEN: token } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return out.trim().split(/\s+/).map(Number);
  } catch (err) {
    return `failed: ${String((err as { stderr?: string }).stderr ?? err).slice(-300)}`;
  }
}

interface SearchPage {
  runs?: { info: { run_id: string } }[];
  next_page_token?: string;
}

/** The measured search (case c) as a runs/search request body. */
const searchBody = (maxResults: number, token?: string) =>
  JSON.stringify({
    experiment_ids: [String(SEARCH_EXPERIMENT)],
    filter: SEARCH_FILTER,
    order_by: SEARCH_ORDER,
    max_results: maxResults,
    ...(token ? { page_token: token } : {}),
  });

/** Every run id a search returns, in order, following page tokens. */
async function searchIds(server: Server, maxResults: number): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await callJson<SearchPage>(server, {
      method: 'POST',
      path: `${API}/runs/search`,
      body: searchBody(maxResults, token),
    });
    for (const r of page.runs ?? []) ids.push(r.info.run_id);
    token = page.next_page_token || undefined;
    if (!token) break;
  }
  return ids;
}

async function startMlflowOn(dir: string, cpus: string | undefined): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnMlflowServer(dir, port, { auth: false, cpus });
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/health`, child, performance.now(), 180_000, 100);
  return { child, url };
}

export async function runTracking(): Promise<void> {
  heading(`tracking: Hangar vs MLflow tracking server, SQLite, MLflow REST API (${SCALE.label} scale)`);
  buildServer();
  const mlflowVersion = ensureMlflow();
  const pin = coreCount() >= 2 && hasTaskset();
  const serverCpus = pin ? '1' : undefined;
  line(`machine: ${coreCount()} cores, load average ${loadavg()[0]!.toFixed(2)} at start; ${mlflowVersion}`);
  if (QUICK_RUN) line('QUICK smoke run: small data and short runs; the figures are not comparable with a full run');

  const hs = await hangarStore(SCALE);
  const ms = await mlflowStore(SCALE, mlflowVersion);
  const searchRows = SCALE.runs * SCALE.keys.length * SCALE.steps;
  line(
    `data: ${num(SCALE.runs)} runs in experiment ${SEARCH_EXPERIMENT} (${SCALE.keys.length} metric keys x ${SCALE.steps} steps, ` +
      `${num(searchRows)} metric rows, 5 params, 3 tags each) + 1 run with a ${num(SCALE.historyPoints)}-point metric ` +
      `in experiment ${HISTORY_EXPERIMENT}: ${num(metricRows(SCALE))} metric rows in each store`,
  );
  for (const [name, s] of [
    ['Hangar', hs],
    ['MLflow', ms],
  ] as const) {
    line(
      `  ${name} store: ${s.dir} (${mb(s.bytes)}), ${s.built ? 'built now' : 'from the cache'} (build took ${s.buildSeconds.toFixed(0)} s)`,
    );
  }

  if (pin) pinProcess(process.pid, '0');
  line(
    pin
      ? 'pinning: the load generator (this process) on CPU 0, each server with its process tree on CPU 1 (taskset); one server under load at a time'
      : 'pinning: none (taskset missing or 1 core)',
  );
  line(
    'servers: Hangar = node packages/server/dist/bin.js (one process, SQLite in WAL mode, synchronous=FULL, --log-level warn, admin API token);',
  );
  line(
    '         MLflow = mlflow server --workers 1 (uvicorn, access log off; SQLite through SQLAlchemy, rollback journal, synchronous=FULL, no auth).',
  );
  line(
    '         One MLflow worker because Hangar is one process and each server gets one core; MLflow defaults to 4 workers, which on one core add processes, not CPU.',
  );
  line(
    `load: ${CLIENTS} clients for writes, 1 for searches; closed loop over HTTP/1.1 keep-alive; ${T.rounds} round(s) per case alternating which server goes first; medians of rounds`,
  );
  line(
    'each round of a case (both servers back to back) waits up to 30 s for the machine to be idle (< 0.25 cores busy)',
  );

  const unquiet0 = unquietRuns();
  const work = tempDir('tracking');
  try {
    line('copying the cached stores ...');
    copyStore(hs.dir, path.join(work, 'hangar'));
    copyStore(ms.dir, path.join(work, 'mlflow'));
    const token = hs.token!;
    const hangar = await startHangar({
      dataDir: path.join(work, 'hangar'),
      env: { HANGAR_ADMIN_TOKEN: token },
      cpus: serverCpus,
    });
    const mlflow = await startMlflowOn(path.join(work, 'mlflow'), serverCpus);
    const sides: [Side, Side] = [
      {
        server: { name: 'Hangar', url: hangar.url, headers: { authorization: `Bearer ${token}` } },
        child: hangar.child,
      },
      { server: { name: 'MLflow', url: mlflow.url, headers: {} }, child: mlflow.child },
    ];
    const [H, M] = sides;
    line(
      `idle RSS: Hangar ${mb(rssOf(processTree(H.child.pid)))}, MLflow ${mb(rssOf(processTree(M.child.pid)))} (process trees)`,
    );

    // Both servers must see the same data: the same runs match, in the same order.
    line(`checking both servers answer the same search (${SEARCH_FILTER}, order_by ${SEARCH_ORDER.join(', ')}) ...`);
    const [hIds, mIds] = [await searchIds(H.server, 50_000), await searchIds(M.server, 50_000)];
    const same = hIds.length === mIds.length && hIds.every((id, i) => id === mIds[i]);
    line(
      `  matching runs: Hangar ${num(hIds.length)}, MLflow ${num(mIds.length)}; same runs in the same order: ${same}`,
    );
    if (!same || hIds.length === 0) throw new Error('the two servers do not return the same search results');
    const historyId = historyRun(SCALE).id;
    const [hh, mh] = [
      await fetchHistory(H.server, historyId, HISTORY_KEY, true),
      await fetchHistory(M.server, historyId, HISTORY_KEY, true),
    ];
    const sameHistory =
      hh.points === SCALE.historyPoints &&
      mh.points === SCALE.historyPoints &&
      hh.values!.every((p, i) => p.step === mh.values![i]!.step && p.value === mh.values![i]!.value);
    line(`  history points: Hangar ${num(hh.points)}, MLflow ${num(mh.points)}; identical: ${sameHistory}`);
    if (!sameHistory) throw new Error('the two servers do not return the same metric history');

    // (c) search
    const searchCases: Case[] = SEARCH_PAGES.map((max) => ({
      name: `search max_results=${max}`,
      connections: 1,
      warmMs: T.searchWarmMs,
      durationMs: T.searchMs,
      minRequests: 2,
      next: () => {
        const body = searchBody(max);
        return () => ({ method: 'POST', path: `${API}/runs/search`, body });
      },
    }));
    const searchResults: { name: string; h: Measured; m: Measured }[] = [];
    for (const c of searchCases) {
      line(`(c) ${c.name} ...`);
      const [h, m] = await runCase(sides, c, T.rounds);
      searchResults.push({ name: c.name, h, m });
    }
    // Hangar keeps the JSON of runs it has served (ADR 0012). A page of runs that all changed since
    // they were last served is read and built whole: measured by renewing every run's revision,
    // as a write to each would, through a second connection to the store, before each search.
    line('(c) search max_results=1000, every run changed since it was last served ...');
    const uncached: number[] = [];
    const store = new SqliteDatabase(path.join(work, 'hangar', 'hangar.db'));
    try {
      for (let i = 0; i < 7; i++) {
        store.exec('update runs set rev = random() >> 11');
        const t0 = performance.now();
        await callJson<SearchPage>(H.server, { method: 'POST', path: `${API}/runs/search`, body: searchBody(1000) });
        uncached.push(performance.now() - t0);
      }
    } finally {
      store.close();
    }

    // (d) history
    line(`(d) get-history of ${num(SCALE.historyPoints)} points, pages of ${num(HISTORY_PAGE)} ...`);
    await waitForQuiet();
    await measureHistory(H, historyId); // warm-up, discarded
    await measureHistory(M, historyId);
    const hist: [HistoryMeasured[], HistoryMeasured[]] = [[], []];
    for (let r = 0; r < T.history; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) hist[i]!.push(await measureHistory(sides[i]!, historyId));
    }
    const py = [pythonClientHistory(H, historyId, token), pythonClientHistory(M, historyId, null)];

    // (b) create-run and (a) log-batch write into a new experiment on each server.
    const ingest = new Map<Side, string>();
    const suffix = randomBytes(4).toString('hex');
    for (const s of sides) {
      const e = await callJson<{ experiment_id: string }>(s.server, {
        method: 'POST',
        path: `${API}/experiments/create`,
        body: JSON.stringify({ name: `bench-ingest-${suffix}` }),
      });
      ingest.set(s, e.experiment_id);
    }
    const createCase: Case = {
      name: 'create-run',
      connections: CLIENTS,
      warmMs: T.writeWarmMs,
      durationMs: T.createMs,
      next: (side) => {
        const exp = ingest.get(side)!;
        return (client, seq) => ({
          method: 'POST',
          path: `${API}/runs/create`,
          // What mlflow.start_run() sends for a run started from a script.
          body: JSON.stringify({
            experiment_id: exp,
            run_name: `c${client}-${seq}-${performance.now().toFixed(3)}`,
            start_time: Date.now(),
            tags: [
              { key: 'mlflow.user', value: 'bench' },
              { key: 'mlflow.source.name', value: 'train.py' },
              { key: 'mlflow.source.type', value: 'LOCAL' },
            ],
          }),
        });
      },
    };
    line('(b) create-run ...');
    const [hCreate, mCreate] = await runCase(sides, createCase, T.rounds);

    // One run per client; every batch moves that client's steps forward, so no point repeats.
    const batchRuns = new Map<Side, string[]>();
    const batchesSent = new Map<Side, number[]>();
    for (const s of sides) {
      const ids: string[] = [];
      for (let c = 0; c < CLIENTS; c++) {
        const r = await callJson<{ run: { info: { run_id: string } } }>(s.server, {
          method: 'POST',
          path: `${API}/runs/create`,
          body: JSON.stringify({ experiment_id: ingest.get(s), run_name: `ingest-${c}`, start_time: Date.now() }),
        });
        ids.push(r.run.info.run_id);
      }
      batchRuns.set(s, ids);
      batchesSent.set(
        s,
        Array.from({ length: CLIENTS }, () => 0),
      );
    }
    const batchCase: Case = {
      name: 'log-batch',
      connections: CLIENTS,
      warmMs: T.writeWarmMs,
      durationMs: T.writeMs,
      next: (side) => {
        const ids = batchRuns.get(side)!;
        const sent = batchesSent.get(side)!;
        return (client) => {
          const n = sent[client]!++;
          const now = Date.now();
          const metrics = [];
          for (let k = 0; k < BATCH.keys; k++)
            for (let s = 0; s < BATCH.steps; s++)
              metrics.push({ key: `m${k}`, value: Math.random(), timestamp: now, step: n * BATCH.steps + s });
          return {
            method: 'POST',
            path: `${API}/runs/log-batch`,
            body: JSON.stringify({ run_id: ids[client], metrics }),
          };
        };
      },
    };
    line(`(a) log-batch of ${BATCH.keys * BATCH.steps} metrics, ${CLIENTS} clients ...`);
    const [hBatch, mBatch] = await runCase(sides, batchCase, T.rounds);
    // For information: one client, so no request waits for another (the per-batch cost alone).
    line(`(a) log-batch of ${BATCH.keys * BATCH.steps} metrics, 1 client (for information) ...`);
    const [hBatch1, mBatch1] = await runCase(sides, { ...batchCase, connections: 1 }, T.rounds);
    // The points must all be there: each client's run holds 100 points of m0 per batch it sent
    // that was acknowledged (a failed batch writes nothing; the counts are compared as a sum).
    for (const s of sides) {
      let stored = 0;
      for (const id of batchRuns.get(s)!) stored += (await fetchHistory(s.server, id, 'm0')).points;
      const sent = batchesSent.get(s)!.reduce((a, b) => a + b, 0);
      line(
        `  ${s.server.name}: ${num(stored / BATCH.steps)} batches stored of ${num(sent)} sent (failed ones write nothing)`,
      );
    }

    // Report
    line();
    line(`=== results (${SCALE.label} scale) ===`);
    caseTable(`(a) log-batch, ${BATCH.keys * BATCH.steps} metrics per request, ${CLIENTS} clients`, 'req/s', [
      { name: 'log-batch (batches/s)', h: hBatch, m: mBatch },
      { name: '  = metrics/s', h: hBatch, m: mBatch, per: BATCH.keys * BATCH.steps },
    ]);
    caseTable(`    for information: the same with 1 client`, 'req/s', [
      { name: 'log-batch (batches/s)', h: hBatch1, m: mBatch1 },
    ]);
    caseTable(`(b) create-run, ${CLIENTS} clients`, 'req/s', [{ name: 'create-run', h: hCreate, m: mCreate }]);
    caseTable(
      `(c) search-runs over ${num(SCALE.runs)} runs / ${num(searchRows)} metric rows: filter "${SEARCH_FILTER}", order_by "${SEARCH_ORDER.join(', ')}" (${num(hIds.length)} matches), 1 client`,
      'req/s',
      searchResults,
    );
    line(
      `    for information: max_results=1000 when every run changed since it was last served (nothing cached): Hangar p50 ${msf(median(uncached))} (${uncached.length} searches)`,
    );
    line();
    line(
      `(d) get-history of a ${num(SCALE.historyPoints)}-point metric, pages of ${num(HISTORY_PAGE)} as MlflowClient.get_metric_history, ${T.history} fetches each:`,
    );
    const hm = (xs: HistoryMeasured[], f: (x: HistoryMeasured) => number) => median(xs.map(f));
    const pyText = (x: number[] | string) =>
      typeof x === 'string' ? x : x.map((v) => `${v.toFixed(0)} ms`).join(', ');
    table([
      [
        '',
        'full history (median)',
        'min–max',
        'pages',
        'peak RSS growth (median)',
        'RSS before',
        'MLflow Python client (2 calls)',
      ],
      ...(['Hangar', 'MLflow'] as const).map((name, i) => [
        name,
        msf(hm(hist[i]!, (x) => x.ms)),
        `${msf(Math.min(...hist[i]!.map((x) => x.ms)))}–${msf(Math.max(...hist[i]!.map((x) => x.ms)))}`,
        String(hist[i]![0]!.pages),
        mb(hm(hist[i]!, (x) => x.rssGrowth)),
        mb(hm(hist[i]!, (x) => x.rssBefore)),
        pyText(py[i]!),
      ]),
    ]);
    const hHist = hm(hist[0], (x) => x.ms);
    const mHist = hm(hist[1], (x) => x.ms);
    line(`  ratio (MLflow time / Hangar time): ${times(mHist, hHist)}`);

    if (unquietRuns() > unquiet0) {
      line(`note: ${unquietRuns() - unquiet0} run(s) started although the machine was busy for 30 s (shared machine)`);
    }
    line();
    target(
      `(a) log-batch >= ${RATIO_TARGET}x MLflow`,
      hBatch.rps >= RATIO_TARGET * mBatch.rps,
      `${times(hBatch.rps, mBatch.rps)}: ${rate(hBatch.rps)} vs ${rate(mBatch.rps)} batches/s`,
    );
    for (const s of searchResults) {
      target(
        `(c) ${s.name} >= ${RATIO_TARGET}x MLflow`,
        s.h.rps >= RATIO_TARGET * s.m.rps,
        `${times(s.h.rps, s.m.rps)}: ${rate(s.h.rps)} vs ${rate(s.m.rps)} req/s`,
      );
      target(
        `(c) ${s.name} p50 < ${SEARCH_P50_TARGET_MS} ms`,
        s.h.p50Ms < SEARCH_P50_TARGET_MS,
        `Hangar p50 ${msf(s.h.p50Ms)}`,
      );
    }
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
    if (pin) pinProcess(process.pid, `0-${coreCount() - 1}`);
  }
}

if (isMain(import.meta.url)) await runTracking();
