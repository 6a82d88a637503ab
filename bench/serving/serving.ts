import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import path from 'node:path';
import { stopAll, type Child } from '../core/lib/children.js';
import { buildServer, startHangar, tempDir } from '../core/lib/hangar.js';
import { createPgDatabase } from '../core/lib/job-store-access.js';
import { coreCount, hasTaskset, pinProcess, treeMemory } from '../core/lib/proc.js';
import { unquietRuns, waitForQuiet } from '../core/lib/quiet.js';
import { pairedRatio, printRunNotes } from '../core/lib/load.js';
import { heading, isMain, line, mb, median, num, table, target } from '../core/lib/report.js';
import {
  deploy,
  registerModel,
  rollback,
  setTraffic,
  startRollout,
  waitReady,
  type HangarApi,
} from './lib/hangar-api.js';
import { measure, medianOf, runCannon, type LoadSettings, type Measured, type Request } from './lib/load.js';
import {
  ensureVenv,
  makeModel,
  runFloor,
  startBare,
  startMlflowServe,
  startMlserver,
  type Floor,
} from './lib/systems.js';

/*
 * Inference, side by side in one run: the same scikit-learn model (a scaler + logistic regression on
 * the 30-feature breast-cancer data), one row per request, 32 connections over loopback, served by
 *   (a) Hangar, Open Inference Protocol V2 JSON (`POST /v2/models/{m}/infer`, the ONNX conversion
 *       in-process on onnxruntime-node), and (b) Hangar's records endpoint (`dataframe_split`);
 *   (c) `mlflow models serve --env-manager local` (`POST /invocations`, the mlflow.sklearn model);
 *   (d) MLServer with mlserver-sklearn (V2 JSON infer);
 *   (e) the ceiling: a bare Fastify route answering Hangar's answer as fixed JSON;
 *   (f) the floor: onnxruntime-node's session.run in a loop, no HTTP;
 *   and, run through scripts/with-postgres.mjs, (a) again with Hangar on PostgreSQL (the scale-out
 *   store; the prediction log then goes to PostgreSQL, which is not pinned).
 * Then the costs of what a release adds on the request path (a 50/50 canary of two identical
 * versions, a 100 % shadow; prediction logging is always on) against the plain deployment, Hangar's
 * latency at half its peak rate, and rollbacks timed while autocannon keeps firing.
 */

