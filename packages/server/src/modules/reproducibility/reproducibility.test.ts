// The reproducibility record of a run, on both engines: code version from the mlflow.source.* tags,
// params, the dataset versions with their context, the models consumed and produced, and the
// Python environment read from the files MLflow writes beside the first model the run produced.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { call, createProject, type Headers } from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import {
  createExperiment,
  createLoggedModel,
  createRun,
  mlflow,
  ok,
  projectFixture,
  putRunArtifact,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';
import type { ReproducibilityRecord } from './service.js';

const PYTHON_ENV = 'python: "3.10.12"\nbuild_dependencies:\n  - pip==23.3.1\ndependencies:\n  - -r requirements.txt\n';
const REQUIREMENTS = 'mlflow==2.9.2\n# pinned by the trainer\n\n  scikit-learn==1.3.2  \ncloudpickle==3.0.0';

for (const engine of ENGINES) {
  describe(`run reproducibility record (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      f = await projectFixture(app, `rep-${engine}`);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const record = async (runId: string, headers: Headers = f.viewer) => {
      const res = await call(app, 'GET', `/api/v1/runs/${runId}/reproducibility`, headers);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ReproducibilityRecord>();
    };
    const upload = async (path: string, content: string) => {
      const res = await app.http.inject({
        method: 'PUT',
        url: `/api/2.0/mlflow-artifacts/artifacts/${path}`,
        headers: { ...f.developer, 'content-type': 'application/octet-stream' },
        payload: content,
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    const modelFolder = (modelId: string) => `${f.experimentId}/models/${modelId}/artifacts`;

    test('code, params, datasets, models and the environment of the first model produced', async () => {
      const parent = await createRun(app, f.experimentId, f.developer);
      const run = await createRun(app, f.experimentId, f.developer, [
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.source.git.commit', value: '3f2a9c1e' },
        { key: 'mlflow.source.git.repoURL', value: 'https://github.com/acme/churn' },
        { key: 'mlflow.source.git.branch', value: 'main' },
        { key: 'mlflow.parentRunId', value: parent },
      ]);
      ok(
        await mlflow(
          app,
          'POST',
          'runs/log-batch',
          {
            run_id: run,
            params: [
              { key: 'lr', value: '0.01' },
              { key: 'depth', value: '6' },
            ],
          },
          f.developer,
        ),
      );
      ok(
        await mlflow(
          app,
          'POST',
          'runs/log-inputs',
          {
            run_id: run,
            datasets: [
              {
                tags: [{ key: 'mlflow.data.context', value: 'training' }],
                dataset: { name: 'churn', digest: 'c0ffee', source_type: 's3', source: '{"uri": "s3://lake/churn"}' },
              },
              {
                dataset: { name: 'churn-holdout', digest: 'beef', source_type: 's3', source: '{"uri": "s3://lake/h"}' },
              },
            ],
          },
          f.developer,
        ),
      );
      // Several models produced, in order; only the first has environment files. Then one consumed.
      const produced: string[] = [];
      for (let i = 0; i < 5; i++) {
        produced.push(
          await createLoggedModel(app, f.experimentId, { name: `model-${i}`, source_run_id: run }, f.developer),
        );
        await sleep(3);
      }
      await upload(`${modelFolder(produced[0]!)}/python_env.yaml`, PYTHON_ENV);
      await upload(`${modelFolder(produced[0]!)}/requirements.txt`, REQUIREMENTS);
      await upload(`${modelFolder(produced[0]!)}/MLmodel`, 'flavors: {}\n');
      for (const [i, id] of produced.entries()) {
        ok(
          await mlflow(
            app,
            'POST',
            'runs/outputs',
            { run_id: run, models: [{ model_id: id, step: i * 10 }] },
            f.developer,
          ),
        );
      }
      const base = await createLoggedModel(app, f.secondExperimentId, { name: 'base' }, f.developer);
      ok(await mlflow(app, 'POST', 'runs/log-inputs', { run_id: run, models: [{ model_id: base }] }, f.developer));

      const r = await record(run);
      assert.equal(r.runId, run);
      assert.equal(r.experimentId, f.experimentId);
      assert.equal(r.user, `rep-${engine}-dev`);
      assert.equal(r.status, 'RUNNING');
      assert.equal(r.endTime, null);
      assert.equal(r.parentRunId, parent);
      assert.deepEqual(r.code, {
        sourceType: 'LOCAL',
        entryPoint: 'train.py',
        gitCommit: '3f2a9c1e',
        gitRepoUrl: 'https://github.com/acme/churn',
        gitBranch: 'main',
      });
      assert.deepEqual(
        [...r.params].sort((a, b) => (a.key < b.key ? -1 : 1)),
        [
          { key: 'depth', value: '6' },
          { key: 'lr', value: '0.01' },
        ],
      );
      assert.deepEqual(
        r.datasets.map(({ name, digest, context, source }) => ({ name, digest, context, source })),
        [
          { name: 'churn', digest: 'c0ffee', context: 'training', source: '{"uri": "s3://lake/churn"}' },
          { name: 'churn-holdout', digest: 'beef', context: null, source: '{"uri": "s3://lake/h"}' },
        ],
      );
      assert.ok(r.datasets.every((d) => /^d-[0-9a-f]{32}$/.test(d.datasetId)));
      assert.deepEqual(
        r.models.map((m) => [m.modelId, m.direction, m.step, m.name]),
        [...produced.map((id, i) => [id, 'output', i * 10, `model-${i}`]), [base, 'input', 0, 'base']],
      );
      assert.equal(r.models[0]!.artifactUri, `mlflow-artifacts:/${modelFolder(produced[0]!)}`);
      assert.deepEqual(r.environment, {
        source: 'model',
        fromModelId: produced[0],
        python: '3.10.12',
        requirements: ['mlflow==2.9.2', 'scikit-learn==1.3.2', 'cloudpickle==3.0.0'],
      });

      // Finished and with a deleted model: still recorded.
      ok(
        await mlflow(
          app,
          'POST',
          'runs/update',
          { run_id: run, status: 'FINISHED', end_time: 1_700_000_000_000 },
          f.developer,
        ),
      );
      ok(await mlflow(app, 'DELETE', `logged-models/${produced[1]}`, undefined, f.developer));
      const later = await record(run);
      assert.equal(later.status, 'FINISHED');
      assert.equal(later.endTime, 1_700_000_000_000);
      assert.equal(later.models.length, 6);
    });

    test('a run without models or tags has an empty record; missing or empty environment files are no environment', async () => {
      const bare = await createRun(app, f.experimentId, f.developer);
      const r = await record(bare);
      assert.deepEqual(r.code, {
        sourceType: null,
        entryPoint: null,
        gitCommit: null,
        gitRepoUrl: null,
        gitBranch: null,
      });
      assert.equal(r.parentRunId, null);
      assert.deepEqual(r.datasets, []);
      assert.deepEqual(r.models, []);
      assert.deepEqual(r.environment, { source: null, fromModelId: null, python: null, requirements: [] });

      // A model without environment files, and one with empty ones.
      const run = await createRun(app, f.experimentId, f.developer);
      const model = await createLoggedModel(app, f.experimentId, {}, f.developer);
      ok(await mlflow(app, 'POST', 'runs/outputs', { run_id: run, models: [{ model_id: model }] }, f.developer));
      assert.deepEqual((await record(run)).environment, {
        source: 'model',
        fromModelId: model,
        python: null,
        requirements: [],
      });
      await upload(`${modelFolder(model)}/python_env.yaml`, '');
      await upload(`${modelFolder(model)}/requirements.txt`, '');
      assert.deepEqual((await record(run)).environment, {
        source: 'model',
        fromModelId: model,
        python: null,
        requirements: [],
      });
      await upload(`${modelFolder(model)}/python_env.yaml`, 'name: env\ndependencies: []\n');
      await upload(`${modelFolder(model)}/requirements.txt`, '# only comments\n\n');
      assert.deepEqual((await record(run)).environment, {
        source: 'model',
        fromModelId: model,
        python: null,
        requirements: [],
      });
    });

    test("the run's own environment files (its environment/ folder) come before a model's", async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const model = await createLoggedModel(app, f.experimentId, {}, f.developer);
      ok(await mlflow(app, 'POST', 'runs/outputs', { run_id: run, models: [{ model_id: model }] }, f.developer));
      await upload(`${modelFolder(model)}/requirements.txt`, 'torch==2.1.0\n');
      assert.deepEqual((await record(run)).environment, {
        source: 'model',
        fromModelId: model,
        python: null,
        requirements: ['torch==2.1.0'],
      });
      // Logged as a run artifact, e.g. mlflow.log_artifact("requirements.txt", "environment").
      await putRunArtifact(app, run, 'environment/python_env.yaml', 'python: "3.11.4"\nbuild_dependencies: [pip]\n');
      await putRunArtifact(app, run, 'environment/requirements.txt', 'numpy==2.1.0\n# a comment\npandas==2.2.3\n');
      assert.deepEqual((await record(run)).environment, {
        source: 'run',
        fromModelId: null,
        python: '3.11.4',
        requirements: ['numpy==2.1.0', 'pandas==2.2.3'],
      });
      // A run with no model at all records its own environment too.
      const bare = await createRun(app, f.experimentId, f.developer);
      await putRunArtifact(app, bare, 'environment/requirements.txt', 'scikit-learn==1.5.2\n');
      assert.deepEqual((await record(bare)).environment, {
        source: 'run',
        fromModelId: null,
        python: null,
        requirements: ['scikit-learn==1.5.2'],
      });
    });

    test('viewers read it; outsiders get 404, anonymous 401; models the caller cannot see are left out', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const hidden = `rep-${engine}-hidden`;
      await createProject(app, hidden, `rep-${engine}-team`);
      const hiddenModel = await createLoggedModel(app, await createExperiment(app, hidden, 'hidden'));
      // The admin links a model of a project the run's readers cannot see.
      ok(await mlflow(app, 'POST', 'runs/log-inputs', { run_id: run, models: [{ model_id: hiddenModel }] }));
      assert.deepEqual(
        (await record(run, adminAuth)).models.map((m) => m.modelId),
        [hiddenModel],
      );
      assert.deepEqual((await record(run, f.viewer)).models, []);
      for (const [headers, status] of [
        [f.outsider, 404],
        [{}, 401],
        [f.scopedToOther, 403],
      ] as const) {
        const res = await call(app, 'GET', `/api/v1/runs/${run}/reproducibility`, headers);
        assert.equal(res.statusCode, status, res.body);
      }
      assert.equal(
        (await call(app, 'GET', `/api/v1/runs/${'0'.repeat(32)}/reproducibility`, adminAuth)).statusCode,
        404,
      );
      assert.equal((await call(app, 'GET', '/api/v1/runs/nope/reproducibility', adminAuth)).statusCode, 400);
    });
  });
}
