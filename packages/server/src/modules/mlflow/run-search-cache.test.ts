// MLflow's runs/search serves each run's JSON from a cache on SQLite, filed under the run's
// revision (migration 0011, run-search-page.ts). These tests change a run in every way the MLflow
// API allows and check that the next search shows exactly what runs/get (never cached) shows, on
// both engines; and, on SQLite, that every write to a run's tables renews its revision.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import { RunJsonCache } from './run-json-cache.js';

const API = '/api/2.0/mlflow';

async function call(app: HangarApp, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await app.http.inject({
    method,
    url: `${API}/${path}`,
    headers: { ...adminAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.statusCode, 200, `${method} ${path} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res;
}

interface RunJson {
  info: { run_id: string };
}

for (const engine of ENGINES) {
  describe(`MLflow runs/search after every kind of change (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let experimentId: string;
    const runs: string[] = [];

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      experimentId = (await call(app, 'POST', 'experiments/create', { name: 'cache' })).json<{
        experiment_id: string;
      }>().experiment_id;
      for (let i = 0; i < 3; i++) {
        const r = await call(app, 'POST', 'runs/create', { experiment_id: experimentId, start_time: 1000 + i });
        runs.push(r.json<{ run: RunJson }>().run.info.run_id);
      }
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    /** Searches twice (the second from the cache where there is one) and checks both against runs/get. */
    async function searchMatchesGet(what: string, filter = ''): Promise<string[]> {
      const search = () =>
        call(app, 'POST', 'runs/search', { experiment_ids: [experimentId], filter, max_results: 10 });
      const first = await search();
      const second = await search();
      assert.equal(second.body, first.body, `${what}: a repeated search answers the same`);
      assert.match(String(first.headers['content-type']), /^application\/json/);
      const found = first.json<{ runs?: RunJson[] }>().runs ?? [];
      for (const r of found) {
        const got = (await call(app, 'GET', `runs/get?run_id=${r.info.run_id}`)).json<{ run: unknown }>().run;
        assert.deepEqual(r, got, `${what}: run ${r.info.run_id} as searched and as got`);
      }
      return found.map((r) => r.info.run_id);
    }

    test('each change shows in the next search', async () => {
      const [a, b] = runs as [string, string];
      const ts = 1_700_000_000_000;
      const changes: [string, () => Promise<unknown>][] = [
        ['log-parameter', () => call(app, 'POST', 'runs/log-parameter', { run_id: a, key: 'lr', value: '0.1' })],
        ['set-tag', () => call(app, 'POST', 'runs/set-tag', { run_id: a, key: 'team', value: 'ml' })],
        ['set-tag again', () => call(app, 'POST', 'runs/set-tag', { run_id: a, key: 'team', value: 'ops' })],
        ['delete-tag', () => call(app, 'POST', 'runs/delete-tag', { run_id: a, key: 'team' })],
        [
          'log-metric',
          () => call(app, 'POST', 'runs/log-metric', { run_id: a, key: 'loss', value: 1, timestamp: ts, step: 0 }),
        ],
        [
          'log-metric at a later step',
          () => call(app, 'POST', 'runs/log-metric', { run_id: a, key: 'loss', value: 0.5, timestamp: ts, step: 1 }),
        ],
        [
          'log-metric NaN',
          () => call(app, 'POST', 'runs/log-metric', { run_id: a, key: 'loss', value: 'NaN', timestamp: ts, step: 2 }),
        ],
        [
          'log-batch',
          () =>
            call(app, 'POST', 'runs/log-batch', {
              run_id: b,
              metrics: [{ key: 'acc', value: 0.9, timestamp: ts, step: 0 }],
              params: [{ key: 'depth', value: '3' }],
              tags: [{ key: 'mlflow.note.content', value: 'héllo ✓' }],
            }),
        ],
        [
          'update',
          () =>
            call(app, 'POST', 'runs/update', { run_id: a, status: 'FINISHED', end_time: 2000, run_name: 'renamed' }),
        ],
        [
          'log-inputs',
          () =>
            call(app, 'POST', 'runs/log-inputs', {
              run_id: b,
              datasets: [
                {
                  tags: [{ key: 'mlflow.data.context', value: 'training' }],
                  dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "/tmp/iris.csv"}' },
                },
              ],
            }),
        ],
        [
          'a logged model as an output',
          async () => {
            const model = (
              await call(app, 'POST', 'logged-models', { experiment_id: experimentId, name: 'm', source_run_id: a })
            ).json<{ model: { info: { model_id: string } } }>().model.info.model_id;
            return call(app, 'POST', 'runs/outputs', { run_id: a, models: [{ model_id: model, step: 3 }] });
          },
        ],
        [
          'log-model (MLflow 2 history tag)',
          () => call(app, 'POST', 'runs/log-model', { run_id: b, model_json: '{"artifact_path": "model"}' }),
        ],
      ];
      await searchMatchesGet('before any change');
      for (const [what, change] of changes) {
        const before =
          (await call(app, 'GET', `runs/get?run_id=${a}`)).body + (await call(app, 'GET', `runs/get?run_id=${b}`)).body;
        await change();
        const afterwards =
          (await call(app, 'GET', `runs/get?run_id=${a}`)).body + (await call(app, 'GET', `runs/get?run_id=${b}`)).body;
        assert.notEqual(afterwards, before, `${what} changes what runs/get answers`);
        await searchMatchesGet(what);
      }
      // A deleted run leaves the (active-only) search and comes back when restored.
      await call(app, 'POST', 'runs/delete', { run_id: b });
      assert.ok(!(await searchMatchesGet('delete')).includes(b));
      await call(app, 'POST', 'runs/restore', { run_id: b });
      assert.ok((await searchMatchesGet('restore')).includes(b));
      // Filtered and ordered by what changed.
      assert.deepEqual(await searchMatchesGet('filter on a logged param', "params.depth = '3'"), [b]);
    });

    if (engine === 'sqlite') {
      test("every write to a run's tables renews its revision, whatever path makes it", async () => {
        const db = app.database.db;
        const id = runs[2]!;
        const rev = async () =>
          (await sql<{ rev: number }>`select rev from runs where id = ${id}`.execute(db)).rows[0]!.rev;
        const statements = [
          sql`insert into run_params (run_id, key, value) values (${id}, 'p', 'v')`,
          sql`insert into run_tags (run_id, key, value) values (${id}, 't', 'v')`,
          sql`update run_tags set value = 'w' where run_id = ${id}`,
          sql`delete from run_tags where run_id = ${id}`,
          sql`insert into latest_metrics (run_id, key, value, is_nan, step, timestamp) values (${id}, 'm', 1, 0, 0, 0)`,
          sql`update latest_metrics set value = 2 where run_id = ${id}`,
          sql`delete from latest_metrics where run_id = ${id}`,
          sql`update run_params set value = 'changed' where run_id = ${id}`,
          sql`delete from run_params where run_id = ${id}`,
          sql`update runs set status = 'KILLED' where id = ${id}`,
        ];
        for (const s of statements) {
          const was = await rev();
          await s.execute(db);
          const now = await rev();
          assert.notEqual(now, was, s.compile(db).sql);
          assert.ok(Number.isSafeInteger(now), `revision ${now} is exact as a JavaScript number`);
        }
      });
    }

    test('a page of more runs than one statement may bind ids for (SQLite: 32,766) is answered whole', async () => {
      const db = app.database.db;
      const { experiment_id: big } = (await call(app, 'POST', 'experiments/create', { name: 'big page' })).json<{
        experiment_id: string;
      }>();
      const n = 33_000;
      const ids = Array.from({ length: n }, (_, i) => `bigpage${String(i).padStart(6, '0')}`);
      for (let i = 0; i < n; i += 500) {
        const slice = ids.slice(i, i + 500);
        await db
          .insertInto('runs')
          .values(
            slice.map((id, k) => ({
              id,
              experiment_id: Number(big),
              name: id,
              user_id: null,
              username: 'admin',
              status: 'FINISHED',
              start_time: i + k,
              end_time: null,
              lifecycle_stage: 'active',
              artifact_uri: `file:///tmp/${id}`,
              parent_run_id: null,
            })),
          )
          .execute();
        await db
          .insertInto('run_params')
          .values(slice.map((id) => ({ run_id: id, key: 'seed', value: id })))
          .execute();
      }
      const res = await call(app, 'POST', 'runs/search', { experiment_ids: [big], max_results: 50_000 });
      const page = res.json<{ runs: { info: { run_id: string }; data: { params: { value: string }[] } }[] }>();
      assert.equal(page.runs.length, n);
      // Newest first (start_time DESC), each with its own data.
      assert.deepEqual(
        page.runs.map((r) => r.info.run_id),
        [...ids].reverse(),
      );
      assert.ok(page.runs.every((r) => r.data.params[0]?.value === r.info.run_id));
    });
  });
}

describe('RunJsonCache', () => {
  test('serves an entry only under its revision, and keeps within its size by evicting the least recently served', () => {
    const cache = new RunJsonCache(10);
    const b = (s: string) => Buffer.from(s);
    const text = (x: Buffer | undefined) => x?.toString();
    cache.set('a', 1, b('aaaa'));
    cache.set('b', 1, b('bbbb'));
    assert.equal(text(cache.get('a', 1)), 'aaaa');
    assert.equal(cache.get('a', 2), undefined, 'another revision misses');
    cache.set('c', 1, b('cccc')); // 12 > 10: b (served longest ago) goes
    assert.equal(cache.get('b', 1), undefined);
    assert.equal(text(cache.get('a', 1)), 'aaaa');
    assert.equal(text(cache.get('c', 1)), 'cccc');
    assert.equal(cache.bytes, 8);
    cache.set('a', 2, b('AA')); // a new revision replaces the entry
    assert.equal(cache.get('a', 1), undefined);
    assert.equal(text(cache.get('a', 2)), 'AA');
    assert.equal(cache.bytes, 6);
    cache.set('big', 1, b('x'.repeat(11))); // larger than the whole cache: not kept, nothing evicted
    assert.equal(cache.get('big', 1), undefined);
    assert.equal(cache.bytes, 6);
  });
});
