import type { FastifyBaseLogger } from 'fastify';
import type { PredictionRoute } from '../../db/schema.js';
import type { PredictionSink } from './prediction-sink.js';
import type { NewPrediction } from './store.js';
import { halfToFloat } from './oip/codec.js';
import { elementCount, type Tensor } from './tensors.js';

/** One served (or failed) request, as the data plane hands it over; the log turns it into a row at once. */
export interface PredictionRecord {
  deploymentId: string;
  requestId: string;
  version: number;
  route: PredictionRoute;
  error: string | null;
  latencyMs: number;
  inputs: readonly Tensor[] | null;
  outputs: readonly Tensor[] | null;
  at: number;
  /** The shadow version's answer to the same inputs, when the request was shadowed. */
  shadow: ShadowAnswer | null;
}

export interface ShadowAnswer {
  version: number;
  error: string | null;
  latencyMs: number;
  outputs: readonly Tensor[] | null;
}

export interface PredictionLogOptions {
  /** Records waiting to be written; more are dropped (and counted). Default 20,000. */
  maxQueue?: number;
  /** A write starts when this many wait. Default 500. */
  batchSize?: number;
  /** …or this long after the first one arrived. Default 20 ms: the log lags the requests by about that much. */
  flushMs?: number;
  /** Tensors with more elements than this are logged as null (the summary columns stay). Default 4096. */
  maxLoggedElements?: number;
  onDropped?: (n: number) => void;
  onWritten?: (n: number) => void;
}

/**
 * The prediction log's writer: the request path only appends to an in-memory queue; a timer writes
 * batches to the store through a sink (on SQLite a worker thread, so no write stalls requests). The
 * queue is bounded: when the store cannot keep up, new records are dropped and counted rather than
 * slowing or failing requests. A failed write drops its batch (counted) so a store outage cannot
 * grow memory without bound.
 *
 * Records become rows (strings and numbers) once per event-loop turn, after the responses of that
 * turn went out, rather than when their batch is written: a record holds its request's tensors and
 * their ArrayBuffers, and a queued record lives long enough (tens of milliseconds under load) to be
 * promoted to V8's old space. Under load that brought a major collection, with a 5–14 ms pause,
 * every 2–6 s; a row is a few hundred bytes of text.
 */
export class PredictionLog {
  private queue: NewPrediction[] = [];
  /** Appended this event-loop turn, not yet rows. */
  private fresh: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;
  dropped = 0;
  written = 0;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxLoggedElements: number;

  constructor(
    private readonly sink: PredictionSink,
    private readonly logger: FastifyBaseLogger,
    private readonly options: PredictionLogOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 20_000;
    this.batchSize = options.batchSize ?? 500;
    this.flushMs = options.flushMs ?? 20;
    this.maxLoggedElements = options.maxLoggedElements ?? 4096;
  }

  /** Queues a record; never blocks and never throws. */
  append(record: PredictionRecord): void {
    if (this.closed || this.queue.length + this.fresh.length >= this.maxQueue) {
      this.drop(1);
      return;
    }
    this.fresh.push(record);
    if (this.fresh.length === 1) setImmediate(this.toRows);
  }

  /** Writes everything queued now; resolves when it is stored (or dropped on failure). */
  async flush(): Promise<void> {
    this.toRows();
    while (this.queue.length > 0 || this.writing) {
      if (this.writing) await this.writing;
      else this.kick();
    }
  }

