import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadavg, totalmem } from 'node:os';
import { stopAll, stopServer, type Child } from '../core/lib/children.js';
import { buildServer, startHangar, tempDir } from '../core/lib/hangar.js';
import { waitFor200 } from '../core/lib/http.js';
import { coreCount, cpuSeconds, freePort, hasTaskset, pinProcess, processTree } from '../core/lib/proc.js';
import { unquietRuns, waitForQuiet } from '../core/lib/quiet.js';
import { heading, isMain, line, median, num, table, target } from '../core/lib/report.js';
import { measureAuditAppend, measureAuthPath, type AuditFigures } from './lib/in-process.js';
import { closedLoop, type HttpCase, type LatencyResult } from './lib/latency.js';
import { basic, ensureMlflowAuth, MLFLOW_ADMIN, spawnMlflowServer } from './lib/mlflow-auth.js';

/*
 * What authentication and authorization add to a request: Hangar (API token from a 5 s in-process
 * cache, project permission check, audit event in the write's transaction) against an
 * unauthenticated route on the same server, side by side with MLflow's basic-auth app doing the
 * same for an experiment. Latency is measured with a closed-loop client at microsecond resolution
 * (autocannon's histogram has 1 ms buckets) with 1 connection (pure latency) and 16 (under load).
 * The in-process part times the pieces alone through the server's own classes.
 */

// HANGAR_BENCH_QUICK=1: a smoke run (short, one round) to check the benchmark works; figures not comparable.
const QUICK = process.env.HANGAR_BENCH_QUICK === '1';
const WARMUP_MS = QUICK ? 200 : 1000;
const DURATION_MS = QUICK ? 500 : 4000;
const CONNECTIONS = [1, 16] as const;
const HANGAR_ROUNDS = QUICK ? 1 : 3;
const MLFLOW_ROUNDS = 1;
const TARGET_US = 200;

interface Case {
  name: string;
  http: HttpCase;
}

interface Measured extends LatencyResult {
  /** CPU the server's whole process tree used per request. */
  serverCpuUs: number;
}

const treeCpu = (pid: number) => processTree(pid).reduce((s, p) => s + cpuSeconds(p), 0);
const us = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} µs` : '—');
const ms1 = (x: number) => `${(x / 1000).toFixed(1)} ms`;
const signedUs = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)} µs`;

async function measureCase(base: string, server: Child, c: Case, connections: number): Promise<Measured> {
  await waitForQuiet();
  await closedLoop(base, c.http, connections, WARMUP_MS);
  const cpu0 = treeCpu(server.pid);
  const r = await closedLoop(base, c.http, connections, DURATION_MS);
  const serverCpuUs = ((treeCpu(server.pid) - cpu0) * 1e6) / Math.max(1, r.requests);
  if (r.bad > 0) line(`  note: ${c.name} (${connections} conn): ${r.bad} bad responses, first: ${r.firstBad}`);
  return { ...r, serverCpuUs };
}

/** Per-field median over rounds. */
function medianOf(rounds: Measured[]): Measured {
  const m = (f: (x: Measured) => number) => median(rounds.map(f));
  return {
    requests: m((x) => x.requests),
    seconds: m((x) => x.seconds),
    rps: m((x) => x.rps),
    p50Us: m((x) => x.p50Us),
    p90Us: m((x) => x.p90Us),
    p99Us: m((x) => x.p99Us),
    meanUs: m((x) => x.meanUs),
    serverCpuUs: m((x) => x.serverCpuUs),
    bad: rounds.reduce((n, x) => n + x.bad, 0),
    firstBad: rounds.find((x) => x.firstBad)?.firstBad ?? null,
  };
}

/** Runs every case at every concurrency, `rounds` times interleaved; returns medians [case][connIdx]. */
async function runCases(system: string, base: string, server: Child, cases: Case[], rounds: number) {
  const runs = cases.map(() => CONNECTIONS.map(() => [] as Measured[]));
  for (let r = 0; r < rounds; r++) {
    for (const [ci, conns] of CONNECTIONS.entries())
      for (const [k, c] of cases.entries()) runs[k]![ci]!.push(await measureCase(base, server, c, conns));
    line(`  ${system}: round ${r + 1}/${rounds} done`);
  }
  return runs.map((perConn) => perConn.map(medianOf));
}

