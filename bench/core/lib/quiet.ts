import { coreCount, machineCpu } from './proc.js';

/*
 * The benchmark machine may be shared (other people's builds and tests). Before each timed run we wait,
 * for a bounded time, until the machine is nearly idle, and report when it never became so: a figure
 * taken beside someone else's test suite is not comparable.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cores' worth of CPU the whole machine used over the next `ms` milliseconds. */
export async function busyCores(ms = 500): Promise<number> {
  const a = machineCpu();
  await sleep(ms);
  const b = machineCpu();
  return ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * coreCount();
}

let unquiet = 0;

/** Waits up to `maxWaitMs` for less than `threshold` cores of activity; returns whether it got it. */
export async function waitForQuiet(maxWaitMs = 30_000, threshold = 0.25): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  while (Date.now() < deadline) if ((await busyCores()) < threshold) return true;
  unquiet++;
  return false;
}

/** How many runs started on a busy machine because it never became quiet in time. */
export const unquietRuns = (): number => unquiet;
