// Artifacts of runs and logged models through both front doors, the native run routes
// (/api/v1/runs/{id}/artifacts) and MLflow's proxy (/api/2.0/mlflow-artifacts), on both engines:
// round trips, project roles, every form of path traversal, writes confined to run and model
// folders, HTTP ranges, streaming uploads past the JSON body limit, broken uploads and the headers
// that keep downloaded user content from running on Hangar's origin.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import { openArtifactStore } from '../../artifacts/open-artifact-store.js';
import {
  PATH_ATTACKS,
  testS3Credentials,
  testS3UrlWithPrefix,
  type ArtifactBackend,
} from '../../artifacts/test-backends.js';
import type { Engine } from '../../db/dialect.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { auditEvents, eventually, type Headers } from '../../testing/identity-fixtures.js';
import { adminAuth, ADMIN_TOKEN, buildTestApp } from '../../testing/test-app.js';
import {
  createLoggedModel,
  createRun,
  mlflowError,
  ok,
  projectFixture,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';

const PROXY = '/api/2.0/mlflow-artifacts/artifacts';
const MiB = 1024 * 1024;
const WINDOWS_DRIVE = /^[A-Za-z]:/;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const fileUrl = (runId: string, p: string) => `/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(p)}`;
const proxyUrl = (p: string) => `${PROXY}/${p.split('/').map(encodeURIComponent).join('/')}`;

/** Every file under `dir` (relative path -> size), but the database's, which change on every write. */
function snapshot(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith('hangar.db')) out.set(path.relative(dir, p), statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A request over a real socket with the request target sent exactly as given (light-my-request
 * resolves `..` and `%2e%2e` segments as a browser would, which would hide what a hostile client
 * sends). Non-ASCII characters must be percent-encoded by the caller.
 */
function raw(
  port: number,
  method: string,
  target: string,
  headers: Headers = adminAuth,
  body?: Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What an upload of `body` answers (raw bytes, any content type). */
function put(
  app: HangarApp,
  url: string,
  body: string | Buffer,
  headers: Headers = adminAuth,
  contentType = 'application/octet-stream',
): Promise<LightMyRequestResponse> {
  return app.http.inject({ method: 'PUT', url, headers: { ...headers, 'content-type': contentType }, payload: body });
}

function get(app: HangarApp, url: string, headers: Headers = adminAuth): Promise<LightMyRequestResponse> {
  return app.http.inject({ method: 'GET', url, headers });
}

function del(app: HangarApp, url: string, headers: Headers = adminAuth): Promise<LightMyRequestResponse> {
  return app.http.inject({ method: 'DELETE', url, headers });
}

/** A request path made of characters http.request accepts (non-ASCII percent-encoded). */
const asciiTarget = (s: string) => s.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));

// Both engines over a local folder, and one over a real S3-compatible server (started by `npm test`).
const SETUPS: [Engine, ArtifactBackend][] = [
  ...ENGINES.map((e) => [e, 'local'] as [Engine, ArtifactBackend]),
  ['sqlite', 's3'],
];

for (const [engine, backend] of SETUPS) {
  describe(`artifacts of runs and logged models (${engine}, ${backend} artifacts)`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;
    let port: number;
    /** A run of f.experimentId, and one of f.secondExperimentId. */
    let runId: string;
    let otherRunId: string;
    /** A logged model of f.experimentId, and one of f.secondExperimentId. */
    let modelId: string;
    let otherModelId: string;
    let s3Prefix: string | undefined;

    before(async () => {
      store = await createTestStore(engine);
      let overrides = {};
      if (backend === 's3') {
        s3Prefix = `t-${randomBytes(6).toString('hex')}`;
        // The app's store takes its credentials from the AWS SDK's default chain.
        const credentials = testS3Credentials();
        process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
        overrides = { artifacts: testS3UrlWithPrefix(s3Prefix) };
      }
      app = await buildTestApp(store, overrides);
      await app.http.listen({ port: 0, host: '127.0.0.1' });
      port = (app.http.server.address() as AddressInfo).port;
      app.start();
      f = await projectFixture(app, `art-${engine}`);
      runId = await createRun(app, f.experimentId, f.developer);
      otherRunId = await createRun(app, f.secondExperimentId, f.developer);
      modelId = await createLoggedModel(app, f.experimentId, {}, f.developer);
      otherModelId = await createLoggedModel(app, f.secondExperimentId, {}, f.developer);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
      if (s3Prefix) {
        const bucket = await openArtifactStore(testS3UrlWithPrefix(''), { s3: { credentials: testS3Credentials() } });
        await bucket.delete(s3Prefix).finally(() => bucket.close());
      }
    });

    /** Every stored artifact (path and size) and every file on disk (the local store's included). */
    async function contents(): Promise<string[]> {
      const stored = await app.services.artifacts.store.list('', { recursive: true });
      return [
        ...stored.map((e) => `${e.path} ${e.size}`),
        ...[...snapshot(store.dir)].map(([p, size]) => `disk:${p} ${size}`),
      ].sort();
    }

    test('native API: upload, list, download, delete', async () => {
      const hello = ok<{ path: string; size: number; sha256: string }>(
        await put(app, fileUrl(runId, 'notes/hello.txt'), 'hello world', f.developer, 'text/plain'),
        'upload',
      );
      assert.deepEqual(hello, { path: 'notes/hello.txt', size: 11, sha256: sha256('hello world') });
      // A .json upload is bytes to store, not JSON to parse (even when it is not valid JSON).
      ok(await put(app, fileUrl(runId, 'notes/config.json'), '{not json', f.developer, 'application/json'));
      ok(await put(app, fileUrl(runId, 'top.bin'), Buffer.from([0, 1, 2, 3]), f.developer));
      // Replacing a file is allowed.
      ok(await put(app, fileUrl(runId, 'top.bin'), Buffer.from([9, 8]), f.developer));

      const list = ok<{ root: string; items: unknown[] }>(await get(app, `/api/v1/runs/${runId}/artifacts`));
      assert.equal(list.root, `mlflow-artifacts:/${f.experimentId}/${runId}/artifacts`);
      assert.deepEqual(list.items, [
        { path: 'notes', isDir: true },
        { path: 'top.bin', isDir: false, size: 2 },
      ]);
      assert.deepEqual(ok(await get(app, `/api/v1/runs/${runId}/artifacts?path=notes`)).items, [
        { path: 'notes/config.json', isDir: false, size: 9 },
        { path: 'notes/hello.txt', isDir: false, size: 11 },
      ]);
      assert.deepEqual(
        ok<{ items: { path: string }[] }>(await get(app, `/api/v1/runs/${runId}/artifacts?recursive=true`)).items.map(
          (i) => i.path,
        ),
        ['notes/config.json', 'notes/hello.txt', 'top.bin'],
      );
      assert.deepEqual(ok(await get(app, `/api/v1/runs/${runId}/artifacts?path=no-such-folder`)).items, []);

      const dl = await get(app, fileUrl(runId, 'notes/hello.txt'), f.viewer);
      assert.equal(dl.statusCode, 200);
      assert.equal(dl.body, 'hello world');
      assert.equal(dl.headers['content-length'], '11');
      assert.equal(dl.headers['accept-ranges'], 'bytes');
      assert.equal(dl.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal((await get(app, fileUrl(runId, 'notes/config.json'))).body, '{not json');
      assert.deepEqual((await get(app, fileUrl(runId, 'top.bin'))).rawPayload, Buffer.from([9, 8]));
      assert.equal((await get(app, fileUrl(runId, 'missing.txt'))).statusCode, 404);
      // A folder is not a file.
      assert.equal((await get(app, fileUrl(runId, 'notes'))).statusCode, 404);

      // Deleting a folder deletes what is in it; deleting it again deletes nothing. Audited.
      assert.deepEqual(ok(await del(app, fileUrl(runId, 'notes'), f.developer)), { deleted: 2 });
      assert.deepEqual(ok(await del(app, fileUrl(runId, 'notes'), f.developer)), { deleted: 0 });
      assert.equal((await get(app, fileUrl(runId, 'notes/hello.txt'))).statusCode, 404);
      assert.deepEqual(ok(await del(app, fileUrl(runId, 'top.bin'), f.developer)), { deleted: 1 });
      assert.deepEqual(ok(await get(app, `/api/v1/runs/${runId}/artifacts`)).items, []);
      // Audit events are listed once the chainer has linked them, a moment after the commit.
      const deletions = await eventually(async () => {
        const found = (await auditEvents(app, 'action=artifact.delete')).filter((e) => e.target.includes(runId));
        return found.length >= 3 ? found : undefined;
      }, 'three artifact.delete events');
      assert.deepEqual(
        deletions.map((e) => [e.target.slice(e.target.lastIndexOf('/') + 1), e.details.deleted]).sort(),
        [
          ['notes', 0],
          ['notes', 2],
          ['top.bin', 1],
        ],
      );

      // Unknown runs are 404; malformed run ids fail the schema.
      assert.equal((await get(app, `/api/v1/runs/${'0'.repeat(32)}/artifacts`)).statusCode, 404);
      assert.equal((await get(app, '/api/v1/runs/not-a-run/artifacts')).statusCode, 400);
      assert.equal((await put(app, fileUrl('0'.repeat(32), 'x.txt'), 'x')).statusCode, 404);
    });

    test("MLflow proxy: upload, list (names relative to the folder), download, delete, a logged model's folder", async () => {
      const base = `${f.experimentId}/${runId}/artifacts/proxy`;
      ok(await put(app, proxyUrl(`${base}/a.txt`), 'alpha', f.developer, 'text/plain'));
      ok(await put(app, proxyUrl(`${base}/sub/b.txt`), 'beta!', f.developer));
      // MLflow's client sends no content type for some uploads.
      const noType = await app.http.inject({
        method: 'PUT',
        url: proxyUrl(`${base}/c.bin`),
        headers: f.developer,
        payload: Buffer.from('gamma'),
      });
      assert.deepEqual(ok(noType), {});

      const listed = ok(await get(app, `${PROXY}?path=${encodeURIComponent(base)}`, f.viewer));
      assert.deepEqual(listed, {
        files: [
          { path: 'a.txt', is_dir: false, file_size: 5 },
          { path: 'c.bin', is_dir: false, file_size: 5 },
          { path: 'sub', is_dir: true },
        ],
      });
      assert.deepEqual(ok(await get(app, `${PROXY}?path=${encodeURIComponent(`${base}/nothing`)}`)), { files: [] });
      // The experiment's root lists (reads may look at any folder of a readable experiment).
      const root = ok<{ files: { path: string }[] }>(await get(app, `${PROXY}?path=${f.experimentId}`, f.viewer));
      assert.ok(root.files.some((e) => e.path === runId));
      mlflowError(await get(app, PROXY), 400, 'INVALID_PARAMETER_VALUE', 'list without path');
      mlflowError(await get(app, `${PROXY}?path=a&path=b`), 400, 'INVALID_PARAMETER_VALUE', 'list with two paths');

      const a = await get(app, proxyUrl(`${base}/a.txt`), f.viewer);
      assert.equal(a.statusCode, 200);
      assert.equal(a.body, 'alpha');
      assert.equal((await get(app, proxyUrl(`${base}/c.bin`))).body, 'gamma');
      mlflowError(await get(app, proxyUrl(`${base}/missing`)), 404, 'RESOURCE_DOES_NOT_EXIST');
      mlflowError(await get(app, proxyUrl(f.experimentId)), 404, 'RESOURCE_DOES_NOT_EXIST', 'the root as a file');

      assert.deepEqual(ok(await del(app, proxyUrl(`${base}/sub`), f.developer)), {});
      mlflowError(await get(app, proxyUrl(`${base}/sub/b.txt`)), 404, 'RESOURCE_DOES_NOT_EXIST');

      // A logged model's folder: written through the proxy, as the MLflow client does.
      const modelBase = `${f.experimentId}/models/${modelId}/artifacts`;
      ok(await put(app, proxyUrl(`${modelBase}/MLmodel`), 'flavors: {}\n', f.developer));
      const mlmodel = await get(app, proxyUrl(`${modelBase}/MLmodel`), f.viewer);
      assert.equal(mlmodel.body, 'flavors: {}\n');
      assert.equal(mlmodel.headers['content-type'], 'text/yaml; charset=utf-8');
      assert.deepEqual(ok(await get(app, `${PROXY}?path=${encodeURIComponent(modelBase)}`)), {
        files: [{ path: 'MLmodel', is_dir: false, file_size: 12 }],
      });
      // Unknown endpoints under the proxy's prefix answer as MLflow's server does.
      mlflowError(await get(app, '/api/2.0/mlflow-artifacts/nothing'), 404, 'ENDPOINT_NOT_FOUND');
    });

    test('viewers read but cannot write or delete; outsiders get 404; anonymous 401; a token of another project is refused', async () => {
      const base = `${f.experimentId}/${runId}/artifacts`;
      ok(await put(app, fileUrl(runId, 'acl/kept.txt'), 'kept', f.developer));
      const before = await contents();
      // Viewers: read both ways, writes and deletions 403.
      assert.equal((await get(app, fileUrl(runId, 'acl/kept.txt'), f.viewer)).body, 'kept');
      ok(await get(app, `/api/v1/runs/${runId}/artifacts?path=acl`, f.viewer));
      assert.equal((await get(app, proxyUrl(`${base}/acl/kept.txt`), f.viewer)).body, 'kept');
      ok(await get(app, `${PROXY}?path=${encodeURIComponent(base)}`, f.viewer));
      assert.equal((await put(app, fileUrl(runId, 'acl/new.txt'), 'x', f.viewer)).statusCode, 403);
      assert.equal((await del(app, fileUrl(runId, 'acl/kept.txt'), f.viewer)).statusCode, 403);
      mlflowError(await put(app, proxyUrl(`${base}/acl/new.txt`), 'x', f.viewer), 403, 'PERMISSION_DENIED');
      mlflowError(await del(app, proxyUrl(`${base}/acl/kept.txt`), f.viewer), 403, 'PERMISSION_DENIED');
      mlflowError(
        await put(app, proxyUrl(`${f.experimentId}/models/${modelId}/artifacts/x`), 'x', f.viewer),
        403,
        'PERMISSION_DENIED',
      );

      // Outsiders: 404 on every operation, with nothing said about whether the file exists. A
      // token scoped to another project (here the platform admin's, who may know the project):
      // 403, as everywhere else (see AccessService).
      for (const [who, h, status, code] of [
        ['outsider', f.outsider, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['scoped', f.scopedToOther, 403, 'PERMISSION_DENIED'],
      ] as const) {
        for (const res of [
          await get(app, fileUrl(runId, 'acl/kept.txt'), h),
          await get(app, `/api/v1/runs/${runId}/artifacts`, h),
          await put(app, fileUrl(runId, 'acl/new.txt'), 'x', h),
          await del(app, fileUrl(runId, 'acl/kept.txt'), h),
        ]) {
          assert.equal(res.statusCode, status, `${who}: ${res.statusCode} ${res.body}`);
          assert.ok(!res.body.includes('kept'));
        }
        mlflowError(await get(app, proxyUrl(`${base}/acl/kept.txt`), h), status, code, who);
        mlflowError(await get(app, proxyUrl(`${base}/acl/missing.txt`), h), status, code, who);
        mlflowError(await get(app, `${PROXY}?path=${encodeURIComponent(base)}`, h), status, code, who);
        mlflowError(await put(app, proxyUrl(`${base}/acl/new.txt`), 'x', h), status, code, who);
        mlflowError(await del(app, proxyUrl(`${base}/acl/kept.txt`), h), status, code, who);
      }
      // An outsider cannot tell an existing file from a missing one.
      const refusal = async (name: string) =>
        mlflowError(await get(app, proxyUrl(`${base}/acl/${name}`), f.outsider), 404, 'RESOURCE_DOES_NOT_EXIST')
          .split(name)
          .join('<name>');
      assert.equal(await refusal('kept.txt'), await refusal('missing.txt'));
      // The scoped token works in its own project.
      ok(await get(app, `${PROXY}?path=${f.otherExperimentId}`, f.scopedToOther));

      // Anonymous callers and bad credentials: 401, in each front door's shape.
      for (const h of [f.anonymous, { authorization: 'Bearer hgr_not-a-token' }]) {
        for (const res of [
          await get(app, fileUrl(runId, 'acl/kept.txt'), h),
          await get(app, `/api/v1/runs/${runId}/artifacts`, h),
          await put(app, fileUrl(runId, 'acl/new.txt'), 'x', h),
          await del(app, fileUrl(runId, 'acl/kept.txt'), h),
        ]) {
          assert.equal(res.statusCode, 401, res.body);
        }
        mlflowError(await get(app, proxyUrl(`${base}/acl/kept.txt`), h), 401, 'UNAUTHENTICATED');
        mlflowError(await get(app, `${PROXY}?path=${encodeURIComponent(base)}`, h), 401, 'UNAUTHENTICATED');
        mlflowError(await put(app, proxyUrl(`${base}/acl/new.txt`), 'x', h), 401, 'UNAUTHENTICATED');
        mlflowError(await del(app, proxyUrl(`${base}/acl/kept.txt`), h), 401, 'UNAUTHENTICATED');
      }
      assert.deepEqual(await contents(), before, 'refused callers wrote nothing');
      assert.equal((await get(app, fileUrl(runId, 'acl/kept.txt'))).body, 'kept');
    });

    test('path traversal through the native routes is refused in every form and writes nothing', async () => {
      ok(await put(app, fileUrl(runId, 'safe/victim.txt'), 'victim'));
      const before = await contents();
      const forms = new Set<string>();
      for (const attack of PATH_ATTACKS) {
        forms.add(attack);
        // (A drive letter is only refused at the start; inside a path, `C:` is a folder name.)
        if (WINDOWS_DRIVE.test(attack)) continue;
        forms.add(`x/${attack}`);
        forms.add(`../../${otherRunId}/artifacts/${attack}`);
      }
      for (const extra of [
        '../../../../etc/passwd',
        `../../../${f.secondExperimentId}/${otherRunId}/artifacts/planted.txt`,
        '..%2F..%2F..%2Fplanted.txt',
        '%2e%2e%2f%2e%2e%2fplanted.txt',
        '%252e%252e%252fplanted.txt',
        '..\\..\\planted.txt',
        '/tmp/planted.txt',
        '\\\\server\\share\\planted.txt',
        'safe/victim.txt\u0000.png',
        '\uff0e\uff0e\uff0fplanted.txt',
      ]) {
        forms.add(extra);
      }
      let tried = 0;
      for (const attack of forms) {
        let query: string;
        try {
          query = encodeURIComponent(attack);
        } catch {
          continue; // a lone surrogate cannot travel in a URL
        }
        const url = `/api/v1/runs/${runId}/artifacts/file?path=${query}`;
        for (const res of [
          await put(app, url, 'planted'),
          await get(app, url),
          await del(app, url),
          await get(app, `/api/v1/runs/${runId}/artifacts?path=${query}`),
        ]) {
          tried++;
          assert.ok(
            res.statusCode >= 400 && res.statusCode < 500,
            `${JSON.stringify(attack)} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
          );
          assert.ok(!res.body.includes('root:'), 'no file outside the store is ever served');
        }
      }
      assert.ok(tried > 400);
      assert.deepEqual(await contents(), before, 'no traversal wrote or deleted anything');
      assert.equal((await get(app, fileUrl(runId, 'safe/victim.txt'))).body, 'victim');
    });

    test('path traversal through the MLflow proxy is refused in every form and writes nothing', async () => {
      ok(await put(app, fileUrl(runId, 'safe/victim.txt'), 'victim'));
      const before = await contents();
      const prefixes = [
        `${f.experimentId}/${runId}/artifacts/`,
        `${f.experimentId}/`,
        `${f.experimentId}/models/${modelId}/artifacts/`,
        '',
      ];
      const targets = new Set<string>();
      for (const prefix of prefixes) {
        for (const attack of PATH_ATTACKS) {
          // (A drive letter is only refused at the start; inside a path, `C:` is a folder name.)
          if (prefix && WINDOWS_DRIVE.test(attack)) continue;
          const whole = `${prefix}${attack}`;
          let once: string;
          try {
            once = encodeURIComponent(whole);
          } catch {
            continue; // a lone surrogate cannot travel in a URL
          }
          // %2F for every slash; raw slashes between encoded segments; double-encoded; and as
          // written (the server decodes %2e%2e etc. once).
          targets.add(`${PROXY}/${once}`);
          targets.add(`${PROXY}/${whole.split('/').map(encodeURIComponent).join('/')}`);
          targets.add(`${PROXY}/${encodeURIComponent(once)}`);
          targets.add(`${PROXY}/${asciiTarget(whole)}`);
        }
      }
      for (const t of [
        `${PROXY}/${f.experimentId}/${runId}/artifacts/../../../../../etc/passwd`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/%2e%2e/%2e%2e/%2e%2e/planted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/%2E%2E%2F%2E%2E%2F${otherRunId}%2Fartifacts%2Fplanted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/%252e%252e%252f%252e%252e%252fplanted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/..%5c..%5c..%5cplanted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/..\\..\\..\\planted.txt`,
        `${PROXY}//etc/passwd`,
        `${PROXY}/%2Fetc%2Fpasswd`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/a%00.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/%c0%ae%c0%ae/planted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/%EF%BC%8E%EF%BC%8E/planted.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/safe/./victim.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/safe//victim.txt`,
        `${PROXY}/${f.experimentId}/${runId}/artifacts/safe/`,
      ]) {
        targets.add(t);
      }
      for (const target of targets) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await raw(
            port,
            method,
            target,
            { ...adminAuth, 'content-type': 'application/octet-stream' },
            method === 'PUT' ? Buffer.from('planted') : undefined,
          );
          assert.ok(res.status >= 400 && res.status < 500, `${method} ${target} -> ${res.status} ${res.body}`);
          // In MLflow's shape, but for URLs that are not UTF-8 once decoded, which the router
          // refuses before any route sees them.
          if (!target.includes('%c0')) {
            const code = (JSON.parse(res.body.toString()) as { error_code?: string }).error_code;
            assert.ok(
              ['INVALID_PARAMETER_VALUE', 'RESOURCE_DOES_NOT_EXIST', 'ENDPOINT_NOT_FOUND'].includes(code ?? ''),
              `${method} ${target} -> ${res.body}`,
            );
          }
          assert.ok(!res.body.toString().includes('root:'), 'no file outside the store is ever served');
        }
      }
      for (const attack of PATH_ATTACKS) {
        if (WINDOWS_DRIVE.test(attack)) continue;
        let q: string;
        try {
          q = encodeURIComponent(`${f.experimentId}/${runId}/artifacts/${attack}`);
        } catch {
          continue;
        }
        const res = await raw(port, 'GET', `${PROXY}?path=${q}`);
        assert.ok(res.status >= 400 && res.status < 500, `list ${attack} -> ${res.status} ${res.body}`);
      }
      assert.deepEqual(await contents(), before, 'no traversal wrote or deleted anything');
      assert.equal((await get(app, fileUrl(runId, 'safe/victim.txt'))).body, 'victim');
    });

    test("writes outside a run's or logged model's artifact folder are refused", async () => {
      const before = await contents();
      const unknownRun = randomBytes(16).toString('hex');
      const unknownModel = `m-${randomBytes(16).toString('hex')}`;
      const e = f.experimentId;
      const cases: [string, number][] = [
        [`${e}/planted.txt`, 400], // the experiment's root
        [`${e}/folder/planted.txt`, 400],
        [`${e}/${runId}/planted.txt`, 400], // beside the run's artifacts folder
        [`${e}/${runId}/artifacts`, 400], // the folder itself as a file
        [`${e}/${runId.toUpperCase()}/artifacts/planted.txt`, 400],
        [`${e}/${unknownRun}/artifacts/planted.txt`, 404],
        [`${e}/${otherRunId}/artifacts/planted.txt`, 400], // a run of another experiment
        [`${f.secondExperimentId}/${runId}/artifacts/planted.txt`, 400],
        [`${e}/models/planted.txt`, 400],
        [`${e}/models/${modelId}/planted.txt`, 400],
        [`${e}/models/${modelId}/artifacts`, 400],
        [`${e}/models/${unknownModel}/artifacts/planted.txt`, 400],
        [`${e}/models/${otherModelId}/artifacts/planted.txt`, 400], // a model of another experiment
        [`${f.secondExperimentId}/models/${modelId}/artifacts/planted.txt`, 400],
        [`${e}/models/${runId}/artifacts/planted.txt`, 400],
        ['planted.txt', 400],
        ['abc/planted.txt', 400],
        [`999999/${runId}/artifacts/planted.txt`, 404], // an unknown experiment
        [`${f.otherExperimentId}/${runId}/artifacts/planted.txt`, 403], // the developer only views there
      ];
      for (const [p, status] of cases) {
        const res = await put(app, proxyUrl(p), 'planted', f.developer);
        const code =
          status === 400 ? 'INVALID_PARAMETER_VALUE' : status === 403 ? 'PERMISSION_DENIED' : 'RESOURCE_DOES_NOT_EXIST';
        mlflowError(res, status, code, p);
        // Deleting there is refused alike (the folders of runs and models can be deleted whole).
        if (!p.endsWith('/artifacts'))
          mlflowError(await del(app, proxyUrl(p), f.developer), status, code, `delete ${p}`);
      }
      // Not even the platform admin may plant files beside runs.
      mlflowError(await put(app, proxyUrl(`${e}/planted.txt`), 'x'), 400, 'INVALID_PARAMETER_VALUE');
      assert.deepEqual(await contents(), before, 'nothing was written');
    });

    test('ranges: start-end, open-ended, suffix, past the end (416 with Content-Range), malformed (400)', async () => {
      const content = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
      ok(await put(app, fileUrl(runId, 'range/data.bin'), content));
      ok(await put(app, fileUrl(runId, 'range/empty.bin'), Buffer.alloc(0)));
      const doors: [string, (p: string) => string, boolean][] = [
        ['native', (p) => fileUrl(runId, p), false],
        ['proxy', (p) => proxyUrl(`${f.experimentId}/${runId}/artifacts/${p}`), true],
      ];
      for (const [door, url, isMlflow] of doors) {
        const ranged = (p: string, range: string) =>
          app.http.inject({ method: 'GET', url: url(p), headers: { ...f.viewer, range } });
        for (const [range, start, end] of [
          ['bytes=0-9', 0, 9],
          ['bytes=10-19', 10, 19],
          ['bytes=99-99', 99, 99],
          ['bytes=90-', 90, 99],
          ['bytes=0-', 0, 99],
          ['bytes=-5', 95, 99],
          ['bytes=-500', 0, 99],
          ['bytes=50-1000', 50, 99],
          [' bytes=1-2 ', 1, 2],
          ['Bytes=3-4', 3, 4],
          ['bytes=0-1,', 0, 1], // an empty list element is no second range
          ['bytes=5-99999999999999999999', 5, 99], // a last byte past 2^53 is the end
          ['bytes=-99999999999999999999', 0, 99],
        ] as const) {
          const res = await ranged('range/data.bin', range);
          assert.equal(res.statusCode, 206, `${door} ${range}: ${res.body}`);
          assert.equal(res.headers['content-range'], `bytes ${start}-${end}/100`, `${door} ${range}`);
          assert.equal(res.headers['content-length'], String(end - start + 1));
          assert.deepEqual(res.rawPayload, content.subarray(start, end + 1), `${door} ${range}`);
        }
        for (const [p, range, size] of [
          ['range/data.bin', 'bytes=100-', 100],
          ['range/data.bin', 'bytes=100-200', 100],
          ['range/data.bin', 'bytes=-0', 100],
          ['range/data.bin', 'bytes=99999999999999999999-', 100],
          ['range/empty.bin', 'bytes=0-', 0],
          ['range/empty.bin', 'bytes=-1', 0],
        ] as const) {
          const res = await ranged(p, range);
          assert.equal(res.statusCode, 416, `${door} ${p} ${range}: ${res.body}`);
          assert.equal(res.headers['content-range'], `bytes */${size}`, `${door} ${p} ${range}`);
          if (isMlflow) mlflowError(res, 416, 'INVALID_PARAMETER_VALUE');
        }
        for (const range of [
          'bytes=abc',
          'bytes=5-1',
          'bytes=-',
          'bytes=5',
          'bytes=--5',
          'bytes=1-2-3',
          'bytes=0x10-',
          'bytes=1.5-2',
          'pages=0-1',
          'bytes 0-1',
          'bytes=99999999999999999999-5',
          'bytes=0-1,5',
          'bytes=,',
          'bytes=',
        ]) {
          const res = await ranged('range/data.bin', range);
          assert.equal(res.statusCode, 400, `${door} ${range}: ${res.statusCode} ${res.body}`);
          if (isMlflow) mlflowError(res, 400, 'INVALID_PARAMETER_VALUE');
        }
        // Several ranges: the whole file (RFC 9110 lets a server ignore Range).
        const multi = await ranged('range/data.bin', 'bytes=0-1, 5-6');
        assert.equal(multi.statusCode, 200);
        assert.deepEqual(multi.rawPayload, content);
        const whole = await get(app, url('range/data.bin'));
        assert.equal(whole.statusCode, 200);
        assert.equal(whole.headers['content-range'], undefined);
        assert.deepEqual(whole.rawPayload, content);
      }
    });

    test('a 30 MB upload streams past the 10 MB body limit and round-trips with its sha256', async () => {
      const big = randomBytes(30 * MiB);
      const stored = ok<{ size: number; sha256: string }>(await put(app, fileUrl(runId, 'big/model.bin'), big));
      assert.equal(stored.size, big.length);
      assert.equal(stored.sha256, sha256(big));
      const back = await get(app, fileUrl(runId, 'big/model.bin'));
      assert.equal(back.headers['content-length'], String(big.length));
      assert.equal(sha256(back.rawPayload), sha256(big));
      // The same through MLflow's proxy, uploaded over a real socket with a chunked body.
      const target = `${PROXY}/${f.experimentId}/${runId}/artifacts/big/chunked.bin`;
      const res = await new Promise<RawResponse>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'PUT', path: target, headers: adminAuth, agent: false },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
          },
        );
        req.on('error', reject);
        for (let off = 0; off < big.length; off += MiB) req.write(big.subarray(off, off + MiB));
        req.end();
      });
      assert.equal(res.status, 200, res.body.toString());
      const listed = ok<{ files: { path: string; file_size?: number }[] }>(
        await get(app, `${PROXY}?path=${f.experimentId}/${runId}/artifacts/big`),
      );
      assert.deepEqual(
        listed.files.map((x) => [x.path, x.file_size]),
        [
          ['chunked.bin', big.length],
          ['model.bin', big.length],
        ],
      );
      assert.equal(
        sha256((await get(app, proxyUrl(`${f.experimentId}/${runId}/artifacts/big/chunked.bin`))).rawPayload),
        sha256(big),
      );
      // JSON routes keep their limit.
      const tooBig = await app.http.inject({
        method: 'POST',
        url: '/api/2.0/mlflow/runs/log-batch',
        headers: { ...adminAuth, 'content-type': 'application/json' },
        payload: JSON.stringify({ run_id: runId, tags: [{ key: 'k', value: 'x'.repeat(11 * MiB) }] }),
      });
      mlflowError(tooBig, 413, 'INVALID_PARAMETER_VALUE');
      ok(await del(app, fileUrl(runId, 'big')));
    });

    test('Content-Digest: a body that does not match its declared sha-256 stores nothing, through either door', async () => {
      const digest = (b: string) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;
      const withDigest = (d: string) => ({ ...adminAuth, 'content-digest': d });
      const proxied = proxyUrl(`${f.experimentId}/${runId}/artifacts/digest/proxied.txt`);
      ok(await put(app, fileUrl(runId, 'digest/a.txt'), 'old'));
      const before = await contents();
      for (const url of [fileUrl(runId, 'digest/a.txt'), proxied]) {
        const wrong = await put(app, url, 'new', withDigest(digest('other')));
        assert.equal(wrong.statusCode, 400, wrong.body);
        assert.match(wrong.body, /sha256/);
        const malformed = await put(app, url, 'new', withDigest('sha-256=:not base64 of 32 bytes:'));
        assert.equal(malformed.statusCode, 400, malformed.body);
        assert.match(malformed.body, /Content-Digest/);
      }
      assert.deepEqual(await contents(), before, 'refused uploads wrote nothing');
      assert.equal((await get(app, fileUrl(runId, 'digest/a.txt'))).body, 'old');
      // A matching digest (beside an algorithm Hangar does not check) is stored; the answer has the sha256.
      const stored = ok<{ sha256: string }>(
        await put(app, fileUrl(runId, 'digest/a.txt'), 'new', withDigest(`sha-512=:AAAA:, ${digest('new')}`)),
      );
      assert.equal(stored.sha256, sha256('new'));
      ok(await put(app, proxied, 'proxied', withDigest(digest('proxied'))));
      assert.equal((await get(app, proxied)).body, 'proxied');
    });

    test('a 0-byte upload is stored and served', async () => {
      const empty = ok<{ size: number; sha256: string }>(await put(app, fileUrl(runId, 'zero/empty.txt'), ''));
      assert.deepEqual(empty, { path: 'zero/empty.txt', size: 0, sha256: sha256('') });
      ok(await put(app, proxyUrl(`${f.experimentId}/${runId}/artifacts/zero/proxy-empty.txt`), Buffer.alloc(0)));
      for (const url of [
        fileUrl(runId, 'zero/empty.txt'),
        proxyUrl(`${f.experimentId}/${runId}/artifacts/zero/proxy-empty.txt`),
      ]) {
        const res = await get(app, url);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-length'], '0');
        assert.equal(res.rawPayload.length, 0);
      }
      assert.deepEqual(ok(await get(app, `/api/v1/runs/${runId}/artifacts?path=zero`)).items, [
        { path: 'zero/empty.txt', isDir: false, size: 0 },
        { path: 'zero/proxy-empty.txt', isDir: false, size: 0 },
      ]);
    });

    test('an upload shorter than its Content-Length, or aborted, stores nothing', async () => {
      ok(await put(app, fileUrl(runId, 'broken/existing.bin'), 'old content'));
      const before = await contents();
      // A body shorter than it said (the request ends early): refused, the old file stays.
      for (const url of [
        fileUrl(runId, 'broken/existing.bin'),
        proxyUrl(`${f.experimentId}/${runId}/artifacts/broken/existing.bin`),
      ]) {
        const res = await app.http.inject({
          method: 'PUT',
          url,
          headers: { ...adminAuth, 'content-type': 'application/octet-stream', 'content-length': '1000' },
          payload: Buffer.alloc(10, 1),
        });
        assert.equal(res.statusCode, 400, res.body);
        assert.match(res.body, /expected 1000 bytes, received 10/);
      }
      assert.equal((await get(app, fileUrl(runId, 'broken/existing.bin'))).body, 'old content');

      // Over a real socket: the client sends part of the body and goes away.
      const abort = async (target: string, chunked: boolean) => {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        socket.on('error', () => undefined);
        const head = [
          `PUT ${target} HTTP/1.1`,
          'host: 127.0.0.1',
          `authorization: Bearer ${ADMIN_TOKEN}`,
          'content-type: application/octet-stream',
          chunked ? 'transfer-encoding: chunked' : `content-length: ${4 * MiB}`,
          '',
          '',
        ].join('\r\n');
        socket.write(head);
        const part = randomBytes(MiB);
        socket.write(
          chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part,
        );
        await sleep(100);
        socket.destroy();
      };
      await abort(fileUrl(runId, 'broken/existing.bin'), false);
      await abort(fileUrl(runId, 'broken/new.bin'), false);
      await abort(`${PROXY}/${f.experimentId}/${runId}/artifacts/broken/chunked.bin`, true);
      await abort(`${PROXY}/${f.experimentId}/${runId}/artifacts/broken/existing.bin`, true);
      // The server notices the aborts asynchronously; its temporary files go when it does.
      const deadline = Date.now() + 5000;
      for (;;) {
        const now = [...snapshot(store.dir).keys()];
        if (now.every((k) => !path.basename(k).startsWith('.hangar-tmp-'))) break;
        if (Date.now() > deadline) assert.fail(`temporary files left: ${now.join(', ')}`);
        await sleep(20);
      }
      assert.deepEqual(await contents(), before, 'aborted uploads stored nothing');
      assert.equal((await get(app, fileUrl(runId, 'broken/existing.bin'))).body, 'old content');
      assert.equal((await get(app, fileUrl(runId, 'broken/new.bin'))).statusCode, 404);
      // The server is still well.
      ok(await put(app, fileUrl(runId, 'broken/after.txt'), 'fine'));
    });

    test('downloads: content type by name, HTML as text/plain, nosniff and a sandboxing CSP', async () => {
      const cases: [string, string][] = [
        ['page.html', 'text/plain; charset=utf-8'],
        ['PAGE.HTM', 'text/plain; charset=utf-8'],
        ['page.xhtml', 'application/octet-stream'],
        ['image.svg', 'image/svg+xml'],
        ['data.json', 'application/json'],
        ['table.csv', 'text/csv; charset=utf-8'],
        ['log.txt', 'text/plain; charset=utf-8'],
        ['model.onnx', 'application/octet-stream'],
        ['no-extension', 'application/octet-stream'],
        ['MLmodel', 'text/yaml; charset=utf-8'],
        ['weird.exe', 'application/octet-stream'],
      ];
      const script = '<html><script>alert(document.cookie)</script></html>';
      for (const [name, type] of cases) {
        // Whatever type the uploader claimed, the name decides what is served.
        ok(await put(app, fileUrl(runId, `types/${name}`), script, adminAuth, 'text/html'));
        for (const url of [
          fileUrl(runId, `types/${name}`),
          proxyUrl(`${f.experimentId}/${runId}/artifacts/types/${name}`),
        ]) {
          const res = await get(app, url);
          assert.equal(res.statusCode, 200);
          assert.equal(res.headers['content-type'], type, `${name} via ${url}`);
          assert.equal(res.headers['x-content-type-options'], 'nosniff');
          assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
          assert.equal(res.body, script);
        }
      }
      const partial = await app.http.inject({
        method: 'GET',
        url: fileUrl(runId, 'types/page.html'),
        headers: { ...adminAuth, range: 'bytes=0-5' },
      });
      assert.equal(partial.statusCode, 206);
      assert.equal(partial.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(partial.headers['x-content-type-options'], 'nosniff');
      assert.equal(partial.headers['content-security-policy'], "default-src 'none'; sandbox");
      // HEAD answers the headers alone.
      for (const url of [
        fileUrl(runId, 'types/page.html'),
        proxyUrl(`${f.experimentId}/${runId}/artifacts/types/page.html`),
      ]) {
        const head = await app.http.inject({ method: 'HEAD', url, headers: f.viewer });
        assert.equal(head.statusCode, 200);
        assert.equal(head.headers['content-length'], String(script.length));
        assert.equal(head.headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(head.headers['x-content-type-options'], 'nosniff');
        assert.equal(head.rawPayload.length, 0);
      }
    });
  });
}