  /** Stops accepting records, writes what is queued and closes the sink. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    await this.sink.close();
  }

  private readonly toRows = (): void => {
    const fresh = this.fresh;
    if (fresh.length === 0) return;
    this.fresh = [];
    for (const r of fresh) {
      try {
        this.queue.push(this.row(r));
      } catch (err) {
        this.drop(1);
        this.logger.error({ err }, 'could not turn a prediction into a log row; dropped it');
      }
    }
    if (this.queue.length >= this.batchSize) this.kick();
    else if (this.queue.length > 0 && !this.timer) {
      this.timer = setTimeout(() => this.kick(), this.flushMs);
      this.timer.unref();
    }
  };

  private drop(n: number): void {
    this.dropped += n;
    this.options.onDropped?.(n);
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = this.write(batch).finally(() => {
      this.writing = null;
      if (this.queue.length >= this.batchSize) this.kick();
      else if (this.queue.length > 0 && !this.timer) {
        this.timer = setTimeout(() => this.kick(), this.flushMs);
        this.timer.unref();
      }
    });
  }

  private async write(batch: NewPrediction[]): Promise<void> {
    // A slice at a time, each its own short transaction, so the store's write lock (on SQLite, one
    // for the whole file) is never held long by the log, and requests get in between slices.
    for (let i = 0; i < batch.length; i += ROWS_PER_SLICE) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const slice = batch.slice(i, i + ROWS_PER_SLICE);
      try {
        await this.sink.insert(slice);
        this.written += slice.length;
        this.options.onWritten?.(slice.length);
      } catch (err) {
        this.drop(slice.length);
        this.logger.error({ err, records: slice.length }, 'could not write predictions to the log; dropped them');
      }
    }
  }

  private row(r: PredictionRecord): NewPrediction {
    const summary = summarize(r.outputs);
    const shadow = r.shadow;
    const shadowSummary = shadow ? summarize(shadow.outputs) : null;
    return {
      deployment_id: r.deploymentId,
      request_id: r.requestId,
      version: r.version,
      route: r.route,
      outcome: r.error === null ? 'ok' : 'error',
      error: r.error === null ? null : r.error.slice(0, 1000),
      latency_ms: r.latencyMs,
      output_label: summary.label,
      output_value: summary.value,
      inputs: tensorsJson(r.inputs, this.maxLoggedElements),
      outputs: tensorsJson(r.outputs, this.maxLoggedElements),
      created_at: r.at,
      shadow_version: shadow?.version ?? null,
      shadow_outcome: shadow ? (shadow.error === null ? 'ok' : 'error') : null,
      shadow_error: shadow?.error?.slice(0, 1000) ?? null,
      shadow_latency_ms: shadow?.latencyMs ?? null,
      shadow_label: shadowSummary?.label ?? null,
      shadow_value: shadowSummary?.value ?? null,
      shadow_outputs: shadow ? tensorsJson(shadow.outputs, this.maxLoggedElements) : null,
    };
  }
}

const ROWS_PER_SLICE = 100;

const CATEGORICAL = new Set([
  'BYTES',
  'BOOL',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);

/**
 * The first element of the first output, as the canary's distribution check compares it: a label
 * (integers, strings, booleans) or a number (floats). Classifiers export the label first.
 */
export function summarize(outputs: readonly Tensor[] | null): { label: string | null; value: number | null } {
  const first = outputs?.[0];
  if (!first || elementCount(first.shape) === 0) return { label: null, value: null };
  const v = elementAt(first, 0);
  if (CATEGORICAL.has(first.datatype)) return { label: String(v), value: null };
  return { label: null, value: typeof v === 'number' && Number.isFinite(v) ? v : null };
}

/** Tensor element `i` as a JSON value: bigints as numbers, half floats decoded, byte strings as UTF-8 text. */
export function elementAt(t: Tensor, i: number): number | string | boolean {
  const d = t.data;
  if (Array.isArray(d)) return d[i]!.toString('utf8');
  const v = d[i]!;
  if (typeof v === 'bigint') return Number(v);
  if (t.datatype === 'FP16') return halfToFloat(v);
  return t.datatype === 'BOOL' ? v !== 0 : v;
}

/** `{name: {datatype, shape, data}}` as JSON, or null when larger than the bound. */
export function tensorsJson(tensors: readonly Tensor[] | null, maxElements: number): string | null {
  if (!tensors) return null;
  let total = 0;
  for (const t of tensors) total += elementCount(t.shape);
  if (total > maxElements) return null;
  const parts: string[] = [];
  for (const t of tensors) {
    parts.push(
      `${JSON.stringify(t.name)}:{"datatype":"${t.datatype}","shape":[${t.shape.join(',')}],"data":${dataJson(t)}}`,
    );
  }
  return `{${parts.join(',')}}`;
}

/**
 * A tensor's elements as a JSON array. Numeric typed arrays are joined natively (about 5x faster
 * than building an array for JSON.stringify: this runs for every logged request); NaN and infinities,
 * which JSON cannot hold, become null as JSON.stringify would make them.
 */
function dataJson(t: Tensor): string {
  const d = t.data;
  if (!Array.isArray(d) && t.datatype !== 'BOOL' && t.datatype !== 'FP16') {
    const text = `[${d.join(',')}]`;
    if (!(d instanceof Float32Array || d instanceof Float64Array) || !/[NI]/.test(text)) return text;
  }
  const n = elementCount(t.shape);
  const data = new Array<unknown>(n);
  for (let i = 0; i < n; i++) data[i] = elementAt(t, i);
  return JSON.stringify(data);
}