function printTable(title: string, names: string[], results: Measured[][]): void {
  for (const [ci, conns] of CONNECTIONS.entries()) {
    line();
    line(`${title}, ${conns} connection${conns > 1 ? 's' : ''}:`);
    const rows = [['', 'p50', 'p90', 'p99', 'req/s', 'server CPU/req', 'bad']];
    for (const [k, name] of names.entries()) {
      const m = results[k]![ci]!;
      rows.push([name, us(m.p50Us), us(m.p90Us), us(m.p99Us), num(m.rps), us(m.serverCpuUs), String(m.bad)]);
    }
    table(rows);
  }
}

async function expectOk(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${text}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // e.g. MLflow's /health answers "OK"
  }
}

async function runHangar(serverCpus: string | undefined) {
  const dataDir = tempDir('identity');
  const adminToken = `hgr_${randomBytes(24).toString('base64url')}`;
  const admin = { authorization: `Bearer ${adminToken}` };
  try {
    const { child, url } = await startHangar({ dataDir, env: { HANGAR_ADMIN_TOKEN: adminToken }, cpus: serverCpus });
    const post = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // A developer (member of the default team) with a token scoped to project default, and a user whose
    // direct role the write re-grants.
    for (const username of ['bench-dev', 'bench-target'])
      await expectOk(await post('/api/v1/users', admin, { username, password: `${username}-password` }), username);
    const created = (await expectOk(
      await post(
        '/api/v1/tokens',
        { authorization: basic('bench-dev', 'bench-dev-password') },
        { name: 'bench', project: 'default' },
      ),
      'token for bench-dev',
    )) as { token: string };
    const dev = { authorization: `Bearer ${created.token}` };
    const cases: Case[] = [
      { name: 'GET /healthz (public, no credentials)', http: { method: 'GET', path: '/healthz' } },
      { name: 'GET /healthz + Bearer (token lookup only)', http: { method: 'GET', path: '/healthz', headers: dev } },
      {
        name: 'GET /api/v1/projects/default, admin token',
        http: { method: 'GET', path: '/api/v1/projects/default', headers: admin },
      },
      {
        name: 'GET /api/v1/projects/default, developer scoped token',
        http: { method: 'GET', path: '/api/v1/projects/default', headers: dev },
      },
      {
        name: 'PUT /api/v1/projects/default/members/bench-target (audited)',
        http: {
          method: 'PUT',
          path: '/api/v1/projects/default/members/bench-target',
          headers: admin,
          body: JSON.stringify({ role: 'viewer' }),
        },
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}${c.http.path}`, {
        method: c.http.method,
        headers: { ...c.http.headers, ...(c.http.body ? { 'content-type': 'application/json' } : {}) },
        body: c.http.body,
      });
      await expectOk(res, c.name);
    }
    const results = await runCases('Hangar', url, child, cases, HANGAR_ROUNDS);
    // Every audited write must have been linked into a chain that verifies.
    const verify = (await expectOk(await fetch(`${url}/api/v1/audit/verify`, { headers: admin }), 'audit verify')) as {
      ok: boolean;
      checked: number;
      pending: number;
    };
    line(
      `  Hangar audit chain after the run: ok=${verify.ok}, ${num(verify.checked)} events linked, ${verify.pending} pending`,
    );
    await stopServer(child);
    return { names: cases.map((c) => c.name), results };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const EXP = '/api/2.0/mlflow/experiments/get?experiment_id=0';

async function startMlflow(dir: string, o: Parameters<typeof spawnMlflowServer>[2]) {
  const port = await freePort();
  const child = spawnMlflowServer(dir, port, o);
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/health`, child, performance.now(), 120_000, 100);
  return { child, url };
}

/** MLflow with the basic-auth app: a non-admin user with READ on experiment 0 (granted, not by default). */
async function runMlflowAuth(authCacheTtlS: number, serverCpus: string | undefined) {
  const dir = tempDir(`mlflow-auth-${authCacheTtlS}`);
  try {
    const { child, url } = await startMlflow(dir, { auth: true, authCacheTtlS, cpus: serverCpus });
    const admin = { authorization: basic(MLFLOW_ADMIN.username, MLFLOW_ADMIN.password) };
    const dev = { authorization: basic('bench-dev', 'bench-dev-password') };
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await expectOk(
      await post('/api/2.0/mlflow/users/create', { username: 'bench-dev', password: 'bench-dev-password' }),
      'mlflow user',
    );
    await expectOk(
      await post('/api/3.0/mlflow/users/permissions/grant', {
        username: 'bench-dev',
        resource_type: 'experiment',
        resource_id: '0',
        permission: 'READ',
      }),
      'mlflow grant',
    );
    const cases: Case[] = [
      { name: 'GET /health (public, no credentials)', http: { method: 'GET', path: '/health' } },
      { name: 'GET experiments/get, admin', http: { method: 'GET', path: EXP, headers: admin } },
      { name: 'GET experiments/get, user with READ', http: { method: 'GET', path: EXP, headers: dev } },
      {
        name: 'POST experiments/set-experiment-tag, admin',
        http: {
          method: 'POST',
          path: '/api/2.0/mlflow/experiments/set-experiment-tag',
          headers: admin,
          body: JSON.stringify({ experiment_id: '0', key: 'bench', value: 'x' }),
        },
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}${c.http.path}`, {
        method: c.http.method,
        headers: { ...c.http.headers, ...(c.http.body ? { 'content-type': 'application/json' } : {}) },
        body: c.http.body,
      });
      await expectOk(res, `mlflow ${c.name}`);
    }
    const label = authCacheTtlS > 0 ? `MLflow basic-auth, auth cache ${authCacheTtlS} s` : 'MLflow basic-auth';
    const results = await runCases(label, url, child, cases, MLFLOW_ROUNDS);
    await stopServer(child);
    return { names: cases.map((c) => c.name), results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Plain `mlflow server`: the same experiment read with no authentication at all. */
async function runMlflowPlain(serverCpus: string | undefined) {
  const dir = tempDir('mlflow-plain');
  try {
    const { child, url } = await startMlflow(dir, { auth: false, cpus: serverCpus });
    const cases: Case[] = [
      { name: 'GET /health', http: { method: 'GET', path: '/health' } },
      { name: 'GET experiments/get, no auth app', http: { method: 'GET', path: EXP } },
    ];
    await expectOk(await fetch(`${url}${EXP}`), 'mlflow plain experiment');
    const results = await runCases('MLflow (no auth)', url, child, cases, MLFLOW_ROUNDS);
    await stopServer(child);
    return { names: cases.map((c) => c.name), results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printAudit(a: AuditFigures): void {
  line(
    `  synchronous=${a.synchronous.padEnd(6)}  plain tx ${us(a.plainUs)}, + audit row ${us(a.appendUs)} ` +
      `(audit append ${signedUs(a.appendUs - a.plainUs)}), chain linking ${a.linkPerEventUs.toFixed(1)} µs/event; ` +
      `AuditLog.change as shipped ${us(a.changeMeanUs)} mean vs ${us(a.plainMeanUs)} mean without audit ` +
      `(${signedUs(a.changeMeanUs - a.plainMeanUs)})`,
  );
}

export async function runIdentity(): Promise<void> {
  heading('identity: authenticated request overhead, Hangar vs MLflow basic-auth');
  buildServer();
  const mlflowVersion = ensureMlflowAuth();
  const pin = coreCount() >= 2 && hasTaskset();
  const serverCpus = pin ? '1' : undefined;
  if (pin) pinProcess(process.pid, '0');
  line(
    `machine: ${coreCount()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
      `load average ${loadavg()[0]!.toFixed(2)} at start; ${mlflowVersion}`,
  );
  line(
    pin
      ? 'pinning: load generator and in-process timings on CPU 0, each server (whole process tree) on CPU 1 (taskset)'
      : 'pinning: none (taskset missing or 1 core)',
  );
  line(
    `load: closed loop, keep-alive, no pipelining, µs timestamps; ${WARMUP_MS / 1000} s warm-up + ` +
      `${DURATION_MS / 1000} s measured per case, connections ${CONNECTIONS.join(' and ')}; ` +
      `Hangar ${HANGAR_ROUNDS} interleaved rounds (medians), MLflow ${MLFLOW_ROUNDS}`,
  );
  line('each run waits (up to 30 s) for the machine to be idle (< 0.25 cores busy) before it starts');
  const unquiet0 = unquietRuns();
  try {
    line();
    line('in-process (the server classes, no HTTP):');
    const authPath = await measureAuthPath();
    line(
      `  Authenticator.cachedAuth (warm): ${authPath.cachedAuthNs.toFixed(0)} ns; ` +
        `AccessService.requireProject: developer ${authPath.requireProjectDevNs.toFixed(0)} ns, ` +
        `admin ${authPath.requireProjectAdminNs.toFixed(0)} ns`,
    );
    const auditFull = await measureAuditAppend('full');
    printAudit(auditFull);
    const auditNormal = await measureAuditAppend('normal');
    printAudit(auditNormal);

    line();
    line('Hangar: dist/bin.js, SQLite (synchronous=full, the default), --log-level warn, HANGAR_ADMIN_TOKEN');
    const hangar = await runHangar(serverCpus);
    printTable('Hangar', hangar.names, hangar.results);

    line();
    line('MLflow: mlflow server --workers 1, SQLite, uvicorn access log off; --app-name basic-auth where named');
    const plain = await runMlflowPlain(serverCpus);
    const auth = await runMlflowAuth(0, serverCpus);
    const cached = await runMlflowAuth(5, serverCpus);
    printTable('MLflow, no auth app', plain.names, plain.results);
    printTable('MLflow basic-auth (default config: auth cache off)', auth.names, auth.results);
    printTable('MLflow basic-auth, auth_cache_ttl_seconds = 5 (as Hangar)', cached.names, cached.results);

    // Overheads at p50 with 1 connection: pure latency, no queueing.
    const p50 = (r: Measured[][], k: number, ci = 0) => r[k]![ci]!.p50Us;
    const cpu = (r: Measured[][], k: number, ci = 1) => r[k]![ci]!.serverCpuUs;
    const H = hangar.results;
    const hToken = p50(H, 1) - p50(H, 0);
    const hReadDev = p50(H, 3) - p50(H, 0);
    const hReadAdmin = p50(H, 2) - p50(H, 0);
    const hWrite = p50(H, 4) - p50(H, 0);
    const mAuthRead = p50(auth.results, 2) - p50(auth.results, 0);
    const mCachedRead = p50(cached.results, 2) - p50(cached.results, 0);
    const mPureAuth = p50(auth.results, 2) - p50(plain.results, 1);
    const mPureCached = p50(cached.results, 2) - p50(plain.results, 1);
    const inProcess =
      (authPath.cachedAuthNs + authPath.requireProjectDevNs) / 1000 + (auditFull.appendUs - auditFull.plainUs);

    line();
    line('overhead at p50, 1 connection (authenticated request minus the public health route, same server):');
    table([
      ['', 'Hangar', 'MLflow', 'MLflow cache 5 s', 'MLflow / Hangar', 'MLflow cache / Hangar'],
      [
        'read as non-admin with a role (GET project / experiment)',
        signedUs(hReadDev),
        ms1(mAuthRead),
        ms1(mCachedRead),
        `${(mAuthRead / hReadDev).toFixed(0)}x`,
        `${(mCachedRead / hReadDev).toFixed(1)}x`,
      ],
      [
        'read as admin',
        signedUs(hReadAdmin),
        ms1(p50(auth.results, 1) - p50(auth.results, 0)),
        ms1(p50(cached.results, 1) - p50(cached.results, 0)),
        '',
        '',
      ],
      [
        'cheap write as admin (Hangar: audited role re-grant; MLflow: set tag)',
        signedUs(hWrite),
        ms1(p50(auth.results, 3) - p50(auth.results, 0)),
        ms1(p50(cached.results, 3) - p50(cached.results, 0)),
        '',
        '',
      ],
    ]);
    line(
      `Hangar token lookup alone (public route with vs without Bearer): ${signedUs(hToken)}; ` +
        `server CPU/request at 16 connections: healthz ${us(cpu(H, 0))}, + token ${us(cpu(H, 1))}, ` +
        `GET project (developer) ${us(cpu(H, 3))}, audited PUT ${us(cpu(H, 4))}`,
    );
    line(
      `MLflow auth alone (same experiment read with vs without the auth app): ${ms1(mPureAuth)} ` +
        `(auth cache 5 s: ${ms1(mPureCached)})`,
    );
    line(
      `Hangar pieces in-process: cachedAuth + requireProject(developer) + audit append (synchronous=full) = ` +
        `${inProcess.toFixed(1)} µs`,
    );
    if (unquietRuns() > unquiet0)
      line(`note: ${unquietRuns() - unquiet0} run(s) started although the machine was busy for 30 s (shared machine)`);
    target(
      `authenticated read overhead < ${TARGET_US} µs at p50`,
      hReadDev < TARGET_US,
      `GET /api/v1/projects/default with a developer token minus GET /healthz: ${signedUs(hReadDev)}; ` +
        `this includes the route's own SQL and response, not only auth`,
    );
    target(
      `token lookup + permission check + audit append < ${TARGET_US} µs`,
      inProcess < TARGET_US,
      `in-process sum ${inProcess.toFixed(1)} µs`,
    );
  } finally {
    await stopAll();
    if (pin) pinProcess(process.pid, `0-${coreCount() - 1}`);
  }
}

if (isMain(import.meta.url)) await runIdentity();
