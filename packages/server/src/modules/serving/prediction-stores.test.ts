// The prediction log's writer thread against real stores: a SQLite file and a PostgreSQL database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { openDatabase, type Database } from '../../db/database.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { withDeployment } from '../../testing/migrations.js';
import { decodeTensors } from './logged-tensors.js';
import { writerThreadSink, type LogRow, type PredictionSink, type WriterTarget } from './prediction-sink.js';
import { DeploymentStore } from './store.js';
import type { Tensor } from './tensors.js';

const input: Tensor = { name: 'x ü', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(0.5, -1e-7) };
const label: Tensor = { name: 'label', datatype: 'INT64', shape: [1], data: BigInt64Array.of(1n) };

function row(requestId: string, at: number, shadowed = false): LogRow {
  return {
    deployment_id: 'd1',
    request_id: requestId,
    version: 3,
    route: 'candidate',
    outcome: 'ok',
    error: null,
    latency_ms: 0.125,
    output_label: '1',
    output_value: null,
    inputs: [input],
    outputs: [label],
    created_at: at,
    shadow_version: shadowed ? 4 : null,
    shadow_outcome: shadowed ? 'error' : null,
    shadow_error: shadowed ? 'shape "x": 2 ≠ 3' : null,
    shadow_latency_ms: shadowed ? 2.5 : null,
    shadow_label: null,
    shadow_value: shadowed ? -0.75 : null,
    shadow_outputs: null,
  };
}

for (const engine of ENGINES) {
  describe(`prediction log writer thread on ${engine}`, () => {
    let store: TestStore;
    let database: Database;
    let sink: PredictionSink;
    let target: WriterTarget;

    before(async () => {
      store = await createTestStore(engine);
      database = await openDatabase({ url: store.url });
      await database.migrate();
      await withDeployment(database.db as unknown as Kysely<unknown>, engine, async () => {});
      target =
        engine === 'sqlite'
          ? { engine, file: store.url.slice('sqlite:'.length) }
          : { engine, url: store.url, statementTimeoutMs: 10_000 };
      sink = writerThreadSink(target);
    });
    after(async () => {
      await sink.close();
      await database.close();
      await store.cleanup();
    });

    it('writes every column as the store reads it back', async () => {
      // More rows than one transaction holds, so the batch takes several.
      const rows = Array.from({ length: 250 }, (_, i) => row(`r-${i}`, 1000 + i, i % 2 === 1));
      await sink.insert(rows);
      const stored = await new DeploymentStore(database.db).recentPredictions('d1', 1000);
      assert.equal(stored.length, 250);
      const newest = stored[0]!;
      assert.equal(newest.request_id, 'r-249');
      assert.equal(Number(newest.version), 3);
      assert.equal(newest.route, 'candidate');
      assert.equal(Number(newest.latency_ms), 0.125);
      assert.equal(newest.output_label, '1');
      assert.equal(newest.output_value, null);
      assert.equal(Number(newest.created_at), 1249);
      assert.deepEqual(decodeTensors(newest.inputs), {
        'x ü': { datatype: 'FP32', shape: [1, 2], data: [0.5, Math.fround(-1e-7)] },
      });
      assert.deepEqual(decodeTensors(newest.outputs), { label: { datatype: 'INT64', shape: [1], data: [1] } });
      assert.equal(Number(newest.shadow_version), 4);
      assert.equal(newest.shadow_error, 'shape "x": 2 ≠ 3');
      assert.equal(Number(newest.shadow_value), -0.75);
      assert.equal(newest.shadow_outputs, null);
      const plain = stored[1]!;
      assert.equal(plain.shadow_version, null);
      assert.equal(plain.shadow_latency_ms, null);
    });

    it('fails a batch the store refuses, and writes the next one', async () => {
      const bad = { ...row('bad', 2000), request_id: null as unknown as string };
      await assert.rejects(sink.insert([row('before-bad', 2000), bad]), /null|NOT NULL/i);
      await sink.insert([row('after-bad', 2001)]);
      const ids = (await new DeploymentStore(database.db).recentPredictions('d1', 3)).map((r) => r.request_id);
      assert.equal(ids[0], 'after-bad');
      assert.ok(!ids.includes('before-bad'), 'the refused transaction wrote none of its rows');
    });

    if (engine === 'postgres') {
      it('reconnects after losing its connection: the batches after the loss are written', async () => {
        const admin = new pg.Client({ connectionString: store.url });
        await admin.connect();
        try {
          const { rowCount } = await admin.query(
            `select pg_terminate_backend(pid) from pg_stat_activity
             where datname = current_database() and pid <> pg_backend_pid() and query like 'INSERT INTO predictions%'`,
          );
          assert.equal(rowCount, 1, "the writer's connection (its last statement was the log's INSERT)");
        } finally {
          await admin.end();
        }
        // The loss is seen by the next write at the latest, which may fail; the one after it reconnects.
        let failures = 0;
        for (let i = 0; i < 2; i++) {
          await sink.insert([row(`after-loss-${i}`, 3000 + i)]).catch(() => failures++);
        }
        await sink.insert([row('after-loss-last', 3002)]);
        assert.ok(failures <= 1, `${failures} writes failed after one lost connection`);
        const ids = (await new DeploymentStore(database.db).recentPredictions('d1', 1)).map((r) => r.request_id);
        assert.deepEqual(ids, ['after-loss-last']);
      });
    }
  });
}
