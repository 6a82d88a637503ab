// The generated client logs a run end to end against a real server, and the MLflow REST API (the
// other front door over the same tracking service) reads back exactly what it wrote.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerProcess } from '@hangar/server/testing';
import { HangarApiError, HangarClient } from './index.js';

const PASSWORD = 'sdk-tracking-password';
const TOKEN = `hgr_sdktrack${'x'.repeat(24)}`;

interface MlflowRun {
  info: { run_id: string; run_name: string; status: string; start_time: number; end_time?: number };
  data: {
    metrics: { key: string; value: number | string; step: number; timestamp: number }[];
    params: { key: string; value: string }[];
    tags: { key: string; value: string }[];
  };
}

const byKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => (a.key < b.key ? -1 : 1));

describe('HangarClient logs a run; the MLflow API sees the same run', () => {
  let server: ServerProcess;
  let dataDir: string;
  let client: HangarClient;

  const mlflowGet = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${server.url}/api/2.0/mlflow/${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-sdk-tracking-'));
    server = await startServer(['--data-dir', dataDir], {
      env: { ...process.env, HANGAR_ADMIN_PASSWORD: PASSWORD, HANGAR_ADMIN_TOKEN: TOKEN },
    });
    client = new HangarClient({ baseUrl: server.url, token: TOKEN });
  });
  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('create a run, log a batch, finish it, read it back through both doors', async () => {
    const experiment = await client.createExperiment({ project: 'default', body: { name: 'sdk-tracking' } });
    const start = Date.now() - 10_000;
    const created = await client.createRun({
      id: experiment.experimentId,
      body: { runName: 'sdk-run', startTime: start, tags: [{ key: 'source', value: 'sdk' }] },
    });
    const runId = created.info.runId;
    assert.equal(created.info.status, 'RUNNING');

    const logged = await client.logRunBatch({
      id: runId,
      body: {
        metrics: [
          { key: 'loss', value: 0.7, step: 0, timestamp: start + 1 },
          { key: 'loss', value: 0.3, step: 1, timestamp: start + 2 },
          { key: 'précision', value: 'NaN', step: 1, timestamp: start + 2 },
          { key: 'gain', value: 'Infinity', step: 1, timestamp: start + 2 },
        ],
        params: [{ key: 'lr', value: '0.001' }],
        tags: [{ key: 'stage', value: 'train' }],
      },
    });
    assert.equal(logged, undefined);
    const end = Date.now();
    const finished = await client.updateRun({ id: runId, body: { status: 'FINISHED', endTime: end } });
    assert.equal(finished.info.status, 'FINISHED');

    const run = await client.getRun({ id: runId });
    assert.equal(run.info.runName, 'sdk-run');
    assert.equal(run.info.endTime, end);
    assert.deepEqual(
      byKey(run.data.metrics).map((m) => [m.key, m.value, m.step]),
      [
        ['gain', 'Infinity', 1],
        ['loss', 0.3, 1],
        ['précision', 'NaN', 1],
      ],
    );
    assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.001' }]);
    const history = await client.getMetricHistory({ id: runId, key: 'loss' });
    assert.deepEqual(
      history.items.map((m) => m.value),
      [0.7, 0.3],
    );

    const viaMlflow = (await mlflowGet<{ run: MlflowRun }>(`runs/get?run_id=${runId}`)).run;
    assert.equal(viaMlflow.info.run_id, runId);
    assert.equal(viaMlflow.info.run_name, 'sdk-run');
    assert.equal(viaMlflow.info.status, 'FINISHED');
    assert.equal(viaMlflow.info.start_time, start);
    assert.equal(viaMlflow.info.end_time, end);
    assert.deepEqual(
      byKey(viaMlflow.data.metrics).map(({ key, value, step, timestamp }) => ({ key, value, step, timestamp })),
      byKey(run.data.metrics),
    );
    assert.deepEqual(byKey(viaMlflow.data.params), byKey(run.data.params));
    assert.deepEqual(byKey(viaMlflow.data.tags), byKey(run.data.tags));
    const mlflowHistory = await mlflowGet<{ metrics: { value: number }[] }>(
      `metrics/get-history?run_id=${runId}&metric_key=loss`,
    );
    assert.deepEqual(
      mlflowHistory.metrics.map((m) => m.value),
      [0.7, 0.3],
    );
  });

  test('a refused batch is a HangarApiError naming the field, and writes nothing', async () => {
    const experiment = await client.createExperiment({ project: 'default', body: { name: 'sdk-refused' } });
    const { info } = await client.createRun({ id: experiment.experimentId, body: {} });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ key: `m${i}`, value: i }));
    const err = await client.logRunBatch({ id: info.runId, body: { metrics: tooMany } }).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HangarApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_input');
    assert.deepEqual(err.details, { field: 'body.metrics' });
    assert.deepEqual((await client.getRun({ id: info.runId })).data.metrics, []);

    const missing = await client.deleteRunTag({ id: info.runId, key: 'no-such-tag' }).then(
      () => assert.fail('expected a 404'),
      (e: unknown) => e,
    );
    assert.ok(missing instanceof HangarApiError);
    assert.equal(missing.status, 404);
  });
});
