import type { FastifyBaseLogger } from 'fastify';
import type { PredictionRoute } from '../../db/schema.js';
import { elementAt, loggable } from './logged-tensors.js';
import type { LogRow, PredictionSink } from './prediction-sink.js';
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
 * Records become rows once per event-loop turn, after the responses of that turn went out, and a
 * batch goes to the sink without waiting for the one before to be written: rows must not live long
 * enough on this thread to be promoted to V8's old space, which under load brought a major
 * collection, with a 5–15 ms pause, every few seconds. A row keeps the tensors it logs; their JSON
 * text is made by the sink, on SQLite in its writer thread (see logged-tensors.ts).
 */
export class PredictionLog {
  private queue: LogRow[] = [];
  /** Appended this event-loop turn, not yet rows. */
  private fresh: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Inserts handed to the sink and not yet settled, and the rows they hold. */
  private writes = new Set<Promise<void>>();
  private writingRows = 0;
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
    if (this.closed || this.queue.length + this.fresh.length + this.writingRows >= this.maxQueue) {
      this.drop(1);
      return;
    }
    this.fresh.push(record);
    if (this.fresh.length === 1) setImmediate(this.toRows);
  }

  /** Writes everything queued now; resolves when it is stored (or dropped on failure). */
  async flush(): Promise<void> {
    this.toRows();
    while (this.queue.length > 0 || this.writes.size > 0) {
      this.kick();
      if (this.writes.size > 0) await Promise.race(this.writes);
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
    this.schedule();
  };

  /** A write now if a batch is full, else one at most flushMs after the oldest row waiting. */
  private schedule(): void {
    if (this.queue.length >= this.batchSize) this.kick();
    else if (this.queue.length > 0 && !this.timer) {
      this.timer = setTimeout(() => this.kick(), this.flushMs);
      this.timer.unref();
    }
  }

  private drop(n: number): void {
    this.dropped += n;
    this.options.onDropped?.(n);
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writes.size >= this.sink.concurrency || this.queue.length === 0) return;
    const batch = this.queue;
    const n = batch.length;
    this.queue = [];
    this.writingRows += n;
    // Nothing below holds the batch: its rows would live until the write is acknowledged.
    const write = this.sink
      .insert(batch)
      .then(
        () => {
          this.written += n;
          this.options.onWritten?.(n);
        },
        (err: unknown) => {
          this.drop(n);
          this.logger.error({ err, records: n }, 'could not write predictions to the log; dropped them');
        },
      )
      .finally(() => {
        this.writes.delete(write);
        this.writingRows -= n;
        this.schedule();
      });
    this.writes.add(write);
  }

  private row(r: PredictionRecord): LogRow {
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
      inputs: loggable(r.inputs, this.maxLoggedElements),
      outputs: loggable(r.outputs, this.maxLoggedElements),
      created_at: r.at,
      shadow_version: shadow?.version ?? null,
      shadow_outcome: shadow ? (shadow.error === null ? 'ok' : 'error') : null,
      shadow_error: shadow?.error?.slice(0, 1000) ?? null,
      shadow_latency_ms: shadow?.latencyMs ?? null,
      shadow_label: shadowSummary?.label ?? null,
      shadow_value: shadowSummary?.value ?? null,
      shadow_outputs: shadow ? loggable(shadow.outputs, this.maxLoggedElements) : null,
    };
  }
}

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
