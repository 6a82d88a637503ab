import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { stopAll, stopServer, type Child } from './lib/children.js';
import { buildServer, spawnHangar, tempDir } from './lib/hangar.js';
import { sleep, waitFor200, warmFetch } from './lib/http.js';
import { ensureMlflow, spawnMlflow } from './lib/mlflow.js';
import { coreCount, freePort, treeMemory, type TreeMemory } from './lib/proc.js';
import { unquietRuns, waitForQuiet } from './lib/quiet.js';
import { heading, isMain, line, mb, median, ms, ratio, table, target } from './lib/report.js';

/*
 * Cold start to ready and idle memory: Hangar vs `mlflow server`, the tool a team would run instead.
 * Each start is timed from spawn to the first 200 of the readiness URL, polled every 10 ms on a port
 * chosen beforehand (so polling starts at spawn), with a fresh data directory / database each time:
 * that includes creating the schema, which both do on first start.
 */

const RUNS = 5;
const IDLE_MS = 2000;
const READY_TARGET_MS = 2000;
const RSS_TARGET_BYTES = 150e6;

interface Sample {
  readyMs: number;
  mem: TreeMemory;
}

async function measure(spawn: (port: number) => Child, readyPath: string): Promise<Sample> {
  const port = await freePort();
  await waitForQuiet();
  const t0 = performance.now();
  const child = spawn(port);
  try {
    const readyMs = await waitFor200(`http://127.0.0.1:${port}${readyPath}`, child, t0);
    await sleep(IDLE_MS);
    return { readyMs, mem: treeMemory(child.pid) };
  } finally {
    await stopServer(child);
  }
}

function summary(name: string, samples: Sample[]): string[] {
  const ready = samples.map((s) => s.readyMs);
  return [
    name,
    ms(median(ready)),
    `${ms(Math.min(...ready))}–${ms(Math.max(...ready))}`,
    mb(median(samples.map((s) => s.mem.rssBytes))),
    mb(median(samples.map((s) => s.mem.pssBytes))),
    String(samples[0]!.mem.processes),
  ];
}

export async function runStartup(): Promise<void> {
  heading('startup: cold start to ready, idle memory (Hangar vs MLflow)');
  buildServer();
  const mlflowVersion = ensureMlflow();
  await warmFetch();
  line(`machine: ${coreCount()} cores, load average ${loadavg()[0]!.toFixed(2)} at start`);
  line(
    `${RUNS} runs each, interleaved, each start waiting (up to 30 s) for an idle machine; memory read from /proc ${IDLE_MS} ms after ready`,
  );
  line(
    `Hangar: node ${process.version} packages/server/dist/bin.js, SQLite, fresh --data-dir, role all; ready = GET /readyz 200`,
  );
  line(`MLflow: ${mlflowVersion}, mlflow server --workers 1, SQLite backend, fresh db; ready = GET /health 200`);

  const unquiet0 = unquietRuns();
  const dirs: string[] = [];
  const fresh: Sample[] = [];
  const restart: Sample[] = [];
  const mlflow: Sample[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const hangarDir = tempDir('startup');
      const mlflowDir = tempDir('mlflow');
      dirs.push(hangarDir, mlflowDir);
      const hangar = (port: number) => spawnHangar({ dataDir: hangarDir, port });
      fresh.push(await measure(hangar, '/readyz'));
      // Same data dir again: no schema creation and no admin bootstrap, i.e. an ordinary restart.
      restart.push(await measure(hangar, '/readyz'));
      mlflow.push(await measure((port) => spawnMlflow(mlflowDir, port), '/health'));
      line(
        `  run ${i + 1}/${RUNS}: hangar ${ms(fresh[i]!.readyMs)} (restart ${ms(restart[i]!.readyMs)}), mlflow ${ms(mlflow[i]!.readyMs)}`,
      );
    }
  } finally {
    await stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }

  line();
  table([
    ['', 'ready (median)', 'min–max', 'idle RSS (median)', 'idle PSS (median)', 'processes'],
    summary('Hangar, first start', fresh),
    summary('Hangar, restart', restart),
    summary('MLflow, first start', mlflow),
  ]);
  const hReady = median(fresh.map((s) => s.readyMs));
  const hRss = median(fresh.map((s) => s.mem.rssBytes));
  const mReady = median(mlflow.map((s) => s.readyMs));
  const mRss = median(mlflow.map((s) => s.mem.rssBytes));
  line(
    `MLflow / Hangar: ready ${ratio(mReady, hReady)}, idle RSS ${ratio(mRss, hRss)}, idle PSS ${ratio(median(mlflow.map((s) => s.mem.pssBytes)), median(fresh.map((s) => s.mem.pssBytes)))}`,
  );
  line(
    '(RSS sums count pages shared by forked processes once per process; PSS splits them, so it is the fairer tree total)',
  );
  if (unquietRuns() > unquiet0)
    line(`note: ${unquietRuns() - unquiet0} start(s) timed although the machine was busy for 30 s (shared machine)`);
  target('Hangar ready < 2 s', hReady < READY_TARGET_MS, `${ms(hReady)}`);
  target('Hangar idle RSS < 150 MB', hRss < RSS_TARGET_BYTES, `${mb(hRss)}`);
}

if (isMain(import.meta.url)) await runStartup();
