import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrationTest, withDeployment } from '../../testing/migrations.js';

// 0009 folds each old 'shadow' row of the prediction log into the row of the primary answer to the
// same request, on both engines, and leaves unshadowed rows as they were.
migrationTest('0009', 'old shadow rows move into their primaries', async (db, migrator, engine) => {
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
