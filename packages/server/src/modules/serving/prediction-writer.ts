// The prediction log's writer thread (started by sqliteWorkerSink): its own connection to the
// SQLite file. Batches arrive as one flat array of values, COLUMNS.length per row, the tensor
// columns' encodings in one buffer beside it (see toBatch). Batches that arrive while one is being
// written wait in the inbox; each is written in transactions of ROWS_PER_TRANSACTION
// rows, a turn of this thread's event loop between them.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { COLUMNS, ROWS_PER_TRANSACTION, withTensorBytes, type WriterBatch } from './prediction-sink.js';

interface Batch {
  id: number;
  values: unknown[];
  done: number;
  error?: string;
}

/**
 * Rows per INSERT statement. One multi-row INSERT of 25 costs about a fifth less per row than 25
 * single-row ones (measured with this table and its indexes: 6.5 against 8.5 µs a row).
 */
const ROWS_PER_INSERT = 25;
const W = COLUMNS.length;

const port = parentPort!;
const db = new Database((workerData as { file: string }).file);
db.pragma('journal_mode = WAL');
// NORMAL: in WAL mode a commit is not fsynced (checkpoints are). A power loss may lose the last
// moments of the log, never corrupt it; a process crash loses nothing written. For a telemetry
// stream that is the right trade: commits stay short, and so does the write lock they hold.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');

const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`;
const insert = (rows: number) =>
  db.prepare(`INSERT INTO predictions (${COLUMNS.join(', ')}) VALUES ${Array(rows).fill(placeholders).join(', ')}`);
const one = insert(1);
const many = insert(ROWS_PER_INSERT);

/** Rows [from, to) of a batch in one transaction. */
const write = db.transaction((values: unknown[], from: number, to: number) => {
  let i = from;
  for (; i + ROWS_PER_INSERT <= to; i += ROWS_PER_INSERT) many.run(values.slice(i * W, (i + ROWS_PER_INSERT) * W));
  for (; i < to; i++) one.run(values.slice(i * W, (i + 1) * W));
});

const inbox: Batch[] = [];

function next(): void {
  const b = inbox[0]!;
  const rows = b.values.length / W;
  const to = Math.min(rows, b.done + ROWS_PER_TRANSACTION);
  try {
    write(b.values, b.done, to);
    b.done = to;
  } catch (e) {
    b.error = String((e as Error)?.message ?? e);
    b.done = rows;
  }
  if (b.done === rows) {
    inbox.shift();
    port.postMessage(b.error === undefined ? { id: b.id } : { id: b.id, error: b.error });
  }
  if (inbox.length > 0) setImmediate(next);
}

port.on('message', (m: Partial<WriterBatch> & { id: number; close?: true }) => {
  if (m.close) {
    db.close();
    port.postMessage({ id: m.id });
    return;
  }
  if (inbox.push({ id: m.id, values: withTensorBytes(m as WriterBatch), done: 0 }) === 1) setImmediate(next);
});
