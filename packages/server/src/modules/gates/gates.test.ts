// The evaluation gate on both engines, with a worker running: specs (validation, roles, audit),
// ONNX versions gated end to end (metrics equal scikit-learn's on the same data), thresholds, the
// champion rule, deterministic failures with their reason, skipped gates, re-runs, overrides and
// the MLflow stage rules. The pyfunc path builds a venv and is covered by python/mlflow-compat.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import type { ArtifactStore } from '../../artifacts/index.js';
import { JobStore, type JobRow } from '../../jobs/job-store.js';
import { systemClock } from '../../core/clock.js';
import type { PythonEnvProvider } from '../../jobs/executor/python-envs.js';
import { newId } from '../../core/ids.js';
import { gateHandler } from './handler.js';
import { GateStore } from './store.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  call,
  createUser,
  expectStatus,
  grant,
  type Headers,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const FIXTURES = path.join(import.meta.dirname, '../evaluation/fixtures');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const binaryExpected = JSON.parse(readFileSync(path.join(FIXTURES, 'binary.expected.json'), 'utf8')) as {
  metrics: Record<string, number>;
};
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CPUExecutionProvider]
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;
const MODELS = '/api/v1/projects/default/models';
const ML = '/api/2.0/mlflow';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`evaluation gate (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let experimentId: string;
    let runId: string;
    let datasetId: string;
    let maintainer: TestUser;
    let developer: TestUser;
    let padmin: TestUser;

    const req = (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
      url: string,
      body?: unknown,
      h: Headers = adminAuth,
    ) => call(app, method, url, h, body);
    const ok = async (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
      url: string,
      body?: unknown,
      status = 200,
    ) => {
      const res = await req(method, url, body);
      expectStatus(res, status, `${method} ${url}`);
      return res.json<Json>();
    };
    const upload = async (path: string, content: Buffer | string) => {
      const res = await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(path)}`,
        headers: { ...adminAuth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(content),
      });
      assert.ok(res.statusCode < 300, `upload ${path}: ${res.statusCode} ${res.body}`);
    };
    const artifactUri = (p: string) => `mlflow-artifacts:/${experimentId}/${runId}/artifacts/${p}`;
    const dataset = async (name: string, p: string) =>
      (await ok('POST', '/api/v1/projects/default/datasets', { name, artifactUri: artifactUri(p) }, 201)).dataset
        .datasetId as string;
    const spec = (model: string, body: Json) => req('PUT', `${MODELS}/${model}/evaluation-spec`, body);
    const newVersion = async (model: string, folder: string) =>
      (await ok('POST', `${MODELS}/${model}/versions`, { source: `runs:/${runId}/${folder}` }, 201)).version as number;
    /** Waits until the version's gate result has settled, and returns the gate result. */
    const settled = async (model: string, version: number): Promise<Json> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const r = await ok('GET', `${MODELS}/${model}/versions/${version}/gate`);
        if (r.gate && !['pending', 'running'].includes(r.gate.status)) return r;
        if (Date.now() > deadline) throw new Error(`gate of ${model} v${version} still ${r.gate?.status}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    };
    const goodSpec = (extra: Json = {}) => ({
      datasetId,
      task: 'binary',
      labelColumn: 'label',
      thresholds: [
        { metric: 'accuracy', op: '>=', threshold: 0.95 },
        { metric: 'logLoss', op: '<=', threshold: 0.1 },
      ],
      championRule: null,
      ...extra,
    });
    const events = async (type: string) =>
      (await app.database.db.selectFrom('events').selectAll().where('type', '=', type).execute()).map(
        (e) => JSON.parse(e.payload) as Json,
      );

    before(async () => {
      store = await createTestStore(engine);
      // Deployment of approved releases is serving's, tested in serving/release-deploy.test.ts.
      app = await buildTestApp(store, { releaseAutoDeploy: false });
      await app.http.ready();
      app.start();
      experimentId = (await ok('POST', `${ML}/experiments/create`, { name: 'gates' })).experiment_id;
      runId = (await ok('POST', `${ML}/runs/create`, { experiment_id: experimentId })).run.info.run_id;
      await upload('onnx/MLmodel', ONNX_MLMODEL);
      await upload('onnx/model.onnx', fixture('binary.onnx'));
      await upload('lone/model.onnx', fixture('binary.onnx'));
      await upload('bad/MLmodel', ONNX_MLMODEL);
      await upload('bad/model.onnx', 'these bytes are no ONNX graph');
      await upload('data/heldout.csv', fixture('binary.csv'));
      await upload('copy/heldout.csv', fixture('binary.csv'));
      // A folder dataset has no recorded schema, so the spec cannot check its label column.
      const relabelled = fixture('binary.csv')
        .toString('utf8')
        .replace(/,label(\r?\n)/, ',outcome$1');
      await upload('nolabel/part.csv', relabelled);
      await upload('nolabel/README.md', 'the held-out set');
      datasetId = await dataset('heldout', 'data/heldout.csv');
      for (const name of ['clf', 'bare', 'crit']) await ok('POST', MODELS, { name }, 201);
      maintainer = await createUser(app, 'gate-maintainer');
      developer = await createUser(app, 'gate-developer');
      padmin = await createUser(app, 'gate-padmin');
      await grant(app, 'default', maintainer.username, 'maintainer');
      await grant(app, 'default', developer.username, 'developer');
      await grant(app, 'default', padmin.username, 'admin');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('bad specs are 400s naming the field, and write nothing; only maintainers set specs', async () => {
      const bad: [Json, string][] = [
        [goodSpec({ datasetId: 'd-00000000000000000000000000000000' }), 'datasetId'],
        [goodSpec({ labelColumn: 'nope' }), 'labelColumn'],
        [goodSpec({ task: 'ranking' }), 'body.task'],
        [goodSpec({ thresholds: [{ metric: 'mae', op: '<=', threshold: 1 }] }), 'thresholds[0].metric'],
        [goodSpec({ thresholds: [{ metric: 'accuracy', op: '>', threshold: 1 }] }), 'body.thresholds.0.op'],
        [goodSpec({ championRule: { metric: 'r2', maxDegradation: 0.1 } }), 'championRule.metric'],
        [goodSpec({ championRule: { metric: 'f1', maxDegradation: -1 } }), 'body.championRule'],
        [
          goodSpec({ task: 'regression', thresholds: [{ metric: 'accuracy', op: '>=', threshold: 1 }] }),
          'thresholds[0].metric',
        ],
      ];
      for (const [body, field] of bad) {
        const res = await spec('clf', body);
        expectStatus(res, 400, JSON.stringify(body));
        const err = res.json<Json>().error;
        const named = `${err.details?.field ?? ''} ${err.message}`;
        assert.ok(
          named.replace(/\//g, '.').includes(field) || named.includes(field.replace('body.', '')),
          `${field}: ${res.body}`,
        );
      }
      expectStatus(await req('GET', `${MODELS}/clf/evaluation-spec`), 404);
      expectStatus(await spec('clf', goodSpec()), 200);
      expectStatus(await req('PUT', `${MODELS}/clf/evaluation-spec`, goodSpec(), developer.auth), 403);
      const set = await call(app, 'PUT', `${MODELS}/clf/evaluation-spec`, maintainer.auth, goodSpec());
      expectStatus(set, 200);
      assert.equal(set.json<Json>().updatedBy, maintainer.username);
      const got = await ok('GET', `${MODELS}/clf/evaluation-spec`);
      assert.deepEqual(got.thresholds, goodSpec().thresholds);
      assert.equal(got.datasetId, datasetId);
      const audited = await auditEvents(app, 'action=evaluation_spec.put');
      assert.ok(audited.some((e) => e.actor === maintainer.username && e.outcome === 'success'));
    });

    test("an ONNX version is gated on creation: metrics equal scikit-learn's, thresholds pass, events emitted", async () => {
      expectStatus(await spec('clf', goodSpec()), 200);
      const v = await newVersion('clf', 'onnx');
      const r = await settled('clf', v);
      assert.equal(r.gate.status, 'passed', JSON.stringify(r.gate));
      assert.equal(r.gate.scorer, 'onnx');
      assert.equal(r.gate.rows, 171);
      // The fixture's numbers were computed by scikit-learn in float32 (onnxruntime's dtype), so they
      // agree to float32's precision; python/mlflow-compat/test_gate.py checks 1e-9 in float64.
      for (const [k, want] of Object.entries(binaryExpected.metrics)) {
        const got = r.gate.metrics[k] as number;
        assert.ok(Math.abs(got - want) <= 1e-7 * Math.max(1, Math.abs(want)), `${k}: ${got} vs scikit-learn ${want}`);
      }
      assert.deepEqual(
        r.gate.checks.map((c: Json) => [c.kind, c.metric, c.passed]),
        [
          ['threshold', 'accuracy', true],
          ['threshold', 'logLoss', true],
        ],
      );
      assert.equal(r.gate.spec.datasetId, datasetId);
      assert.equal(r.history.length, 1);
      const view = await ok('GET', `${MODELS}/clf/versions/${v}`);
      assert.deepEqual(view.gate, { status: 'passed', overridden: false });
      // The MLflow shape stays MLflow's.
      const mv = (await ok('GET', `${ML}/model-versions/get?name=clf&version=${v}`)).model_version;
      assert.equal(mv.gate, undefined);
      assert.ok((await events('model_version.created')).some((e) => e.model === 'clf' && e.version === v));
      assert.ok((await events('gate.passed')).some((e) => e.model === 'clf' && e.version === v && e.metrics));
      // A lone ONNX graph (no MLmodel) is scored the same way.
      const lone = await settled('clf', await newVersion('clf', 'lone'));
      assert.equal(lone.gate.status, 'passed');
    });

    test('a threshold the version misses fails its gate with the reason; re-running after a spec change passes', async () => {
      expectStatus(
        await spec('clf', goodSpec({ thresholds: [{ metric: 'accuracy', op: '>=', threshold: 0.999 }] })),
        200,
      );
      const v = await newVersion('clf', 'onnx');
      const r = await settled('clf', v);
      assert.equal(r.gate.status, 'failed');
      assert.match(r.gate.reason, /accuracy 0\.98\d+ is not >= 0\.999/);
      assert.deepEqual(
        r.gate.checks.map((c: Json) => c.passed),
        [false],
      );
      assert.ok((await events('gate.failed')).some((e) => e.version === v && /accuracy/.test(e.reason)));
      expectStatus(await spec('clf', goodSpec()), 200);
      expectStatus(await req('POST', `${MODELS}/clf/versions/${v}/gate`, undefined, developer.auth), 403);
      const rerun = await call(app, 'POST', `${MODELS}/clf/versions/${v}/gate`, maintainer.auth);
      expectStatus(rerun, 202);
      assert.equal(rerun.json<Json>().status, 'pending');
      const again = await settled('clf', v);
      assert.equal(again.gate.status, 'passed');
      assert.equal(again.history.length, 2);
      assert.equal(again.history[1].status, 'failed');
      assert.ok(
        (await auditEvents(app, 'action=model_version.gate_rerun')).some((e) => e.actor === maintainer.username),
      );
    });

    test("champion rule: against the champion's passed metrics on the same set, or the champion scored now", async () => {
      const rule = { metric: 'rocAuc', maxDegradation: 0.0001 };
      expectStatus(await spec('clf', goodSpec({ championRule: rule })), 200);
      const champion = await newVersion('clf', 'onnx');
      assert.equal((await settled('clf', champion)).gate.status, 'passed');
      expectStatus(await req('PUT', `${MODELS}/clf/aliases/champion`, { version: champion }), 200);
      // Pretend the champion once scored a perfect ROC AUC on this very set: the candidate is worse.
      const base = (await settled('clf', champion)).gate;
      await app.database.db
        .insertInto('model_version_gates')
        .values({
          id: newId(Date.now() + 1000),
          model_id: (await ok('GET', `${MODELS}/clf`)).id,
          version: champion,
          status: 'passed',
          job_id: null,
          spec: JSON.stringify(base.spec),
          scorer: 'onnx',
          rows: 171,
          metrics: JSON.stringify({ ...base.metrics, rocAuc: 1 }),
          checks: '[]',
          champion_version: null,
          champion_metrics: null,
          reason: null,
          override_by: null,
          override_reason: null,
          override_at: null,
          created_at: Date.now() + 1000,
          started_at: null,
          finished_at: null,
        })
        .execute();
      const v = await newVersion('clf', 'onnx');
      const r = await settled('clf', v);
      assert.equal(r.gate.status, 'failed', JSON.stringify(r.gate));
      assert.equal(r.gate.championVersion, champion);
      assert.equal(r.gate.championMetrics.rocAuc, 1);
      const check = r.gate.checks.find((c: Json) => c.kind === 'champion');
      assert.deepEqual([check.metric, check.op, check.passed], ['rocAuc', '>=', false]);
      assert.ok(Math.abs(check.threshold - 0.9999) < 1e-12);
      assert.match(r.gate.reason, /champion rule: rocAuc/);
      assert.equal(r.champion.version, champion);
      assert.equal(r.champion.metrics.rocAuc, 1);
      // On another held-out set the champion has no passed gate: it is scored beside the candidate.
      const other = await dataset('heldout-copy', 'copy/heldout.csv');
      expectStatus(await spec('clf', goodSpec({ datasetId: other, championRule: rule })), 200);
      const w = await newVersion('clf', 'onnx');
      const s = await settled('clf', w);
      assert.equal(s.gate.status, 'passed', JSON.stringify(s.gate));
      assert.equal(s.gate.championVersion, champion);
      assert.deepEqual(s.gate.championMetrics, s.gate.metrics);
      expectStatus(await req('DELETE', `${MODELS}/clf/aliases/champion`), 204);
    });

    test('deterministic failures fail the gate with the reason: no label column, a corrupt model, unreadable data', async () => {
      const folder = await dataset('nolabel', 'nolabel');
      expectStatus(await spec('clf', goodSpec({ datasetId: folder })), 200);
      const r = await settled('clf', await newVersion('clf', 'onnx'));
      assert.equal(r.gate.status, 'failed');
      assert.match(r.gate.reason, /no label column "label"/);
      expectStatus(await spec('clf', goodSpec()), 200);
      const bad = await settled('clf', await newVersion('clf', 'bad'));
      assert.equal(bad.gate.status, 'failed');
      assert.match(bad.gate.reason, /the ONNX model failed to load/);
      // The gate settles inside the attempt; the worker records the job's outcome just after.
      let job = await ok('GET', `/api/v1/jobs/${bad.gate.jobId}`);
      for (let i = 0; i < 200 && job.state === 'running'; i++) {
        await new Promise((res) => setTimeout(res, 25));
        job = await ok('GET', `/api/v1/jobs/${bad.gate.jobId}`);
      }
      assert.equal(job.state, 'failed');
      assert.equal(job.attempt, 1, 'a deterministic failure is not retried');
      const external = (
        await ok(
          'POST',
          '/api/v1/projects/default/datasets',
          { name: 'ext', uri: 's3://bucket/x.csv', digest: 'x1' },
          201,
        )
      ).dataset.datasetId;
      expectStatus(await spec('clf', goodSpec({ datasetId: external })), 200);
      const ext = await settled('clf', await newVersion('clf', 'onnx'));
      assert.equal(ext.gate.status, 'failed');
      assert.match(ext.gate.reason, /not in this server's artifact store/);
      expectStatus(await spec('clf', goodSpec()), 200);
    });

    test('a model without a spec is skipped; removing the spec skips the next versions', async () => {
      const v = await newVersion('bare', 'onnx');
      const r = await ok('GET', `${MODELS}/bare/versions/${v}/gate`);
      assert.equal(r.gate.status, 'skipped');
      assert.equal(r.gate.reason, 'no evaluation spec');
      assert.equal(r.champion, null);
      assert.deepEqual((await ok('GET', `${MODELS}/bare/versions/${v}`)).gate, {
        status: 'skipped',
        overridden: false,
      });
      expectStatus(await spec('bare', goodSpec()), 200);
      expectStatus(await req('DELETE', `${MODELS}/bare/evaluation-spec`), 204);
      expectStatus(await req('DELETE', `${MODELS}/bare/evaluation-spec`), 204);
      assert.equal(
        (await ok('GET', `${MODELS}/bare/versions/${await newVersion('bare', 'onnx')}/gate`)).gate.status,
        'skipped',
      );
    });

    test('a cancelled gate job fails its gate, running or queued; a lost lease leaves it for the next attempt', async () => {
      const modelId = (await ok('POST', MODELS, { name: 'cancelled-gates' }, 201)).id as string;
      expectStatus(await spec('cancelled-gates', goodSpec()), 200);
      const v = await newVersion('cancelled-gates', 'onnx');
      await settled('cancelled-gates', v);
      // The job is run by hand here, against an artifact store that fails as an aborted read would.
      const aborted = new Proxy({} as ArtifactStore, {
        get: () => () => Promise.reject(new Error('The operation was aborted')),
      });
      const handler = gateHandler({
        gates: app.services.gates,
        store: new GateStore(app.database.db),
        artifacts: aborted,
        pythonEnvs: {} as PythonEnvProvider,
        workRoot: path.join(store.dir, 'gate-work'),
      });
      const pendingGate = (gateId: string) => ({
        id: gateId,
        model_id: modelId,
        version: v,
        status: 'pending' as const,
        job_id: null,
        spec: null,
        scorer: null,
        rows: null,
        metrics: null,
        checks: null,
        champion_version: null,
        champion_metrics: null,
        reason: null,
        override_by: null,
        override_reason: null,
        override_at: null,
        created_at: Date.now() + 5000,
        started_at: null,
        finished_at: null,
      });
      const attempt = async (why: string) => {
        const gateId = newId(Date.now() + 5000);
        await app.database.db.insertInto('model_version_gates').values(pendingGate(gateId)).execute();
        const controller = new AbortController();
        controller.abort(new Error(why));
        await assert.rejects(
          handler.run({
            job: { max_attempts: 3 } as JobRow,
            payload: { gateId },
            attempt: 1,
            signal: controller.signal,
            log: () => undefined,
          }),
        );
        return app.database.db
          .selectFrom('model_version_gates')
          .select(['status', 'reason'])
          .where('id', '=', gateId)
          .executeTakeFirstOrThrow();
      };
      assert.deepEqual(await attempt('cancelled'), { status: 'failed', reason: 'the gate job was cancelled' });
      assert.deepEqual(await attempt('lease-lost'), { status: 'running', reason: null });

      // Cancelled while queued (here: scheduled for later, so no worker claims it): no attempt
      // runs to see it, so the cancellation itself fails the gate.
      const gateId = newId(Date.now() + 6000);
      const job = await new JobStore(app.database.db, app.database.engine, systemClock).enqueue({
        kind: 'registry.gate',
        payload: { gateId },
        runAt: Date.now() + 3_600_000,
      });
      await app.database.db
        .insertInto('model_version_gates')
        .values({ ...pendingGate(gateId), job_id: job.id })
        .execute();
      expectStatus(await req('POST', `/api/v1/jobs/${job.id}/cancel`), 200);
      const settledRow = await app.database.db
        .selectFrom('model_version_gates')
        .select(['status', 'reason'])
        .where('id', '=', gateId)
        .executeTakeFirstOrThrow();
      assert.deepEqual(settledRow, { status: 'failed', reason: 'the gate job was cancelled' });
    });

    test('overrides: project admins only, with a reason, once, only of a failed gate; audited; MLflow stages follow', async () => {
      expectStatus(
        await spec('clf', goodSpec({ thresholds: [{ metric: 'accuracy', op: '>=', threshold: 0.999 }] })),
        200,
      );
      const v = await newVersion('clf', 'onnx');
      assert.equal((await settled('clf', v)).gate.status, 'failed');
      const transition = (stage: string) =>
        req('POST', `${ML}/model-versions/transition-stage`, {
          name: 'clf',
          version: String(v),
          stage,
          archive_existing_versions: false,
        });
      for (const stage of ['Staging', 'Production']) {
        const refused = await transition(stage);
        expectStatus(refused, 400, stage);
        assert.equal(refused.json<Json>().error_code, 'INVALID_STATE');
        assert.match(refused.json<Json>().message, /evaluation gate failed/);
      }
      expectStatus(await transition('Archived'), 200);
      const url = `${MODELS}/clf/versions/${v}/gate/override`;
      expectStatus(await call(app, 'POST', url, maintainer.auth, { reason: 'fine' }), 403);
      expectStatus(await call(app, 'POST', url, padmin.auth, { reason: '   ' }), 400);
      expectStatus(await call(app, 'POST', url, padmin.auth, {}), 400);
      const over = await call(app, 'POST', url, padmin.auth, { reason: 'accepted by the risk board' });
      expectStatus(over, 200);
      assert.equal(over.json<Json>().status, 'failed');
      assert.equal(over.json<Json>().overridden, true);
      assert.equal(over.json<Json>().override.by, padmin.username);
      expectStatus(await call(app, 'POST', url, padmin.auth, { reason: 'again' }), 409);
      assert.deepEqual((await ok('GET', `${MODELS}/clf/versions/${v}`)).gate, { status: 'failed', overridden: true });
      const audited = await auditEvents(app, 'action=model_version.gate_override');
      assert.ok(
        audited.some((e) => e.actor === padmin.username && e.details.reason === 'accepted by the risk board'),
        JSON.stringify(audited),
      );
      expectStatus(await transition('Staging'), 200);
      // A passed gate cannot be overridden.
      expectStatus(await spec('clf', goodSpec()), 200);
      const p = await newVersion('clf', 'onnx');
      assert.equal((await settled('clf', p)).gate.status, 'passed');
      expectStatus(await req('POST', `${MODELS}/clf/versions/${p}/gate/override`, { reason: 'x' }), 409);
    });

    test('a critical model reaches Production only with an approved production release', async () => {
      await ok('PATCH', `${MODELS}/crit`, { riskTier: 'critical' });
      const v = await newVersion('crit', 'onnx');
      const transition = () =>
        req('POST', `${ML}/model-versions/transition-stage`, { name: 'crit', version: String(v), stage: 'Production' });
      const refused = await transition();
      expectStatus(refused, 400);
      assert.equal(refused.json<Json>().error_code, 'INVALID_STATE');
      assert.match(refused.json<Json>().message, /critical model/);
      // Pending and skipped gates do not block Staging (MLflow clients transition right away).
      expectStatus(
        await req('POST', `${ML}/model-versions/transition-stage`, {
          name: 'crit',
          version: String(v),
          stage: 'Staging',
        }),
        200,
      );
      const now = Date.now();
      await app.database.db
        .insertInto('releases')
        .values({
          id: newId(now),
          model_id: (await ok('GET', `${MODELS}/crit`)).id,
          version: v,
          environment: 'production',
          status: 'approved',
          requested_by: 'someone',
          requested_by_id: null,
          note: null,
          decided_by: 'admin',
          decided_by_id: null,
          decision: 'approved',
          decision_reason: null,
          decided_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      expectStatus(await transition(), 200);
    });
  });
}
