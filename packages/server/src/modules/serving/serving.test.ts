// Serving end to end on both engines, in-process (app.inject): deployments of real ONNX models
// (the evaluation fixtures), the Open Inference Protocol routes with JSON and binary tensors, the
// records endpoint, bad input, A/B stickiness, canary promote and auto-abort, shadow reports,
// rollback under continuous traffic with zero failed requests, dynamic batching, the prediction
// log and metrics, and a version that fails to load.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  call,
  countRows,
  createProject,
  createToken,
  createUser,
  eventually,
  expectStatus,
  grant,
  type Headers,
} from '../../testing/identity-fixtures.js';
import { putRunArtifact } from '../../testing/tracking-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const EVAL = path.join(import.meta.dirname, '../evaluation/fixtures');
const binaryOnnx = readFileSync(path.join(EVAL, 'binary.onnx'));
const flippedOnnx = readFileSync(path.join(import.meta.dirname, 'fixtures/binary_flipped.onnx'));
const expected = JSON.parse(readFileSync(path.join(EVAL, 'binary.expected.json'), 'utf8')) as {
  features: string[];
  labels: number[];
  probabilities: number[][];
};
const rows = readFileSync(path.join(EVAL, 'binary.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',').slice(0, 30).map(Number));
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;
const ML = '/api/2.0/mlflow';
const P = '/api/v1/projects/default';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`serving (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let runId: string;
    let viewer: Headers;
    let developer: Headers;

    const req = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, h: Headers = adminAuth) =>
      call(app, method, url, h, body);
    const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, status = 200) => {
      const res = await req(method, url, body);
      expectStatus(res, status, `${method} ${url}`);
      return res.json<Json>();
    };
    const upload = (p: string, content: Buffer | string) => putRunArtifact(app, runId, p, content);
    const deploy = async (body: Json) => {
      await ok('POST', `${P}/deployments`, { environment: 'production', model: 'clf', ...body }, 201);
      return eventually(
        async () => {
          const d = await ok('GET', `${P}/deployments/${body.name}`);
          return d.status === 'deploying' ? undefined : (d as Json);
        },
        `deployment ${body.name} loaded`,
        20_000,
      );
    };
    const inferJson = (name: string, batch: number[][], h: Headers = adminAuth, extra: Json = {}) =>
      app.http.inject({
        method: 'POST',
        url: `/v2/models/${name}/infer`,
        headers: { ...h, 'content-type': 'application/json' },
        payload: JSON.stringify({
          inputs: [{ name: 'X', datatype: 'FP32', shape: [batch.length, 30], data: batch.flat() }],
          ...extra,
        }),
      });
    const servedBy = async (name: string, row: number[], h: Headers = adminAuth) => {
      const res = await inferJson(name, [row], h);
      expectStatus(res, 200, `infer ${name}`);
      return Number(res.headers['x-hangar-model-version']);
    };

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, { servingPollMs: 200 });
      await app.http.ready();
      app.start();
      const experimentId = (await ok('POST', `${ML}/experiments/create`, { name: 'serving' })).experiment_id;
      runId = (await ok('POST', `${ML}/runs/create`, { experiment_id: experimentId })).run.info.run_id;
      for (const [folder, bytes] of [
        ['good', binaryOnnx],
        ['flipped', flippedOnnx],
        ['broken', Buffer.from('these bytes are no ONNX graph')],
      ] as const) {
        await upload(`${folder}/MLmodel`, ONNX_MLMODEL);
        await upload(`${folder}/model.onnx`, bytes);
      }
      await ok('POST', `${P}/models`, { name: 'clf' }, 201);
      // v1 good, v2 flipped, v3 good again (a harmless candidate), v4 broken.
      for (const folder of ['good', 'flipped', 'good', 'broken']) {
        await ok('POST', `${P}/models/clf/versions`, { source: `runs:/${runId}/${folder}` }, 201);
      }
      viewer = (await createUser(app, 'serve-viewer')).auth;
      developer = (await createUser(app, 'serve-dev')).auth;
      await grant(app, 'default', 'serve-viewer', 'viewer');
      await grant(app, 'default', 'serve-dev', 'developer');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('bad deployments are 4xx naming the problem and write nothing; only maintainers deploy', async () => {
      const before = await countRows(app, 'deployments');
      const cases: [Json, number, RegExp][] = [
        [{ name: 'Bad_Name', versions: [{ version: 1, weight: 100 }] }, 400, /name/],
        [
          {
            name: 'x',
            versions: [
              { version: 1, weight: 60 },
              { version: 2, weight: 30 },
            ],
          },
          400,
          /sum to 100/,
        ],
        [
          {
            name: 'x',
            versions: [
              { version: 1, weight: 50 },
              { version: 1, weight: 50 },
            ],
          },
          400,
          /twice/,
        ],
        [{ name: 'x', versions: [] }, 400, /versions/],
        [{ name: 'x', versions: [{ version: 99, weight: 100 }] }, 404, /no version 99/],
        [{ name: 'x', model: 'nope', versions: [{ version: 1, weight: 100 }] }, 404, /no model .*nope/],
        [{ name: 'x', runtime: 'external', versions: [{ version: 1, weight: 100 }] }, 400, /external/],
        [
          {
            name: 'x',
            runtime: 'external',
            external: { url: 'http://169.254.169.254/' },
            versions: [{ version: 1, weight: 100 }],
          },
          400,
          /external\.url refused.*link-local/,
        ],
        [
          { name: 'x', versions: [{ version: 1, weight: 100 }], batching: { maxBatchSize: 1, maxDelayMs: 1 } },
          400,
          /maxBatchSize/,
        ],
      ];
      for (const [body, status, message] of cases) {
        const res = await req('POST', `${P}/deployments`, { environment: 'production', model: 'clf', ...body });
        expectStatus(res, status, JSON.stringify(body));
        assert.match(res.body, message);
      }
      const refused = await req(
        'POST',
        `${P}/deployments`,
        { name: 'x', environment: 'production', model: 'clf', versions: [{ version: 1, weight: 100 }] },
        developer,
      );
      expectStatus(refused, 403);
      const malformed = await app.http.inject({
        method: 'POST',
        url: `${P}/deployments`,
        headers: { ...adminAuth, 'content-type': 'application/json' },
        payload: '{"name": ',
      });
      expectStatus(malformed, 400);
      assert.equal(await countRows(app, 'deployments'), before);
    });

    test('an ONNX version serves over V2 JSON, binary tensors and the records endpoint, matching scikit-learn', async () => {
      const d = await deploy({ name: 'churn', versions: [{ version: 1, weight: 100 }] });
      assert.equal(d.status, 'ready', d.failure);
      const live = await app.http.inject({ method: 'GET', url: '/v2/health/live' });
      expectStatus(live, 200);
      const meta = await app.http.inject({ method: 'GET', url: '/v2/models/churn', headers: viewer });
      expectStatus(meta, 200);
      assert.equal(meta.json<Json>().inputs[0].datatype, 'FP32');
      const ready = await app.http.inject({ method: 'GET', url: '/v2/models/churn/ready', headers: viewer });
      expectStatus(ready, 200);

      const batch = rows.slice(0, 20);
      const res = await inferJson('churn', batch, { ...viewer, 'x-request-id': 'req-abc.1' });
      expectStatus(res, 200);
      assert.equal(res.headers['x-request-id'], 'req-abc.1');
      const body = res.json<Json>();
      assert.equal(body.id, 'req-abc.1');
      assert.equal(body.model_version, '1');
      const label = body.outputs.find((o: Json) => o.datatype === 'INT64');
      const proba = body.outputs.find((o: Json) => o.datatype === 'FP32');
      assert.deepEqual(label.data, expected.labels.slice(0, 20));
      proba.data.forEach((p: number, i: number) =>
        assert.ok(Math.abs(p - expected.probabilities[Math.floor(i / 2)]![i % 2]!) < 1e-5, `probability ${i}`),
      );

      // The binary tensor extension: JSON header, then the raw little-endian floats.
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 30], parameters: { binary_data_size: 240 } }],
          outputs: [{ name: proba.name, parameters: { binary_data: true } }],
        }),
      );
      const floats = Buffer.from(Float32Array.from(rows.slice(0, 2).flat()).buffer);
      const bin = await app.http.inject({
        method: 'POST',
        url: '/v2/models/churn/versions/1/infer',
        headers: {
          ...viewer,
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length),
        },
        payload: Buffer.concat([header, floats]),
      });
      expectStatus(bin, 200);
      const hlen = Number(bin.headers['inference-header-content-length']);
      const raw = bin.rawPayload;
      const json = JSON.parse(raw.subarray(0, hlen).toString('utf8')) as Json;
      assert.equal(json.outputs[0].parameters.binary_data_size, 16);
      const got = new Float32Array(raw.subarray(hlen).buffer.slice(raw.byteOffset + hlen, raw.byteOffset + hlen + 16));
      for (let i = 0; i < 4; i++)
        assert.ok(Math.abs(got[i]! - expected.probabilities[Math.floor(i / 2)]![i % 2]!) < 1e-5);

      // The records endpoint: one object per row; the model takes one [n, 30] tensor.
      const instances = rows.slice(0, 3).map((r) => Object.fromEntries(r.map((v, i) => [`f${i}`, v])));
      const rec = await req('POST', '/v1/deployments/churn/predict', { instances }, viewer);
      expectStatus(rec, 200);
      assert.equal(rec.json<Json>().model_version, '1');
      assert.ok(Array.isArray(rec.json<Json>().predictions));
      assert.equal(rec.json<Json>().predictions.length, 3);
    });

    test('bad inference input is a 400 naming the input; unknown models are 404; outsiders are refused', async () => {
      const bad: [Json, RegExp][] = [
        [{ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 29], data: rows[0]!.slice(0, 29) }] }, /X/],
        [
          { inputs: [{ name: 'X', datatype: 'INT64', shape: [1, 30], data: rows[0]!.map(Math.round) }] },
          /X.*FP32|FP32.*X/,
        ],
        [{ inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 30], data: rows[0] }] }, /nope|X/],
        [{ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: [...rows[0]!.slice(0, 29), 'abc'] }] }, /X/],
        [{ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: rows[0]!.slice(0, 10) }] }, /X/],
        [{ inputs: [] }, /X|input/],
      ];
      for (const [body, message] of bad) {
        const res = await app.http.inject({
          method: 'POST',
          url: '/v2/models/churn/infer',
          headers: { ...adminAuth, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        expectStatus(res, 400, JSON.stringify(body).slice(0, 100));
        assert.equal(typeof res.json<Json>().error, 'string');
        assert.match(res.json<Json>().error, message);
      }
      const malformed = await app.http.inject({
        method: 'POST',
        url: '/v2/models/churn/infer',
        headers: { ...adminAuth, 'content-type': 'application/json' },
        payload: '{"inputs": [',
      });
      expectStatus(malformed, 400);
      assert.match(malformed.json<Json>().error, /JSON/);
      const huge = await inferJson(
        'churn',
        Array.from({ length: 20_000 }, () => rows[0]!),
      );
      expectStatus(huge, 400);
      const unknown = await inferJson('no-such-model', [rows[0]!]);
      expectStatus(unknown, 404);
      assert.match(unknown.json<Json>().error, /no-such-model/);
      const pinned = await app.http.inject({ method: 'GET', url: '/v2/models/churn/versions/7', headers: adminAuth });
      expectStatus(pinned, 404);
      const anonymous = await app.http.inject({
        method: 'POST',
        url: '/v2/models/churn/infer',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expectStatus(anonymous, 401);
      // A token confined to another project cannot use this one's deployments, nor learn they exist.
      await createProject(app, 'elsewhere');
      const scoped = await createToken(app, adminAuth, { name: 'elsewhere-only', project: 'elsewhere' });
      const refused = await inferJson('churn', [rows[0]!], { authorization: `Bearer ${scoped.token}` });
      expectStatus(refused, 403);
      assert.equal(typeof refused.json<Json>().error, 'string');
    });

    test('A/B splits are sticky by routing key; traffic changes are audited', async () => {
      await deploy({
        name: 'ab',
        versions: [
          { version: 1, weight: 50 },
          { version: 2, weight: 50 },
        ],
        routingKey: { header: 'x-user' },
      });
      const seen = new Set<number>();
      for (let u = 0; u < 40; u++) {
        const h = { ...adminAuth, 'x-user': `user-${u}` };
        const first = await servedBy('ab', rows[0]!, h);
        for (let i = 0; i < 3; i++)
          assert.equal(await servedBy('ab', rows[0]!, h), first, `user-${u} stays on v${first}`);
        seen.add(first);
      }
      assert.deepEqual([...seen].sort(), [1, 2], 'both arms get users');
      const d = await ok('PUT', `${P}/deployments/ab/traffic`, { versions: [{ version: 2, weight: 100 }] });
      assert.deepEqual(d.traffic, [{ version: 2, weight: 100 }]);
      assert.equal(await servedBy('ab', rows[0]!), 2);
      const audit = await auditEvents(app, 'action=deployment.traffic');
      assert.ok(audit.some((e) => e.target === 'ab'));
    });

    test('rollback returns all traffic to stable at once with zero failed requests under continuous load', async () => {
      await deploy({ name: 'rb', versions: [{ version: 1, weight: 100 }] });
      const r = await ok(
        'POST',
        `${P}/deployments/rb/rollouts`,
        { strategy: 'canary', version: 2, steps: [50, 100], stepSeconds: 3600 },
        201,
      );
      assert.equal(r.status, 'running');
      await eventually(
        async () => ((await servedBy('rb', rows[0]!)) === 2 ? true : undefined),
        'the candidate gets traffic',
      );
      let stop = false;
      let failures = 0;
      let served = 0;
      const afterRollback: number[] = [];
      let rolledBack = false;
      const load = async () => {
        while (!stop) {
          // Requests already running when the rollback lands finish on the version they started on.
          const startedAfter = rolledBack;
          const res = await inferJson('rb', [rows[1]!]);
          if (res.statusCode !== 200) failures++;
          else {
            served++;
            if (startedAfter) afterRollback.push(Number(res.headers['x-hangar-model-version']));
          }
        }
      };
      const clients = Array.from({ length: 8 }, load);
      await new Promise((res) => setTimeout(res, 200));
      const t0 = performance.now();
      const d = await ok('POST', `${P}/deployments/rb/rollback`);
      const ms = performance.now() - t0;
      rolledBack = true;
      await new Promise((res) => setTimeout(res, 200));
      stop = true;
      await Promise.all(clients);
      assert.equal(failures, 0, 'no request failed');
      assert.ok(served > 50, `served ${served}`);
      assert.ok(ms < 1000, `rollback took ${ms} ms`);
      assert.deepEqual(d.traffic, [{ version: 1, weight: 100 }]);
      assert.equal(d.rollout.status, 'aborted');
      assert.ok(
        afterRollback.length > 0 && afterRollback.every((v) => v === 1),
        'only stable answers after the rollback',
      );
    });

    test('a canary with skewed predictions is aborted automatically and traffic returns to stable', async () => {
      await deploy({ name: 'skew', versions: [{ version: 1, weight: 100 }] });
      await ok(
        'POST',
        `${P}/deployments/skew/rollouts`,
        { strategy: 'canary', version: 2, steps: [50, 100], stepSeconds: 1, minRequests: 10 },
        201,
      );
      const rollout = await eventually(
        async () => {
          for (let i = 0; i < 10; i++) await inferJson('skew', [rows[i % rows.length]!]);
          const r = await ok('GET', `${P}/deployments/skew/rollout`);
          return r.status === 'running' ? undefined : (r as Json);
        },
        'the canary is judged',
        20_000,
      );
      assert.equal(rollout.status, 'aborted');
      assert.match(rollout.reason, /distribution shift/);
      const step = rollout.analyses[0];
      assert.equal(step.decision, 'fail');
      // The flipped model predicts the minority class where stable predicts the majority one.
      assert.ok(step.shift.value > 0.2, `shift ${step.shift.value}`);
      const d = await ok('GET', `${P}/deployments/skew`);
      assert.deepEqual(d.traffic, [{ version: 1, weight: 100 }]);
      for (let i = 0; i < 10; i++) assert.equal(await servedBy('skew', rows[i]!), 1);
    });

    test("labels that arrive late decide a canary whose predictions look like stable's", async () => {
      // A balanced mix of rows: stable predicts "1" on half and "0" on the other half, and the flipped
      // candidate the reverse, so both predict the same label distribution and only the labels
      // (the CSV's true classes) show the candidate is wrong.
      const truth = readFileSync(path.join(EVAL, 'binary.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').at(-1)!.trim());
      const ones = expected.labels.flatMap((l, i) => (l === 1 ? [i] : []));
      const zeros = expected.labels.flatMap((l, i) => (l === 0 ? [i] : []));
      const mix = zeros.slice(0, 32).flatMap((z, i) => [z, ones[i]!]);
      await deploy({ name: 'late', versions: [{ version: 1, weight: 100 }] });

      // The labels endpoint: bad input is a 400 naming the problem and stores nothing.
      const L = `${P}/deployments/late/labels`;
      expectStatus(await req('POST', L, { labels: [] }), 400);
      const both = await req('POST', L, { labels: [{ requestId: 'r', label: '1', value: 1 }] });
      expectStatus(both, 400);
      assert.match(both.json<Json>().error.message, /labels\[0\] needs exactly one of label/);
      expectStatus(await req('POST', L, { labels: [{ requestId: 'r' }] }), 400);
      expectStatus(await req('POST', L, { labels: [{ requestId: '', label: '1' }] }), 400);
      expectStatus(await req('POST', L, { labels: [{ requestId: 'r', label: '1', extra: 1 }] }), 400);
      const many = Array.from({ length: 10_001 }, (_, i) => ({ requestId: `r${i}`, label: '1' }));
      expectStatus(await req('POST', L, { labels: many }), 400);
      expectStatus(
        await req('POST', `${P}/deployments/nope/labels`, { labels: [{ requestId: 'r', label: '1' }] }),
        404,
      );
      assert.equal(await countRows(app, 'prediction_labels'), 0);
      // Labels for requests not (yet) logged are kept; the last one sent for a request wins.
      const early = await ok(
        'POST',
        L,
        {
          labels: [
            { requestId: 'not-yet', label: '0' },
            { requestId: 'not-yet', label: '1' },
          ],
        },
        200,
      );
      assert.deepEqual(early, { accepted: 1, matched: 0 });

      await ok(
        'POST',
        `${P}/deployments/late/rollouts`,
        { strategy: 'canary', version: 2, steps: [50, 100], stepSeconds: 3, minRequests: 20, minLabels: 20 },
        201,
      );
      let sent = 0;
      const rollout = await eventually(
        async () => {
          const labels: Json[] = [];
          for (let k = 0; k < 16; k++) {
            const i = mix[sent++ % mix.length]!;
            const res = await inferJson('late', [rows[i]!]);
            expectStatus(res, 200);
            labels.push({ requestId: res.headers['x-request-id'], label: truth[i] });
          }
          await eventually(async () => {
            const r = await ok('POST', L, { labels }, 200);
            return r.matched === labels.length ? true : undefined;
          }, 'the labelled requests are in the log');
          const r = await ok('GET', `${P}/deployments/late/rollout`);
          return r.status === 'running' ? undefined : (r as Json);
        },
        'the canary is judged',
        30_000,
      );
      assert.equal(
        rollout.status,
        'aborted',
        `${rollout.reason} ${JSON.stringify(rollout.analyses)} ${JSON.stringify(rollout.config)}`,
      );
      assert.match(rollout.reason, /live accuracy/);
      const step = rollout.analyses[0];
      assert.ok(step.shift === null || step.shift.value < 0.2, `no prediction shift to see (${step.shift?.value})`);
      assert.equal(step.live.metric, 'accuracy');
      assert.ok(step.live.stable.labeled >= 20 && step.live.candidate.labeled >= 20);
      assert.ok(step.live.stable.value > 0.85, `stable accuracy ${step.live.stable.value}`);
      assert.ok(step.live.candidate.value < 0.15, `candidate accuracy ${step.live.candidate.value}`);
      assert.ok(step.live.pValue < 0.001);
      assert.deepEqual((await ok('GET', `${P}/deployments/late`)).traffic, [{ version: 1, weight: 100 }]);
    });

    test('a healthy canary steps up and is promoted; rollback then returns to the previous stable version', async () => {
      await deploy({ name: 'promo', versions: [{ version: 1, weight: 100 }] });
      await ok(
        'POST',
        `${P}/deployments/promo/rollouts`,
        { strategy: 'canary', version: 3, steps: [20, 60, 100], stepSeconds: 1, minRequests: 5, maxP99Ratio: null },
        201,
      );
      const rollout = await eventually(
        async () => {
          for (let i = 0; i < 10; i++) await inferJson('promo', [rows[i]!]);
          const r = await ok('GET', `${P}/deployments/promo/rollout`);
          return r.status === 'running' ? undefined : (r as Json);
        },
        'the canary finishes',
        30_000,
      );
      assert.equal(rollout.status, 'promoted', rollout.reason);
      assert.deepEqual(
        rollout.analyses.map((a: Json) => a.percent),
        [20, 60],
      );
      const d = await ok('GET', `${P}/deployments/promo`);
      assert.deepEqual(d.traffic, [{ version: 3, weight: 100 }]);
      assert.equal(d.stableVersion, 3);
      assert.equal(d.previousVersion, 1);
      const back = await ok('POST', `${P}/deployments/promo/rollback`);
      assert.deepEqual(back.traffic, [{ version: 1, weight: 100 }]);
      assert.equal(await servedBy('promo', rows[0]!), 1);
      const history = await ok('GET', `${P}/deployments/promo/history`);
      assert.deepEqual(
        history.revisions.map((h: Json) => h.reason),
        ['rolled_back', 'rollout.promoted', 'rollout.step', 'rollout.canary', 'created'],
      );
      // Pause, resume and abort by hand; a second rollout waits for the first to end.
      await ok('POST', `${P}/deployments/promo/rollouts`, { strategy: 'canary', version: 2, stepSeconds: 3600 }, 201);
      expectStatus(await req('POST', `${P}/deployments/promo/rollouts`, { strategy: 'shadow', version: 3 }), 409);
      expectStatus(
        await req('PUT', `${P}/deployments/promo/traffic`, { versions: [{ version: 1, weight: 100 }] }),
        409,
      );
      assert.equal((await ok('POST', `${P}/deployments/promo/rollout/pause`)).status, 'paused');
      assert.equal((await ok('POST', `${P}/deployments/promo/rollout/resume`)).status, 'running');
      const aborted = await ok('POST', `${P}/deployments/promo/rollout/abort`, { reason: 'not today' });
      assert.equal(aborted.status, 'aborted');
      assert.equal(aborted.reason, 'not today');
      expectStatus(await req('POST', `${P}/deployments/promo/rollout/abort`, {}, viewer), 403);
    });

    test('shadow traffic never answers, and its report compares it with the primary', async () => {
      await deploy({ name: 'shade', versions: [{ version: 1, weight: 100 }] });
      await ok('POST', `${P}/deployments/shade/rollouts`, { strategy: 'shadow', version: 2 }, 201);
      for (let i = 0; i < 30; i++) assert.equal(await servedBy('shade', rows[i]!), 1);
      const report = await eventually(async () => {
        const r = await ok('GET', `${P}/deployments/shade/shadow-report`);
        return r.compared >= 30 ? (r as Json) : undefined;
      }, 'the shadow answers are logged');
      assert.equal(report.requests, 30);
      assert.ok(report.agreementRate < 0.2, `the flipped model disagrees (${report.agreementRate})`);
      assert.equal(typeof report.latencyDeltaMs.p50, 'number');
      // One log row per request holds both answers.
      const preds = await ok('GET', `${P}/deployments/shade/predictions?limit=200`);
      assert.equal(preds.predictions.length, 30);
      for (const p of preds.predictions as Json[]) {
        assert.equal(p.route, 'stable');
        assert.equal(p.version, 1);
        assert.ok(p.inputs.X.data.length === 30 && p.outputs, 'inputs and outputs are logged');
        assert.equal(p.shadow.version, 2);
        assert.equal(p.shadow.outcome, 'ok');
        assert.equal(typeof p.shadow.latencyMs, 'number');
        assert.deepEqual(Object.keys(p.shadow.outputs).sort(), Object.keys(p.outputs).sort());
      }
    });

    test('every request of a burst is logged once, with its own inputs', async () => {
      await deploy({ name: 'burst', versions: [{ version: 1, weight: 100 }] });
      // Sent at once, they reach the log's writer together: on SQLite two 25-row INSERTs and ten single rows.
      const n = 60;
      const ids = Array.from({ length: n }, (_, i) => `burst-${i}`);
      const answers = await Promise.all(ids.map((id, i) => inferJson('burst', [rows[i]!], adminAuth, { id })));
      for (const a of answers) expectStatus(a, 200, 'infer burst');
      const logged = await eventually(async () => {
        const p = await ok('GET', `${P}/deployments/burst/predictions?limit=200`);
        return p.predictions.length >= n ? (p.predictions as Json[]) : undefined;
      }, 'the burst is logged');
      assert.equal(logged.length, n);
      assert.deepEqual(logged.map((p) => p.requestId as string).sort(), [...ids].sort());
      for (const p of logged) {
        const i = Number((p.requestId as string).slice('burst-'.length));
        assert.deepEqual(p.inputs.X.data, rows[i]!.map(Math.fround), `inputs of ${p.requestId}`);
      }
    });

    test('dynamic batching coalesces concurrent single-row requests and answers each correctly', async () => {
      await deploy({
        name: 'batched',
        versions: [{ version: 1, weight: 100 }],
        batching: { maxBatchSize: 16, maxDelayMs: 20 },
      });
      const results = await Promise.all(rows.slice(0, 40).map((r) => inferJson('batched', [r])));
      results.forEach((res, i) => {
        expectStatus(res, 200);
        const label = res.json<Json>().outputs.find((o: Json) => o.datatype === 'INT64');
        assert.deepEqual(label.shape, [1]);
        assert.equal(label.data[0], expected.labels[i], `row ${i}`);
      });
      const runtime = app.services.plane!.get('batched')!.versions.get(1)!.runtime as unknown as { batches: number };
      assert.ok(runtime.batches > 0, 'some calls were batched');
    });

    test('metrics per deployment and version; a version that fails to load leaves traffic where it was', async () => {
      const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
      assert.match(
        metrics.body,
        /hangar_inference_requests_total\{deployment="churn",version="1",route="stable",outcome="ok"\}/,
      );
      assert.match(metrics.body, /hangar_inference_duration_seconds_bucket\{[^}]*deployment="churn"/);
      assert.match(metrics.body, /hangar_prediction_log_dropped_total 0/);
      const stats = await ok('GET', `${P}/deployments/churn/stats`);
      assert.ok(stats.versions[0].requests > 0);

      const d = await deploy({ name: 'fragile', versions: [{ version: 1, weight: 100 }] });
      assert.equal(d.status, 'ready');
      const changed = await req('PUT', `${P}/deployments/fragile/traffic`, { versions: [{ version: 4, weight: 100 }] });
      expectStatus(changed, 200);
      const failed = await eventually(async () => {
        const x = await ok('GET', `${P}/deployments/fragile`);
        return x.status === 'failed' ? (x as Json) : undefined;
      }, 'the broken version fails to load');
      assert.match(failed.failure, /ONNX|onnx|protobuf|model/i);
      // The old policy still serves.
      assert.equal(await servedBy('fragile', rows[0]!), 1);
      const back = await ok('POST', `${P}/deployments/fragile/rollback`);
      assert.deepEqual(back.traffic, [{ version: 1, weight: 100 }]);
      await eventually(
        async () => ((await ok('GET', `${P}/deployments/fragile`)).status === 'ready' ? true : undefined),
        'ready again',
      );
      expectStatus(await req('DELETE', `${P}/deployments/fragile`), 204);
      await eventually(
        async () => ((await inferJson('fragile', [rows[0]!])).statusCode === 404 ? true : undefined),
        'gone',
      );
    });
  });
}
