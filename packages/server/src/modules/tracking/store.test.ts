// The tracking store's ingest path on both engines: metric rows and the latest-value rule of the
// multi-row upsert, statements split in chunks, and grouped transactions (group commit on SQLite)
// where a failing write is rolled back alone and every other one commits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { openDatabase, type Database } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { TrackingStore, type MetricRow } from './store.js';

let next = 1;
const newRunId = () => (next++).toString(16).padStart(32, 'a');

for (const engine of ENGINES) {
  describe(`tracking store ingest (${engine})`, () => {
    let testStore: TestStore;
    let database: Database;
    let db: Kysely<DB>;
    let store: TrackingStore;
    let experimentId: number;

    before(async () => {
      testStore = await createTestStore(engine);
      database = await openDatabase({ url: testStore.url });
      await database.migrate();
      db = database.db;
      store = new TrackingStore(db);
      await db
        .insertInto('teams')
        .values({ id: 't', name: 't', display_name: 't', description: '', created_at: 0, updated_at: 0 })
        .execute();
      await db
        .insertInto('projects')
        .values({ id: 'p', name: 'p', display_name: 'p', description: '', team_id: 't', created_at: 0, updated_at: 0 })
        .execute();
      experimentId = await store.insertExperiment({
        project_id: 'p',
        name: 'e',
        artifact_location: 'x',
        lifecycle_stage: 'active',
        created_at: 0,
        updated_at: 0,
      });
    });
    after(async () => {
      await database.close();
      await testStore.cleanup();
    });

    async function newRun(): Promise<string> {
      const id = newRunId();
      await store.insertRun({
        id,
        experiment_id: experimentId,
        name: id,
        user_id: null,
        username: 'u',
        status: 'RUNNING',
        start_time: 0,
        end_time: null,
        lifecycle_stage: 'active',
        artifact_uri: 'x',
        parent_run_id: null,
      });
      return id;
    }

    const point = (run_id: string, key: string, value: number, step: number, timestamp: number): MetricRow => ({
      run_id,
      key,
      value: Number.isNaN(value) ? 0 : value,
      is_nan: Number.isNaN(value) ? 1 : 0,
      step,
      timestamp,
    });
    const latest = async (runId: string) =>
      Object.fromEntries(
        (await store.runData([runId])).metrics.map((m) => [
          m.key,
          [m.is_nan ? NaN : m.value, Number(m.step), Number(m.timestamp)],
        ]),
      );
    const historyLength = async (runId: string, key: string) =>
      (await store.metricHistory(runId, key, 0, 100_000)).length;

    test('the latest value follows step, then timestamp, then value, across and within batches', async () => {
      const run = await newRun();
      await store.insertMetrics([point(run, 'a', 5, 2, 100), point(run, 'b', 1, 0, 100), point(run, 'c', 1, 1, 1)]);
      await store.insertMetrics([
        // a: a lower step loses even with a later timestamp; b: the same step, a later timestamp wins
        point(run, 'a', 9, 1, 999),
        point(run, 'b', 2, 0, 200),
        // c: the same step and timestamp: the higher value wins, in either order within a batch
        point(run, 'c', 3, 1, 1),
        point(run, 'c', 2, 1, 1),
        // d: within one batch the newest point is the one kept
        point(run, 'd', 1, 7, 1),
        point(run, 'd', NaN, 8, 1),
        point(run, 'd', 3, 6, 1),
      ]);
      assert.deepEqual(await latest(run), { a: [5, 2, 100], b: [2, 0, 200], c: [3, 1, 1], d: [NaN, 8, 1] });
      assert.equal(await historyLength(run, 'c'), 3);
    });

    test('a batch larger than one statement is stored whole', async () => {
      const run = await newRun();
      const rows = Array.from({ length: 2500 }, (_, i) => point(run, `k${i % 3}`, i, i, i));
      await store.insertMetrics(rows);
      for (const k of ['k0', 'k1', 'k2']) assert.ok((await historyLength(run, k)) >= 833);
      assert.equal(
        (await historyLength(run, 'k0')) + (await historyLength(run, 'k1')) + (await historyLength(run, 'k2')),
        2500,
      );
      assert.deepEqual((await latest(run)).k0, [2499, 2499, 2499]);
    });

    test('grouped transactions: a failing write is rolled back alone, the others commit', async () => {
      const runs = await Promise.all(Array.from({ length: 6 }, () => newRun()));
      const results = await Promise.allSettled(
        runs.map((run, i) =>
          store.groupedTransaction(async (s) => {
            await s.insertMetrics([point(run, 'm', i, 0, 0)]);
            await s.insertParams(run, [{ key: 'p', value: String(i) }]);
            if (i % 3 === 1) throw new Error(`write ${i} fails after writing`);
          }),
        ),
      );
      for (const [i, r] of results.entries()) {
        const fails = i % 3 === 1;
        assert.equal(r.status, fails ? 'rejected' : 'fulfilled', `write ${i}`);
        if (r.status === 'rejected') assert.match(String(r.reason), new RegExp(`write ${i} fails`));
        assert.equal(await historyLength(runs[i]!, 'm'), fails ? 0 : 1, `metrics of write ${i}`);
        assert.deepEqual(
          (await store.paramsOf(runs[i]!, ['p'])).map((p) => p.value),
          fails ? [] : [String(i)],
          `params of write ${i}`,
        );
      }
    });
  });
}
