import autocannon from 'autocannon';
import type { Child } from './children.js';
import { coreCount, cpuSeconds, machineCpu } from './proc.js';
import { unquietRuns, waitForQuiet } from './quiet.js';
import { line, median } from './report.js';

export interface LoadSettings {
  connections: number;
  pipelining: number;
  warmupS: number;
  durationS: number;
}

export interface Measured {
  rps: number;
  /** autocannon's latency histogram has 1 ms resolution */
  p50Ms: number;
  p99Ms: number;
  /** CPU the server used per request: its cost per request, whatever else ran on the machine */
  serverCpuUsPerReq: number;
  /** cores' worth used by the server, by this process (the load generator) and by other processes */
  serverCores: number;
  loadgenCores: number;
  otherCores: number;
  /** Non-2xx answers, connection errors and timeouts. */
  bad: number;
  /** An open-loop run at a fixed rate: its generator keeps its core busy by design, to send on time. */
  openLoop?: boolean;
}

/**
 * Prints what may have disturbed a benchmark's runs: a saturated load generator, runs started on a
 * busy machine (since `unquietBefore`, from `unquietRuns()`), other processes taking CPU.
 */
export function printRunNotes(all: readonly Measured[], unquietBefore: number): void {
  if (all.some((m) => !m.openLoop && m.loadgenCores > 0.9)) {
    line('note: the load generator used > 90% of its core in some run: that req/s is a lower bound of the server');
  }
  if (unquietRuns() > unquietBefore) {
    line(
      `note: ${unquietRuns() - unquietBefore} run(s) started although the machine was busy for 30 s (shared machine)`,
    );
  }
  if (all.some((m) => m.otherCores > 0.2)) {
    line('note: other processes used > 0.2 cores during some runs: throughput is disturbed; CPU/request is steadier');
  }
}

/** One warm-up run (discarded), then one measured run against `url`, with CPU accounting around it. */
export async function measure(
  url: string,
  headers: Record<string, string>,
  server: Child,
  s: LoadSettings,
): Promise<Measured> {
  const opts = { url, headers, connections: s.connections, pipelining: s.pipelining };
  await waitForQuiet();
  await autocannon({ ...opts, duration: s.warmupS });
  const server0 = cpuSeconds(server.pid);
  const own0 = process.cpuUsage();
  const machine0 = machineCpu();
  const r = await autocannon({ ...opts, duration: s.durationS });
  const own = process.cpuUsage(own0);
  const machine = machineCpu();
  const serverS = cpuSeconds(server.pid) - server0;
  const toCores = (jiffies: number) => (jiffies / (machine.total - machine0.total)) * coreCount();
  // Interrupt time (loopback networking) belongs to no process; it is neither side's nor "other".
  const machineCores = toCores(machine.busy - machine0.busy - (machine.irq - machine0.irq));
  const serverCores = serverS / r.duration;
  const loadgenCores = (own.user + own.system) / 1e6 / r.duration;
  return {
    rps: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverCpuUsPerReq: (serverS * 1e6) / Math.max(1, r.requests.total),
    serverCores,
    loadgenCores,
    otherCores: Math.max(0, machineCores - serverCores - loadgenCores),
    bad: r.non2xx + r.errors + r.timeouts,
  };
}

/** Per-field median over rounds: one noisy round (another process waking up) does not decide the figure. */
export function medianOf(rounds: Measured[]): Measured {
  const m = (f: (x: Measured) => number) => median(rounds.map(f));
  return {
    rps: m((x) => x.rps),
    p50Ms: m((x) => x.p50Ms),
    p99Ms: m((x) => x.p99Ms),
    serverCpuUsPerReq: m((x) => x.serverCpuUsPerReq),
    serverCores: m((x) => x.serverCores),
    loadgenCores: m((x) => x.loadgenCores),
    otherCores: m((x) => x.otherCores),
    bad: rounds.reduce((n, x) => n + x.bad, 0),
  };
}

/**
 * The ratio of two cases' throughput taken round by round, then its median. The runs of one round
 * are close in time, so a slow spell of the shared machine (which moves throughput by 15–40 % from
 * one minute to the next here) touches both sides of a ratio instead of one side of the medians.
 */
export function pairedRatio(a: readonly Pick<Measured, 'rps'>[], b: readonly Pick<Measured, 'rps'>[]) {
  const rounds = a.map((x, i) => x.rps / b[i]!.rps);
  return { median: median(rounds), rounds };
}
