// Releases through serving, on both engines with a worker: an approved release is packaged
// (bundle with manifest, checksums and a Dockerfile), deployed to the model's staging deployment,
// integration-tested there with rows of the held-out set, and served in production — at once on
// the first production deployment, by a canary afterwards, whose end decides the release.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { call, eventually, expectStatus } from '../../testing/identity-fixtures.js';
import { putRunArtifact } from '../../testing/tracking-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const EVAL = path.join(import.meta.dirname, '../evaluation/fixtures');
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
  python_function:
    loader_module: mlflow.onnx
`;
const ML = '/api/2.0/mlflow';
const P = '/api/v1/projects/default';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function ok(app: HangarApp, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, status = 200) {
  const res = await call(app, method, url, adminAuth, body);
  expectStatus(res, status, `${method} ${url}`);
  return res.json<Json>();
}

/**
 * Model "churn" with a held-out set and three versions: v1 good, v2 flipped (it passes a gate
 * without thresholds, so only its canary can stop it), v3 good again.
 */
async function seedChurn(app: HangarApp): Promise<void> {
  const experimentId = (await ok(app, 'POST', `${ML}/experiments/create`, { name: 'releases' })).experiment_id;
  const runId = (await ok(app, 'POST', `${ML}/runs/create`, { experiment_id: experimentId })).run.info.run_id;
  const upload = (p: string, content: Buffer | string) => putRunArtifact(app, runId, p, content);
  await upload('good/MLmodel', ONNX_MLMODEL);
  await upload('good/model.onnx', readFileSync(path.join(EVAL, 'binary.onnx')));
  await upload('flipped/MLmodel', ONNX_MLMODEL);
  await upload('flipped/model.onnx', readFileSync(path.join(import.meta.dirname, 'fixtures/binary_flipped.onnx')));
  await upload('data/heldout.csv', readFileSync(path.join(EVAL, 'binary.csv')));
  const datasetId = (
    await ok(
      app,
      'POST',
      `${P}/datasets`,
      { name: 'heldout', artifactUri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/data/heldout.csv` },
      201,
    )
  ).dataset.datasetId;
  await ok(app, 'POST', `${P}/models`, { name: 'churn' }, 201);
  await ok(app, 'PUT', `${P}/models/churn/evaluation-spec`, {
    datasetId,
    task: 'binary',
    labelColumn: 'label',
    thresholds: [],
    championRule: null,
  });
  for (const folder of ['good', 'flipped', 'good']) {
    await ok(app, 'POST', `${P}/models/churn/versions`, { source: `runs:/${runId}/${folder}` }, 201);
  }
}

const release = async (app: HangarApp, version: number) =>
  (await ok(app, 'POST', `${P}/models/churn/versions/${version}/releases`, { environment: 'production' }, 201))
    .id as string;

const settled = (app: HangarApp, id: string, statuses: string[]) =>
  eventually(
    async () => {
      const r = await ok(app, 'GET', `${P}/releases/${id}`);
      return statuses.includes(r.status) ? (r as Json) : undefined;
    },
    `release ${id} reaches ${statuses.join('/')}`,
    30_000,
  );

