import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { spawnServer, stopAll, type Child } from './lib/children.js';
import { buildServer, REPO_ROOT, startHangar, tempDir } from './lib/hangar.js';
import { measure, medianOf, pairedRatio, printRunNotes, type LoadSettings, type Measured } from './lib/load.js';
import { coreCount, hasTaskset, pinProcess } from './lib/proc.js';
import { unquietRuns } from './lib/quiet.js';
import { heading, isMain, line, num, table, target } from './lib/report.js';

/*
 * Per-request cost of Hangar's HTTP stack against a bare Fastify route on the same machine.
 * GET /api/v1/me is the realistic no-op authenticated request (auth served from the in-memory cache,
 * one SQL lookup of the user); GET /healthz is public and touches no SQL, so comparing the two
 * separates the framework-and-hooks cost from the auth-and-SQL cost.
 *
 * On 2 cores the load generator and the server would steal each other's CPU, so when taskset exists
 * this process (autocannon) is pinned to CPU 0 and the servers to CPU 1. Bare and Hangar runs are
 * interleaved for several rounds (the order reversed every other round) and medians reported, and the
 * CPU used by each side (and by anything else on the machine) is printed, so a reader can judge
 * whether a run was disturbed. The machine's speed moves by 15–40 % from one minute to the next, so
 * the overhead the target judges is paired: Hangar against bare within each round, then the median
 * of those ratios.
 */

// Many short rounds rather than a few long ones: the overhead is a ratio taken within each round.
const LOAD: LoadSettings = { connections: 50, pipelining: 1, warmupS: 2, durationS: 5 };
const ROUNDS = 6;
const OVERHEAD_TARGET = 0.15;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function row(name: string, rounds: Measured[]): string[] {
  const m = medianOf(rounds);
  return [
    name,
    num(m.rps),
    rounds.map((r) => num(r.rps)).join(' / '),
    `${m.p50Ms} ms`,
    `${m.p99Ms} ms`,
    `${m.serverCpuUsPerReq.toFixed(1)} µs`,
    `${m.serverCores.toFixed(2)} / ${m.loadgenCores.toFixed(2)} / ${m.otherCores.toFixed(2)}`,
    String(m.bad),
  ];
}

async function startBare(cpus: string | undefined): Promise<{ child: Child; url: string }> {
  const child = spawnServer(
    'bare-fastify',
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'bare-fastify.ts')],
    {
      cwd: REPO_ROOT,
      cpus,
    },
  );
  const m = await child.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+)\//, 30_000);
  return { child, url: m[1]! };
}

