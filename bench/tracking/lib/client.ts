import http from 'node:http';

/*
 * The load generator, the same for both servers: MLflow's REST API over HTTP/1.1 keep-alive
 * (node:http, one socket per client, as MLflow's Python client keeps a requests session), each
 * client with one request in flight (closed loop). Latency runs from the request's start to the
 * response's last byte and is kept per request (process.hrtime), so percentiles are exact rather
 * than bucketed. Bodies are made per request by the case, since log-batch and create-run must not
 * repeat themselves.
 */

export interface Call {
  method: 'GET' | 'POST';
  /** Path and query, e.g. /api/2.0/mlflow/runs/search */
  path: string;
  /** JSON text for POST. */
  body?: string;
}

export interface Server {
  name: string;
  url: string;
  /** Extra headers, e.g. Hangar's Authorization. */
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Non-2xx answers and transport errors. */
  bad: number;
  firstBad: string | null;
}

const REQUEST_TIMEOUT_MS = 300_000;

interface Answer {
  status: number;
  body: Buffer | null;
}

/** One request; the body is kept only when asked (or for an error message). */
export function send(agent: http.Agent, server: Server, call: Call, keepBody: boolean): Promise<Answer> {
  const url = new URL(call.path, server.url);
  return new Promise((resolve, reject) => {
    const body = call.body === undefined ? undefined : Buffer.from(call.body);
    const req = http.request(
      url,
      {
        method: call.method,
        agent,
        headers: {
          ...server.headers,
          ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const keep = keepBody || status < 200 || status >= 300;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (keep) chunks.push(c);
        });
        res.on('end', () => resolve({ status, body: keep ? Buffer.concat(chunks) : null }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A JSON call for setup and checks; throws on a non-2xx answer. */
export async function callJson<T>(server: Server, call: Call): Promise<T> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const a = await send(agent, server, call, true);
    const text = a.body!.toString('utf8');
    if (a.status < 200 || a.status >= 300) {
      throw new Error(`${server.name}: ${call.method} ${call.path} answered ${a.status}: ${text.slice(0, 500)}`);
    }
    return JSON.parse(text) as T;
  } finally {
    agent.destroy();
  }
}

export interface LoopOptions {
  connections: number;
  durationMs: number;
  /** Keep going past the duration until this many requests are done (slow servers), up to maxMs. */
  minRequests?: number;
  maxMs?: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * `connections` clients, each sending `next(client, seq)` and then the next when the answer is in,
 * until the duration is over (and `minRequests` are done, within `maxMs`). Bounded by time.
 */
export async function closedLoop(
  server: Server,
  o: LoopOptions,
  next: (client: number, seq: number) => Call,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const samples: number[] = [];
  let bad = 0;
  let firstBad: string | null = null;
  const started = performance.now();
  const deadline = started + o.durationMs;
  const hardDeadline = started + Math.max(o.durationMs, o.maxMs ?? o.durationMs);
  const more = () => {
    const now = performance.now();
    if (now >= hardDeadline) return false;
    return now < deadline || samples.length + bad < (o.minRequests ?? 0);
  };
  const client = async (c: number) => {
    for (let seq = 0; more(); seq++) {
      const call = next(c, seq);
      const t0 = process.hrtime.bigint();
      try {
        const a = await send(agent, server, call, false);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (a.status >= 200 && a.status < 300) samples.push(ms);
        else {
          bad++;
          firstBad ??= `${a.status} ${a.body?.toString('utf8').slice(0, 300)}`;
        }
      } catch (err) {
        bad++;
        firstBad ??= String(err);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.connections }, (_, c) => client(c)));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(samples).sort();
  return {
    requests: samples.length,
    seconds,
    rps: samples.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
    bad,
    firstBad,
  };
}

export interface HistoryFetch {
  points: number;
  pages: number;
  ms: number;
  /** The points as read, for comparing the two servers once. */
  values?: { step: number; value: number }[];
}

/** MLflow's GET_METRIC_HISTORY_MAX_RESULTS: the page size MlflowClient.get_metric_history asks for. */
export const HISTORY_PAGE = 25_000;

interface HistoryPage {
  metrics?: { key: string; value: number; step?: number | string; timestamp?: number | string }[];
  next_page_token?: string;
}

/**
 * A whole metric history, fetched the way `MlflowClient.get_metric_history` does: pages of
 * max_results = 25000, each parsed, following next_page_token until there is none. One keep-alive
 * connection, as the client's session keeps.
 */
export async function fetchHistory(server: Server, runId: string, key: string, keep = false): Promise<HistoryFetch> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t0 = performance.now();
  let token: string | undefined;
  let points = 0;
  let pages = 0;
  const values: { step: number; value: number }[] = [];
  try {
    do {
      const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: String(HISTORY_PAGE) });
      if (token) q.set('page_token', token);
      const a = await send(agent, server, { method: 'GET', path: `/api/2.0/mlflow/metrics/get-history?${q}` }, true);
      const text = a.body!.toString('utf8');
      if (a.status !== 200) throw new Error(`${server.name}: get-history answered ${a.status}: ${text.slice(0, 300)}`);
      const page = JSON.parse(text) as HistoryPage;
      const metrics = page.metrics ?? [];
      points += metrics.length;
      if (keep) for (const m of metrics) values.push({ step: Number(m.step ?? 0), value: m.value });
      token = page.next_page_token || undefined;
      pages++;
    } while (token && pages < 10_000);
  } finally {
    agent.destroy();
  }
  return { points, pages, ms: performance.now() - t0, ...(keep ? { values } : {}) };
}
