import type { EventEmitter } from 'node:events';
import net from 'node:net';
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

/** Blocks this thread for a bounded time (Atomics.wait on a word nobody changes). */
const SLEEP_WORD = new Int32Array(new SharedArrayBuffer(4));
/** The longest the generator sleeps between two turns of its event loop; see runPaced. */
const MAX_SLEEP_MS = 0.25;

interface PacedConnection {
  socket: net.Socket;
  /** The request in flight: when it was due, and whether it is in the measured window. */
  due: number;
  counted: boolean;
  busy: boolean;
  chunks: Buffer[];
}

/**
 * Open-loop load at `rate` requests/s over `connections` keep-alive sockets: request i is due at
 * start + i / rate and is sent then (or as soon as a socket is free); its latency runs from the
 * due instant to the end of the response. The first `warmupS` seconds warm the server; only
 * requests due after them are counted, and `onMeasureStart` is called as they end. Resolves with
 * the measured window's response count, wall time, failures (non-2xx and errors) and every 2xx
 * latency in ms.
 *
 * Two choices keep the generator from adding latency of its own:
 * - It writes the request's bytes on raw sockets and reads only the status line and
 *   Content-Length of each answer. Node's HTTP client costs so much per request that at
 *   8,000 req/s it filled the generator's core, and the latencies then included the generator's
 *   own queue (in the dev harness the bare route's p99 at that rate was 10–18 ms with it, 1–4 ms
 *   with this; bench/serving/README.md).
 * - Between sends it sleeps (Atomics.wait, at most MAX_SLEEP_MS) instead of spinning through its
 *   event loop. Timers fire about every millisecond and would send requests in clumps. An answer that arrives while it sleeps is read after the sleep, so latencies can
 *   only be overstated, by at most MAX_SLEEP_MS.
 * The servers here answer with Content-Length; any other framing fails the run.
 */
export async function runPaced(
  req: Request,
  s: { connections: number; warmupS: number; durationS: number; rate: number },
  onMeasureStart: () => void,
): Promise<{ total: number; seconds: number; bad: number; latencies: Float64Array; count: number }> {
  const url = new URL(req.url);
  const body = Buffer.from(req.body ?? '');
  const headers = Object.entries({ ...req.headers, host: url.host, 'content-length': String(body.length) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const wire = Buffer.concat([
    Buffer.from(`${req.method} ${url.pathname}${url.search} HTTP/1.1\r\n${headers}\r\n`),
    body,
  ]);
  const lat = new Latencies();
  let total = 0;
  let bad = 0;
  let failure: Error | null = null;
  const idle: PacedConnection[] = [];
  const queued: { due: number; counted: boolean }[] = [];
  let inFlight = 0;

  const send = (c: PacedConnection, due: number, counted: boolean) => {
    Object.assign(c, { due, counted, busy: true, chunks: [] });
    inFlight++;
    c.socket.write(wire);
  };
  const finish = (c: PacedConnection, ok: boolean) => {
    c.busy = false;
    inFlight--;
    if (c.counted) {
      total++;
      if (ok) lat.add(performance.now() - c.due);
      else bad++;
    }
  };
  const next = (c: PacedConnection) => {
    const q = queued.shift();
    if (q) send(c, q.due, q.counted);
    else idle.push(c);
  };
  const onData = (c: PacedConnection, data: Buffer) => {
    c.chunks.push(data);
    const all = c.chunks.length === 1 ? data : Buffer.concat(c.chunks);
    const headEnd = all.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = all.subarray(0, headEnd).toString('latin1');
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      failure ??= new Error(`paced load: an answer from ${url.host} has no Content-Length`);
      c.socket.destroy();
      return;
    }
    if (all.length < headEnd + 4 + Number(length[1])) {
      c.chunks = [all];
      return;
    }
    const status = Number(head.slice(9, 12));
    finish(c, status >= 200 && status < 300);
    next(c);
  };
  const connections = await Promise.all(
    Array.from(
      { length: s.connections },
      () =>
        new Promise<PacedConnection>((resolve, reject) => {
          const socket = net.connect(Number(url.port), url.hostname);
          const c: PacedConnection = { socket, due: 0, counted: false, busy: false, chunks: [] };
          socket.setNoDelay(true);
          socket.once('connect', () => resolve(c));
          socket.on('error', reject);
          socket.on('data', (d: Buffer) => onData(c, d));
          // A connection the server closes is not reused; a request it carried counts as failed.
          socket.on('close', () => {
            if (c.busy) finish(c, false);
            const at = idle.indexOf(c);
            if (at >= 0) idle.splice(at, 1);
            c.busy = true;
          });
        }),
    ),
  );
  idle.push(...connections);
  const live = () => connections.some((c) => !c.socket.destroyed);

  const start = performance.now();
  const warm = Math.round(s.rate * s.warmupS);
  const n = warm + Math.round(s.rate * s.durationS);
  const dueAt = (i: number) => start + (i * 1000) / s.rate;
  let measuredFrom = 0;
  let i = 0;
  while (i < n && !failure && live()) {
    const now = performance.now();
    while (i < n && dueAt(i) <= now) {
      if (i === warm) {
        onMeasureStart();
        measuredFrom = dueAt(i);
      }
      const c = idle.pop();
      if (c) send(c, dueAt(i), i >= warm);
      else queued.push({ due: dueAt(i), counted: i >= warm });
      i++;
    }
    const gap = dueAt(i) - performance.now();
    if (gap > 0) Atomics.wait(SLEEP_WORD, 0, 0, Math.min(gap, MAX_SLEEP_MS));
    await new Promise((r) => setImmediate(r));
  }
  while ((inFlight > 0 || queued.length > 0) && !failure && live()) await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - measuredFrom) / 1000;
  for (const c of connections) c.socket.destroy();
  if (failure) throw failure;
  if (i < n || queued.length > 0) throw new Error(`paced load: ${url.host} closed every connection`);
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
