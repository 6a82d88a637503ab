// MLflow 3 logged models through the MLflow adapter and the native API, on both engines: the
// lifecycle (create, get, finalize with MLflow's status names, delete), tags, immutable params,
// search with filters, order_by and page tokens, metrics logged with a model_id, links to runs,
// and project roles. A rejected request writes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HangarApp } from '../../app.js';
import type { DB } from '../../db/schema.js';
import { InputError } from '../../core/errors.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  call,
  countRows,
  createProject,
  eventually,
  type Headers,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import {
  createExperiment,
  createLoggedModel,
  createRun,
  mlflow,
  mlflowError,
  ok,
  projectFixture,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';
import { parseLoggedModelFilter } from '../tracking/search/index.js';

interface ModelJson {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type?: string;
    source_run_id?: string;
    tags: { key: string; value: string }[];
  };
  data: {
    params: { key: string; value: string }[];
    metrics: {
      key: string;
      value: number | string;
      step: number;
      timestamp: number;
      model_id: string;
      run_id?: string;
      dataset_name?: string;
      dataset_digest?: string;
    }[];
  };
}

const TS = 1_700_000_000_000;
const TRACKED: (keyof DB)[] = [
  'logged_models',
  'logged_model_params',
  'logged_model_tags',
  'logged_model_metrics',
  'run_models',
  'metrics',
  'latest_metrics',
  'run_params',
  'run_tags',
  'datasets',
  'run_inputs',
];

async function counts(app: HangarApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TRACKED) out[t] = await countRows(app, t);
  return out;
}

/** Runs `fn` and asserts that no tracking or logged-model table gained or lost a row. */
async function writesNothing(app: HangarApp, what: string, fn: () => Promise<void>): Promise<void> {
  const before = await counts(app);
  await fn();
  assert.deepEqual(await counts(app), before, `${what} must write nothing`);
}

const getModel = async (app: HangarApp, id: string, headers: Headers = adminAuth) =>
  ok<{ model: ModelJson }>(await mlflow(app, 'GET', `logged-models/${id}`, undefined, headers), `get ${id}`).model;

describe('parseLoggedModelFilter', () => {
  test('attributes, metrics, params and tags, with aliases', () => {
    assert.deepEqual(parseLoggedModelFilter(undefined), []);
    assert.deepEqual(parseLoggedModelFilter(null), []);
    assert.deepEqual(parseLoggedModelFilter('  '), []);
    assert.deepEqual(
      parseLoggedModelFilter(
        "name = 'clf' AND attributes.status != 'FAILED' AND metrics.acc >= 0.5 AND params.lr = '0.1' AND tags.`team name` LIKE 'a%'",
      ),
      [
        { type: 'attribute', key: 'name', comparator: '=', value: 'clf' },
        { type: 'attribute', key: 'status', comparator: '!=', value: 'FAILED' },
        { type: 'metric', key: 'acc', comparator: '>=', value: 0.5 },
        { type: 'parameter', key: 'lr', comparator: '=', value: '0.1' },
        { type: 'tag', key: 'team name', comparator: 'LIKE', value: 'a%' },
      ],
    );
    assert.deepEqual(parseLoggedModelFilter('creation_time > 5 AND last_updated_timestamp <= 10'), [
      { type: 'attribute', key: 'creation_timestamp', comparator: '>', value: 5 },
      { type: 'attribute', key: 'last_updated_timestamp', comparator: '<=', value: 10 },
    ]);
    assert.deepEqual(parseLoggedModelFilter("model_id IN ('m-1', 'm-2') AND model_type NOT IN ('x')"), [
      { type: 'attribute', key: 'model_id', comparator: 'IN', values: ['m-1', 'm-2'] },
      { type: 'attribute', key: 'model_type', comparator: 'NOT IN', values: ['x'] },
    ]);
    assert.deepEqual(parseLoggedModelFilter('source_run_id = "abc" AND name ILIKE \'%A%\''), [
      { type: 'attribute', key: 'source_run_id', comparator: '=', value: 'abc' },
      { type: 'attribute', key: 'name', comparator: 'ILIKE', value: '%A%' },
    ]);
  });

  test('what logged models cannot be filtered by is an InputError naming the filter', () => {
    for (const filter of [
      'name =',
      "name = 'a' OR name = 'b'",
      "foo.bar = 'x'",
      "datasets.name = 'iris'",
      "datasets.foo = 'iris'",
      "metrics.acc > 'high'",
      'metrics.acc LIKE 1',
      'params.lr = 0.1',
      'tags.t = unquoted',
      'name IS NULL',
      'tags.t IS NOT NULL',
      "unknown_attribute = 'x'",
      "creation_timestamp = 'yesterday'",
      'creation_timestamp LIKE 5',
      "name > 'a'",
      "metrics.acc IN ('1')",
      'name IN ()',
      "name IN ('a', 1)",
      "status = 'READY'; DROP TABLE logged_models",
      "name = 'a\u0000b'",
      'x'.repeat(100_001),
    ]) {
      assert.throws(
        () => parseLoggedModelFilter(filter),
        (err: unknown) => err instanceof InputError && err.field === 'filter',
        filter.slice(0, 80),
      );
    }
  });
});

