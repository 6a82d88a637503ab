// The prediction log's writer thread (started by writerThreadSink): its own connection to the store,
// a SQLite file or a PostgreSQL database (prediction-stores.ts). Batches arrive as one flat array
// of values, COLUMNS.length per row, the tensor columns' encodings in one buffer beside it (see
// toBatch). Batches that arrive while one is being written wait in the inbox; each is written in
// transactions of ROWS_PER_TRANSACTION rows, a turn of this thread's event loop between them.
import { parentPort, workerData } from 'node:worker_threads';
import {
  COLUMNS,
  ROWS_PER_TRANSACTION,
  withTensorBytes,
  type WriterBatch,
  type WriterTarget,
} from './prediction-sink.js';
import { openLogStore } from './prediction-stores.js';

interface Batch {
  id: number;
  values: unknown[];
  done: number;
  error?: string;
}

const W = COLUMNS.length;
const port = parentPort!;
const store = await openLogStore(workerData as WriterTarget);
const inbox: Batch[] = [];
let draining = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  while (inbox.length > 0) {
    const b = inbox[0]!;
    const rows = b.values.length / W;
    const to = Math.min(rows, b.done + ROWS_PER_TRANSACTION);
    try {
      await store.write(b.values, b.done, to);
      b.done = to;
    } catch (e) {
      b.error = String((e as Error)?.message ?? e);
      b.done = rows;
    }
    if (b.done === rows) {
      inbox.shift();
      port.postMessage(b.error === undefined ? { id: b.id } : { id: b.id, error: b.error });
    }
    // Lets the batches posted meanwhile into the inbox (SQLite's writes do not yield on their own).
    await new Promise((r) => setImmediate(r));
  }
  draining = false;
}

port.on('message', (m: Partial<WriterBatch> & { id: number; close?: true }) => {
  if (m.close) {
    void store.close().finally(() => port.postMessage({ id: m.id }));
    return;
  }
  inbox.push({ id: m.id, values: withTensorBytes(m as WriterBatch), done: 0 });
  void drain();
});
