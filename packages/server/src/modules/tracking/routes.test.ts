// The native tracking API's writes (/api/v1) on both engines: runs created, logged to, finished,
// deleted and restored, experiments renamed, tagged, deleted and restored, logged models created and
// finalized; what one door writes the other reads (the MLflow adapter serves the same service); bad
// input is a 400 naming the field and writes nothing; viewers cannot write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import type { DB } from '../../db/schema.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { auditEvents, call, countRows, eventually, type Headers } from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import {
  createExperiment,
  createRun,
  mlflow,
  ok,
  projectFixture,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';

interface KeyValue {
  key: string;
  value: string;
}
interface RunJson {
  info: {
    runId: string;
    runName: string;
    experimentId: string;
    userId: string;
    status: string;
    startTime: number;
    endTime: number | null;
    artifactUri: string;
    lifecycleStage: string;
  };
  data: {
    metrics: { key: string; value: number | string; step: number; timestamp: number }[];
    params: KeyValue[];
    tags: KeyValue[];
  };
}
interface ExperimentJson {
  experimentId: string;
  name: string;
  lifecycleStage: string;
  tags: KeyValue[];
}
interface MlflowRun {
  info: { run_id: string; run_name: string; status: string; end_time?: number; lifecycle_stage: string };
  data: { metrics: { key: string; value: number | string; step: number }[]; params: KeyValue[]; tags: KeyValue[] };
}

const TRACKED = [
  'experiments',
  'experiment_tags',
  'runs',
  'run_params',
  'run_tags',
  'metrics',
  'latest_metrics',
  'logged_models',
  'logged_model_params',
  'logged_model_tags',
] as const satisfies readonly (keyof DB)[];

async function writesNothing(app: HangarApp, what: string, fn: () => Promise<void>): Promise<void> {
  const count = async () => Promise.all(TRACKED.map((t) => countRows(app, t)));
  const before = await count();
  await fn();
  assert.deepEqual(await count(), before, `${what} must write nothing`);
}