export async function runHttpOverhead(): Promise<void> {
  heading('http-overhead: Hangar request pipeline vs bare Fastify');
  buildServer();
  const pin = coreCount() >= 2 && hasTaskset();
  const serverCpus = pin ? '1' : undefined;
  if (pin) pinProcess(process.pid, '0');
  line(`machine: ${coreCount()} cores, load average ${loadavg()[0]!.toFixed(2)} at start`);
  line(
    pin
      ? 'pinning: autocannon (this process) on CPU 0, each server on CPU 1 (taskset); one server under load at a time'
      : 'pinning: none (taskset missing or 1 core): load generator and server share the CPUs',
  );
  line('each run waits (up to 30 s) for the machine to be idle (< 0.25 cores busy) before it starts');
  line(
    `load: autocannon in this process, ${LOAD.connections} connections, pipelining ${LOAD.pipelining}, ` +
      `${LOAD.warmupS} s warm-up + ${LOAD.durationS} s measured per run, ${ROUNDS} interleaved rounds, medians`,
  );
  line(
    'Hangar: dist/bin.js, SQLite, --log-level warn, admin API token via HANGAR_ADMIN_TOKEN; bare: fastify, logger off, static routes + one route doing 1 SQLite lookup',
  );

  const unquiet0 = unquietRuns();
  const dataDir = tempDir('http');
  // The server accepts only tokens of its own format (hgr_ + url-safe base64) as HANGAR_ADMIN_TOKEN.
  const token = `hgr_${randomBytes(24).toString('base64url')}`;
  const auth = { authorization: `Bearer ${token}` };
  try {
    // HANGAR_BENCH_CPU_PROF=<dir>: profile Hangar during the runs (the profiler slows it: figures are then not comparable).
    const profDir = process.env.HANGAR_BENCH_CPU_PROF;
    const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profDir)] : [];
    if (profDir) line(`profiling Hangar: a .cpuprofile will be written to ${path.resolve(profDir)} when it stops`);
    const hangar = await startHangar({ dataDir, env: { HANGAR_ADMIN_TOKEN: token }, cpus: serverCpus, nodeArgs });
    const bare = await startBare(serverCpus);
    // Fail fast if the token does not authenticate: a benchmark of 401s would be meaningless.
    const check = await fetch(`${hangar.url}/api/v1/me`, { headers: auth });
    if (check.status !== 200) throw new Error(`GET /api/v1/me answered ${check.status}: ${await check.text()}`);

    // The bare server gets the same Authorization header on /me: same request bytes, only the work differs.
    const cases = [
      { name: 'bare Fastify  GET /api/v1/me', url: `${bare.url}/api/v1/me`, headers: auth, server: bare.child },
      {
        name: 'bare Fastify  GET /sql/me (1 SQL, prepared once)',
        url: `${bare.url}/sql/me`,
        headers: auth,
        server: bare.child,
      },
      {
        name: 'Hangar        GET /api/v1/me (auth, cached 5 s)',
        url: `${hangar.url}/api/v1/me`,
        headers: auth,
        server: hangar.child,
      },
      { name: 'bare Fastify  GET /healthz', url: `${bare.url}/healthz`, headers: {}, server: bare.child },
      {
        name: 'Hangar        GET /healthz (public, no SQL)',
        url: `${hangar.url}/healthz`,
        headers: {},
        server: hangar.child,
      },
    ];
    const runs = cases.map(() => [] as Measured[]);
    for (let i = 0; i < ROUNDS; i++) {
      const order = [...cases.keys()];
      if (i % 2 === 1) order.reverse();
      for (const k of order) runs[k]!.push(await measure(cases[k]!.url, cases[k]!.headers, cases[k]!.server, LOAD));
      line(`  round ${i + 1}/${ROUNDS} done`);
    }

    line();
    const header = [
      '',
      'req/s',
      'per round',
      'p50',
      'p99',
      'server CPU/req',
      'cores: server / loadgen / other',
      'non-2xx+errors',
    ];
    table([header, ...cases.map((c, k) => row(c.name, runs[k]!))]);
    const [meB, meSql, meH, hzB, hzH] = runs.map(medianOf) as [Measured, Measured, Measured, Measured, Measured];
    const rpsOverhead = (h: Measured, b: Measured) => 1 - h.rps / b.rps;
    const cpuOverhead = (h: Measured, b: Measured) => 1 - b.serverCpuUsPerReq / h.serverCpuUsPerReq;
    const paired = (h: number, b: number) => {
      const r = pairedRatio(runs[h]!, runs[b]!);
      return { median: 1 - r.median, rounds: r.rounds.map((x) => pct(1 - x)).join(' / ') };
    };
    const [me, hz] = [paired(2, 0), paired(4, 3)];
    line(`throughput overhead paired by round (1 - hangar/bare): /api/v1/me ${pct(me.median)} (rounds ${me.rounds})`);
    line(`                                                       /healthz ${pct(hz.median)} (rounds ${hz.rounds})`);
    line(
      `of the medians: throughput overhead /api/v1/me ${pct(rpsOverhead(meH, meB))}, /healthz ${pct(rpsOverhead(hzH, hzB))}; ` +
        `CPU-per-request overhead /api/v1/me ${pct(cpuOverhead(meH, meB))}, /healthz ${pct(cpuOverhead(hzH, hzB))}`,
    );
    line(
      `for information, /api/v1/me against bare + 1 SQL: throughput overhead ${pct(rpsOverhead(meH, meSql))}, ` +
        `CPU-per-request overhead ${pct(cpuOverhead(meH, meSql))}`,
    );
    const all = [meB, meSql, meH, hzB, hzH];
    printRunNotes(all, unquiet0);
    target(
      'authenticated no-op overhead < 15%',
      me.median < OVERHEAD_TARGET,
      `throughput overhead ${pct(me.median)} (median of the rounds' ratios)`,
    );
  } finally {
    await stopAll();
    rmSync(dataDir, { recursive: true, force: true });
    // Processes spawned later inherit this process's affinity: give it all CPUs back (run-all goes on).
    if (pin) pinProcess(process.pid, `0-${coreCount() - 1}`);
  }
}

if (isMain(import.meta.url)) await runHttpOverhead();