for (const engine of ENGINES) {
  describe(`release deployment (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, { servingPollMs: 200 });
      await app.http.ready();
      app.start();
      await seedChurn(app);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('the first production release is packaged, tested on staging and served', async () => {
      const id = await release(app, 1);
      const r = await settled(app, id, ['done', 'rolled_back']);
      assert.equal(r.status, 'done', JSON.stringify(r.transitions));
      assert.deepEqual(
        r.transitions.map((t: Json) => t.status),
        ['gate', 'approved', 'deploying', 'done'],
      );
      const staging = await ok(app, 'GET', `${P}/deployments/churn-staging`);
      assert.equal(staging.environment, 'staging');
      assert.deepEqual(staging.traffic, [{ version: 1, weight: 100 }]);
      const prod = await ok(app, 'GET', `${P}/deployments/churn`);
      assert.equal(prod.environment, 'production');
      assert.deepEqual(prod.traffic, [{ version: 1, weight: 100 }]);
      // The staging test's sample requests are in staging's prediction log.
      await eventually(async () => {
        const logged = await ok(app, 'GET', `${P}/deployments/churn-staging/predictions?limit=100`);
        const n = logged.predictions.filter((p: Json) => p.requestId.startsWith(`staging-test-${id}`)).length;
        return n === 20 ? true : undefined;
      }, 'the 20 staging test requests are logged');
      // The bundle: the model files with their checksums, a manifest and a build context.
      const B = `${P}/models/churn/versions/1/bundle`;
      const { manifest } = await ok(app, 'GET', B);
      assert.equal(manifest.runtime, 'onnx');
      assert.deepEqual(
        manifest.files.map((f: Json) => f.path),
        ['model/MLmodel', 'model/model.onnx'],
      );
      assert.match(manifest.files[1].sha256, /^[0-9a-f]{64}$/);
      const file = (p: string) => call(app, 'GET', `${B}/file?path=${encodeURIComponent(p)}`, adminAuth);
      assert.match((await file('Dockerfile')).body, /CMD \["mlserver", "start", "\."\]/);
      assert.match((await file('requirements.txt')).body, /mlserver==1\.7\.1/);
      expectStatus(await file('../secret.key'), 400);
      // Rebuilding gives the same bytes: the bundle is reproducible.
      const again = await ok(app, 'POST', B);
      assert.deepEqual(again.manifest, manifest);
      expectStatus(await call(app, 'GET', `${P}/models/churn/versions/2/bundle`, adminAuth), 404);
    });

    test('a later release rolls out as a canary: promoted means done, aborted means rolled back', async () => {
      const good = await release(app, 3);
      await eventually(
        async () => {
          const d = await ok(app, 'GET', `${P}/deployments/churn`);
          return d.rollout?.candidateVersion === 3 && d.rollout.status === 'running' ? true : undefined;
        },
        'the canary of version 3 starts',
        30_000,
      );
      assert.equal((await ok(app, 'GET', `${P}/releases/${good}`)).status, 'deploying');
      await ok(app, 'POST', `${P}/deployments/churn/rollout/promote`, {});
      assert.equal((await settled(app, good, ['done', 'rolled_back'])).status, 'done');
      assert.deepEqual((await ok(app, 'GET', `${P}/deployments/churn`)).traffic, [{ version: 3, weight: 100 }]);

      const bad = await release(app, 2);
      await eventually(
        async () => {
          const d = await ok(app, 'GET', `${P}/deployments/churn`);
          return d.rollout?.candidateVersion === 2 && d.rollout.status === 'running' ? true : undefined;
        },
        'the canary of version 2 starts',
        30_000,
      );
      await ok(app, 'POST', `${P}/deployments/churn/rollout/abort`, { reason: 'skewed' });
      const r = await settled(app, bad, ['done', 'rolled_back']);
      assert.equal(r.status, 'rolled_back');
      assert.match(r.transitions.at(-1).reason, /canary aborted: skewed/);
      assert.deepEqual((await ok(app, 'GET', `${P}/deployments/churn`)).traffic, [{ version: 3, weight: 100 }]);
      // MLflow's stage follows: version 3 is Production again.
      const v3 = await ok(app, 'GET', `${ML}/model-versions/get?name=churn&version=3`);
      assert.equal(v3.model_version.current_stage, 'Production');
    });
  });
}

// A worker without the serving role (its own process beside API and serving processes, on
// PostgreSQL) runs the staging test on a private plane that loads only the staging deployment,
// and leaves production to the serving replicas.
describe('release deployment by a worker without the serving role (postgres)', () => {
  let store: TestStore;
  let api: HangarApp;
  let worker: HangarApp;

  before(async () => {
    store = await createTestStore('postgres');
    api = await buildTestApp(store, { role: 'api' });
    worker = await buildTestApp(store, { role: 'worker', servingPollMs: 200 });
    await api.http.ready();
    await worker.http.ready();
    api.start();
    worker.start();
    await seedChurn(api);
  });
  after(async () => {
    await worker.close();
    await api.close();
    await store.cleanup();
  });

  test('the release is packaged, tested on staging by the worker and handed to production', async () => {
    assert.equal(api.services.plane, null);
    assert.equal(worker.services.plane, null);
    const id = await release(api, 1);
    const r = await settled(api, id, ['done', 'rolled_back']);
    assert.equal(r.status, 'done', JSON.stringify(r.transitions));
    const staging = await ok(api, 'GET', `${P}/deployments/churn-staging`);
    assert.equal(staging.status, 'ready');
    assert.deepEqual(staging.traffic, [{ version: 1, weight: 100 }]);
    assert.deepEqual((await ok(api, 'GET', `${P}/deployments/churn`)).traffic, [{ version: 1, weight: 100 }]);
    await eventually(async () => {
      const logged = await ok(api, 'GET', `${P}/deployments/churn-staging/predictions?limit=100`);
      const n = logged.predictions.filter((p: Json) => p.requestId.startsWith(`staging-test-${id}`)).length;
      return n === 20 ? true : undefined;
    }, 'the 20 staging test requests are logged');
    const job = await eventually(async () => {
      const jobs = await ok(api, 'GET', `/api/v1/jobs?kind=release.deploy&state=succeeded`);
      return jobs.items[0] as Json | undefined;
    }, 'the deploy job succeeded');
    const logs = await ok(api, 'GET', `/api/v1/jobs/${job.id}/logs`);
    const text = logs.chunks.map((c: Json) => c.data).join('');
    assert.match(text, /staging test: 20 sample requests answered/);
    assert.match(text, /serving replicas apply it as they poll/);
  });
});
