import { Worker } from 'node:worker_threads';
import { encodedSizeBound, encodeInto, encodeTensors } from './logged-tensors.js';
import type { DeploymentStore, NewPrediction } from './store.js';
import type { Tensor } from './tensors.js';

/** The columns that hold tensors (as bytes once stored; see logged-tensors.ts). */
export const TENSOR_COLUMNS = ['inputs', 'outputs', 'shadow_outputs'] as const;
type TensorColumn = (typeof TENSOR_COLUMNS)[number];

/** A prediction log row as the log hands it to a sink: the tensors still tensors, not bytes. */
export type LogRow = Omit<NewPrediction, TensorColumn> & Record<TensorColumn, readonly Tensor[] | null>;

/** Where the prediction log's batches go. */
export interface PredictionSink {
  /** Stores rows; resolves once they are stored. */
  insert(rows: LogRow[]): Promise<void>;
  /** How many inserts the log may have in flight at once. */
  readonly concurrency: number;
  close(): Promise<void>;
}

/**
 * Rows per write transaction. On SQLite the write lock covers the whole file, so the log never holds
 * it for long: other writers get in between transactions.
 */
export const ROWS_PER_TRANSACTION = 100;

/**
 * Through the store's own connection: for the in-memory SQLite of tests, which no other connection
 * (so no writer thread) can open.
 */
export function storeSink(store: DeploymentStore): PredictionSink {
  return {
    concurrency: 1,
    async insert(rows) {
      for (let i = 0; i < rows.length; i += ROWS_PER_TRANSACTION) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        await store.insertPredictions(rows.slice(i, i + ROWS_PER_TRANSACTION).map(asStored));
      }
    },
    close: () => Promise.resolve(),
  };
}

/** The row as stored: the tensors encoded. */
export function asStored(r: LogRow): NewPrediction {
  const bytes = (t: readonly Tensor[] | null) => (t ? encodeTensors(t) : null);
  return { ...r, inputs: bytes(r.inputs), outputs: bytes(r.outputs), shadow_outputs: bytes(r.shadow_outputs) };
}

/** The columns the writer thread inserts, in the order a row's values are posted to it. */
export const COLUMNS = [
  'deployment_id',
  'request_id',
  'version',
  'route',
  'outcome',
  'error',
  'latency_ms',
  'output_label',
  'output_value',
  'inputs',
  'outputs',
  'created_at',
  'shadow_version',
  'shadow_outcome',
  'shadow_error',
  'shadow_latency_ms',
  'shadow_label',
  'shadow_value',
  'shadow_outputs',
] as const satisfies readonly (keyof NewPrediction)[];

const isTensorColumn = (c: string): c is TensorColumn => (TENSOR_COLUMNS as readonly string[]).includes(c);
const TENSOR_INDEXES = TENSOR_COLUMNS.map((c) => COLUMNS.indexOf(c));

/**
 * A batch as posted to the writer: COLUMNS.length values per row. The tensor columns' encodings
 * lie one after the other in `bytes`, in the order of the values; a tensor column's value is its
 * encoding's length (null for none). One transferred buffer instead of a typed array per tensor
 * keeps the structured clone cheap.
 */
export interface WriterBatch {
  values: unknown[];
  bytes: Uint8Array;
}

export function toBatch(rows: LogRow[]): WriterBatch {
  let size = 0;
  for (const r of rows)
    size += encodedSizeBound(r.inputs) + encodedSizeBound(r.outputs) + encodedSizeBound(r.shadow_outputs);
  // Not from Buffer's shared pool: the buffer is transferred to the writer, which detaches it.
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const values: unknown[] = [];
  for (const r of rows) {
    for (const c of COLUMNS) {
      if (!isTensorColumn(c)) values.push(r[c] ?? null);
      else if (!r[c]) values.push(null);
      else {
        const end = encodeInto(r[c], bytes, at);
        values.push(end - at);
        at = end;
      }
    }
  }
  return { values, bytes };
}

/** The writer's side of toBatch: each tensor column's value becomes a view of its encoding. */
export function withTensorBytes({ values, bytes }: WriterBatch): unknown[] {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let i = 0; i < values.length; i += COLUMNS.length) {
    for (const c of TENSOR_INDEXES) {
      const length = values[i + c] as number | null;
      if (length === null) continue;
      values[i + c] = all.subarray(at, at + length);
      at += length;
    }
  }
  return values;
}

/**
 * The writer thread. Built, it runs prediction-writer.js. From source (tests run through tsx) it runs
 * prediction-writer.ts, and registers tsx in the thread first: a worker does not inherit the
 * parent's `--import` hooks for its entry module.
 */
function startWriter(workerData: WriterTarget): Worker {
  if (!import.meta.filename.endsWith('.ts'))
    return new Worker(new URL('./prediction-writer.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./prediction-writer.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Where the writer thread writes; it opens a connection of its own. */
export type WriterTarget =
  { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string; statementTimeoutMs?: number };

/**
 * The batches go to a worker thread with its own connection to the store (prediction-stores.ts).
 *
 * SQLite: better-sqlite3 is synchronous, so a batch written on the main thread stalls every request
 * for its inserts and its commit's fsync (5–30 ms here). WAL: readers never wait. A main-thread
 * write that meets the worker's write lock waits for it (busy_timeout) with the event loop blocked,
 * so the worker's transactions are kept short: 100 rows, commits without fsync.
 *
 * PostgreSQL: the pool's writes are asynchronous, but building a 100-row INSERT and serializing
 * its parameters is CPU on the thread that serves requests. Moved to the writer thread, a logged
 * request cost 5–8 µs less CPU here (56–65 against 62–70 µs), and the server answered 15–20 % more.
 *
 * The log posts a batch without waiting for the one before to be written (the worker queues them):
 * rows that waited on the main thread for the write before theirs lived long enough to be promoted
 * to V8's old space, and the major collections that followed were serving's main tail latency.
 * A posted batch is a copy in the worker's heap; its tensors' bytes are moved, not copied.
 */
export function writerThreadSink(target: WriterTarget): PredictionSink {
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  // Once the writer is gone every insert fails at once (the log drops and counts the rows) rather
  // than waiting for an answer that cannot come.
  let stopped: Error | null = null;
  const fail = (err: Error) => {
    stopped ??= new Error(`the prediction log writer stopped: ${err.message}`);
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  // Started with the first batch: a thread with its own V8 heap and SQLite connection is several
  // megabytes that a server which serves no prediction does not need.
  let worker: Worker | null = null;
  const writer = (): Worker => {
    if (worker) return worker;
    const w = startWriter(target);
    worker = w;
    w.unref();
    w.on('message', (m: { id: number; error?: string }) => {
      const pending = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error === undefined) pending?.resolve();
      else pending?.reject(new Error(m.error));
    });
    // An error thrown in the writer arrives as a plain object when its class is not a built-in one
    // (better-sqlite3's SqliteError keeps only its code).
    w.on('error', (e: unknown) => {
      const { message, code } = (e ?? {}) as { message?: string; code?: string };
      fail(new Error(message ?? code ?? String(e)));
    });
    w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return w;
  };
  const send = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<void>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = next++;
      waiting.set(id, { resolve, reject });
      writer().postMessage({ ...message, id }, transfer);
    });
  return {
    concurrency: 16,
    insert: (rows) => {
      const batch = toBatch(rows);
      return send({ ...batch }, [batch.bytes.buffer as ArrayBuffer]);
    },
    async close() {
      if (!worker) return;
      await send({ close: true }).catch(() => {});
      await worker.terminate();
    },
  };
}