function expectStatus(res: LightMyRequestResponse, status: number, what = ''): void {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body.slice(0, 400)}`);
}

/** Asserts the native error shape with its status and code, and the field it names (if given). */
function expectError(res: LightMyRequestResponse, status: number, code: string, field?: string, what = ''): string {
  expectStatus(res, status, what);
  const body = res.json<{
    error: { code: string; message: string; requestId: string; details?: { field?: string } };
  }>();
  assert.deepEqual(Object.keys(body), ['error'], what);
  assert.equal(body.error.code, code, `${what}: ${res.body}`);
  assert.equal(typeof body.error.requestId, 'string');
  if (field !== undefined) assert.equal(body.error.details?.field, field, `${what}: ${res.body}`);
  return body.error.message;
}

const sortByKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => (a.key < b.key ? -1 : 1));

for (const engine of ENGINES) {
  describe(`native tracking writes (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;

    const json = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET', url: string, headers: Headers, body?: unknown) =>
      call(app, method, url, headers, body);
    const newRun = async (headers: Headers = adminAuth, body: Record<string, unknown> = {}) => {
      const res = await json('POST', `/api/v1/experiments/${f.experimentId}/runs`, headers, body);
      expectStatus(res, 201, 'create run');
      return res.json<RunJson>();
    };
    const getRun = async (id: string) => {
      const res = await json('GET', `/api/v1/runs/${id}`, adminAuth);
      expectStatus(res, 200, 'get run');
      return res.json<RunJson>();
    };

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      f = await projectFixture(app, `nat-${engine}`);
    });
    after(async () => {
      await app?.close();
      await store?.cleanup();
    });

    test('a run created, logged to and finished natively reads the same through the MLflow API', async () => {
      const start = Date.now() - 60_000;
      const created = await newRun(f.developer, {
        runName: 'native-run',
        startTime: start,
        tags: [{ key: 'team', value: 'vision' }],
      });
      const id = created.info.runId;
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(created.info.status, 'RUNNING');
      assert.equal(created.info.runName, 'native-run');
      assert.equal(created.info.startTime, start);
      assert.equal(created.info.endTime, null);
      assert.equal(created.info.experimentId, f.experimentId);
      assert.deepEqual(
        sortByKey(created.data.tags).map((t) => t.key),
        ['mlflow.runName', 'mlflow.user', 'team'],
      );

      const batch = await json('POST', `/api/v1/runs/${id}/log-batch`, f.developer, {
        metrics: [
          { key: 'loss', value: 0.9, step: 0, timestamp: start + 1 },
          { key: 'loss', value: 0.25, step: 1, timestamp: start + 2 },
          // JSON has no NaN or infinities: they travel as MLflow's strings.
          { key: 'précision', value: 'NaN', step: 1, timestamp: start + 2 },
          { key: '損失', value: '-Infinity', step: 1, timestamp: start + 2 },
        ],
        params: [
          { key: 'lr', value: '0.01' },
          { key: 'optimizer/name', value: 'adam' },
        ],
        tags: [{ key: 'stage', value: 'train' }],
      });
      expectStatus(batch, 204, 'log-batch');
      assert.equal(batch.body, '');
      // The same param value again is fine (MLflow's rule).
      expectStatus(
        await json('POST', `/api/v1/runs/${id}/log-batch`, f.developer, { params: [{ key: 'lr', value: '0.01' }] }),
        204,
      );

      const end = Date.now();
      const finished = await json('PATCH', `/api/v1/runs/${id}`, f.developer, { status: 'FINISHED', endTime: end });
      expectStatus(finished, 200, 'finish');
      assert.equal(finished.json<RunJson>().info.status, 'FINISHED');
      assert.equal(finished.json<RunJson>().info.endTime, end);

      const native = await getRun(id);
      assert.deepEqual(native.info, { ...created.info, status: 'FINISHED', endTime: end });
      assert.deepEqual(
        sortByKey(native.data.metrics).map((m) => [m.key, m.value, m.step]),
        [
          ['loss', 0.25, 1],
          ['précision', 'NaN', 1],
          ['損失', '-Infinity', 1],
        ],
      );
      assert.deepEqual(sortByKey(native.data.params), [
        { key: 'lr', value: '0.01' },
        { key: 'optimizer/name', value: 'adam' },
      ]);
      const history = await json('GET', `/api/v1/runs/${id}/metrics/loss/history`, f.viewer);
      expectStatus(history, 200);
      assert.deepEqual(
        history.json<{ items: { value: number }[] }>().items.map((m) => m.value),
        [0.9, 0.25],
      );

      const viaMlflow = ok<{ run: MlflowRun }>(
        await mlflow(app, 'GET', `runs/get?run_id=${id}`, undefined, f.viewer),
      ).run;
      assert.equal(viaMlflow.info.run_id, id);
      assert.equal(viaMlflow.info.run_name, 'native-run');
      assert.equal(viaMlflow.info.status, 'FINISHED');
      assert.equal(viaMlflow.info.end_time, end);
      assert.deepEqual(
        sortByKey(viaMlflow.data.metrics).map((m) => [m.key, m.value, m.step]),
        sortByKey(native.data.metrics).map((m) => [m.key, m.value, m.step]),
      );
      assert.deepEqual(sortByKey(viaMlflow.data.params), sortByKey(native.data.params));
      assert.deepEqual(sortByKey(viaMlflow.data.tags), sortByKey(native.data.tags));

      // And the other way: what the MLflow door logs, the native door reads.
      ok(await mlflow(app, 'POST', 'runs/log-metric', { run_id: id, key: 'acc', value: 0.8, step: 2 }, f.developer));
      const acc = (await getRun(id)).data.metrics.find((m) => m.key === 'acc');
      assert.deepEqual([acc?.value, acc?.step], [0.8, 2]);
    });

    test('rename, nested runs, tag removal, delete and restore; lifecycle changes are audited', async () => {
      const parent = (await newRun(f.developer)).info.runId;
      const child = await newRun(f.developer, { parentRunId: parent, runName: 'child' });
      assert.deepEqual(
        child.data.tags.find((t) => t.key === 'mlflow.parentRunId'),
        {
          key: 'mlflow.parentRunId',
          value: parent,
        },
      );
      const id = child.info.runId;
      // The MLflow tag and the field must agree.
      expectError(
        await json('POST', `/api/v1/experiments/${f.experimentId}/runs`, f.developer, {
          parentRunId: parent,
          tags: [{ key: 'mlflow.parentRunId', value: '0'.repeat(32) }],
        }),
        400,
        'invalid_input',
        'parentRunId',
      );

      const renamed = await json('PATCH', `/api/v1/runs/${id}`, f.developer, { runName: 'child-renamed' });
      expectStatus(renamed, 200);
      assert.equal(renamed.json<RunJson>().info.runName, 'child-renamed');
      assert.equal(renamed.json<RunJson>().data.tags.find((t) => t.key === 'mlflow.runName')?.value, 'child-renamed');

      // Tag keys travel in the path: unicode and slashes are one encoded segment.
      for (const key of ['stage', 'données/étape']) {
        expectStatus(
          await json('POST', `/api/v1/runs/${id}/log-batch`, f.developer, { tags: [{ key, value: 'x' }] }),
          204,
        );
        const url = `/api/v1/runs/${id}/tags/${encodeURIComponent(key)}`;
        expectStatus(await json('DELETE', url, f.developer), 204, `delete tag ${key}`);
        assert.equal(
          (await getRun(id)).data.tags.find((t) => t.key === key),
          undefined,
        );
        expectError(await json('DELETE', url, f.developer), 404, 'not_found', undefined, `delete ${key} again`);
      }
      expectError(await json('DELETE', `/api/v1/runs/${id}/tags/a%00b`, f.developer), 400, 'invalid_input');

      expectStatus(await json('DELETE', `/api/v1/runs/${id}`, f.developer), 204, 'delete run');
      assert.equal((await getRun(id)).info.lifecycleStage, 'deleted');
      assert.equal(
        ok<{ run: MlflowRun }>(await mlflow(app, 'GET', `runs/get?run_id=${id}`)).run.info.lifecycle_stage,
        'deleted',
      );
      const search = await json('POST', '/api/v1/runs/search', adminAuth, { experimentIds: [f.experimentId] });
      assert.ok(!search.json<{ items: RunJson[] }>().items.some((r) => r.info.runId === id), 'deleted runs are hidden');
      await writesNothing(app, 'logging to a deleted run', async () => {
        expectError(
          await json('POST', `/api/v1/runs/${id}/log-batch`, f.developer, { metrics: [{ key: 'm', value: 1 }] }),
          400,
          'invalid_input',
          'run_id',
        );
      });
      const restored = await json('POST', `/api/v1/runs/${id}/restore`, f.developer);
      expectStatus(restored, 200, 'restore run');
      assert.equal(restored.json<RunJson>().info.lifecycleStage, 'active');

      const events = await eventually(async () => {
        const found = (await auditEvents(app)).filter((e) => e.target === id);
        return found.length === 3 ? found : undefined;
      }, 'run create, delete, restore events');
      assert.deepEqual(events.map((e) => e.action).sort(), ['run.create', 'run.delete', 'run.restore']);
    });

    test('log-batch: bad input is a 400 naming the field, and a refused batch writes nothing', async () => {
      const id = (await newRun(f.developer)).info.runId;
      expectStatus(
        await json('POST', `/api/v1/runs/${id}/log-batch`, f.developer, { params: [{ key: 'lr', value: '0.1' }] }),
        204,
      );
      const url = `/api/v1/runs/${id}/log-batch`;
      const metric = (i: number) => ({ key: `m${i}`, value: i, step: 0, timestamp: 1 });
      const cases: [string, unknown, string, string][] = [
        ['metrics not a list', { metrics: 'loss' }, 'invalid_input', 'body.metrics'],
        ['value not a number', { metrics: [{ key: 'm', value: true }] }, 'invalid_input', 'body.metrics.0.value'],
        ['value a bad string', { metrics: [{ key: 'm', value: 'fast' }] }, 'invalid_input', 'body.metrics.0.value'],
        [
          'step not an integer',
          { metrics: [{ key: 'm', value: 1, step: 1.5 }] },
          'invalid_input',
          'body.metrics.0.step',
        ],
        ['step past 2^53', { metrics: [{ key: 'm', value: 1, step: 1e300 }] }, 'invalid_input', 'metrics[0].step'],
        [
          'negative timestamp',
          { metrics: [{ key: 'm', value: 1, timestamp: -1 }] },
          'invalid_input',
          'body.metrics.0.timestamp',
        ],
        ['missing key', { metrics: [{ value: 1 }] }, 'invalid_input', 'body.metrics.0.key'],
        ['unknown field', { metrics: [{ key: 'm', value: 1, unit: 's' }] }, 'invalid_input', 'body.metrics.0.unit'],
        ['param value a number', { params: [{ key: 'p', value: 1 }] }, 'invalid_input', 'body.params.0.value'],
        [
          'param value too long',
          { params: [{ key: 'p', value: 'x'.repeat(6001) }] },
          'invalid_input',
          'body.params.0.value',
        ],
        ['tag key too long', { tags: [{ key: 'k'.repeat(251), value: 'v' }] }, 'invalid_input', 'body.tags.0.key'],
        ['emoji in a key', { metrics: [{ key: 'loss😀', value: 1 }] }, 'invalid_input', 'key'],
        ['key resolving to another', { params: [{ key: 'a/../b', value: '1' }] }, 'invalid_input', 'key'],
        ['NUL in a tag value', { tags: [{ key: 't', value: 'a\u0000b' }] }, 'invalid_input', 'value'],
        [
          'too many metrics',
          { metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) },
          'invalid_input',
          'body.metrics',
        ],
        [
          'too many params',
          { params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' })) },
          'invalid_input',
          'body.params',
        ],
        [
          'too many items in all',
          {
            metrics: Array.from({ length: 950 }, (_, i) => metric(i)),
            tags: Array.from({ length: 60 }, (_, i) => ({ key: `t${i}`, value: '1' })),
          },
          'invalid_input',
          'metrics',
        ],
        // Atomic: the good metric and param before the changed param are not written either.
        [
          'a param changing value',
          {
            metrics: [metric(1)],
            params: [
              { key: 'new', value: '1' },
              { key: 'lr', value: '0.2' },
            ],
          },
          'invalid_input',
          'params',
        ],
        [
          'one bad metric among good ones',
          { metrics: [metric(1), metric(2), { key: 'm3', value: 'Infinity!' }] },
          'invalid_input',
          'body.metrics.2.value',
        ],
      ];
      await writesNothing(app, 'refused batches', async () => {
        for (const [what, body, code, field] of cases) {
          expectError(await json('POST', url, f.developer, body), 400, code, field, what);
        }
        const malformed = await app.http.inject({
          method: 'POST',
          url,
          headers: { ...f.developer, 'content-type': 'application/json' },
          payload: '{"metrics": [{"key": "m", "value": 1}',
        });
        expectError(malformed, 400, 'invalid_json', undefined, 'malformed JSON');
        expectError(
          await json('POST', `/api/v1/runs/${'0'.repeat(32)}/log-batch`, f.developer, { metrics: [metric(1)] }),
          404,
          'not_found',
        );
        expectError(
          await json('POST', '/api/v1/runs/not-a-run/log-batch', f.developer, { metrics: [metric(1)] }),
          400,
          'invalid_input',
          'params.id',
        );
      });
      const run = await getRun(id);
      assert.deepEqual(run.data.metrics, []);
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);

      // At the limits exactly, the batch is taken.
      expectStatus(
        await json('POST', url, f.developer, {
          metrics: Array.from({ length: 900 }, (_, i) => metric(i)),
          params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
        }),
        204,
      );
      assert.equal((await getRun(id)).data.metrics.length, 900);
    });

    test('run create and update refuse bad input and unknown experiments', async () => {
      const gone = await createExperiment(app, f.project, `nat-${engine}-gone`);
      ok(await mlflow(app, 'POST', 'experiments/delete', { experiment_id: gone }));
      const id = (await newRun(f.developer)).info.runId;
      const before = await getRun(id);
      await writesNothing(app, 'refused creates and updates', async () => {
        const create = (exp: string, body: unknown) =>
          json('POST', `/api/v1/experiments/${exp}/runs`, f.developer, body);
        expectError(await create('999999', {}), 404, 'not_found', undefined, 'unknown experiment');
        expectError(await create('x', {}), 400, 'invalid_input', 'params.id');
        expectError(await create(gone, {}), 400, 'invalid_input', 'experiment_id', 'deleted experiment');
        expectError(await create(f.experimentId, { runName: 'r'.repeat(501) }), 400, 'invalid_input', 'body.runName');
        expectError(await create(f.experimentId, { startTime: 'now' }), 400, 'invalid_input', 'body.startTime');
        expectError(await create(f.experimentId, { parentRunId: 'p' }), 400, 'invalid_input', 'body.parentRunId');
        expectError(await create(f.experimentId, { name: 'r' }), 400, 'invalid_input', 'body.name');
        expectError(
          await create(f.experimentId, { tags: [{ key: 'bad:key?', value: 'v' }] }),
          400,
          'invalid_input',
          'key',
        );

        const update = (body: unknown) => json('PATCH', `/api/v1/runs/${id}`, f.developer, body);
        expectError(await update({}), 400, 'invalid_input', undefined, 'empty update');
        expectError(await update({ status: 'DONE' }), 400, 'invalid_input', 'body.status');
        expectError(await update({ endTime: '1' }), 400, 'invalid_input', 'body.endTime');
        expectError(await update({ runName: '' }), 400, 'invalid_input', 'body.runName');
        expectError(
          await json('PATCH', `/api/v1/runs/${'f'.repeat(32)}`, f.developer, { status: 'FINISHED' }),
          404,
          'not_found',
        );
        expectError(await json('DELETE', `/api/v1/runs/${'f'.repeat(32)}`, f.developer), 404, 'not_found');
        expectError(await json('POST', `/api/v1/runs/${'f'.repeat(32)}/restore`, f.developer), 404, 'not_found');
      });
      assert.deepEqual(await getRun(id), before);
    });

    test('experiments: rename, set and delete tags, delete and restore; audited', async () => {
      const id = await createExperiment(app, f.project, `nat-${engine}-lifecycle`);
      const url = `/api/v1/experiments/${id}`;
      const renamed = await json('PATCH', url, f.developer, { name: `nat-${engine}-renamed` });
      expectStatus(renamed, 200);
      assert.equal(renamed.json<ExperimentJson>().name, `nat-${engine}-renamed`);
      assert.equal(
        ok<{ experiment: { name: string } }>(await mlflow(app, 'GET', `experiments/get?experiment_id=${id}`)).experiment
          .name,
        `nat-${engine}-renamed`,
      );
      expectError(await json('PATCH', url, f.developer, { name: `nat-${engine}-exp-2` }), 409, 'conflict');
      expectError(await json('PATCH', url, f.developer, { name: '' }), 400, 'invalid_input', 'body.name');
      expectError(await json('PATCH', url, f.developer, { name: 'a\u0001b' }), 400, 'invalid_input', 'name');

      const tagUrl = `${url}/tags/${encodeURIComponent('données')}`;
      const tagged = await json('PUT', tagUrl, f.developer, { value: 'v1' });
      expectStatus(tagged, 200);
      assert.deepEqual(tagged.json<ExperimentJson>().tags, [{ key: 'données', value: 'v1' }]);
      expectStatus(await json('PUT', tagUrl, f.developer, { value: 'v2' }), 200);
      assert.deepEqual(
        ok<{ experiment: { tags: KeyValue[] } }>(await mlflow(app, 'GET', `experiments/get?experiment_id=${id}`))
          .experiment.tags,
        [{ key: 'données', value: 'v2' }],
      );
      expectError(
        await json('PUT', tagUrl, f.developer, { value: 'x'.repeat(20_001) }),
        400,
        'invalid_input',
        'body.value',
      );
      expectError(await json('PUT', tagUrl, f.developer, {}), 400, 'invalid_input', 'body.value');
      expectStatus(await json('DELETE', tagUrl, f.developer), 204);
      expectError(await json('DELETE', tagUrl, f.developer), 404, 'not_found');
      assert.deepEqual((await json('GET', url, f.viewer)).json<ExperimentJson>().tags, []);

      expectStatus(await json('DELETE', url, f.developer), 204);
      assert.equal((await json('GET', url, f.viewer)).json<ExperimentJson>().lifecycleStage, 'deleted');
      expectError(await json('POST', `${url}/runs`, f.developer, {}), 400, 'invalid_input', 'experiment_id');
      const restored = await json('POST', `${url}/restore`, f.developer);
      expectStatus(restored, 200);
      assert.equal(restored.json<ExperimentJson>().lifecycleStage, 'active');
      expectError(await json('DELETE', '/api/v1/experiments/0', adminAuth), 400, 'invalid_input', 'experiment_id');
      expectError(await json('DELETE', '/api/v1/experiments/999999', adminAuth), 404, 'not_found');

      const events = await eventually(async () => {
        const found = (await auditEvents(app)).filter((e) => e.target === id && e.outcome === 'success');
        return found.length === 4 ? found : undefined;
      }, 'experiment events');
      assert.deepEqual(events.map((e) => e.action).sort(), [
        'experiment.create',
        'experiment.delete',
        'experiment.restore',
        'experiment.update',
      ]);
    });

    test('logged models: create and finalize natively, read through the MLflow API', async () => {
      const runId = (await newRun(f.developer)).info.runId;
      const created = await json('POST', `/api/v1/experiments/${f.experimentId}/logged-models`, f.developer, {
        name: 'classifier',
        modelType: 'sklearn',
        sourceRunId: runId,
        params: [{ key: 'C', value: '1.0' }],
        tags: [{ key: 'owner', value: 'vision' }],
      });
      expectStatus(created, 201);
      const model = created.json<{ modelId: string; status: string; sourceRunId: string; params: KeyValue[] }>();
      assert.equal(model.status, 'PENDING');
      assert.equal(model.sourceRunId, runId);
      assert.deepEqual(model.params, [{ key: 'C', value: '1.0' }]);
      const ready = await json('PATCH', `/api/v1/logged-models/${model.modelId}`, f.developer, { status: 'READY' });
      expectStatus(ready, 200);
      assert.equal(ready.json<{ status: string }>().status, 'READY');
      const viaMlflow = ok<{ model: { info: { status: string; name: string; tags: KeyValue[] } } }>(
        await mlflow(app, 'GET', `logged-models/${model.modelId}`),
      ).model.info;
      assert.equal(viaMlflow.status, 'LOGGED_MODEL_READY');
      assert.equal(viaMlflow.name, 'classifier');
      assert.deepEqual(viaMlflow.tags, [{ key: 'owner', value: 'vision' }]);

      const otherRun = await createRun(app, f.secondExperimentId, f.developer);
      await writesNothing(app, 'refused logged model writes', async () => {
        const create = (body: unknown, exp = f.experimentId) =>
          json('POST', `/api/v1/experiments/${exp}/logged-models`, f.developer, body);
        expectError(await create({ name: 'a/b' }), 400, 'invalid_input', 'name');
        expectError(await create({ name: 1 }), 400, 'invalid_input', 'body.name');
        expectError(await create({ sourceRunId: otherRun }), 400, 'invalid_input', 'source_run_id');
        expectError(await create({ params: [{ key: 'k', value: 2 }] }), 400, 'invalid_input', 'body.params.0.value');
        expectError(await create({}, '999999'), 404, 'not_found');
        expectError(
          await json('PATCH', `/api/v1/logged-models/${model.modelId}`, f.developer, { status: 'DONE' }),
          400,
          'invalid_input',
          'body.status',
        );
        expectError(
          await json('PATCH', `/api/v1/logged-models/m-${'0'.repeat(32)}`, f.developer, { status: 'READY' }),
          404,
          'not_found',
        );
      });
    });

    test('viewers and tokens scoped elsewhere cannot write (403); outsiders are told nothing (404); anonymous 401', async () => {
      const runId = (await newRun(f.developer)).info.runId;
      const exp = f.experimentId;
      expectStatus(
        await json('POST', `/api/v1/runs/${runId}/log-batch`, f.developer, { tags: [{ key: 't', value: 'v' }] }),
        204,
      );
      expectStatus(await json('PUT', `/api/v1/experiments/${exp}/tags/t`, f.developer, { value: 'v' }), 200);
      const model = (await json('POST', `/api/v1/experiments/${exp}/logged-models`, f.developer, {})).json<{
        modelId: string;
      }>().modelId;
      const writes: [method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown][] = [
        ['POST', `/api/v1/experiments/${exp}/runs`, {}],
        ['PATCH', `/api/v1/runs/${runId}`, { status: 'FINISHED' }],
        ['POST', `/api/v1/runs/${runId}/log-batch`, { metrics: [{ key: 'm', value: 1 }] }],
        ['DELETE', `/api/v1/runs/${runId}/tags/t`],
        ['DELETE', `/api/v1/runs/${runId}`],
        ['POST', `/api/v1/runs/${runId}/restore`],
        ['PATCH', `/api/v1/experiments/${exp}`, { name: 'taken-over' }],
        ['PUT', `/api/v1/experiments/${exp}/tags/t`, { value: 'w' }],
        ['DELETE', `/api/v1/experiments/${exp}/tags/t`],
        ['DELETE', `/api/v1/experiments/${exp}`],
        ['POST', `/api/v1/experiments/${exp}/restore`],
        ['POST', `/api/v1/experiments/${exp}/logged-models`, {}],
        ['PATCH', `/api/v1/logged-models/${model}`, { status: 'READY' }],
      ];
      const before = await getRun(runId);
      await writesNothing(app, 'refused callers', async () => {
        for (const [method, url, body] of writes) {
          expectError(await json(method, url, f.viewer, body), 403, 'forbidden', undefined, `viewer ${method} ${url}`);
          expectError(
            await json(method, url, f.outsider, body),
            404,
            'not_found',
            undefined,
            `outsider ${method} ${url}`,
          );
          // A token scoped to another project is refused whatever the admin behind it could do.
          expectError(
            await json(method, url, f.scopedToOther, body),
            403,
            'forbidden',
            undefined,
            `scoped ${method} ${url}`,
          );
          expectError(await json(method, url, f.anonymous, body), 401, 'unauthenticated', undefined, `anon ${url}`);
        }
      });
      assert.deepEqual(await getRun(runId), before);
      assert.equal(
        (await json('GET', `/api/v1/experiments/${exp}`, f.viewer)).json<ExperimentJson>().lifecycleStage,
        'active',
      );
    });
  });
}
