// The model registry through the MLflow adapter and the native API, on both engines: version
// numbering under concurrency, sources and what is read from their files, stages, aliases, search
// grammar, roles, audit, and bad input (which always writes nothing and never answers 5xx).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  bearer,
  call,
  countRows,
  createProject,
  createTeam,
  createToken,
  createUser,
  expectStatus,
  grant,
  type Headers,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const API = '/api/2.0/mlflow';

const MLMODEL = `flavors:
  python_function:
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "double", "name":
    "y", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
`;
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CPUExecutionProvider]
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;
const MODEL_FILES: Record<string, string> = {
  MLmodel: MLMODEL,
  'model.skops': 'not really a skops file, but bytes to hash \u00e9\u6f22',
  'requirements.txt': 'mlflow==3.17.2\nscikit-learn==1.9.1\n',
  'python_env.yaml': 'python: 3.11.7\n',
  'nested/dir/extra.bin': 'x'.repeat(70_000),
};

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
/** The checksum the registry documents: sha256 over sorted "<sha256>  <path>\n" lines. */
function expectedChecksum(files: Record<string, string>): string {
  const lines = Object.keys(files)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((p) => `${sha(files[p]!)}  ${p}\n`)
    .join('');
  return `sha256:${sha(lines)}`;
}
const sizeOf = (files: Record<string, string>) => Object.values(files).reduce((n, s) => n + Buffer.byteLength(s), 0);

type Json = Record<string, unknown>;

function ml(
  app: HangarApp,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: Json,
  headers: Headers = adminAuth,
): Promise<LightMyRequestResponse> {
  if (method === 'GET') {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(body ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
    }
    return app.http.inject({ method, url: `${API}/${path}?${qs.toString()}`, headers });
  }
  return app.http.inject({
    method,
    url: `${API}/${path}`,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body ?? {}),
  });
}

function ok(res: LightMyRequestResponse, what = ''): Json {
  assert.equal(res.statusCode, 200, `${what} -> ${res.statusCode} ${res.body.slice(0, 600)}`);
  return res.json();
}

function mlError(res: LightMyRequestResponse, status: number, code: string, message?: string | RegExp, what = '') {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body.slice(0, 600)}`);
  const b = res.json<Json>();
  assert.deepEqual(Object.keys(b).sort(), ['error_code', 'message'], what);
  assert.equal(b.error_code, code, `${what}: ${res.body}`);
  if (typeof message === 'string') assert.ok(String(b.message).includes(message), `${what}: ${String(b.message)}`);
  else if (message) assert.match(String(b.message), message, what);
}

const REGISTRY_TABLES = [
  'registered_models',
  'registered_model_tags',
  'model_versions',
  'model_version_tags',
  'registered_model_aliases',
] as const;

async function registryCounts(app: HangarApp) {
  const out: Record<string, number> = {};
  for (const t of REGISTRY_TABLES) out[t] = await countRows(app, t);
  return out;
}

async function writesNothing(app: HangarApp, what: string, fn: () => Promise<void>) {
  const before = await registryCounts(app);
  await fn();
  assert.deepEqual(await registryCounts(app), before, `${what} must write nothing`);
}

interface Fixture {
  experimentId: string;
  runId: string;
  loggedModelId: string;
  onnxRunId: string;
}

async function upload(app: HangarApp, runId: string, path: string, content: string, headers: Headers = adminAuth) {
  const res = await app.http.inject({
    method: 'PUT',
    url: `/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(path)}`,
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    payload: Buffer.from(content),
  });
  assert.ok(res.statusCode < 300, `upload ${path}: ${res.statusCode} ${res.body}`);
}

/** An experiment with a run holding a model under model/, a logged model, and a run with an ONNX model. */
async function fixture(app: HangarApp, headers: Headers = adminAuth, name = 'reg-exp'): Promise<Fixture> {
  const experimentId = ok(await ml(app, 'POST', 'experiments/create', { name }, headers)).experiment_id as string;
  const newRun = async () =>
    (
      ok(await ml(app, 'POST', 'runs/create', { experiment_id: experimentId }, headers)).run as {
        info: { run_id: string };
      }
    ).info.run_id;
  const runId = await newRun();
  for (const [p, c] of Object.entries(MODEL_FILES)) await upload(app, runId, `model/${p}`, c, headers);
  const lm = ok(
    await ml(app, 'POST', 'logged-models', { experiment_id: experimentId, name: 'clf', source_run_id: runId }, headers),
  ).model as { info: { model_id: string } };
  const loggedModelId = lm.info.model_id;
  for (const [p, c] of Object.entries(MODEL_FILES)) {
    const res = await app.http.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/models/${loggedModelId}/artifacts/${p}`,
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(c),
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  const onnxRunId = await newRun();
  await upload(app, onnxRunId, 'onnx/MLmodel', ONNX_MLMODEL, headers);
  await upload(app, onnxRunId, 'onnx/model.onnx', 'onnx bytes', headers);
  await upload(app, onnxRunId, 'lone/model.onnx', 'just a graph', headers);
  return { experimentId, runId, loggedModelId, onnxRunId };
}

const version = (r: Json) => r.model_version as Json;