for (const engine of ENGINES) {
  describe(`logged models (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;
    let runId: string;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      f = await projectFixture(app, `lm-${engine}`);
      runId = await createRun(app, f.experimentId, f.developer);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('create, get, finalize (MLflow status names), delete; creation and deletion are audited', async () => {
      const created = ok<{ model: ModelJson }>(
        await mlflow(
          app,
          'POST',
          'logged-models',
          {
            experiment_id: f.experimentId,
            name: 'clf',
            model_type: 'sklearn',
            source_run_id: runId,
            params: [{ key: 'lr', value: '0.1' }],
            tags: [
              { key: 'team', value: 'vision' },
              { key: 'mlflow.user', value: 'dev' },
            ],
          },
          f.developer,
        ),
      ).model;
      const id = created.info.model_id;
      assert.match(id, /^m-[0-9a-f]{32}$/);
      assert.equal(created.info.experiment_id, f.experimentId);
      assert.equal(created.info.name, 'clf');
      assert.equal(created.info.status, 'LOGGED_MODEL_PENDING');
      assert.equal(created.info.artifact_uri, `mlflow-artifacts:/${f.experimentId}/models/${id}/artifacts`);
      assert.equal(created.info.model_type, 'sklearn');
      assert.equal(created.info.source_run_id, runId);
      assert.deepEqual(created.info.tags, [
        { key: 'mlflow.user', value: 'dev' },
        { key: 'team', value: 'vision' },
      ]);
      assert.deepEqual(created.data, { params: [{ key: 'lr', value: '0.1' }], metrics: [] });
      assert.deepEqual(await getModel(app, id, f.viewer), created);

      const native = await call(app, 'GET', `/api/v1/logged-models/${id}`, f.viewer);
      assert.equal(native.statusCode, 200, native.body);
      const n = native.json<Record<string, unknown>>();
      assert.equal(n.modelId, id);
      assert.equal(n.status, 'PENDING');
      assert.equal(n.lifecycleStage, 'active');
      assert.equal(n.sourceRunId, runId);
      assert.equal(n.experimentId, f.experimentId);
      assert.equal((await call(app, 'GET', '/api/v1/logged-models/not-a-model', adminAuth)).statusCode, 400);
      assert.equal((await call(app, 'GET', `/api/v1/logged-models/m-${'0'.repeat(32)}`, adminAuth)).statusCode, 404);

      // Without a name, one is made up.
      const unnamed = await getModel(app, await createLoggedModel(app, f.experimentId, {}, f.developer));
      assert.match(unnamed.info.name, /^model-[0-9a-f]{8}$/);
      assert.equal(unnamed.info.model_type, undefined);

      // Finalizing takes MLflow's enum names and numbers.
      for (const [status, expected] of [
        ['LOGGED_MODEL_READY', 'LOGGED_MODEL_READY'],
        [3, 'LOGGED_MODEL_UPLOAD_FAILED'],
        ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_PENDING'],
        ['2', 'LOGGED_MODEL_READY'],
      ] as const) {
        const m = ok<{ model: ModelJson }>(
          await mlflow(app, 'PATCH', `logged-models/${id}`, { model_id: id, status }, f.developer),
          `finalize ${status}`,
        ).model;
        assert.equal(m.info.status, expected);
        assert.equal((await getModel(app, id)).info.status, expected);
        assert.ok(m.info.last_updated_timestamp_ms >= m.info.creation_timestamp_ms);
      }
      await writesNothing(app, 'bad finalize', async () => {
        for (const status of ['DONE', 'LOGGED_MODEL_STATUS_UNSPECIFIED', 0, 4, null, undefined, { s: 1 }, ['READY']]) {
          mlflowError(
            await mlflow(app, 'PATCH', `logged-models/${id}`, { status }, f.developer),
            400,
            'INVALID_PARAMETER_VALUE',
            `status ${JSON.stringify(status)}`,
          );
        }
      });
      assert.equal((await getModel(app, id)).info.status, 'LOGGED_MODEL_READY');

      // Deleting hides it (allow_deleted shows it); deleting or finalizing again is 404.
      assert.deepEqual(ok(await mlflow(app, 'DELETE', `logged-models/${id}`, undefined, f.developer)), {});
      mlflowError(await mlflow(app, 'GET', `logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal((await call(app, 'GET', `/api/v1/logged-models/${id}`, adminAuth)).statusCode, 404);
      assert.equal(
        ok<{ model: ModelJson }>(await mlflow(app, 'GET', `logged-models/${id}?allow_deleted=true`)).model.info
          .model_id,
        id,
      );
      mlflowError(await mlflow(app, 'DELETE', `logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
      mlflowError(
        await mlflow(app, 'PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_READY' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      mlflowError(await mlflow(app, 'GET', 'logged-models/m-nope'), 404, 'RESOURCE_DOES_NOT_EXIST');

      const events = await eventually(async () => {
        const found = (await auditEvents(app)).filter((e) => e.target === id);
        return found.length === 2 ? found : undefined;
      }, 'create and delete events');
      assert.deepEqual(events.map((e) => e.action).sort(), ['logged_model.create', 'logged_model.delete']);
    });

    test('bad create requests are refused and write nothing', async () => {
      const other = await createRun(app, f.secondExperimentId, f.developer);
      const deletedExperiment = await createExperiment(app, f.project, `lm-${engine}-deleted`);
      ok(await mlflow(app, 'POST', 'experiments/delete', { experiment_id: deletedExperiment }));
      await writesNothing(app, 'bad creates', async () => {
        const cases: [Record<string, unknown>, number, string][] = [
          [{ experiment_id: f.experimentId, name: 'a/b' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: 'a.b' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: 'a:b' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: "it's" }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: 'n\u0000' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: 'x'.repeat(501) }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: 42 }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, name: { a: 1 } }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, model_type: 5 }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, model_type: 'x'.repeat(501) }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, source_run_id: other }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, source_run_id: '0'.repeat(32) }, 404, 'RESOURCE_DOES_NOT_EXIST'],
          [{ experiment_id: f.experimentId, params: [{ key: '../x', value: '1' }] }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, params: [{ key: 'p', value: 1 }] }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, params: 'lr=1' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, tags: [null] }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: f.experimentId, tags: [{ key: 't', value: 'a\u0000' }] }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ name: 'no-experiment' }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: { id: 1 } }, 400, 'INVALID_PARAMETER_VALUE'],
          [{ experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
          [{ experiment_id: 'abc' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
          [{ experiment_id: deletedExperiment }, 400, 'INVALID_PARAMETER_VALUE'],
        ];
        for (const [body, status, code] of cases) {
          mlflowError(
            await mlflow(app, 'POST', 'logged-models', body, f.developer),
            status,
            code,
            JSON.stringify(body),
          );
        }
      });
    });

    test('tags are set and deleted; params are immutable once logged', async () => {
      const id = await createLoggedModel(app, f.experimentId, { name: 'tagged' }, f.developer);
      const tags = (t: { key: string; value: string }[]) =>
        mlflow(app, 'PATCH', `logged-models/${id}/tags`, { tags: t }, f.developer);
      ok(
        await tags([
          { key: 'b', value: '2' },
          { key: 'a', value: '1' },
        ]),
      );
      ok(await tags([{ key: 'a', value: '3' }]));
      assert.deepEqual((await getModel(app, id)).info.tags, [
        { key: 'a', value: '3' },
        { key: 'b', value: '2' },
      ]);
      ok(await mlflow(app, 'DELETE', `logged-models/${id}/tags/a`, undefined, f.developer));
      assert.deepEqual((await getModel(app, id)).info.tags, [{ key: 'b', value: '2' }]);
      mlflowError(await mlflow(app, 'DELETE', `logged-models/${id}/tags/a`), 404, 'RESOURCE_DOES_NOT_EXIST');
      // Keys no tag can have are refused (or simply not found), never a 5xx.
      for (const key of ['%00', 'a%00b', '..', '%E2%80%AE', 'x'.repeat(300)]) {
        const res = await mlflow(app, 'DELETE', `logged-models/${id}/tags/${key}`);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${key}: ${res.statusCode} ${res.body}`);
      }
      await writesNothing(app, 'bad tags', async () => {
        for (const body of [
          { tags: [{ key: '', value: 'x' }] },
          { tags: [{ key: 'k', value: 5 }] },
          { tags: [{ key: 'k/', value: 'x' }] },
          { tags: 'k=v' },
          { tags: [{ key: 'k', value: 'x' }, 'junk'] },
          { tags: Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, value: 'v' })) },
        ]) {
          mlflowError(
            await mlflow(app, 'PATCH', `logged-models/${id}/tags`, body, f.developer),
            400,
            'INVALID_PARAMETER_VALUE',
            JSON.stringify(body).slice(0, 80),
          );
        }
      });

      const params = (p: { key: string; value: unknown }[]) =>
        mlflow(app, 'POST', `logged-models/${id}/params`, { params: p }, f.developer);
      ok(await params([{ key: 'lr', value: '0.1' }]));
      ok(await params([{ key: 'lr', value: '0.1' }])); // the same value again is fine
      await writesNothing(app, 'changed params', async () => {
        const msg = mlflowError(await params([{ key: 'lr', value: '0.2' }]), 400, 'INVALID_PARAMETER_VALUE');
        assert.match(msg, /Changing param values is not allowed/);
        // A batch with one changed value writes none of its params.
        mlflowError(
          await params([
            { key: 'depth', value: '3' },
            { key: 'lr', value: '0.3' },
          ]),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        // Two values for one key in a request.
        mlflowError(
          await params([
            { key: 'seed', value: '1' },
            { key: 'seed', value: '2' },
          ]),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        mlflowError(await params([{ key: 'p', value: 7 }]), 400, 'INVALID_PARAMETER_VALUE');
        mlflowError(await params([{ key: '/abs', value: '7' }]), 400, 'INVALID_PARAMETER_VALUE');
      });
      assert.deepEqual((await getModel(app, id)).data.params, [{ key: 'lr', value: '0.1' }]);
    });

    test('the native API sets tags, logs params, deletes a tag and the model, with the same rules', async () => {
      const id = await createLoggedModel(app, f.experimentId, { name: 'native' }, f.developer);
      const native = (method: 'POST' | 'DELETE', path: string, body?: unknown, who = f.developer) =>
        call(app, method, `/api/v1/logged-models/${id}${path}`, who, body);
      let res = await native('POST', '/tags', {
        tags: [
          { key: 'b', value: '2' },
          { key: 'a', value: 'é✓' },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<{ tags: unknown }>().tags, [
        { key: 'a', value: 'é✓' },
        { key: 'b', value: '2' },
      ]);
      res = await native('POST', '/params', { params: [{ key: 'lr', value: '0.1' }] });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<{ params: unknown }>().params, [{ key: 'lr', value: '0.1' }]);
      // The rules are the service's: a param keeps its value; the MLflow door sees the same model.
      res = await native('POST', '/params', { params: [{ key: 'lr', value: '0.2' }] });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.body, /Changing param values is not allowed/);
      assert.deepEqual((await getModel(app, id)).data.params, [{ key: 'lr', value: '0.1' }]);
      // Bad bodies are refused by the schema, naming the field; a viewer may not write.
      for (const body of [{}, { tags: 'a=b' }, { tags: [{ key: '', value: 'x' }] }, { tags: [], extra: 1 }]) {
        assert.equal((await native('POST', '/tags', body)).statusCode, 400, JSON.stringify(body));
      }
      assert.equal((await native('POST', '/tags', { tags: [] }, f.viewer)).statusCode, 403);
      assert.equal((await native('DELETE', '/tags/a')).statusCode, 204);
      assert.equal((await native('DELETE', '/tags/a')).statusCode, 404);
      assert.deepEqual((await getModel(app, id)).info.tags, [{ key: 'b', value: '2' }]);
      assert.equal((await native('DELETE', '', undefined, f.viewer)).statusCode, 403);
      assert.equal((await native('DELETE', '')).statusCode, 204);
      assert.equal((await call(app, 'GET', `/api/v1/logged-models/${id}`, f.viewer)).statusCode, 404);
    });

    test('metrics with a model_id in log-batch are recorded on the model as well as the run', async () => {
      const id = await createLoggedModel(app, f.experimentId, { name: 'measured' }, f.developer);
      ok(
        await mlflow(
          app,
          'POST',
          'runs/log-batch',
          {
            run_id: runId,
            metrics: [
              {
                key: 'acc',
                value: 0.5,
                timestamp: TS,
                step: 1,
                model_id: id,
                dataset_name: 'eval',
                dataset_digest: 'd1',
              },
              { key: 'loss', value: 'NaN', timestamp: TS, step: 1, model_id: id },
              { key: 'plain', value: 1, timestamp: TS, step: 0 },
              { key: 'empty-model', value: 2, timestamp: TS, step: 0, model_id: '' },
            ],
            params: [{ key: 'batch-param', value: 'x' }],
          },
          f.developer,
        ),
      );
      const m = await getModel(app, id);
      assert.deepEqual(
        m.data.metrics.map(({ key, value, step, timestamp, model_id, run_id, dataset_name, dataset_digest }) => ({
          key,
          value,
          step,
          timestamp,
          model_id,
          run_id,
          dataset_name,
          dataset_digest,
        })),
        [
          {
            key: 'acc',
            value: 0.5,
            step: 1,
            timestamp: TS,
            model_id: id,
            run_id: runId,
            dataset_name: 'eval',
            dataset_digest: 'd1',
          },
          {
            key: 'loss',
            value: 'NaN',
            step: 1,
            timestamp: TS,
            model_id: id,
            run_id: runId,
            dataset_name: undefined,
            dataset_digest: undefined,
          },
        ],
      );
      const run = ok<{ run: { data: { metrics: { key: string }[] } } }>(
        await mlflow(app, 'GET', `runs/get?run_id=${runId}`),
      ).run;
      for (const key of ['acc', 'loss', 'plain', 'empty-model']) {
        assert.ok(
          run.data.metrics.some((x) => x.key === key),
          key,
        );
      }
      const native = await call(app, 'GET', `/api/v1/logged-models/${id}`, adminAuth);
      assert.deepEqual(
        native.json<{ metrics: { key: string; value: unknown }[] }>().metrics.map((x) => [x.key, x.value]),
        [
          ['acc', 0.5],
          ['loss', 'NaN'],
        ],
      );
    });

    test('a log-batch naming a model the caller cannot write is refused and writes nothing', async () => {
      // A model in a project where the developer is only a viewer, one in a project they cannot see,
      // a deleted one and unknown ones.
      const viewOnly = await createLoggedModel(app, f.otherExperimentId);
      const hiddenProject = `lm-${engine}-hidden`;
      await createProject(app, hiddenProject, `lm-${engine}-team`);
      const hidden = await createLoggedModel(app, await createExperiment(app, hiddenProject, 'hidden'));
      const deleted = await createLoggedModel(app, f.experimentId, {}, f.developer);
      ok(await mlflow(app, 'DELETE', `logged-models/${deleted}`, undefined, f.developer));
      const own = await createLoggedModel(app, f.experimentId, {}, f.developer);
      const metric = (modelId: unknown, key = 'guarded') => ({
        key,
        value: 1,
        timestamp: TS,
        step: 0,
        model_id: modelId,
      });
      await writesNothing(app, 'refused model metrics', async () => {
        for (const [modelId, status, code] of [
          [viewOnly, 403, 'PERMISSION_DENIED'],
          [hidden, 404, 'RESOURCE_DOES_NOT_EXIST'],
          [deleted, 404, 'RESOURCE_DOES_NOT_EXIST'],
          [`m-${'0'.repeat(32)}`, 404, 'RESOURCE_DOES_NOT_EXIST'],
          ['not-a-model', 404, 'RESOURCE_DOES_NOT_EXIST'],
          [5, 400, 'INVALID_PARAMETER_VALUE'],
          [{ id: 'x' }, 400, 'INVALID_PARAMETER_VALUE'],
        ] as const) {
          mlflowError(
            await mlflow(
              app,
              'POST',
              'runs/log-batch',
              {
                run_id: runId,
                // The run's own metrics, params and tags come first in the batch.
                metrics: [{ key: 'plain-guarded', value: 1, timestamp: TS, step: 0 }, metric(modelId)],
                params: [{ key: 'guarded-param', value: 'x' }],
                tags: [{ key: 'guarded-tag', value: 'x' }],
              },
              f.developer,
            ),
            status,
            code,
            `model ${JSON.stringify(modelId)}`,
          );
        }
        // Bad dataset fields of a model metric.
        for (const extra of [{ dataset_name: 5 }, { dataset_digest: { d: 1 } }]) {
          mlflowError(
            await mlflow(app, 'POST', 'runs/log-batch', { run_id: runId, metrics: [{ ...metric(own), ...extra }] }),
            400,
            'INVALID_PARAMETER_VALUE',
          );
        }
        // A viewer of the run's project cannot log to its run, model metric or not.
        mlflowError(
          await mlflow(app, 'POST', 'runs/log-batch', { run_id: runId, metrics: [metric(own)] }, f.viewer),
          403,
          'PERMISSION_DENIED',
        );
      });
    });

    test('runs/outputs and runs/log-inputs link models to runs; a refused link writes nothing', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const produced = await createLoggedModel(app, f.experimentId, { source_run_id: run }, f.developer);
      const consumed = await createLoggedModel(app, f.secondExperimentId, {}, f.developer);
      ok(
        await mlflow(
          app,
          'POST',
          'runs/outputs',
          { run_id: run, models: [{ model_id: produced, step: 3 }] },
          f.developer,
        ),
      );
      // Linking again keeps the first link.
      ok(
        await mlflow(
          app,
          'POST',
          'runs/outputs',
          { run_id: run, models: [{ model_id: produced, step: 9 }] },
          f.developer,
        ),
      );
      ok(await mlflow(app, 'POST', 'runs/log-inputs', { run_id: run, models: [{ model_id: consumed }] }, f.developer));
      const got = ok<{ run: { inputs: { model_inputs: unknown[] }; outputs: { model_outputs: unknown[] } } }>(
        await mlflow(app, 'GET', `runs/get?run_id=${run}`, undefined, f.viewer),
      ).run;
      assert.deepEqual(got.outputs.model_outputs, [{ model_id: produced, step: 3 }]);
      assert.deepEqual(got.inputs.model_inputs, [{ model_id: consumed }]);
      const searched = ok<{ runs: { info: { run_id: string }; outputs: unknown }[] }>(
        await mlflow(app, 'POST', 'runs/search', {
          experiment_ids: [f.experimentId],
          filter: `attributes.run_id = '${run}'`,
        }),
      ).runs;
      assert.deepEqual(searched[0]?.outputs, { model_outputs: [{ model_id: produced, step: 3 }] });

      const hiddenProject = `lm-${engine}-hidden2`;
      await createProject(app, hiddenProject, `lm-${engine}-team`);
      const hidden = await createLoggedModel(app, await createExperiment(app, hiddenProject, 'hidden'));
      const dataset = { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/iris.csv"}' };
      const deletedRun = await createRun(app, f.experimentId, f.developer);
      ok(await mlflow(app, 'POST', 'runs/delete', { run_id: deletedRun }, f.developer));
      await writesNothing(app, 'refused links', async () => {
        for (const [path, body, status, code] of [
          ['runs/outputs', { run_id: run, models: [{ model_id: hidden }] }, 404, 'RESOURCE_DOES_NOT_EXIST'],
          ['runs/outputs', { run_id: run, models: [{ model_id: 7 }] }, 400, 'INVALID_PARAMETER_VALUE'],
          [
            'runs/outputs',
            { run_id: run, models: [{ model_id: produced, step: 'x' }] },
            400,
            'INVALID_PARAMETER_VALUE',
          ],
          [
            'runs/outputs',
            { run_id: run, models: [{ model_id: consumed }, { model_id: hidden }] },
            404,
            'RESOURCE_DOES_NOT_EXIST',
          ],
          ['runs/outputs', { run_id: run, models: 'm-1' }, 400, 'INVALID_PARAMETER_VALUE'],
          // Deleted runs take no links (MLflow: "must be in the 'active' state").
          ['runs/outputs', { run_id: deletedRun, models: [{ model_id: produced }] }, 400, 'INVALID_PARAMETER_VALUE'],
          ['runs/log-inputs', { run_id: deletedRun, models: [{ model_id: produced }] }, 400, 'INVALID_PARAMETER_VALUE'],
          ['runs/outputs', { models: [{ model_id: produced }] }, 400, 'INVALID_PARAMETER_VALUE'],
          // Datasets of a log-inputs call whose models are refused are not logged either.
          [
            'runs/log-inputs',
            { run_id: run, datasets: [{ dataset }], models: [{ model_id: `m-${'0'.repeat(32)}` }] },
            404,
            'RESOURCE_DOES_NOT_EXIST',
          ],
          [
            'runs/log-inputs',
            { run_id: run, datasets: [{ dataset }], models: [{ model_id: hidden }] },
            404,
            'RESOURCE_DOES_NOT_EXIST',
          ],
          [
            'runs/log-inputs',
            { run_id: run, datasets: [{ dataset }], models: [{ model_id: 1 }] },
            400,
            'INVALID_PARAMETER_VALUE',
          ],
        ] as const) {
          mlflowError(
            await mlflow(app, 'POST', path, body, f.developer),
            status,
            code,
            `${path} ${JSON.stringify(body)}`,
          );
        }
        mlflowError(
          await mlflow(app, 'POST', 'runs/outputs', { run_id: run, models: [{ model_id: produced }] }, f.viewer),
          403,
          'PERMISSION_DENIED',
        );
        mlflowError(
          await mlflow(app, 'POST', 'runs/outputs', { run_id: run, models: [{ model_id: produced }] }, f.outsider),
          404,
          'RESOURCE_DOES_NOT_EXIST',
        );
      });
    });

    test("runs/log-model appends to the run's mlflow.log-model.history tag", async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const first = { artifact_path: 'model', flavors: { sklearn: {} }, run_id: run };
      const second = { artifact_path: 'model2', flavors: {}, run_id: run };
      ok(await mlflow(app, 'POST', 'runs/log-model', { run_id: run, model_json: JSON.stringify(first) }, f.developer));
      ok(await mlflow(app, 'POST', 'runs/log-model', { run_id: run, model_json: JSON.stringify(second) }, f.developer));
      const tags = ok<{ run: { data: { tags: { key: string; value: string }[] } } }>(
        await mlflow(app, 'GET', `runs/get?run_id=${run}`),
      ).run.data.tags;
      const history = tags.find((t) => t.key === 'mlflow.log-model.history');
      assert.deepEqual(JSON.parse(history!.value), [first, second]);
      await writesNothing(app, 'bad log-model', async () => {
        for (const body of [
          { run_id: run, model_json: '{bad' },
          { run_id: run, model_json: '[1, 2]' },
          { run_id: run, model_json: 'null' },
          { run_id: run, model_json: '"text"' },
          { run_id: run },
          { model_json: '{}' },
          { run_id: run, model_json: { already: 'parsed' } },
        ]) {
          mlflowError(
            await mlflow(app, 'POST', 'runs/log-model', body, f.developer),
            400,
            'INVALID_PARAMETER_VALUE',
            JSON.stringify(body),
          );
        }
        mlflowError(
          await mlflow(app, 'POST', 'runs/log-model', { run_id: run, model_json: '{}' }, f.viewer),
          403,
          'PERMISSION_DENIED',
        );
      });
    });

    test('search: filters, order_by on attributes and metrics, page tokens bound to their query', async () => {
      const exp = await createExperiment(app, f.project, `lm-${engine}-search`);
      const make = async (name: string, body: Record<string, unknown>) => {
        const id = await createLoggedModel(app, exp, { name, ...body }, f.developer);
        await sleep(3); // distinct creation times
        return id;
      };
      const run = await createRun(app, exp, f.developer);
      const alpha = await make('alpha', {
        model_type: 'sklearn',
        source_run_id: run,
        params: [{ key: 'lr', value: '0.1' }],
        tags: [{ key: 'team', value: 'a' }],
      });
      const beta = await make('beta', {
        model_type: 'pytorch',
        params: [{ key: 'lr', value: '0.2' }],
        tags: [{ key: 'team', value: 'b' }],
      });
      const gamma = await make('gamma', {});
      const delta = await make('delta', { tags: [{ key: 'team', value: 'a' }] });
      for (const id of [alpha, beta]) {
        ok(await mlflow(app, 'PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_READY' }, f.developer));
      }
      ok(await mlflow(app, 'DELETE', `logged-models/${delta}`, undefined, f.developer));
      const metric = (model: string, key: string, value: number | string, step: number, dataset?: string) => ({
        key,
        value,
        timestamp: TS + step,
        step,
        model_id: model,
        ...(dataset ? { dataset_name: dataset, dataset_digest: `${dataset}-digest` } : {}),
      });
      ok(
        await mlflow(app, 'POST', 'runs/log-batch', {
          run_id: run,
          metrics: [
            metric(alpha, 'acc', 0.5, 0),
            metric(alpha, 'acc', 0.9, 1), // alpha's latest acc
            metric(beta, 'acc', 0.7, 0),
            metric(beta, 'acc', 0.6, 0, 'holdout'),
            metric(gamma, 'f1', 'NaN', 0),
          ],
        }),
      );
      const names = new Map([
        [alpha, 'alpha'],
        [beta, 'beta'],
        [gamma, 'gamma'],
        [delta, 'delta'],
      ]);
      const search = async (body: Record<string, unknown>, headers: Headers = f.viewer) => {
        const r = ok<{ models: ModelJson[]; next_page_token?: string }>(
          await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp], ...body }, headers),
          JSON.stringify(body),
        );
        return { names: r.models.map((m) => names.get(m.info.model_id) ?? m.info.model_id), token: r.next_page_token };
      };
      const filtered = async (filter: string) => (await search({ filter })).names.sort();

      // Deleted models are never found; without order_by, newest first.
      assert.deepEqual((await search({})).names, ['gamma', 'beta', 'alpha']);
      for (const [filter, expected] of [
        ["name = 'alpha'", ['alpha']],
        ["name != 'alpha'", ['beta', 'gamma']],
        ["name LIKE '%a'", ['alpha', 'beta', 'gamma']],
        ["name LIKE 'al%'", ['alpha']],
        ["name ILIKE 'ALPHA'", ['alpha']],
        ["name IN ('alpha', 'gamma', 'delta')", ['alpha', 'gamma']],
        ["name NOT IN ('alpha')", ['beta', 'gamma']],
        ["model_id = '" + beta + "'", ['beta']],
        ["model_type = 'pytorch'", ['beta']],
        ["status = 'READY'", ['alpha', 'beta']],
        ["status = 'PENDING'", ['gamma']],
        [`source_run_id = '${run}'`, ['alpha']],
        ['metrics.acc > 0.8', ['alpha']],
        ['metrics.acc >= 0.6', ['alpha', 'beta']],
        ['metrics.acc <= 0.7', ['alpha', 'beta']],
        ['metrics.acc = 0.7', ['beta']],
        ['metrics.f1 != 1', ['gamma']],
        ['metrics.nothing > 0', []],
        ["params.lr = '0.2'", ['beta']],
        ["params.lr LIKE '0.%'", ['alpha', 'beta']],
        ["tags.team = 'a'", ['alpha']],
        ["tags.team != 'a'", ['beta']],
        ["metrics.acc > 0.6 AND params.lr = '0.1' AND tags.team = 'a'", ['alpha']],
        ['creation_timestamp > 0', ['alpha', 'beta', 'gamma']],
        ['creation_timestamp < 0', []],
        ["name = 'no such model'", []],
      ] as const) {
        assert.deepEqual(await filtered(filter), [...expected].sort(), filter);
      }
      const order = async (orderBy: Record<string, unknown>[]) => (await search({ order_by: orderBy })).names;
      assert.deepEqual(await order([{ field_name: 'name' }]), ['alpha', 'beta', 'gamma']);
      assert.deepEqual(await order([{ field_name: 'name', ascending: false }]), ['gamma', 'beta', 'alpha']);
      assert.deepEqual(await order([{ field_name: 'creation_timestamp', ascending: true }]), [
        'alpha',
        'beta',
        'gamma',
      ]);
      assert.deepEqual(await order([{ field_name: 'attributes.creation_time', ascending: false }]), [
        'gamma',
        'beta',
        'alpha',
      ]);
      // By the latest value of a metric; models without it come last either way.
      assert.deepEqual(await order([{ field_name: 'metrics.acc', ascending: false }]), ['alpha', 'beta', 'gamma']);
      assert.deepEqual(await order([{ field_name: 'metrics.acc', ascending: true }]), ['beta', 'alpha', 'gamma']);
      assert.deepEqual(
        await order([{ field_name: 'metrics.acc', ascending: false, dataset_name: 'holdout' }, { field_name: 'name' }]),
        ['beta', 'alpha', 'gamma'],
      );
      assert.deepEqual(
        await order([
          { field_name: 'metrics.acc', dataset_name: 'holdout', dataset_digest: 'wrong' },
          { field_name: 'name' },
        ]),
        ['alpha', 'beta', 'gamma'],
      );
      assert.deepEqual(await order([{ field_name: 'status' }, { field_name: 'name', ascending: false }]), [
        'gamma',
        'beta',
        'alpha',
      ]);

      // Paging: one model a page, every model once, and the last page has no token.
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      const query = { filter: "name LIKE '%a'", order_by: [{ field_name: 'name' }], max_results: 1 };
      do {
        const page = await search({ ...query, ...(token ? { page_token: token } : {}) });
        seen.push(...page.names);
        token = page.token;
        pages++;
      } while (token && pages < 10);
      assert.deepEqual(seen, ['alpha', 'beta', 'gamma']);
      assert.equal(pages, 3);
      const second = (await search(query)).token!;
      assert.deepEqual((await search({ ...query, page_token: second })).names, ['beta']);
      // Another max_results reads on from the same place.
      assert.deepEqual((await search({ ...query, max_results: 5, page_token: second })).names, ['beta', 'gamma']);
      // A token belongs to its query: another filter, order or experiment list is refused.
      for (const other of [
        { ...query, filter: "name LIKE '%t%'" },
        { ...query, order_by: [{ field_name: 'name', ascending: false }] },
        { ...query, experiment_ids: [exp, f.experimentId] },
        { ...query, filter: undefined },
      ]) {
        mlflowError(
          await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp], ...other, page_token: second }),
          400,
          'INVALID_PARAMETER_VALUE',
          JSON.stringify(other),
        );
      }
      // Forged and garbage tokens are refused, never a 5xx.
      const forge = (offset: unknown) => {
        const decoded = JSON.parse(Buffer.from(second, 'base64url').toString('utf8')) as { query: string };
        return Buffer.from(JSON.stringify({ offset, query: decoded.query })).toString('base64url');
      };
      for (const bad of [
        '%%%',
        'bm90IGpzb24',
        forge(-1),
        forge(-1e15),
        forge(1.5),
        forge('1'),
        forge(null),
        forge(2 ** 60),
      ]) {
        mlflowError(
          await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp], ...query, page_token: bad }),
          400,
          'INVALID_PARAMETER_VALUE',
          bad,
        );
      }

      // Bad filters, order_by items and limits are 400 INVALID_PARAMETER_VALUE.
      for (const body of [
        { filter: 'name =' },
        { filter: "name = 'a' OR name = 'b'" },
        { filter: "datasets.name = 'iris'" },
        { filter: "metrics.acc > 'high'" },
        { filter: 'name IS NULL' },
        { filter: "nope = 'x'" },
        { filter: 5 },
        { order_by: [{ field_name: 'nope' }] },
        { order_by: [{ field_name: '' }] },
        { order_by: [{ ascending: true }] },
        { order_by: [{ field_name: 'metrics.' }] },
        { order_by: [{ field_name: 'metrics.acc', dataset_name: 5 }] },
        { order_by: [{ field_name: 'name', ascending: 'false' }] },
        { order_by: [{ field_name: 'name', ascending: 1 }] },
        { order_by: 'name' },
        { order_by: ['name'] },
        { max_results: 0 },
        { max_results: 1001 },
        { max_results: 'many' },
        { max_results: 1.5 },
        { experiment_ids: 'abc' },
        { experiment_ids: [{ id: 1 }] },
        { page_token: 5 },
      ]) {
        mlflowError(
          await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp], ...body }),
          400,
          'INVALID_PARAMETER_VALUE',
          JSON.stringify(body),
        );
      }
      mlflowError(
        await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: ['999999'] }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );

      // Access: outsiders cannot search the experiment; a token of another project is refused.
      mlflowError(
        await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp] }, f.outsider),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      assert.ok(
        (await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp] }, f.scopedToOther)).statusCode >=
          403,
      );
      mlflowError(
        await mlflow(app, 'POST', 'logged-models/search', { experiment_ids: [exp] }, {}),
        401,
        'UNAUTHENTICATED',
      );

      // The native search: the same grammar, camelCase, page tokens.
      const native = await call(app, 'POST', '/api/v1/logged-models/search', f.viewer, {
        experimentIds: [exp],
        filter: 'metrics.acc > 0',
        orderBy: [{ fieldName: 'metrics.acc', ascending: false }],
        maxResults: 1,
      });
      assert.equal(native.statusCode, 200, native.body);
      const page = native.json<{ items: { modelId: string; status: string }[]; nextPageToken: string | null }>();
      assert.deepEqual(
        page.items.map((m) => [names.get(m.modelId), m.status]),
        [['alpha', 'READY']],
      );
      assert.ok(page.nextPageToken);
      const next = await call(app, 'POST', '/api/v1/logged-models/search', f.viewer, {
        experimentIds: [exp],
        filter: 'metrics.acc > 0',
        orderBy: [{ fieldName: 'metrics.acc', ascending: false }],
        maxResults: 1,
        pageToken: page.nextPageToken,
      });
      assert.deepEqual(
        next
          .json<{ items: { modelId: string }[]; nextPageToken: string | null }>()
          .items.map((m) => names.get(m.modelId)),
        ['beta'],
      );
      assert.equal(
        (await call(app, 'POST', '/api/v1/logged-models/search', f.viewer, { experimentIds: [exp], filter: 'name =' }))
          .statusCode,
        400,
      );
      assert.equal(
        (await call(app, 'POST', '/api/v1/logged-models/search', f.outsider, { experimentIds: [exp] })).statusCode,
        404,
      );
    });

    test('viewers read, cannot write; outsiders get 404; anonymous 401; a token of another project is refused', async () => {
      const id = await createLoggedModel(
        app,
        f.experimentId,
        { name: 'guarded', tags: [{ key: 't', value: 'v' }] },
        f.developer,
      );
      ok(await mlflow(app, 'GET', `logged-models/${id}`, undefined, f.viewer));
      assert.equal((await call(app, 'GET', `/api/v1/logged-models/${id}`, f.viewer)).statusCode, 200);
      const writes: [method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown][] = [
        ['POST', 'logged-models', { experiment_id: f.experimentId, name: 'nope' }],
        ['PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_READY' }],
        ['DELETE', `logged-models/${id}`],
        ['PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'x', value: 'y' }] }],
        ['DELETE', `logged-models/${id}/tags/t`],
        ['POST', `logged-models/${id}/params`, { params: [{ key: 'p', value: '1' }] }],
        ['POST', 'runs/outputs', { run_id: runId, models: [{ model_id: id }] }],
      ];
      await writesNothing(app, 'refused callers', async () => {
        for (const [method, path, body] of writes) {
          mlflowError(
            await mlflow(app, method, path, body, f.viewer),
            403,
            'PERMISSION_DENIED',
            `viewer ${method} ${path}`,
          );
          mlflowError(
            await mlflow(app, method, path, body, f.outsider),
            404,
            'RESOURCE_DOES_NOT_EXIST',
            `outsider ${method} ${path}`,
          );
          mlflowError(
            await mlflow(app, method, path, body, f.scopedToOther),
            403,
            'PERMISSION_DENIED',
            `scoped ${method} ${path}`,
          );
          mlflowError(await mlflow(app, method, path, body, {}), 401, 'UNAUTHENTICATED', `anonymous ${method} ${path}`);
        }
        for (const h of [f.outsider]) {
          mlflowError(await mlflow(app, 'GET', `logged-models/${id}`, undefined, h), 404, 'RESOURCE_DOES_NOT_EXIST');
          assert.equal((await call(app, 'GET', `/api/v1/logged-models/${id}`, h)).statusCode, 404);
        }
        mlflowError(
          await mlflow(app, 'GET', `logged-models/${id}`, undefined, f.scopedToOther),
          403,
          'PERMISSION_DENIED',
        );
        mlflowError(await mlflow(app, 'GET', `logged-models/${id}`, undefined, {}), 401, 'UNAUTHENTICATED');
        assert.equal((await call(app, 'GET', `/api/v1/logged-models/${id}`, {})).statusCode, 401);
      });
      assert.deepEqual((await getModel(app, id)).info.tags, [{ key: 't', value: 'v' }]);
    });

    test('junk in any field of the logged-model routes is a 4xx, never a 5xx', async () => {
      const id = await createLoggedModel(app, f.experimentId, {}, f.developer);
      const junk: unknown[] = [
        null,
        0,
        -1,
        1.5,
        2 ** 64,
        '',
        'x'.repeat(10_000),
        '\u0000',
        [],
        [null],
        {},
        { a: [] },
        true,
      ];
      const routes: [method: 'POST' | 'PATCH', path: string, fields: string[]][] = [
        ['POST', 'logged-models', ['experiment_id', 'name', 'model_type', 'source_run_id', 'params', 'tags']],
        ['PATCH', `logged-models/${id}`, ['status']],
        ['PATCH', `logged-models/${id}/tags`, ['tags']],
        ['POST', `logged-models/${id}/params`, ['params']],
        ['POST', 'logged-models/search', ['experiment_ids', 'filter', 'order_by', 'max_results', 'page_token']],
        ['POST', 'runs/outputs', ['run_id', 'models']],
        ['POST', 'runs/log-inputs', ['run_id', 'models', 'datasets']],
        ['POST', 'runs/log-model', ['run_id', 'model_json']],
      ];
      for (const [method, path, fields] of routes) {
        for (const field of fields) {
          for (const value of junk) {
            const body = {
              experiment_id: f.experimentId,
              run_id: runId,
              experiment_ids: [f.experimentId],
              [field]: value,
            };
            const res = await mlflow(app, method, path, body, f.developer);
            assert.ok(
              res.statusCode < 500,
              `${method} ${path} ${field}=${JSON.stringify(value)?.slice(0, 40)}: ${res.body}`,
            );
          }
        }
      }
      // NUL characters, which PostgreSQL cannot store or even compare, in nested fields.
      const run = await createRun(app, f.experimentId, f.developer);
      for (const [path, body] of [
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: "name = 'a\u0000'" }],
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: "params.lr LIKE '%\u0000%'" }],
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: "tags.t != '\u0000'" }],
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: "name IN ('\u0000')" }],
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: "model_id = 'm-\u0000'" }],
        ['logged-models/search', { experiment_ids: [f.experimentId], filter: 'metrics.`a\u0000` > 1' }],
        [
          'logged-models/search',
          { experiment_ids: [f.experimentId], order_by: [{ field_name: 'metrics.acc', dataset_name: '\u0000' }] },
        ],
        [
          'logged-models/search',
          { experiment_ids: [f.experimentId], order_by: [{ field_name: 'metrics.acc', dataset_digest: 'd\u0000' }] },
        ],
        [
          'runs/log-batch',
          {
            run_id: run,
            metrics: [{ key: 'm', value: 1, timestamp: TS, step: 0, model_id: id, dataset_name: '\u0000' }],
          },
        ],
        [
          'runs/log-batch',
          {
            run_id: run,
            metrics: [{ key: 'm', value: 1, timestamp: TS, step: 0, model_id: id, dataset_digest: 'a\u0000' }],
          },
        ],
        ['runs/outputs', { run_id: run, models: [{ model_id: `${id}\u0000` }] }],
        ['logged-models', { experiment_id: f.experimentId, source_run_id: `${run}\u0000` }],
      ] as const) {
        const res = await mlflow(app, 'POST', path, body, f.developer);
        assert.ok(res.statusCode < 500, `${path} ${JSON.stringify(body)}: ${res.body}`);
      }
      for (const bad of [
        `logged-models/${randomBytes(4).toString('hex')}`,
        'logged-models/%00',
        `logged-models/${id}%00`,
      ]) {
        const res = await mlflow(app, 'GET', bad);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${bad}: ${res.statusCode}`);
      }
    });
  });
}
