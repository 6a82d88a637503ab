import { Worker } from 'node:worker_threads';
import { TensorPacker, tensorsJson } from './logged-tensors.js';
import type { DeploymentStore, NewPrediction } from './store.js';
import type { Tensor } from './tensors.js';

/** The columns that hold tensors (as JSON text once stored). */
export const TENSOR_COLUMNS = ['inputs', 'outputs', 'shadow_outputs'] as const;
type TensorColumn = (typeof TENSOR_COLUMNS)[number];

/** A prediction log row as the log hands it to a sink: the tensors still tensors, not JSON text. */
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
 * Through the store's own connections: PostgreSQL (its pool writes asynchronously), and the
 * in-memory SQLite of tests. One insert at a time, so the log never takes more than one of the
 * pool's connections.
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

/** The row as stored: the tensors as JSON text. */
export function asStored(r: LogRow): NewPrediction {
  const json = (t: readonly Tensor[] | null) => (t ? tensorsJson(t) : null);
  return { ...r, inputs: json(r.inputs), outputs: json(r.outputs), shadow_outputs: json(r.shadow_outputs) };
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

/** A batch as posted to the writer: COLUMNS.length values per row, tensors packed into `arena`. */
export interface WriterBatch {
  values: unknown[];
  arena: Float64Array;
}

function toBatch(rows: LogRow[]): WriterBatch {
  let size = 0;
  for (const r of rows)
    size += TensorPacker.size(r.inputs) + TensorPacker.size(r.outputs) + TensorPacker.size(r.shadow_outputs);
  const packer = new TensorPacker(size);
  const values: unknown[] = [];
  for (const r of rows) {
    for (const c of COLUMNS) {
      values.push(isTensorColumn(c) ? packer.pack(r[c]) : (r[c] ?? null));
    }
  }
  return { values, arena: packer.arena };
}

/**
 * The writer thread. Built, it runs prediction-writer.js. From source (tests run through tsx) it runs
 * prediction-writer.ts, and registers tsx in the thread first: a worker does not inherit the
 * parent's `--import` hooks for its entry module.
 */
function startWriter(file: string): Worker {
  const workerData = { file };
  if (!import.meta.filename.endsWith('.ts'))
    return new Worker(new URL('./prediction-writer.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./prediction-writer.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * SQLite: better-sqlite3 is synchronous, so a batch written on the main thread stalls every request
 * for its inserts and its commit's fsync (5–30 ms here). The batches go to a worker thread with its
 * own connection to the same file instead. WAL: readers never wait. A main-thread write that meets
 * the worker's write lock waits for it (busy_timeout) with the event loop blocked, so the worker's
 * transactions are kept short: 100 rows, commits without fsync.
 *
 * The log posts a batch without waiting for the one before to be written (the worker queues them):
 * rows that waited on the main thread for the write before theirs lived long enough to be promoted
 * to V8's old space, and the major collections that followed were serving's main tail latency.
 * A posted batch is a copy in the worker's heap, and the writer makes the tensors' JSON text there.
 */
export function sqliteWorkerSink(file: string): PredictionSink {
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
    const w = startWriter(file);
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
      // The arena moves to the writer rather than being copied.
      return send({ ...batch }, [batch.arena.buffer as ArrayBuffer]);
    },
    async close() {
      if (!worker) return;
      await send({ close: true }).catch(() => {});
      await worker.terminate();
    },
  };
}