/** `--quick` (or HANGAR_BENCH_QUICK=1): one short round, to check the benchmark works; figures not comparable. */
const QUICK_RUN = process.env.HANGAR_BENCH_QUICK === '1' || process.argv.includes('--quick');
// Many short rounds rather than a few long ones: ratios are taken within a round (see pairedRatio).
const LOAD: LoadSettings = { connections: 32, warmupS: QUICK_RUN ? 1 : 2, durationS: QUICK_RUN ? 3 : 6 };
const ROUNDS = QUICK_RUN ? 1 : 5;
const FLOOR = { warmupS: 1, durationS: QUICK_RUN ? 2 : 5 };
const ROLLBACK_LOAD_S = 6;
const ROLLBACK_AT_MS = 2500;
/** Consecutive answers from the rollback's target version that count as "all traffic moved". */
const SETTLED = 50;
const T = { vsMlflow: 20, ofCeiling: 0.6, p99HalfMs: 5, overhead: 0.1, rollbackMs: 1000 };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const msf = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms` : '—');
const times = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  columns: string[];
  rows: number[][];
  probabilities: number[][];
  labels: number[];
  onnxMaxDelta: number;
  heldOutRows: number;
}

interface Case {
  key: 'bare' | 'v2' | 'v2pg' | 'records' | 'mlflow' | 'mlserver' | 'canary' | 'shadow';
  name: string;
  req: Request;
  child: Child;
}

function row(name: string, rounds: Measured[]): string[] {
  const m = medianOf(rounds);
  return [
    name,
    num(m.rps),
    rounds.map((r) => num(r.rps)).join(' / '),
    msf(m.p50Ms),
    msf(m.p99Ms),
    `${m.serverCpuUsPerReq.toFixed(0)} µs`,
    `${m.serverCores.toFixed(2)} / ${m.loadgenCores.toFixed(2)} / ${m.otherCores.toFixed(2)}`,
    String(m.bad),
  ];
}

const post = (url: string, body: string, headers: Record<string, string> = {}): Request => ({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

async function postJson<T>(req: Request): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${req.url}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, body: JSON.parse(text) as T, text, headers: res.headers };
}

/** The largest |Δp| as text, marked TOO FAR beyond 1e-5 (float32 ONNX vs float64 scikit-learn stays far below). */
function deltaText(got: number[][], want: number[][]): string {
  const d = Math.max(...got.flatMap((r, i) => r.map((p, j) => Math.abs(p - want[i]![j]!))));
  return `${d.toExponential(1)}${d > 1e-5 ? ' TOO FAR' : ''}`;
}

interface V2Response {
  outputs: { name: string; shape: number[]; data: number[] }[];
}

/** Every system answers the held-out sample rows as scikit-learn does (labels, and probabilities where returned). */
async function checkAnswers(
  sample: Sample,
  reqs: { v2: Request; v2pg: Request | null; records: Request; mlflow: Request; mlserver: Request },
): Promise<string[]> {
  const n = sample.rows.length;
  const tensor = { name: 'X', datatype: 'FP32', shape: [n, 30], data: sample.rows.flat() };
  const pairs = (data: number[]) => Array.from({ length: n }, (_, i) => [data[2 * i]!, data[2 * i + 1]!]);
  const sameLabels = (got: number[]) => got.every((l, i) => l === sample.labels[i]);
  const out: string[] = [];

  for (const [name, req] of [
    ['Hangar V2', reqs.v2],
    ['Hangar V2 on PostgreSQL', reqs.v2pg],
  ] as const) {
    if (!req) continue;
    const v2 = await postJson<V2Response>({ ...req, body: JSON.stringify({ inputs: [tensor] }) });
    const probs = v2.body.outputs.find((o) => o.name === 'probabilities')!;
    const labels = v2.body.outputs.find((o) => o.name === 'label')!;
    out.push(
      `${name}: labels ${sameLabels(labels.data) ? 'equal' : 'DIFFER'}, max |Δp| ${deltaText(pairs(probs.data), sample.probabilities)}`,
    );
  }

  const split = { dataframe_split: { columns: sample.columns, data: sample.rows } };
  const rec = await postJson<{ predictions: { label: number; probabilities: number[] }[] }>({
    ...reqs.records,
    body: JSON.stringify(split),
  });
  out.push(
    `Hangar records: labels ${sameLabels(rec.body.predictions.map((p) => p.label)) ? 'equal' : 'DIFFER'}, max |Δp| ${deltaText(
      rec.body.predictions.map((p) => p.probabilities),
      sample.probabilities,
    )}`,
  );

  const ml = await postJson<{ predictions: number[] }>({ ...reqs.mlflow, body: JSON.stringify(split) });
  out.push(
    `mlflow models serve: labels ${sameLabels(ml.body.predictions) ? 'equal' : 'DIFFER'} (it returns labels only)`,
  );

  const ms = await postJson<V2Response>({
    ...reqs.mlserver,
    body: JSON.stringify({ inputs: [tensor], outputs: [{ name: 'predict' }, { name: 'predict_proba' }] }),
  });
  const msProbs = ms.body.outputs.find((o) => o.name === 'predict_proba')!;
  const msLabels = ms.body.outputs.find((o) => o.name === 'predict')!;
  out.push(
    `MLServer: labels ${sameLabels(msLabels.data) ? 'equal' : 'DIFFER'}, max |Δp| ${deltaText(pairs(msProbs.data), sample.probabilities)}`,
  );
  return out;
}

interface RollbackResult {
  name: string;
  postMs: number;
  /** From sending the rollback to the first answer of the final streak of SETTLED answers from the target. */
  switchMs: number;
  /** Answers from another version after the rollback call returned. */
  staleAfter: number;
  requests: number;
  failed: number;
}

/**
 * Fires V2 requests at `name` with autocannon (32 connections, closed loop) and, 2.5 s in, calls the
 * rollback API; meanwhile a separate client keeps asking which version answers until SETTLED answers
 * in a row come from `expect`. Every non-2xx, error and timeout of the whole run counts as failed.
 */
async function rollbackUnderLoad(h: HangarApi, name: string, body: string, expect: number): Promise<RollbackResult> {
  const req = post(`${h.url}/v2/models/${name}/infer`, body, { authorization: `Bearer ${h.token}` });
  await waitForQuiet();
  const load = runCannon(req, { connections: LOAD.connections, durationS: ROLLBACK_LOAD_S });
  await sleep(ROLLBACK_AT_MS);
  const t0 = performance.now();
  await rollback(h, name);
  const postMs = performance.now() - t0;
  let streak = 0;
  let streakStart = Number.NaN;
  let staleAfter = 0;
  const deadline = performance.now() + 10_000;
  while (streak < SETTLED && performance.now() < deadline) {
    const sent = performance.now();
    const res = await fetch(req.url, { method: 'POST', headers: req.headers, body });
    await res.arrayBuffer();
    if (res.ok && res.headers.get('x-hangar-model-version') === String(expect)) {
      if (streak++ === 0) streakStart = sent;
    } else {
      streak = 0;
      staleAfter++;
    }
  }
  const { result } = await load;
  return {
    name,
    postMs,
    switchMs: streak >= SETTLED ? Math.max(0, streakStart - t0) : Number.NaN,
    staleAfter,
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Inferences served and prediction-log records dropped, from Hangar's /metrics: the log's queue is
 * bounded, so a saturating run may shed records, and its figures are only comparable when it says how many.
 */
async function predictionLogTotals(h: HangarApi): Promise<{ served: number; dropped: number }> {
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } });
  const text = await res.text();
  let served = 0;
  let dropped = 0;
  for (const l of text.split('\n')) {
    const value = Number(l.slice(l.lastIndexOf(' ') + 1));
    if (l.startsWith('hangar_inference_requests_total{') && !l.includes('route="shadow"')) served += value;
    else if (l.startsWith('hangar_prediction_log_dropped_total ')) dropped += value;
  }
  return { served, dropped };
}

export async function runServing(): Promise<void> {
  heading('serving: Hangar inference vs mlflow models serve and MLServer, same model, 1 row per request');
  buildServer();
  line('preparing bench/serving/.venv (bench/serving/setup.sh) ...');
  const pythonVersions = ensureVenv();
  const ortVersion = (
    createRequire(path.join(import.meta.dirname, '../../packages/server/package.json'))(
      'onnxruntime-node/package.json',
    ) as { version: string }
  ).version;
  const pin = coreCount() >= 2 && hasTaskset();
  const serverCpus = pin ? '1' : undefined;
  if (pin) pinProcess(process.pid, '0');
  line(
    `machine: ${coreCount()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`,
  );
  line(`versions: Node ${process.versions.node}, onnxruntime-node ${ortVersion}; ${pythonVersions}`);
  line(
    pin
      ? 'pinning: autocannon (this process) on CPU 0, each server (whole process tree) on CPU 1; one server under load at a time'
      : 'pinning: none (taskset missing or 1 core): load generator and servers share the CPUs',
  );
  line(
    `load: autocannon, ${LOAD.connections} connections, 1 row per request, ${LOAD.warmupS} s warm-up + ${LOAD.durationS} s measured, ` +
      `${ROUNDS} interleaved rounds, medians; each run waits (up to 30 s) for an idle machine`,
  );

  if (QUICK_RUN) line('QUICK smoke run: one short round; the figures are not comparable with a full run');

  const unquiet0 = unquietRuns();
  const work = tempDir('serving');
  let dropPgDb: (() => Promise<void>) | undefined;
  try {
    line('making the model (bench/serving/make_model.py) ...');
    line(`  ${makeModel(work)}`);
    const sample = JSON.parse(readFileSync(path.join(work, 'sample.json'), 'utf8')) as Sample;
    const one = sample.rows[0]!;

    const token = `hgr_${randomBytes(24).toString('base64url')}`;
    // HANGAR_BENCH_CPU_PROF=<dir>: profile Hangar (as in http-overhead.ts); the profiler slows it, figures are then not comparable.
    const profDir = process.env.HANGAR_BENCH_CPU_PROF;
    if (profDir) line(`profiling Hangar: a .cpuprofile will be written to ${path.resolve(profDir)} when it stops`);
    const hangar = await startHangar({
      dataDir: path.join(work, 'hangar-data'),
      env: { HANGAR_ADMIN_TOKEN: token },
      cpus: serverCpus,
      nodeArgs: profDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profDir)] : [],
    });
    const h: HangarApi = { url: hangar.url, token };
    const auth = { authorization: `Bearer ${token}` };
    const pgAdminUrl = process.env.HANGAR_TEST_PG_URL;
    if (!pgAdminUrl)
      line('Hangar on PostgreSQL skipped: HANGAR_TEST_PG_URL unset (run via node scripts/with-postgres.mjs ...)');
    const pgDb = pgAdminUrl ? await createPgDatabase(pgAdminUrl) : null;
    dropPgDb = pgDb?.drop;
    const hangarPg = pgDb
      ? await startHangar({
          dataDir: path.join(work, 'hangar-pg-data'),
          env: { HANGAR_ADMIN_TOKEN: token, HANGAR_DB: pgDb.url },
          cpus: serverCpus,
        })
      : null;
    const hPg: HangarApi | null = hangarPg ? { url: hangarPg.url, token } : null;
    line('Hangar: registering the ONNX model (3 identical versions) and deploying it ...');
    await registerModel(h, path.join(work, 'hangar'), 'bc', 3);
    await deploy(h, 'bc', 'bc', [{ version: 1, weight: 100 }]);
    if (hPg) {
      line('Hangar on PostgreSQL: registering the same model and deploying it ...');
      await registerModel(hPg, path.join(work, 'hangar'), 'bc', 1);
      await deploy(hPg, 'bc', 'bc', [{ version: 1, weight: 100 }]);
    }
    // A canary that stays at 50 % for the whole run: its step lasts a day.
    await deploy(h, 'bc-canary', 'bc', [{ version: 1, weight: 100 }]);
    await startRollout(h, 'bc-canary', { strategy: 'canary', version: 2, steps: [50, 100], stepSeconds: 86_400 });
    await deploy(h, 'bc-shadow', 'bc', [{ version: 1, weight: 100 }]);
    await startRollout(h, 'bc-shadow', { strategy: 'shadow', version: 2, percent: 100 });
    for (const name of ['bc-canary', 'bc-shadow']) await waitReady(h, name);

    const v2Body = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: one }] });
    const splitBody = JSON.stringify({ dataframe_split: { columns: sample.columns, data: [one] } });
    // MLServer is asked for both outputs Hangar returns (label and probabilities), so both do the same work.
    const mlserverBody = JSON.stringify({
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: one }],
      outputs: [{ name: 'predict' }, { name: 'predict_proba' }],
    });

    line('starting mlflow models serve and MLServer ...');
    const mlflow = await startMlflowServe(path.join(work, 'mlflow'), serverCpus);
    const mlserver = await startMlserver(path.join(work, 'mlserver'), serverCpus);
    const reqs = {
      v2: post(`${h.url}/v2/models/bc/infer`, v2Body, auth),
      records: post(`${h.url}/v1/deployments/bc/predict`, splitBody, auth),
      mlflow: post(`${mlflow.url}/invocations`, splitBody),
      mlserver: post(`${mlserver.url}/v2/models/bc/infer`, mlserverBody),
      v2pg: hPg ? post(`${hPg.url}/v2/models/bc/infer`, v2Body, auth) : null,
    };
    line(
      `answers to ${sample.rows.length} held-out rows against scikit-learn's (ONNX conversion checked on ${sample.heldOutRows} rows: max |Δp| ${sample.onnxMaxDelta.toExponential(1)}):`,
    );
    const answers = await checkAnswers(sample, reqs);
    for (const l of answers) line(`  ${l}`);
    // Timing a system that answers differently would compare different work.
    if (answers.some((l) => l.includes('DIFFER') || l.includes('TOO FAR')))
      throw new Error('a system does not answer like the scikit-learn model (above); nothing was timed');

    const hangarAnswer = (await postJson<V2Response>(reqs.v2)).text;
    const bare = await startBare(hangarAnswer, serverCpus);

    const cases: Case[] = [
      {
        key: 'bare',
        name: '(e) ceiling: bare Fastify, fixed JSON',
        req: post(`${bare.url}/v2/models/bc/infer`, v2Body, auth),
        child: bare.child,
      },
      { key: 'v2', name: '(a) Hangar V2 JSON infer', req: reqs.v2, child: hangar.child },
      ...(reqs.v2pg && hangarPg
        ? [{ key: 'v2pg' as const, name: '    (a) with Hangar on PostgreSQL', req: reqs.v2pg, child: hangarPg.child }]
        : []),
      { key: 'records', name: '(b) Hangar records (dataframe_split)', req: reqs.records, child: hangar.child },
      { key: 'mlflow', name: '(c) mlflow models serve (dataframe_split)', req: reqs.mlflow, child: mlflow.child },
      { key: 'mlserver', name: '(d) MLServer + mlserver-sklearn (V2 JSON)', req: reqs.mlserver, child: mlserver.child },
      {
        key: 'canary',
        name: '    Hangar V2, 50/50 canary (v1 stable, v2 candidate)',
        req: post(`${h.url}/v2/models/bc-canary/infer`, v2Body, auth),
        child: hangar.child,
      },
      {
        key: 'shadow',
        name: '    Hangar V2, 100 % shadow (v2 shadows v1)',
        req: post(`${h.url}/v2/models/bc-shadow/infer`, v2Body, auth),
        child: hangar.child,
      },
    ];
    const runs = new Map<Case['key'], Measured[]>(cases.map((c) => [c.key, []]));
    const floors: Floor[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // The plain, canary and shadow deployments run back to back, their order rotating each round,
      // so a drift of the shared machine or of Hangar's store over the run does not favour one of them.
      const trio = cases.filter((c) => c.key === 'v2' || c.key === 'canary' || c.key === 'shadow');
      const order = [
        cases.find((c) => c.key === 'bare')!,
        ...trio.slice(r % 3),
        ...trio.slice(0, r % 3),
        ...cases.filter((c) => c.key === 'v2pg' || c.key === 'records' || c.key === 'mlflow' || c.key === 'mlserver'),
      ];
      for (const c of order) runs.get(c.key)!.push(await measure(c.req, c.child, LOAD));
      await waitForQuiet();
      floors.push(await runFloor(path.join(work, 'hangar/model.onnx'), one, FLOOR, serverCpus));
      line(`  round ${r + 1}/${ROUNDS} done`);
    }
    const m = (k: Case['key']) => medianOf(runs.get(k)!);

    // p99 at half of Hangar's peak: evenly spaced requests at a fixed rate, as a service with headroom sees them.
    const halfRate = m('v2').rps / 2;
    line(`(a) again at a fixed ${num(halfRate)} req/s (half of its peak) ...`);
    const half: Measured[] = [];
    // The bare route at the same rate is the control: the latency the load generator and loopback add.
    const halfBare: Measured[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      half.push(await measure(reqs.v2, hangar.child, { ...LOAD, rate: halfRate }));
      halfBare.push(await measure(cases[0]!.req, bare.child, { ...LOAD, rate: halfRate }));
    }

    // Rollbacks under load: of a promotion (all traffic on v2 -> back to v1), and of a running canary.
    line('rollbacks under load ...');
    await deploy(h, 'bc-promoted', 'bc', [{ version: 1, weight: 100 }]);
    await setTraffic(h, 'bc-promoted', [{ version: 2, weight: 100 }]);
    await waitReady(h, 'bc-promoted');
    await deploy(h, 'bc-canary-rb', 'bc', [{ version: 1, weight: 100 }]);
    await startRollout(h, 'bc-canary-rb', { strategy: 'canary', version: 2, steps: [50, 100], stepSeconds: 86_400 });
    await waitReady(h, 'bc-canary-rb');
    const rollbacks = [
      await rollbackUnderLoad(h, 'bc-promoted', v2Body, 1),
      await rollbackUnderLoad(h, 'bc-canary-rb', v2Body, 1),
    ];

    const logged = await predictionLogTotals(h);
    const loggedPg = hPg ? await predictionLogTotals(hPg) : null;
    const memory = [
      ['Hangar', hangar.child],
      ...(hangarPg ? [['Hangar on PostgreSQL', hangarPg.child] as const] : []),
      ['mlflow models serve', mlflow.child],
      ['MLServer', mlserver.child],
      ['bare Fastify', bare.child],
    ] as const;

    // Report
    line();
    line('=== results ===');
    table([
      ['', 'req/s', 'per round', 'p50', 'p99', 'server CPU/req', 'cores: server / loadgen / other', 'failed'],
      ...cases.map((c) => row(c.name, runs.get(c.key)!)),
      row(`    Hangar V2 at a fixed ${num(halfRate)} req/s`, half),
      row(`    bare Fastify at the same rate (control)`, halfBare),
    ]);
    const fl = {
      callsPerS: median(floors.map((f) => f.callsPerS)),
      usPerCall: median(floors.map((f) => f.usPerCall)),
      cpuUsPerCall: median(floors.map((f) => f.cpuUsPerCall)),
    };
    line(
      `(f) floor: onnxruntime-node session.run, 1 row, sequential, no HTTP: ${num(fl.callsPerS)} calls/s, ` +
        `${fl.usPerCall.toFixed(1)} µs per call (${fl.cpuUsPerCall.toFixed(1)} µs CPU); rounds ${floors.map((f) => num(f.callsPerS)).join(' / ')}`,
    );
    line(
      `prediction log over all runs: ${num(logged.served)} inferences served, ${num(logged.dropped)} records dropped (queue full or store failed)` +
        (loggedPg ? `; on PostgreSQL ${num(loggedPg.served)} served, ${num(loggedPg.dropped)} dropped` : ''),
    );
    line(
      `server memory after the runs (RSS of the process tree): ${memory.map(([n, c]) => `${n} ${mb(treeMemory(c.pid).rssBytes)}`).join(', ')}`,
    );
    line();
    const [v2, rec, bareM, mlf, mls, can, sha] = (
      ['v2', 'records', 'bare', 'mlflow', 'mlserver', 'canary', 'shadow'] as const
    ).map(m);
    const halfM = medianOf(half);
    line('ratios (req/s):');
    line(
      `  Hangar V2 / mlflow models serve ${times(v2!.rps, mlf!.rps)}; records / mlflow models serve ${times(rec!.rps, mlf!.rps)}`,
    );
    line(`  Hangar V2 / MLServer ${times(v2!.rps, mls!.rps)}; records / MLServer ${times(rec!.rps, mls!.rps)}`);
    line(
      `  of the medians: Hangar V2 / bare ceiling ${pct(v2!.rps / bareM!.rps)}; records / bare ceiling ${pct(rec!.rps / bareM!.rps)}`,
    );
    line(
      `  per request, Hangar V2 spends ${v2!.serverCpuUsPerReq.toFixed(0)} µs CPU: the bare route ${bareM!.serverCpuUsPerReq.toFixed(0)} µs, ` +
        `onnxruntime's run ${fl.cpuUsPerCall.toFixed(0)} µs, the rest (auth, OIP parsing and encoding, routing, logging, metrics) ` +
        `${(v2!.serverCpuUsPerReq - bareM!.serverCpuUsPerReq - fl.cpuUsPerCall).toFixed(0)} µs`,
    );
    const ceiling = pairedRatio(runs.get('v2')!, runs.get('bare')!);
    const costOf = (k: 'canary' | 'shadow') => {
      const r = pairedRatio(runs.get(k)!, runs.get('v2')!);
      return { median: 1 - r.median, rounds: r.rounds.map((x) => 1 - x) };
    };
    const [canCost, shaCost] = [costOf('canary'), costOf('shadow')];
    const cpuCost = (x: Measured) => x.serverCpuUsPerReq / v2!.serverCpuUsPerReq - 1;
    const perRound = (xs: number[]) => xs.map(pct).join(' / ');
    line(
      `  paired by round (each round's runs back to back): Hangar V2 / bare ceiling ${pct(ceiling.median)} (rounds ${perRound(ceiling.rounds)})`,
    );
    if (runs.has('v2pg')) {
      const onPg = pairedRatio(runs.get('v2pg')!, runs.get('v2')!);
      line(
        `  Hangar V2 on PostgreSQL / on SQLite, paired by round: ${pct(onPg.median)} (rounds ${perRound(onPg.rounds)}; ` +
          `${m('v2pg').serverCpuUsPerReq.toFixed(0)} against ${v2!.serverCpuUsPerReq.toFixed(0)} µs CPU/req, PostgreSQL's own CPU not counted)`,
      );
    }
    line(
      `  release features vs the plain deployment, paired by round: canary 50/50 costs ${pct(canCost.median)} req/s ` +
        `(rounds ${perRound(canCost.rounds)}; ${pct(cpuCost(can!))} CPU/req), shadow 100 % ${pct(shaCost.median)} ` +
        `(rounds ${perRound(shaCost.rounds)}; ${pct(cpuCost(sha!))} CPU/req); prediction logging is on in all three`,
    );
    line();
    line('rollback under load (32 connections, closed loop; rollback called 2.5 s in):');
    table([
      ['', 'POST rollback', 'all answers from the target after', 'stale answers after the call', 'requests', 'failed'],
      ...rollbacks.map((r) => [
        r.name === 'bc-promoted' ? 'promotion (v2 -> v1)' : 'running 50/50 canary (-> v1)',
        msf(r.postMs),
        msf(r.switchMs),
        String(r.staleAfter),
        num(r.requests),
        String(r.failed),
      ]),
    ]);
    const all = [...runs.values()].flat().concat(half, halfBare);
    printRunNotes(all, unquiet0);
    line();
    target(
      `Hangar V2 >= ${T.vsMlflow}x mlflow models serve`,
      v2!.rps >= T.vsMlflow * mlf!.rps,
      `${times(v2!.rps, mlf!.rps)}`,
    );
    target(
      `Hangar V2 >= ${pct(T.ofCeiling)} of the bare-HTTP ceiling`,
      ceiling.median >= T.ofCeiling,
      `${pct(ceiling.median)} (median of the rounds' ratios)`,
    );
    target(
      `p99 < ${T.p99HalfMs} ms at half of peak load`,
      halfM.p99Ms < T.p99HalfMs,
      `p99 ${msf(halfM.p99Ms)} at ${num(halfM.rps)} req/s`,
    );
    target(
      `canary routing + shadow + logging cost < ${pct(T.overhead)} vs a plain deployment`,
      Math.max(canCost.median, shaCost.median) < T.overhead,
      `canary ${pct(canCost.median)}, shadow ${pct(shaCost.median)} of req/s (medians of the rounds' ratios); ` +
        'a canary and a shadow cannot run at once on one deployment',
    );
    const rbOk = rollbacks.every((r) => r.switchMs < T.rollbackMs && r.failed === 0);
    target(
      `rollback < ${T.rollbackMs} ms with zero failed requests`,
      rbOk,
      rollbacks.map((r) => `${r.name}: ${msf(r.switchMs)}, ${r.failed} failed`).join('; '),
    );
  } finally {
    await stopAll();
    await dropPgDb?.();
    rmSync(work, { recursive: true, force: true });
    if (pin) pinProcess(process.pid, `0-${coreCount() - 1}`);
  }
}

if (isMain(import.meta.url)) await runServing();
