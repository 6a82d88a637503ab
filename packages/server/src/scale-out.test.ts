import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { createTestStore } from './testing/engines.js';
import { startServer, type ServerProcess } from './testing/server-process.js';
import { ADMIN_TOKEN } from './testing/test-app.js';

test('an api process and two worker processes on one PostgreSQL share the queue, each job run once', async () => {
  const store = await createTestStore('postgres');
  const servers: ServerProcess[] = [];
  const common = ['--db', store.url, '--worker-poll-ms', '20'];
  try {
    const api = await startServer(['--role', 'api', '--data-dir', path.join(store.dir, 'api'), ...common]);
    servers.push(api);
    for (const name of ['w1', 'w2']) {
      servers.push(await startServer(['--role', 'worker', '--data-dir', path.join(store.dir, name), ...common]));
    }
    const n = 300;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${api.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'system.exec', payload: { command: ['true'] } }),
      });
      assert.equal(res.status, 201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const db = new pg.Client({ connectionString: store.url });
    await db.connect();
    try {
      const deadline = Date.now() + 120_000;
      let done = 0;
      while (done < n && Date.now() < deadline) {
        done = Number((await db.query(`select count(*) as n from jobs where state = 'succeeded'`)).rows[0].n);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(done, n, 'every job succeeded');
      const attempts = await db.query(`select attempt, count(*)::int as n from jobs group by attempt`);
      assert.deepEqual(attempts.rows, [{ attempt: 1, n }], 'no job was claimed twice');
      const workers = await db.query(`select distinct worker from jobs`);
      assert.equal(workers.rows.length, 2, 'both worker processes took part');
    } catch (err) {
      // What the workers logged (outcome writes that failed, leases lost) says why.
      const logs = servers.map((s, i) => `--- process ${i} (${i === 0 ? 'api' : 'worker'}) ---\n${s.logs()}`);
      (err as Error).message += `\n${logs.join('\n')}`;
      throw err;
    } finally {
      await db.end();
    }
  } finally {
    for (const s of servers) await s.stop();
    await store.cleanup();
  }
});
