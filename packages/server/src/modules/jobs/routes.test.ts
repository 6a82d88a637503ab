import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

for (const engine of ENGINES) {
  describe(`jobs API (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const post = (payload: Record<string, unknown>) =>
      app.http.inject({ method: 'POST', url: '/api/v1/jobs', headers: adminAuth, payload });
    const get = async (url: string) => (await app.http.inject({ url, headers: adminAuth })).json();

    async function until(id: string, states: string[], timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await get(`/api/v1/jobs/${id}`);
        if (states.includes(job.state)) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    test('pages through jobs newest first without gaps or repeats', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await post({ kind: 'system.noop', payload: { i } })).json().id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await get(
          `/api/v1/jobs?kind=system.noop&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen.slice(0, 7), [...ids].reverse());
      await until(ids[6]!, ['succeeded']);
    });

    test('follows the log of a running job and cancels its process promptly', async () => {
      const job = (
        await post({ kind: 'system.exec', payload: { command: ['sh', '-c', 'echo hello-live; sleep 30'] } })
      ).json();
      const logs = await get(`/api/v1/jobs/${job.id}/logs?waitMs=10000`);
      assert.match(logs.chunks.map((c: { data: string }) => c.data).join(''), /hello-live/);
      assert.equal(logs.complete, false);
      const started = Date.now();
      const cancelled = await app.http.inject({
        method: 'POST',
        url: `/api/v1/jobs/${job.id}/cancel`,
        headers: adminAuth,
      });
      assert.equal(cancelled.statusCode, 200);
      const done = await until(job.id, ['cancelled', 'failed', 'succeeded']);
      assert.equal(done.state, 'cancelled');
      assert.ok(Date.now() - started < 5000, `cancel took ${Date.now() - started} ms`);
      const rest = await get(`/api/v1/jobs/${job.id}/logs?after=${logs.next}`);
      assert.equal(rest.complete, true);
      assert.match(rest.chunks.map((c: { data: string }) => c.data).join(''), /cancelled/);
    });

    test('an exec job records the usage of its process tree', async () => {
      const job = (
        await post({
          kind: 'system.exec',
          payload: {
            command: [
              'python3',
              '-c',
              'x = bytearray(80 * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\nimport time; time.sleep(0.5)',
            ],
          },
        })
      ).json();
      const done = await until(job.id, ['succeeded', 'failed'], 20_000);
      assert.equal(done.state, 'succeeded', done.error);
      assert.ok(done.usage.wallSeconds >= 0.5);
      assert.ok(done.usage.peakRssBytes >= 60 * 1024 * 1024, `peak ${done.usage.peakRssBytes}`);
      assert.ok(done.usage.cpuSeconds > 0);
    });

    test('missing jobs are 404 and cancelling a finished job changes nothing', async () => {
      const missing = await app.http.inject({ url: '/api/v1/jobs/06nothing', headers: adminAuth });
      assert.equal(missing.statusCode, 404);
      const job = (await post({ kind: 'system.noop' })).json();
      await until(job.id, ['succeeded']);
      const again = await app.http.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: adminAuth });
      assert.equal(again.json().state, 'succeeded');
    });
  });
}