for (const engine of ENGINES) {
  describe(`model registry (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: Fixture;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      f = await fixture(app);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('create, get, duplicate and unknown models; unicode names', async () => {
      const created = ok(
        await ml(app, 'POST', 'registered-models/create', {
          name: 'fraud',
          description: 'catches fraud',
          tags: [{ key: 'team', value: 'risk' }],
        }),
      ).registered_model as Json;
      assert.equal(created.name, 'fraud');
      assert.equal(created.description, 'catches fraud');
      assert.deepEqual(created.tags, [{ key: 'team', value: 'risk' }]);
      assert.equal(created.user_id, 'admin');
      const got = ok(await ml(app, 'GET', 'registered-models/get', { name: 'fraud' })).registered_model as Json;
      assert.deepEqual(got, created);
      await writesNothing(app, 'duplicate', async () =>
        mlError(
          await ml(app, 'POST', 'registered-models/create', { name: 'fraud' }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          'Registered Model (name=fraud) already exists.',
        ),
      );
      mlError(
        await ml(app, 'GET', 'registered-models/get', { name: 'nope' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'Registered Model with name=nope not found',
      );
      for (const name of ['Détection de fraude', '詐欺検出 モデル', 'émoji 🚀 model', 'a'.repeat(256)]) {
        const m = ok(await ml(app, 'POST', 'registered-models/create', { name }), name).registered_model as Json;
        assert.equal(m.name, name);
        assert.equal((ok(await ml(app, 'GET', 'registered-models/get', { name })).registered_model as Json).name, name);
        const native = await call(app, 'GET', `/api/v1/projects/default/models/${encodeURIComponent(name)}`, adminAuth);
        expectStatus(native, 200, name);
        assert.equal(native.json<Json>().name, name);
      }
      // Names with the same letters in another case are other models.
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'FRAUD' }));
    });

    test('bad input is a 4xx naming the problem, and writes nothing', async () => {
      await writesNothing(app, 'bad input', async () => {
        const raw = await app.http.inject({
          method: 'POST',
          url: `${API}/registered-models/create`,
          headers: { ...adminAuth, 'content-type': 'application/json' },
          payload: '{"name": "x",',
        });
        mlError(raw, 400, 'INVALID_PARAMETER_VALUE', /Malformed JSON/);
        const bad: [Json, RegExp | string][] = [
          [{}, "Missing value for required parameter 'name'"],
          [{ name: '' }, "Missing value for required parameter 'name'"],
          [{ name: '   ' }, "Missing value for required parameter 'name'"],
          [{ name: 123 }, 'expected a string'],
          [{ name: ['a'] }, 'expected a string'],
          [{ name: 'a/b' }, "Names cannot contain '/' or ':'"],
          [{ name: 'a:b' }, "Names cannot contain '/' or ':'"],
          [{ name: '..' }, 'must not resolve to other names'],
          [{ name: 'a\u0000b' }, 'control characters'],
          [{ name: 'tab\there' }, 'control characters'],
          [{ name: 'a'.repeat(257) }, 'at most 256'],
          [{ name: 'ok', description: 'd'.repeat(100_001) }, 'maximum length of 100000'],
          [{ name: 'ok', description: 42 }, 'expected a string'],
          [{ name: 'ok', tags: 'x' }, 'expected a list'],
          [{ name: 'ok', tags: [{ key: 'a/../b', value: 'v' }] }, 'must not resolve'],
          [{ name: 'ok', tags: [{ key: 'k', value: 5 }] }, 'string value'],
          [{ name: 'ok', tags: [{ key: 'k', value: 'v'.repeat(100_001) }] }, 'maximum length of 100000'],
        ];
        for (const [body, message] of bad) {
          mlError(
            await ml(app, 'POST', 'registered-models/create', body),
            400,
            'INVALID_PARAMETER_VALUE',
            message,
            JSON.stringify(body).slice(0, 80),
          );
        }
        mlError(
          await ml(app, 'GET', 'model-versions/get', { name: 'fraud', version: 'abc' }),
          400,
          'INVALID_PARAMETER_VALUE',
          "Parameter 'version' must be an integer, got 'abc'.",
        );
        mlError(
          await ml(app, 'GET', 'model-versions/get', { name: 'fraud', version: '0' }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        mlError(
          await ml(app, 'GET', 'model-versions/get', { name: 'fraud', version: '99' }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          'Model Version (name=fraud, version=99) not found',
        );
        mlError(await ml(app, 'GET', 'registered-models/get', { name: 'x\u0000y' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        mlError(
          await ml(app, 'GET', 'registered-models/search', { max_results: 1001 }),
          400,
          'INVALID_PARAMETER_VALUE',
          'at most 1000',
        );
        mlError(await ml(app, 'GET', 'registered-models/search', { max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE');
        mlError(
          await ml(app, 'GET', 'registered-models/search', { page_token: 'garbage' }),
          400,
          'INVALID_PARAMETER_VALUE',
          'page token',
        );
        mlError(
          await ml(app, 'GET', 'model-versions/search', { max_results: 200_001 }),
          400,
          'INVALID_PARAMETER_VALUE',
          'at most 200000',
        );
      });
      // A description at the limit is fine; the native API bounds it the same way.
      const long = 'd'.repeat(100_000);
      const m = ok(await ml(app, 'POST', 'registered-models/create', { name: 'long-desc', description: long }));
      assert.equal((m.registered_model as Json).description, long);
      const native = await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, {
        name: 'long-desc-2',
        description: 'x'.repeat(100_001),
      });
      expectStatus(native, 400);
      assert.match(native.json<{ error: { message: string } }>().error.message, /description/);
    });

    test('versions from a run, a logged model and artifacts: signature, framework, format, size, checksum', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'clf' }));
      const fromRun = version(
        ok(
          await ml(app, 'POST', 'model-versions/create', {
            name: 'clf',
            source: `runs:/${f.runId}/model`,
            run_id: f.runId,
            description: 'first',
            tags: [{ key: 'data', value: 'v1' }],
          }),
        ),
      );
      assert.equal(fromRun.version, '1');
      assert.equal(fromRun.status, 'READY');
      assert.equal(fromRun.current_stage, 'None');
      assert.equal(fromRun.run_id, f.runId);
      assert.equal(fromRun.source, `runs:/${f.runId}/model`);
      assert.equal(fromRun.description, 'first');
      assert.deepEqual(fromRun.tags, [{ key: 'data', value: 'v1' }]);
      assert.equal(fromRun.model_id, undefined);
      const uri = ok(await ml(app, 'GET', 'model-versions/get-download-uri', { name: 'clf', version: '1' }));
      assert.equal(uri.artifact_uri, `mlflow-artifacts:/${f.experimentId}/${f.runId}/artifacts/model`);

      const native = await call(app, 'GET', '/api/v1/projects/default/models/clf/versions/1', adminAuth);
      expectStatus(native, 200);
      const v1 = native.json<Json>();
      assert.equal(v1.framework, 'sklearn');
      assert.equal(v1.format, 'skops');
      assert.equal(v1.fileCount, Object.keys(MODEL_FILES).length);
      assert.equal(v1.sizeBytes, sizeOf(MODEL_FILES));
      assert.equal(v1.checksum, expectedChecksum(MODEL_FILES));
      assert.deepEqual(v1.signature, {
        inputs: [
          { type: 'double', name: 'x', required: true },
          { type: 'double', name: 'y', required: true },
        ],
        outputs: [{ type: 'long', required: true }],
        params: null,
      });

      // models:/<logged model id>: the run comes from the logged model.
      const fromLogged = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'clf', source: `models:/${f.loggedModelId}` })),
      );
      assert.equal(fromLogged.version, '2');
      assert.equal(fromLogged.model_id, f.loggedModelId);
      assert.equal(fromLogged.run_id, f.runId);
      // Same files, same checksum, wherever they live.
      const v2 = (await call(app, 'GET', '/api/v1/projects/default/models/clf/versions/2', adminAuth)).json<Json>();
      assert.equal(v2.checksum, v1.checksum);
      assert.equal(v2.storageLocation, `mlflow-artifacts:/${f.experimentId}/models/${f.loggedModelId}/artifacts`);

      // runs:/<run>/<name> where the run has no such folder: the run's logged model of that name.
      const viaName = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'clf', source: `runs:/${f.runId}/clf` })),
      );
      assert.equal(viaName.model_id, f.loggedModelId);
      // An mlflow-artifacts:/ location inside a run.
      const viaProxy = version(
        ok(
          await ml(app, 'POST', 'model-versions/create', {
            name: 'clf',
            source: `mlflow-artifacts:/${f.experimentId}/${f.runId}/artifacts/model`,
          }),
        ),
      );
      assert.equal(viaProxy.run_id, f.runId);
      // Another version as the source.
      const copy = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'clf', source: 'models:/clf/1' })),
      );
      assert.equal(copy.run_id, f.runId);
      assert.equal(
        ok(await ml(app, 'GET', 'model-versions/get-download-uri', { name: 'clf', version: copy.version }))
          .artifact_uri,
        uri.artifact_uri,
      );

      // ONNX: framework and format from the flavor; a lone .onnx file by its extension.
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'onnx-model' }));
      ok(await ml(app, 'POST', 'model-versions/create', { name: 'onnx-model', source: `runs:/${f.onnxRunId}/onnx` }));
      ok(
        await ml(app, 'POST', 'model-versions/create', {
          name: 'onnx-model',
          source: `runs:/${f.onnxRunId}/lone/model.onnx`,
        }),
      );
      const onnx = (
        await call(app, 'GET', '/api/v1/projects/default/models/onnx-model/versions/1', adminAuth)
      ).json<Json>();
      assert.deepEqual([onnx.framework, onnx.format, onnx.signature], ['onnx', 'onnx', null]);
      const lone = (
        await call(app, 'GET', '/api/v1/projects/default/models/onnx-model/versions/2', adminAuth)
      ).json<Json>();
      assert.deepEqual([lone.framework, lone.format, lone.fileCount], ['onnx', 'onnx', 1]);
      assert.equal(lone.checksum, expectedChecksum({ 'model.onnx': 'just a graph' }));
    });

    test('bad sources are refused and write nothing', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'guarded' }));
      await writesNothing(app, 'bad sources', async () => {
        const refused: [Json, RegExp | string][] = [
          [{ source: 's3://bucket/model' }, 'Use an artifact location of this server'],
          [{ source: 'file:///etc' }, 'Use an artifact location of this server'],
          [{ source: '/etc/passwd' }, 'Use an artifact location of this server'],
          [{ source: 'https://example.com/model' }, 'Use an artifact location of this server'],
          [{ source: `mlflow-artifacts:/${f.experimentId}/../../etc` }, /source/],
          [{ source: `mlflow-artifacts:/${f.experimentId}` }, 'inside a run'],
          [{ source: 'mlflow-artifacts://other-host/1/x' }, 'Use an artifact location'],
          [{ source: `runs:/${'0'.repeat(32)}/model` }, 'does not exist'],
          [{ source: 'runs:/not-a-run/model' }, 'is not a run id'],
          [{ source: `runs:/${f.runId}/../../x` }, /source/],
          [{ source: `runs:/${f.runId}/nothing-here` }, 'no model files'],
          [{ source: `models:/m-${'0'.repeat(32)}` }, 'does not exist'],
          [{ source: 'models:/nope/1' }, 'not found'],
          [{ source: 'models:/clf/77' }, 'not found'],
          [{ source: `runs:/${f.runId}/model`, run_id: f.onnxRunId }, 'run_id request parameter'],
          [{ source: `models:/${f.loggedModelId}`, model_id: `m-${'1'.repeat(32)}` }, 'model_id request parameter'],
          [{ source: 42 }, 'expected a string'],
          [{}, "Missing value for required parameter 'source'"],
        ];
        for (const [b, message] of refused) {
          mlError(
            await ml(app, 'POST', 'model-versions/create', { name: 'guarded', ...b }),
            400,
            'INVALID_PARAMETER_VALUE',
            message,
            JSON.stringify(b),
          );
        }
        mlError(
          await ml(app, 'POST', 'model-versions/create', { name: 'missing', source: `runs:/${f.runId}/model` }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
        );
      });
    });

    test('concurrent registrations get distinct, consecutive version numbers', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'race' }));
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          ml(app, 'POST', 'model-versions/create', { name: 'race', source: `runs:/${f.runId}/model` }),
        ),
      );
      const versions = results.map((r) => Number(version(ok(r)).version)).sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      // Deleted numbers are never handed out again.
      ok(await ml(app, 'DELETE', 'model-versions/delete', { name: 'race', version: '12' }));
      const next = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'race', source: `runs:/${f.runId}/model` })),
      );
      assert.equal(next.version, '13');
    });

    test('concurrent registrations through separate connections (two apps on one PostgreSQL store)', async (t) => {
      if (engine !== 'postgres') return t.skip('SQLite allows one server per store');
      const other = await buildTestApp(store);
      try {
        ok(await ml(app, 'POST', 'registered-models/create', { name: 'race-2' }));
        const body = { name: 'race-2', source: `runs:/${f.runId}/model` };
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => ml(i % 2 ? other : app, 'POST', 'model-versions/create', body)),
        );
        const versions = results.map((r) => Number(version(ok(r)).version)).sort((a, b) => a - b);
        assert.deepEqual(
          versions,
          Array.from({ length: 10 }, (_, i) => i + 1),
        );
      } finally {
        await other.close();
      }
    });

    test('stages: transitions, archive_existing_versions, latest versions', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'staged' }));
      for (let i = 0; i < 4; i++) {
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'staged', source: `runs:/${f.runId}/model` }));
      }
      const move = (v: string, stage: string, archive?: unknown) =>
        ml(app, 'POST', 'model-versions/transition-stage', {
          name: 'staged',
          version: v,
          stage,
          ...(archive === undefined ? {} : { archive_existing_versions: archive }),
        });
      assert.equal(version(ok(await move('1', 'production'))).current_stage, 'Production');
      assert.equal(version(ok(await move('2', 'Production', false))).current_stage, 'Production');
      ok(await move('3', 'Staging'));
      const latest = ok(await ml(app, 'POST', 'registered-models/get-latest-versions', { name: 'staged' }))
        .model_versions as Json[];
      assert.deepEqual(
        latest.map((v) => [v.version, v.current_stage]),
        [
          ['2', 'Production'],
          ['3', 'Staging'],
          ['4', 'None'],
        ],
      );
      const prod = ok(
        await ml(app, 'GET', 'registered-models/get-latest-versions', { name: 'staged', stages: ['PRODUCTION'] }),
      ).model_versions as Json[];
      assert.deepEqual(
        prod.map((v) => v.version),
        ['2'],
      );
      // Archiving the others in the stage happens in the same transaction.
      ok(await move('4', 'Production', true));
      const all = ok(await ml(app, 'GET', 'model-versions/search', { filter: "name = 'staged'" }))
        .model_versions as Json[];
      assert.deepEqual(Object.fromEntries(all.map((v) => [v.version, v.current_stage])), {
        '1': 'Archived',
        '2': 'Archived',
        '3': 'Staging',
        '4': 'Production',
      });
      const model = ok(await ml(app, 'GET', 'registered-models/get', { name: 'staged' })).registered_model as Json;
      assert.deepEqual(
        (model.latest_versions as Json[]).map((v) => [v.version, v.current_stage]),
        [
          ['2', 'Archived'],
          ['3', 'Staging'],
          ['4', 'Production'],
        ],
      );
      await writesNothing(app, 'bad transitions', async () => {
        mlError(await move('1', 'Shipped'), 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage: Shipped');
        mlError(await move('1', 'Archived', true), 400, 'INVALID_PARAMETER_VALUE', 'is not an Active stage');
        mlError(await move('1', 'Staging', 'perhaps'), 400, 'INVALID_PARAMETER_VALUE', 'expected a boolean');
        mlError(await move('9', 'Staging'), 404, 'RESOURCE_DOES_NOT_EXIST');
        mlError(
          await ml(app, 'POST', 'registered-models/get-latest-versions', { name: 'staged', stages: ['Live'] }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      });
      const events = await auditEvents(app, 'action=model_version.transition_stage');
      const archiving = events.find((e) => (e.details as { archived?: number[] }).archived?.length === 2);
      assert.deepEqual((archiving?.details as { archived: number[] }).archived, [1, 2]);
    });

    test('aliases: set, move, get (and latest), delete; deleting a version drops its aliases', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'aliased' }));
      for (let i = 0; i < 3; i++) {
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'aliased', source: `runs:/${f.runId}/model` }));
      }
      ok(await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias: 'champion', version: '1' }));
      ok(await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias: 'challenger', version: '2' }));
      let byAlias = version(
        ok(await ml(app, 'GET', 'registered-models/alias', { name: 'aliased', alias: 'champion' })),
      );
      assert.deepEqual([byAlias.version, byAlias.aliases], ['1', ['champion']]);
      // Moving the alias: one alias points at one version.
      ok(await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias: 'champion', version: '2' }));
      byAlias = version(ok(await ml(app, 'GET', 'registered-models/alias', { name: 'aliased', alias: 'champion' })));
      assert.deepEqual([byAlias.version, byAlias.aliases], ['2', ['challenger', 'champion']]);
      const model = ok(await ml(app, 'GET', 'registered-models/get', { name: 'aliased' })).registered_model as Json;
      assert.deepEqual(model.aliases, [
        { alias: 'challenger', version: '2' },
        { alias: 'champion', version: '2' },
      ]);
      const latest = version(ok(await ml(app, 'GET', 'registered-models/alias', { name: 'aliased', alias: 'LATEST' })));
      assert.equal(latest.version, '3');
      await writesNothing(app, 'bad aliases', async () => {
        for (const alias of ['latest', 'Latest', 'v1', 'V12']) {
          mlError(
            await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias, version: '1' }),
            400,
            'INVALID_PARAMETER_VALUE',
            /reserved/,
            alias,
          );
        }
        for (const alias of ['with space', 'dot.ted', 'a/b', '']) {
          mlError(
            await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias, version: '1' }),
            400,
            'INVALID_PARAMETER_VALUE',
            undefined,
            alias,
          );
        }
        mlError(
          await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias: 'x', version: '42' }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
        );
        mlError(
          await ml(app, 'GET', 'registered-models/alias', { name: 'aliased', alias: 'nobody' }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          'Registered model alias nobody not found.',
        );
      });
      // Unicode letters are word characters (MLflow's \w).
      ok(await ml(app, 'POST', 'registered-models/alias', { name: 'aliased', alias: 'modèle_é', version: '3' }));
      ok(await ml(app, 'DELETE', 'registered-models/alias', { name: 'aliased', alias: 'challenger' }));
      ok(await ml(app, 'DELETE', 'registered-models/alias', { name: 'aliased', alias: 'challenger' }));
      ok(await ml(app, 'DELETE', 'model-versions/delete', { name: 'aliased', version: '2' }));
      mlError(
        await ml(app, 'GET', 'registered-models/alias', { name: 'aliased', alias: 'champion' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      const after = ok(await ml(app, 'GET', 'registered-models/get', { name: 'aliased' })).registered_model as Json;
      assert.deepEqual(after.aliases, [{ alias: 'modèle_é', version: '3' }]);
      // A models:/name@alias source resolves through the alias.
      const viaAlias = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'aliased', source: 'models:/aliased@modèle_é' })),
      );
      assert.equal(viaAlias.version, '4');
    });

    test('tags, updates, rename and delete', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'to-rename', description: 'd' }));
      ok(await ml(app, 'POST', 'model-versions/create', { name: 'to-rename', source: `runs:/${f.runId}/model` }));
      ok(await ml(app, 'POST', 'registered-models/set-tag', { name: 'to-rename', key: 'owner', value: 'ml' }));
      ok(await ml(app, 'POST', 'registered-models/set-tag', { name: 'to-rename', key: 'owner', value: 'ml2' }));
      ok(await ml(app, 'POST', 'model-versions/set-tag', { name: 'to-rename', version: '1', key: 'k', value: 'v' }));
      const updated = ok(
        await ml(app, 'PATCH', 'registered-models/update', { name: 'to-rename', description: 'new text\nline 2' }),
      ).registered_model as Json;
      assert.equal(updated.description, 'new text\nline 2');
      const v = version(
        ok(await ml(app, 'PATCH', 'model-versions/update', { name: 'to-rename', version: '1', description: 'vd' })),
      );
      assert.deepEqual([v.description, v.tags], ['vd', [{ key: 'k', value: 'v' }]]);
      const renamed = ok(await ml(app, 'POST', 'registered-models/rename', { name: 'to-rename', new_name: 'renamed' }))
        .registered_model as Json;
      assert.deepEqual(renamed.tags, [{ key: 'owner', value: 'ml2' }]);
      mlError(await ml(app, 'GET', 'registered-models/get', { name: 'to-rename' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const moved = version(ok(await ml(app, 'GET', 'model-versions/get', { name: 'renamed', version: '1' })));
      assert.equal(moved.name, 'renamed');
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'taken' }));
      mlError(
        await ml(app, 'POST', 'registered-models/rename', { name: 'renamed', new_name: 'taken' }),
        400,
        'RESOURCE_ALREADY_EXISTS',
      );
      mlError(
        await ml(app, 'POST', 'registered-models/rename', { name: 'renamed', new_name: 'a/b' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      ok(await ml(app, 'DELETE', 'registered-models/delete-tag', { name: 'renamed', key: 'owner' }));
      ok(await ml(app, 'DELETE', 'registered-models/delete-tag', { name: 'renamed', key: 'never-set' }));
      ok(await ml(app, 'DELETE', 'model-versions/delete-tag', { name: 'renamed', version: '1', key: 'k' }));
      assert.deepEqual(
        version(ok(await ml(app, 'GET', 'model-versions/get', { name: 'renamed', version: '1' }))).tags,
        [],
      );
      ok(await ml(app, 'DELETE', 'registered-models/delete', { name: 'renamed' }));
      mlError(await ml(app, 'GET', 'registered-models/get', { name: 'renamed' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      mlError(await ml(app, 'DELETE', 'registered-models/delete', { name: 'renamed' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      // Its versions went with it; a new model of that name starts at version 1.
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'renamed' }));
      const fresh = version(
        ok(await ml(app, 'POST', 'model-versions/create', { name: 'renamed', source: `runs:/${f.runId}/model` })),
      );
      assert.equal(fresh.version, '1');
      // Every change was audited with the model's name.
      const actions = new Set((await auditEvents(app)).map((e) => e.action));
      for (const a of [
        'registered_model.create',
        'registered_model.rename',
        'registered_model.update',
        'registered_model.set_tag',
        'registered_model.delete_tag',
        'registered_model.delete',
        'registered_model.set_alias',
        'registered_model.delete_alias',
        'model_version.create',
        'model_version.update',
        'model_version.set_tag',
        'model_version.delete_tag',
        'model_version.delete',
        'model_version.transition_stage',
      ]) {
        assert.ok(actions.has(a), `audited ${a}`);
      }
    });

    test('search grammar: registered models', async () => {
      for (const [name, team] of [
        ['search-a', 'red'],
        ['search-B', 'blue'],
        ['search-c', 'red'],
      ] as const) {
        ok(await ml(app, 'POST', 'registered-models/create', { name, tags: [{ key: 'team', value: team }] }));
      }
      const names = async (b: Json) =>
        (
          (ok(await ml(app, 'GET', 'registered-models/search', b), JSON.stringify(b)).registered_models as
            Json[] | undefined) ?? []
        ).map((m) => m.name);
      assert.deepEqual(await names({ filter: "name LIKE 'search-%'" }), ['search-B', 'search-a', 'search-c']);
      assert.deepEqual(await names({ filter: "name ILIKE 'SEARCH-b'" }), ['search-B']);
      assert.deepEqual(await names({ filter: "name LIKE 'search-b'" }), []);
      assert.deepEqual(await names({ filter: "name = 'search-a'" }), ['search-a']);
      assert.deepEqual(await names({ filter: "name != 'search-a' AND name LIKE 'search%'" }), ['search-B', 'search-c']);
      assert.deepEqual(await names({ filter: "name IN ('search-a', 'search-c')" }), ['search-a', 'search-c']);
      assert.deepEqual(await names({ filter: "tags.team = 'red'" }), ['search-a', 'search-c']);
      assert.deepEqual(await names({ filter: "tags.`team` LIKE 'bl%' AND name LIKE 'search%'" }), ['search-B']);
      // The MLflow client appends this to every search: models without the tag are not prompts.
      assert.deepEqual(await names({ filter: "name LIKE 'search-%' AND tag.`mlflow.prompt.is_prompt` != 'true'" }), [
        'search-B',
        'search-a',
        'search-c',
      ]);
      assert.deepEqual(await names({ filter: "tags.`mlflow.prompt.is_prompt` = 'true'" }), []);
      assert.deepEqual(await names({ filter: "name LIKE 'search-%'", order_by: ['name DESC'] }), [
        'search-c',
        'search-a',
        'search-B',
      ]);
      assert.deepEqual(await names({ filter: "name LIKE 'search-%'", order_by: ['creation_timestamp DESC'] }), [
        'search-c',
        'search-B',
        'search-a',
      ]);
      // Paging: tokens continue the same search and only it.
      const first = ok(
        await ml(app, 'GET', 'registered-models/search', { filter: "name LIKE 'search-%'", max_results: 2 }),
      );
      assert.equal((first.registered_models as Json[]).length, 2);
      assert.ok(first.next_page_token);
      const second = ok(
        await ml(app, 'GET', 'registered-models/search', {
          filter: "name LIKE 'search-%'",
          max_results: 2,
          page_token: first.next_page_token,
        }),
      );
      assert.deepEqual(
        (second.registered_models as Json[]).map((m) => m.name),
        ['search-c'],
      );
      assert.equal(second.next_page_token, undefined);
      mlError(
        await ml(app, 'GET', 'registered-models/search', {
          filter: "name LIKE 'x%'",
          page_token: first.next_page_token,
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      const refused: [Json, string][] = [
        [{ filter: "version_number = '1'" }, "Invalid attribute key 'version_number'"],
        [{ filter: "params.x = '1'" }, "Invalid entity type 'params'"],
        [{ filter: "name = 'a' OR name = 'b'" }, 'Invalid clause(s)'],
        [{ filter: 'name > 1' }, 'Expected a quoted string value'],
        [{ filter: "name > 'a'" }, "Invalid comparator '>'"],
        [{ filter: 'tags.team IS NULL' }, 'not supported'],
        [{ order_by: ['version_number'] }, "Invalid attribute key 'version_number'"],
        [{ order_by: ['name', 'name DESC'] }, 'duplicate fields'],
        [{ order_by: ['timestamp', 'last_updated_timestamp'] }, 'duplicate fields'],
        [{ order_by: ['name SIDEWAYS'] }, 'Invalid ordering key'],
      ];
      for (const [b, message] of refused) {
        mlError(
          await ml(app, 'GET', 'registered-models/search', b),
          400,
          'INVALID_PARAMETER_VALUE',
          message,
          JSON.stringify(b),
        );
      }
    });

    test('search grammar: model versions', async () => {
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'sv-one' }));
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'sv-two' }));
      for (const [name, runId] of [
        ['sv-one', f.runId],
        ['sv-one', f.onnxRunId],
        ['sv-one', f.runId],
        ['sv-two', f.onnxRunId],
      ] as const) {
        const dir = runId === f.runId ? 'model' : 'onnx';
        ok(await ml(app, 'POST', 'model-versions/create', { name, source: `runs:/${runId}/${dir}` }));
      }
      ok(
        await ml(app, 'POST', 'model-versions/set-tag', {
          name: 'sv-one',
          version: '2',
          key: 'approved',
          value: 'yes',
        }),
      );
      const found = async (b: Json) =>
        (
          (ok(await ml(app, 'GET', 'model-versions/search', b), JSON.stringify(b)).model_versions as
            Json[] | undefined) ?? []
        ).map((v) => `${String(v.name)}/${String(v.version)}`);
      const sv = "name LIKE 'sv-%'";
      assert.deepEqual(await found({ filter: "name = 'sv-one'", order_by: ['version_number ASC'] }), [
        'sv-one/1',
        'sv-one/2',
        'sv-one/3',
      ]);
      assert.deepEqual(await found({ filter: `${sv} AND run_id = '${f.onnxRunId}'`, order_by: ['name'] }), [
        'sv-one/2',
        'sv-two/1',
      ]);
      assert.deepEqual(await found({ filter: `run_id IN ('${f.onnxRunId}', 'other') AND name = 'sv-two'` }), [
        'sv-two/1',
      ]);
      assert.deepEqual(await found({ filter: `${sv} AND version_number > 1`, order_by: ['name', 'version_number'] }), [
        'sv-one/2',
        'sv-one/3',
      ]);
      assert.deepEqual(await found({ filter: `${sv} AND version_number = '3'` }), ['sv-one/3']);
      assert.deepEqual(await found({ filter: `${sv} AND source_path LIKE '%/onnx'`, order_by: ['name'] }), [
        'sv-one/2',
        'sv-two/1',
      ]);
      assert.deepEqual(await found({ filter: `${sv} AND tags.approved = 'yes'` }), ['sv-one/2']);
      assert.deepEqual(await found({ filter: "name IN ('sv-two')" }), ['sv-two/1']);
      // Default order: last updated first, then name, then newest version.
      ok(await ml(app, 'PATCH', 'model-versions/update', { name: 'sv-one', version: '1', description: 'touched' }));
      assert.equal((await found({ filter: sv }))[0], 'sv-one/1');
      const page = ok(await ml(app, 'GET', 'model-versions/search', { filter: sv, max_results: 3 }));
      assert.equal((page.model_versions as Json[]).length, 3);
      const rest = ok(
        await ml(app, 'GET', 'model-versions/search', { filter: sv, max_results: 3, page_token: page.next_page_token }),
      );
      assert.equal((rest.model_versions as Json[]).length, 1);
      const refused: [Json, string][] = [
        [{ filter: 'version_number = 1.5' }, "Invalid value for numeric attribute 'version_number'"],
        [{ filter: "source_path IN ('a')" }, 'attributes support comparison with a list'],
        [{ filter: 'run_id = 5' }, 'support comparison with numeric values'],
        [{ filter: "status = 'READY'" }, "Invalid attribute key 'status'"],
        [{ filter: "version_number LIKE '1'" }, "Invalid comparator 'LIKE'"],
        [{ order_by: ['run_id'] }, "Invalid attribute key 'run_id'"],
      ];
      for (const [b, message] of refused) {
        mlError(
          await ml(app, 'GET', 'model-versions/search', b),
          400,
          'INVALID_PARAMETER_VALUE',
          message,
          JSON.stringify(b),
        );
      }
    });

    test('roles: viewers read, developers register, maintainers govern and delete', async () => {
      // A project of its own team: members of the default team get no role in it through the team.
      await createTeam(app, 'ml-team');
      await createProject(app, 'ml', 'ml-team');
      const users: Record<string, TestUser> = {};
      const scoped: Record<string, Headers> = {};
      for (const role of ['viewer', 'developer', 'maintainer'] as const) {
        users[role] = await createUser(app, `reg-${role}`);
        await grant(app, 'ml', users[role].username, role);
        const t = await createToken(app, users[role].auth, { name: `ml-${role}`, project: 'ml' });
        scoped[role] = bearer(t.token);
      }
      const adminScoped = bearer((await createToken(app, adminAuth, { name: 'ml-admin', project: 'ml' })).token);
      // MLflow calls with a token scoped to "ml" act in "ml".
      const ml2 = await fixture(app, scoped.developer, 'ml-exp');
      ok(await ml(app, 'POST', 'registered-models/create', { name: 'governed' }, scoped.developer));
      ok(
        await ml(
          app,
          'POST',
          'model-versions/create',
          { name: 'governed', source: `runs:/${ml2.runId}/model` },
          scoped.developer,
        ),
      );
      mlError(await ml(app, 'GET', 'registered-models/get', { name: 'governed' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const native = await call(app, 'GET', '/api/v1/projects/ml/models/governed', users.viewer!.auth);
      expectStatus(native, 200);
      assert.equal(native.json<Json>().ownerTeam, 'ml-team');
      assert.equal(native.json<Json>().riskTier, 'low');

      // Viewers read but cannot register.
      ok(await ml(app, 'GET', 'model-versions/get', { name: 'governed', version: '1' }, scoped.viewer));
      ok(await ml(app, 'GET', 'registered-models/search', {}, scoped.viewer));
      await writesNothing(app, 'refused writes', async () => {
        mlError(
          await ml(app, 'POST', 'registered-models/create', { name: 'nope' }, scoped.viewer),
          403,
          'PERMISSION_DENIED',
        );
        mlError(
          await ml(
            app,
            'POST',
            'model-versions/create',
            { name: 'governed', source: `runs:/${ml2.runId}/model` },
            scoped.viewer,
          ),
          403,
          'PERMISSION_DENIED',
        );
        mlError(
          await ml(
            app,
            'POST',
            'registered-models/alias',
            { name: 'governed', alias: 'a', version: '1' },
            scoped.viewer,
          ),
          403,
          'PERMISSION_DENIED',
        );
        // Developers cannot delete or govern.
        mlError(
          await ml(app, 'DELETE', 'registered-models/delete', { name: 'governed' }, scoped.developer),
          403,
          'PERMISSION_DENIED',
        );
        mlError(
          await ml(app, 'DELETE', 'model-versions/delete', { name: 'governed', version: '1' }, scoped.developer),
          403,
          'PERMISSION_DENIED',
        );
        const tier = await call(app, 'PATCH', '/api/v1/projects/ml/models/governed', users.developer!.auth, {
          riskTier: 'critical',
        });
        expectStatus(tier, 403);
        const owner = await call(app, 'PATCH', '/api/v1/projects/ml/models/governed', users.developer!.auth, {
          ownerTeam: 'default',
        });
        expectStatus(owner, 403, 'changing the owner team');
        const same = await call(app, 'PATCH', '/api/v1/projects/ml/models/governed', users.developer!.auth, {
          riskTier: 'low',
        });
        expectStatus(same, 200, 'the same risk tier is no change');
        // A source in another project than the model's is refused, with the way out in the message;
        // a token scoped to the model's project cannot even read the other project's run.
        mlError(
          await ml(app, 'POST', 'model-versions/create', { name: 'clf', source: `runs:/${ml2.runId}/model` }),
          400,
          'INVALID_PARAMETER_VALUE',
          'token scoped to',
        );
        mlError(
          await ml(
            app,
            'POST',
            'model-versions/create',
            { name: 'governed', source: `runs:/${f.runId}/model` },
            adminScoped,
          ),
          403,
          'PERMISSION_DENIED',
        );
      });
      // Developers may create a critical model; changing the tier afterwards is a maintainer's call.
      const critical = await call(app, 'POST', '/api/v1/projects/ml/models', users.developer!.auth, {
        name: 'critical-one',
        riskTier: 'critical',
      });
      expectStatus(critical, 201);
      assert.equal(critical.json<Json>().riskTier, 'critical');
      const lowered = await call(app, 'PATCH', '/api/v1/projects/ml/models/critical-one', users.maintainer!.auth, {
        riskTier: 'low',
        description: 'reviewed',
      });
      expectStatus(lowered, 200);
      assert.deepEqual([lowered.json<Json>().riskTier, lowered.json<Json>().description], ['low', 'reviewed']);
      const events = await auditEvents(app, 'action=registered_model.update');
      assert.ok(
        events.some(
          (e) =>
            e.outcome === 'success' &&
            e.actor === 'reg-maintainer' &&
            JSON.stringify(e.details).includes('"from":"critical","to":"low"'),
        ),
      );
      ok(await ml(app, 'DELETE', 'model-versions/delete', { name: 'governed', version: '1' }, scoped.maintainer));
      ok(await ml(app, 'DELETE', 'registered-models/delete', { name: 'governed' }, scoped.maintainer));
    });

    test('native API: create, list, get, update, versions, aliases', async () => {
      await call(app, 'POST', '/api/v1/teams', adminAuth, { name: 'risk-team' });
      const created = await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, {
        name: 'native',
        description: 'made natively',
        riskTier: 'critical',
        ownerTeam: 'risk-team',
        tags: [{ key: 'k', value: 'v' }],
      });
      expectStatus(created, 201);
      const m = created.json<Json>();
      assert.deepEqual([m.ownerTeam, m.riskTier, m.tags], ['risk-team', 'critical', [{ key: 'k', value: 'v' }]]);
      expectStatus(
        await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, { name: 'native' }),
        409,
        'duplicate',
      );
      expectStatus(
        await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, { name: 'x', ownerTeam: 'no-such-team' }),
        400,
      );
      expectStatus(
        await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, { name: 'x', riskTier: 'medium' }),
        400,
      );
      expectStatus(await call(app, 'GET', '/api/v1/projects/default/models/nope', adminAuth), 404);
      for (let i = 0; i < 3; i++) {
        expectStatus(
          await call(app, 'POST', '/api/v1/projects/default/models/native/versions', adminAuth, {
            source: `runs:/${f.runId}/model`,
            description: `v${i + 1}`,
          }),
          201,
        );
      }
      const versions = await call(
        app,
        'GET',
        '/api/v1/projects/default/models/native/versions?maxResults=2',
        adminAuth,
      );
      expectStatus(versions, 200);
      const page = versions.json<{ items: Json[]; nextPageToken: string | null }>();
      assert.deepEqual(
        page.items.map((v) => v.version),
        [3, 2],
      );
      const rest = await call(
        app,
        'GET',
        `/api/v1/projects/default/models/native/versions?maxResults=2&pageToken=${page.nextPageToken}`,
        adminAuth,
      );
      assert.deepEqual(
        rest.json<{ items: Json[] }>().items.map((v) => v.version),
        [1],
      );
      const aliased = await call(app, 'PUT', '/api/v1/projects/default/models/native/aliases/champion', adminAuth, {
        version: 2,
      });
      expectStatus(aliased, 200);
      assert.deepEqual(aliased.json<Json>().aliases, [{ alias: 'champion', version: 2 }]);
      const v2 = await call(app, 'GET', '/api/v1/projects/default/models/native/versions/2', adminAuth);
      assert.deepEqual(v2.json<Json>().aliases, ['champion']);
      assert.match(String(v2.json<Json>().createdAt), /^\d{4}-\d\d-\d\dT/);
      expectStatus(
        await call(app, 'PUT', '/api/v1/projects/default/models/native/aliases/latest', adminAuth, { version: 1 }),
        400,
      );
      expectStatus(
        await call(app, 'PUT', '/api/v1/projects/default/models/native/aliases/x', adminAuth, { version: 9 }),
        404,
      );
      expectStatus(
        await call(app, 'DELETE', '/api/v1/projects/default/models/native/aliases/champion', adminAuth),
        204,
      );
      const updated = await call(app, 'PATCH', '/api/v1/projects/default/models/native', adminAuth, {
        description: null,
        ownerTeam: null,
      });
      expectStatus(updated, 200);
      assert.deepEqual([updated.json<Json>().description, updated.json<Json>().ownerTeam], [null, 'default']);
      const list = await call(
        app,
        'GET',
        `/api/v1/projects/default/models?filter=${encodeURIComponent("name = 'native'")}`,
        adminAuth,
      );
      expectStatus(list, 200);
      const items = list.json<{ items: Json[] }>().items;
      assert.equal(items.length, 1);
      assert.deepEqual(
        (items[0]!.latestVersions as Json[]).map((v) => [v.version, v.stage]),
        [[3, 'None']],
      );
      expectStatus(await call(app, 'GET', '/api/v1/projects/default/models?filter=bogus', adminAuth), 400);
      expectStatus(await call(app, 'GET', '/api/v1/projects/nope/models', adminAuth), 404);
    });

    test('native list: owner team and stage filters, applied by the server across pages', async () => {
      await call(app, 'POST', '/api/v1/teams', adminAuth, { name: 'owner-x' });
      // of-a: owner-x, Production; of-b: no owner team (the project's, "default"), Staging;
      // of-c: owner-x, None only; of-d: owner-x, one version in Production and one Archived.
      const models: [string, string | null, string[]][] = [
        ['of-a', 'owner-x', ['Production']],
        ['of-b', null, ['Staging']],
        ['of-c', 'owner-x', ['None']],
        ['of-d', 'owner-x', ['Production', 'Archived']],
      ];
      for (const [name, ownerTeam, stages] of models) {
        expectStatus(
          await call(app, 'POST', '/api/v1/projects/default/models', adminAuth, {
            name,
            ...(ownerTeam ? { ownerTeam } : {}),
          }),
          201,
        );
        for (const [i, stage] of stages.entries()) {
          ok(await ml(app, 'POST', 'model-versions/create', { name, source: `runs:/${f.runId}/model` }));
          if (stage !== 'None') {
            ok(await ml(app, 'POST', 'model-versions/transition-stage', { name, version: String(i + 1), stage }));
          }
        }
      }
      const list = async (query: Record<string, string>) => {
        const qs = new URLSearchParams({ filter: "name LIKE 'of-%'", ...query });
        const res = await call(app, 'GET', `/api/v1/projects/default/models?${qs.toString()}`, adminAuth);
        expectStatus(res, 200, qs.toString());
        const page = res.json<{ items: Json[]; nextPageToken: string | null }>();
        return { names: page.items.map((m) => m.name as string), next: page.nextPageToken };
      };
      const first = await list({ ownerTeam: 'owner-x', maxResults: '2' });
      assert.deepEqual(first.names, ['of-a', 'of-c']);
      assert.ok(first.next);
      assert.deepEqual(await list({ ownerTeam: 'owner-x', maxResults: '2', pageToken: first.next }), {
        names: ['of-d'],
        next: null,
      });
      assert.deepEqual((await list({ ownerTeam: 'default' })).names, ['of-b']);
      assert.deepEqual((await list({ stage: 'Production' })).names, ['of-a', 'of-d']);
      assert.deepEqual((await list({ stage: 'Staging' })).names, ['of-b']);
      assert.deepEqual((await list({ stage: 'Archived' })).names, ['of-d']);
      assert.deepEqual((await list({ stage: 'None' })).names, ['of-c']);
      assert.deepEqual((await list({ ownerTeam: 'owner-x', stage: 'Production' })).names, ['of-a', 'of-d']);
      // A team that does not exist owns nothing.
      assert.deepEqual(await list({ ownerTeam: 'no-such-team' }), { names: [], next: null });

      const bad = async (qs: string, field: RegExp) => {
        const res = await call(app, 'GET', `/api/v1/projects/default/models?${qs}`, adminAuth);
        expectStatus(res, 400, qs);
        assert.match(res.body, field);
      };
      await bad('stage=Live', /stage/);
      await bad('ownerTeam=', /ownerTeam/);
      // A page token belongs to the filters it was made for.
      await bad(`ownerTeam=default&maxResults=2&pageToken=${encodeURIComponent(first.next)}`, /page_?token/i);
    });
  });
}
