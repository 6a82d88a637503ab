import { connect, type Socket } from 'node:net';

/*
 * A closed-loop HTTP/1.1 load generator with microsecond latency resolution.
 *
 * autocannon records latency in a histogram of whole milliseconds, which cannot resolve a 0.2 ms
 * target. This client keeps `connections` keep-alive sockets, each with one request in flight (no
 * pipelining): send the pre-encoded request bytes, read exactly one response (Content-Length or
 * chunked), record the time from write to last byte with process.hrtime, send the next. Every sample
 * is kept, so percentiles are exact rather than bucketed. It parses only what it needs (status line,
 * Content-Length, Transfer-Encoding, Connection) and is cheap enough that one core drives one server
 * core at the request rates measured here.
 */

export interface HttpCase {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. /api/v1/projects/default */
  path: string;
  headers?: Record<string, string>;
  /** JSON text; Content-Type application/json is added. */
  body?: string;
}

export interface LatencyResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  /** Responses outside 2xx, socket errors and server-closed connections. */
  bad: number;
  /** The first non-2xx status line seen, for the error message. */
  firstBad: string | null;
}

function encode(base: URL, c: HttpCase): Buffer {
  const body = c.body ?? '';
  const lines = [`${c.method} ${c.path} HTTP/1.1`, `Host: ${base.host}`, 'Connection: keep-alive'];
  for (const [k, v] of Object.entries(c.headers ?? {})) lines.push(`${k}: ${v}`);
  if (c.body !== undefined) lines.push('Content-Type: application/json');
  if (c.body !== undefined || c.method !== 'GET') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNK_END = Buffer.from('\r\n0\r\n\r\n');

/**
 * How many bytes of `buf` make up one complete response, or 0 when more must arrive. Also reports the
 * status and whether the server will close the connection.
 */
function completeResponse(buf: Buffer): { length: number; status: number; close: boolean; statusLine: string } | null {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = buf.subarray(0, headerEnd).toString('latin1');
  const firstEol = head.indexOf('\r\n');
  const statusLine = firstEol < 0 ? head : head.slice(0, firstEol);
  const status = Number(statusLine.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const bodyStart = headerEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (cl) {
    const end = bodyStart + Number(cl[1]);
    return buf.length >= end ? { length: end, status, close, statusLine } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    // The terminating zero-length chunk; bodies here are small JSON, never a lone "0" chunk mid-stream.
    const zero = buf.indexOf(CHUNK_END, bodyStart - 2);
    return zero >= 0 ? { length: zero + CHUNK_END.length, status, close, statusLine } : null;
  }
  // No length: 1xx/204/304 have no body.
  return { length: bodyStart, status, close, statusLine };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Runs `connections` closed loops against `baseUrl` for `durationMs` and returns exact latency
 * percentiles (microseconds) and throughput. A socket closed by the server is reopened and counted bad.
 */
export async function closedLoop(
  baseUrl: string,
  c: HttpCase,
  connections: number,
  durationMs: number,
): Promise<LatencyResult> {
  const base = new URL(baseUrl);
  const request = encode(base, c);
  const samples: number[] = [];
  let bad = 0;
  let firstBad: string | null = null;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(durationMs) * 1_000_000n;

  const loop = () =>
    new Promise<void>((resolve) => {
      let socket: Socket;
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0n;
      let finished = false;
      const finish = () => {
        finished = true;
        socket.destroy();
        resolve();
      };
      const send = () => {
        if (process.hrtime.bigint() >= deadline) return finish();
        sentAt = process.hrtime.bigint();
        socket.write(request);
      };
      const open = () => {
        pending = Buffer.alloc(0);
        socket = connect({ host: base.hostname, port: Number(base.port), noDelay: true });
        socket.once('connect', send);
        socket.on('data', (chunk: Buffer) => {
          pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
          const r = completeResponse(pending);
          if (!r) return;
          samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
          if (r.status < 200 || r.status >= 300) {
            bad++;
            firstBad ??= r.statusLine;
          }
          pending = pending.subarray(r.length);
          if (r.close) {
            socket.removeAllListeners('close');
            socket.destroy();
            if (process.hrtime.bigint() >= deadline) return finish();
            return open();
          }
          send();
        });
        socket.on('error', () => {
          // 'close' follows
        });
        socket.on('close', () => {
          if (finished) return;
          bad++;
          firstBad ??= 'connection closed by the server';
          if (process.hrtime.bigint() >= deadline) return finish();
          setTimeout(open, 10);
        });
      };
      open();
    });

  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Float64Array.from(samples).sort();
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return {
    requests: samples.length,
    seconds,
    rps: samples.length / seconds,
    p50Us: percentile(sorted, 0.5),
    p90Us: percentile(sorted, 0.9),
    p99Us: percentile(sorted, 0.99),
    meanUs: mean,
    bad,
    firstBad,
  };
}
