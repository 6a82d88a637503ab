import type { EventEmitter } from 'node:events';
import http from 'node:http';
import autocannon from 'autocannon';
import type { Child } from '../../core/lib/children.js';
import { coreCount, cpuSeconds, machineCpu, processTree } from '../../core/lib/proc.js';
import { waitForQuiet } from '../../core/lib/quiet.js';
import type { Measured as CoreMeasured } from '../../core/lib/load.js';
import { median } from '../../core/lib/report.js';

/*
 * autocannon with a POST body, as bench/core/lib/load.ts's `measure` is for GETs, plus what a serving
 * benchmark needs on top: the server's CPU summed over its whole process tree (MLServer and
 * `mlflow models serve` run several processes), an optional fixed request rate (autocannon's
 * overallRate), and exact latency percentiles. autocannon's own histogram holds whole milliseconds,
 * too coarse for sub-millisecond inference, so every response time it reports is kept here.
 *
 * A fixed rate is not autocannon's overallRate: that gives each connection a budget per second,
 * which it spends back to back as the second starts, so the server sees full-speed bursts and idle
 * gaps rather than the rate. `runPaced` sends at evenly spaced instants instead (open loop), and
 * times each request from the instant it was due, so a request that waited for a free connection
 * counts that wait (no coordinated omission).
 */

export interface Request {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSettings {
  connections: number;
  warmupS: number;
  durationS: number;
  /** Requests per second, evenly spaced (runPaced); absent = as fast as the server answers (autocannon). */
  rate?: number;
}

/** Core's figures plus the request count; the CPU figures cover the server's whole process tree. */
export interface Measured extends CoreMeasured {
  requests: number;
}

interface CannonOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  pipelining: number;
  duration: number;
}

interface CannonResult {
  requests: { average: number; total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

// The callback form returns the run's event emitter, whose 'response' events carry each response time.
const cannon = autocannon as unknown as (
  options: CannonOptions,
  done: (err: Error | null, result: CannonResult) => void,
) => EventEmitter;

/** One autocannon run; resolves with its result and every 2xx response time in ms (autocannon's hrtime). */
export function runCannon(
  req: Request,
  s: { connections: number; durationS: number },
): Promise<{ result: CannonResult; latencies: Float64Array; count: number }> {
  return new Promise((resolve, reject) => {
    const lat = new Latencies();
    const options: CannonOptions = {
      url: req.url,
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      connections: s.connections,
      pipelining: 1,
      duration: s.durationS,
    };
    const instance = cannon(options, (err, result) => {
      if (err) reject(err);
      else resolve({ result, latencies: lat.values, count: lat.count });
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) lat.add(ms);
    });
  });
}

class Latencies {
  values = new Float64Array(1 << 16);
  count = 0;
  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }
}

/**
 * Open-loop load at `rate` requests/s over at most `connections` keep-alive sockets: request i is due
 * at start + i / rate and is sent then (or as soon as a socket is free); its latency runs from the
 * due instant to the end of the response. The first `warmupS` seconds warm the server and open the
 * sockets; `onMeasureStart` is called as they end, and only requests due after that are counted.
 * One run for both, so the measured window starts on warm connections rather than with a burst of
 * new ones while requests are already due (which the bare control showed as added latency).
 * Resolves with the measured window's response count, wall time, failures (non-2xx and errors) and
 * every 2xx latency in ms.
 */
