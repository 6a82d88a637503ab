import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { stopAll, stopServer, type Child } from './lib/children.js';
import { buildServer, spawnHangar, tempDir, waitForBanner } from './lib/hangar.js';
import { sleep } from './lib/http.js';
import {
  createPgDatabase,
  postgresCounter,
  seedNoopJobs,
  sqliteCounter,
  type JobCounter,
} from './lib/job-store-access.js';
import { coreCount, cpuSeconds, machineCpu } from './lib/proc.js';
import { unquietRuns, waitForQuiet } from './lib/quiet.js';
import { heading, isMain, line, ms, num, table, target } from './lib/report.js';

/*
 * Throughput of the durable job queue with no-op jobs: N jobs are inserted up front, then worker
 * processes start and the clock runs from the first worker's ready banner until every job is
 * `succeeded` (counted by SQL every 100 ms). What is measured is claim + run + settle, i.e. the
 * queue's own overhead, which bounds how many short jobs a deployment can push through.
 *
 * No BullMQ/Celery side here: those need Redis/a broker and are not what this compares; the figures
 * are printed against the target only.
 */

const JOBS = 20_000;
const CONCURRENCY = 64;
const POLL_MS = 50;
const SAMPLE_MS = 100;
const CASE_TIMEOUT_MS = 180_000;
const TARGET_JOBS_PER_S = 1000;

interface Case {
  name: string;
  engine: 'sqlite' | 'postgres';
  processes: number;
  concurrency: number;
}

const CASES: Case[] = [
  { name: 'SQLite, 1 worker process', engine: 'sqlite', processes: 1, concurrency: CONCURRENCY },
  // One process per SQLite data dir (the store is locked), so "two workers" = doubled concurrency.
  {
    name: 'SQLite, "2 workers" (1 process, concurrency x2)',
    engine: 'sqlite',
    processes: 1,
    concurrency: 2 * CONCURRENCY,
  },
  { name: 'PostgreSQL, 1 worker process', engine: 'postgres', processes: 1, concurrency: CONCURRENCY },
  { name: 'PostgreSQL, 2 worker processes', engine: 'postgres', processes: 2, concurrency: CONCURRENCY },
];

interface Outcome {
  readyMs: number[];
  drainMs: number;
  finished: boolean;
  counts: Record<string, number>;
  steadyRate: number;
  workerCpuS: number;
  machineBusy: number;
}

/** Samples the counts until every job has finished (or time runs out); returns the samples. */
async function watch(counter: JobCounter, deadline: number): Promise<{ t: number; counts: Record<string, number> }[]> {
  const samples: { t: number; counts: Record<string, number> }[] = [];
  while (performance.now() < deadline) {
    const counts = await counter.byState();
    samples.push({ t: performance.now(), counts });
    if ((counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) >= JOBS) break;
    await sleep(SAMPLE_MS);
  }
  return samples;
}

/** Rate between the samples where 10% and 90% of the jobs had succeeded: excludes ramp-up and tail. */
function steadyRate(samples: { t: number; counts: Record<string, number> }[]): number {
  const at = (f: number) => samples.find((s) => (s.counts.succeeded ?? 0) >= f * JOBS);
  const a = at(0.1);
  const b = at(0.9);
  if (!a || !b || b.t <= a.t) return NaN;
  return ((b.counts.succeeded! - a.counts.succeeded!) / (b.t - a.t)) * 1000;
}

