import { runIdentity } from '../identity/identity-overhead.js';
import { runGate } from '../registry/gate.js';
import { runServing } from '../serving/serving.js';
import { runTracking } from '../tracking/tracking.js';
import { runHttpOverhead } from './http-overhead.js';
import { runJobQueue } from './job-queue.js';
import { runStartup } from './startup.js';

/*
 * All core benchmarks, then the identity, tracking, registry gate and serving benchmarks,
 * one after the other (never at once: on 2 cores they would disturb each other).
 * The PostgreSQL job-queue cases run only with HANGAR_TEST_PG_URL set, i.e. under
 * `node scripts/with-postgres.mjs node --import tsx bench/core/run-all.ts`.
 */
export async function runAll(): Promise<void> {
  const started = Date.now();
  await runStartup();
  await runHttpOverhead();
  await runJobQueue();
  await runIdentity();
  await runTracking();
  await runGate();
  await runServing();
  process.stdout.write(`\nall core benchmarks done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

await runAll();
