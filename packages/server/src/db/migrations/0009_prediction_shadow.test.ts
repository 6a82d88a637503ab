import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { createTestStore, ENGINES } from '../../testing/engines.js';
import { openDatabase } from '../database.js';
import { withDeployment } from './fixtures.js';
import { migrationsFor } from './index.js';

// 0009 folds each old 'shadow' row of the prediction log into the row of the primary answer to the
// same request, on both engines, and leaves unshadowed rows as they were.
for (const engine of ENGINES) {
  describe(`migration 0009 on ${engine}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('old shadow rows move into their primaries', async () => {
      const store = await createTestStore(engine);
      cleanups.push(() => store.cleanup());
      const database = await openDatabase({ url: store.url });
      cleanups.push(() => database.close());
      const db = database.db as unknown as Kysely<unknown>;
      const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrationsFor(engine)) } });
      const before = await migrator.migrateTo('0008_serving');
      assert.equal(before.error, undefined);

      await withDeployment(db, engine, async (c) => {
        const row = (seq: number, request: string, version: number, route: string, label: string, latency: number) =>
          sql`insert into predictions (seq, deployment_id, request_id, version, route, outcome, error, latency_ms, output_label, output_value, inputs, outputs, created_at)
            values (${seq}, 'd1', ${request}, ${version}, ${route}, 'ok', null, ${latency}, ${label}, null, '{"x":1}', ${`{"label":"${label}"}`}, ${seq})`.execute(
            c,
          );
        await row(1, 'r1', 1, 'stable', 'a', 1.5);
        await row(2, 'r1', 2, 'shadow', 'b', 2.5);
        await row(3, 'r2', 1, 'stable', 'a', 1.0);
        await row(4, 'r3', 1, 'candidate', 'c', 0.5);
        await row(5, 'r3', 2, 'shadow', 'c', 0.75);
      });

      const upgraded = await migrator.migrateTo('0009_prediction_shadow');
      assert.equal(upgraded.error, undefined);
      const rows = await sql<Record<string, unknown>>`
        select request_id, version, route, shadow_version, shadow_outcome, shadow_latency_ms, shadow_label, shadow_outputs
        from predictions order by seq`.execute(db);
      assert.deepEqual(
        rows.rows.map((r) => [
          r.request_id,
          Number(r.version),
          r.route,
          r.shadow_version === null ? null : Number(r.shadow_version),
          r.shadow_outcome,
          r.shadow_latency_ms === null ? null : Number(r.shadow_latency_ms),
          r.shadow_label,
          r.shadow_outputs,
        ]),
        [
          ['r1', 1, 'stable', 2, 'ok', 2.5, 'b', '{"label":"b"}'],
          ['r2', 1, 'stable', null, null, null, null, null],
          ['r3', 1, 'candidate', 2, 'ok', 0.75, 'c', '{"label":"c"}'],
        ],
      );
    });
  });
}
