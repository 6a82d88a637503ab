import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { decodeTensors, encodeTensors } from '../../modules/serving/logged-tensors.js';
import { migrationTest, withDeployment } from '../../testing/migrations.js';

// 0012 turns the log's tensor columns into bytes on both engines: the JSON text of rows written
// before reads back as it was, and the new encoding is stored and read back byte for byte.
migrationTest(
  '0012',
  'JSON text rows keep reading back; encoded tensors are stored as bytes',
  async (db, migrator, engine) => {
    assert.equal((await migrator.migrateTo('0011_run_revisions')).error, undefined);

    const old = {
      x: { datatype: 'FP32', shape: [1, 2], data: [0.5, null] },
      s: { datatype: 'BYTES', shape: [1], data: ['é'] },
    };
    await withDeployment(db, engine, async (c) => {
      const row = (seq: number, inputs: string | null, shadow: string | null) =>
        sql`insert into predictions (deployment_id, request_id, version, route, outcome, latency_ms, inputs, outputs, shadow_outputs, created_at)
        values ('d1', ${`r${seq}`}, 1, 'stable', 'ok', 1, ${inputs}, '{"y":{"datatype":"INT64","shape":[1],"data":[3]}}', ${shadow}, ${seq})`.execute(
          c,
        );
      await row(1, JSON.stringify(old), null);
      await row(2, null, '{"y":{"datatype":"INT64","shape":[1],"data":[4]}}');
    });
    assert.equal((await migrator.migrateTo('0012_prediction_tensor_bytes')).error, undefined);

    const encoded = encodeTensors([{ name: 'x', datatype: 'FP64', shape: [2], data: Float64Array.of(0.1, -3) }]);
    await sql`insert into predictions (deployment_id, request_id, version, route, outcome, latency_ms, inputs, created_at)
    values ('d1', 'r3', 1, 'stable', 'ok', 1, ${encoded}, 3)`.execute(db);
    type Stored = Uint8Array | null;
    const rows = await sql<{ inputs: Stored; outputs: Stored; shadow_outputs: Stored }>`
    select inputs, outputs, shadow_outputs from predictions order by created_at`.execute(db);
    const y = (v: number) => ({ y: { datatype: 'INT64', shape: [1], data: [v] } });
    assert.deepEqual(
      rows.rows.map((r) => [decodeTensors(r.inputs), decodeTensors(r.outputs), decodeTensors(r.shadow_outputs)]),
      [
        [old, y(3), null],
        [null, y(3), y(4)],
        [{ x: { datatype: 'FP64', shape: [2], data: [0.1, -3] } }, null, null],
      ],
    );
    assert.ok(Buffer.from(rows.rows[2]!.inputs!).equals(encoded), 'stored byte for byte');
  },
);