async function runCase(c: Case, pgAdminUrl: string | undefined): Promise<Outcome> {
  const dirs = Array.from({ length: c.processes }, () => tempDir('jobs'));
  const pgDb = c.engine === 'postgres' ? await createPgDatabase(pgAdminUrl!) : null;
  let counter: JobCounter | null = null;
  const workers: Child[] = [];
  try {
    await seedNoopJobs(dirs[0]!, pgDb?.url, JOBS);
    counter = pgDb ? await postgresCounter(pgDb.url) : sqliteCounter(dirs[0]!);
    const args = [
      '--role',
      'worker',
      '--worker-concurrency',
      String(c.concurrency),
      '--worker-poll-ms',
      String(POLL_MS),
      ...(pgDb ? ['--db', pgDb.url] : []),
    ];
    await waitForQuiet();
    const spawnedAt = performance.now();
    for (const [i, dataDir] of dirs.entries()) workers.push(spawnHangar({ name: `worker-${i + 1}`, dataDir, args }));
    let t0 = Infinity;
    let cpu0 = machineCpu();
    const ready = workers.map((w) =>
      waitForBanner(w).then(() => {
        const t = performance.now();
        if (t < t0) [t0, cpu0] = [t, machineCpu()];
        return t - spawnedAt;
      }),
    );
    const samples = await watch(counter, spawnedAt + CASE_TIMEOUT_MS);
    const readyMs = await Promise.all(ready);
    const last = samples.at(-1)!;
    const busy = machineCpu();
    const counts = last.counts;
    const finished = (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) >= JOBS;
    return {
      readyMs,
      drainMs: last.t - t0,
      finished,
      counts,
      steadyRate: steadyRate(samples),
      workerCpuS: workers.reduce((s, w) => s + cpuSeconds(w.pid), 0),
      machineBusy: (busy.busy - cpu0.busy) / (busy.total - cpu0.total),
    };
  } finally {
    for (const w of workers) await stopServer(w);
    await counter?.close();
    await pgDb?.drop().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function runJobQueue(): Promise<void> {
  heading('job-queue: no-op jobs per second');
  buildServer();
  const pgAdminUrl = process.env.HANGAR_TEST_PG_URL;
  line(
    `machine: ${coreCount()} cores, load average ${loadavg()[0]!.toFixed(2)} at start; workers and PostgreSQL share all cores, not pinned`,
  );
  line(
    `settings: ${num(JOBS)} system.noop jobs pre-inserted per case; --role worker --worker-concurrency ${CONCURRENCY} (x2 where said) --worker-poll-ms ${POLL_MS}; other settings default (SQLite synchronous=full)`,
  );
  line('clock: from the first worker ready banner to the first 100 ms count sample with all jobs succeeded');
  line('each case waits (up to 30 s) for an idle machine before its workers start');
  line('comparison: none (no BullMQ/Celery run); figures are against the target only');
  if (!pgAdminUrl)
    line('PostgreSQL cases skipped: HANGAR_TEST_PG_URL unset (run via node scripts/with-postgres.mjs ...)');

  const unquiet0 = unquietRuns();
  const rows: string[][] = [
    ['case', 'ready', 'all done in', 'jobs/s', 'jobs/s 10–90%', 'worker CPU', 'machine CPU busy', 'not succeeded'],
  ];
  const verdicts: [string, number][] = [];
  try {
    for (const c of CASES) {
      if (c.engine === 'postgres' && !pgAdminUrl) continue;
      const o = await runCase(c, pgAdminUrl);
      const done = o.counts.succeeded ?? 0;
      const rate = (done / o.drainMs) * 1000;
      const notOk = Object.entries(o.counts)
        .filter(([s]) => s !== 'succeeded')
        .map(([s, n]) => `${s} ${n}`);
      rows.push([
        `${c.name} (${c.processes}x${c.concurrency})`,
        o.readyMs.map(ms).join(' / '),
        `${o.finished ? '' : 'INCOMPLETE '}${ms(o.drainMs)}`,
        num(rate),
        num(o.steadyRate),
        `${o.workerCpuS.toFixed(1)} s`,
        `${(o.machineBusy * 100).toFixed(0)}%`,
        notOk.join(', ') || '0',
      ]);
      verdicts.push([c.name, rate]);
      line(`  done: ${c.name}: ${num(rate)} jobs/s`);
    }
  } finally {
    await stopAll();
  }
  line();
  table(rows);
  if (unquietRuns() > unquiet0)
    line(`note: ${unquietRuns() - unquiet0} case(s) started although the machine was busy for 30 s (shared machine)`);
  for (const [name, rate] of verdicts)
    target(`>= 1,000 no-op jobs/s, ${name}`, rate >= TARGET_JOBS_PER_S, `${num(rate)} jobs/s`);
}

if (isMain(import.meta.url)) await runJobQueue();
