import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../db/database.js';
import { createTestStore, type TestStore } from '../../testing/engines.js';
import { sqliteWorkerSink, WRITER_NICE } from './prediction-sink.js';

/** Niceness of each thread of this process, by thread id (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceness(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe(
  'SQLite prediction sink',
  { skip: process.platform !== 'linux' && 'thread priorities are read from /proc' },
  () => {
    let store: TestStore;
    let db: Database;
    before(async () => {
      store = await createTestStore('sqlite');
      db = await openDatabase({ url: store.url });
      await db.migrate();
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it('writes on a thread that yields to serving: the writer runs niced, the serving thread does not', async () => {
      const before = threadNiceness();
      const sink = sqliteWorkerSink(store.url.slice('sqlite:'.length));
      try {
        // An empty batch: the round trip proves the thread has started (rows written: serving.test.ts).
        await sink.insert([]);
        const base = before.get(process.pid)!;
        const now = threadNiceness();
        const niced = [...now].filter(([tid, nice]) => !before.has(tid) && nice === Math.max(base, WRITER_NICE));
        assert.equal(niced.length, 1, 'exactly one new thread, the writer, runs at the writer niceness');
        assert.equal(now.get(process.pid), base, 'the main (serving) thread keeps its priority');
      } finally {
        await sink.close();
      }
    });
  },
);