export async function runPaced(
  req: Request,
  s: { connections: number; warmupS: number; durationS: number; rate: number },
  onMeasureStart: () => void,
): Promise<{ total: number; seconds: number; bad: number; latencies: Float64Array; count: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: s.connections });
  const url = new URL(req.url);
  const body = req.body !== undefined ? Buffer.from(req.body) : undefined;
  const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  const lat = new Latencies();
  let total = 0;
  let bad = 0;
  const pending = new Set<Promise<void>>();
  const send = (due: number, counted: boolean) => {
    const p = new Promise<void>((resolve) => {
      const r = http.request(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers, agent },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (counted) {
              total++;
              if (status >= 200 && status < 300) lat.add(performance.now() - due);
              else bad++;
            }
            resolve();
          });
        },
      );
      r.on('error', () => {
        if (counted) bad++;
        resolve();
      });
      r.end(body);
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  const start = performance.now();
  const warm = Math.round(s.rate * s.warmupS);
  const n = warm + Math.round(s.rate * s.durationS);
  const dueAt = (i: number) => start + (i * 1000) / s.rate;
  let measuredFrom = 0;
  let i = 0;
  // The loop yields with setImmediate, not a timer: timers fire about every millisecond, which sent
  // requests in clumps up to a millisecond late and counted that as latency. The generator owns its
  // core (see pinning), so keeping it busy costs the server nothing.
  while (i < n) {
    const now = performance.now();
    while (i < n && dueAt(i) <= now) {
      if (i === warm) {
        onMeasureStart();
        measuredFrom = dueAt(i);
      }
      send(dueAt(i), i >= warm);
      i++;
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - measuredFrom) / 1000;
  agent.destroy();
  return { total, seconds, bad, latencies: lat.values, count: lat.count };
}

/** The q-quantile (0..1) of the first `n` values, nearest rank. */
export function quantile(values: Float64Array, n: number, q: number): number {
  if (n === 0) return Number.NaN;
  const sorted = values.slice(0, n).sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

export const treeCpuSeconds = (pid: number): number => processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);

/**
 * Waits (bounded) for an idle machine, runs a discarded warm-up, then one measured run of `req`
 * against `server`, with the CPU of the server's process tree, of this process and of the machine
 * read around it.
 */
export async function measure(req: Request, server: Child, s: LoadSettings): Promise<Measured> {
  await waitForQuiet();
  let server0 = 0;
  let own0 = process.cpuUsage();
  let machine0 = machineCpu();
  const snapshot = () => {
    server0 = treeCpuSeconds(server.pid);
    own0 = process.cpuUsage();
    machine0 = machineCpu();
  };
  let r: { total: number; seconds: number; bad: number; latencies: Float64Array; count: number };
  if (s.rate === undefined) {
    if (s.warmupS > 0) await runCannon(req, { ...s, durationS: s.warmupS });
    snapshot();
    const { result, latencies, count } = await runCannon(req, s);
    r = {
      total: result.requests.total,
      seconds: result.duration,
      bad: result.non2xx + result.errors + result.timeouts,
      latencies,
      count,
    };
  } else {
    r = await runPaced(req, { ...s, rate: s.rate }, snapshot);
  }
  const { latencies, count } = r;
  const own = process.cpuUsage(own0);
  const machine = machineCpu();
  const serverS = treeCpuSeconds(server.pid) - server0;
  const toCores = (jiffies: number) => (jiffies / Math.max(1, machine.total - machine0.total)) * coreCount();
  // Interrupt time (loopback networking) belongs to no process; it is neither side's nor "other".
  const machineCores = toCores(machine.busy - machine0.busy - (machine.irq - machine0.irq));
  const serverCores = serverS / r.seconds;
  const loadgenCores = (own.user + own.system) / 1e6 / r.seconds;
  return {
    rps: r.total / r.seconds,
    requests: r.total,
    p50Ms: quantile(latencies, count, 0.5),
    p99Ms: quantile(latencies, count, 0.99),
    serverCpuUsPerReq: (serverS * 1e6) / Math.max(1, r.total),
    serverCores,
    loadgenCores,
    otherCores: Math.max(0, machineCores - serverCores - loadgenCores),
    bad: r.bad,
    openLoop: s.rate !== undefined,
  };
}

/** Per-field median over rounds; failed requests are summed. */
export function medianOf(rounds: Measured[]): Measured {
  const m = (f: (x: Measured) => number) => median(rounds.map(f));
  return {
    rps: m((x) => x.rps),
    requests: rounds.reduce((n, x) => n + x.requests, 0),
    p50Ms: m((x) => x.p50Ms),
    p99Ms: m((x) => x.p99Ms),
    serverCpuUsPerReq: m((x) => x.serverCpuUsPerReq),
    serverCores: m((x) => x.serverCores),
    loadgenCores: m((x) => x.loadgenCores),
    otherCores: m((x) => x.otherCores),
    bad: rounds.reduce((n, x) => n + x.bad, 0),
  };
}
