import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closedPort, startServer } from '@hangar/server/testing';
import { HangarApiError, HangarClient, type Job } from './index.js';

const PASSWORD = 'sdk-test-password';
const TOKEN = `hgr_sdktest${'x'.repeat(24)}`;

/** The real server in a child process, on a free port and a fresh data dir. */
async function startTestServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-sdk-test-'));
  const server = await startServer(['--data-dir', dataDir], {
    env: { ...process.env, HANGAR_ADMIN_PASSWORD: PASSWORD, HANGAR_ADMIN_TOKEN: TOKEN },
  });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function rejectsWith(promise: Promise<unknown>): Promise<HangarApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof HangarApiError, `expected HangarApiError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

async function waitForState(client: HangarClient, id: string, states: Job['state'][]): Promise<Job> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const job = await client.getJob({ id });
    if (states.includes(job.state)) return job;
    if (Date.now() > deadline) assert.fail(`job ${id} still ${job.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('HangarClient against a real server', () => {
  let server: { url: string; stop: () => Promise<void> };
  let admin: HangarClient;

  before(async () => {
    server = await startTestServer();
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
  });
  after(async () => {
    await server?.stop();
  });

  test('whoami with a bearer token, Basic password and Basic user:token', async () => {
    const byToken = await admin.whoami();
    assert.equal(byToken.username, 'admin');
    assert.equal(byToken.isAdmin, true);
    assert.equal(typeof byToken.tokenId, 'string');

    const byPassword = await new HangarClient({
      baseUrl: `${server.url}/`,
      username: 'admin',
      password: PASSWORD,
    }).whoami();
    assert.equal(byPassword.username, 'admin');
    assert.equal(byPassword.tokenId, null);

    const byUserToken = await new HangarClient({ baseUrl: server.url, username: 'admin', password: TOKEN }).whoami();
    assert.equal(byUserToken.tokenId, byToken.tokenId);
  });

  test('a 401 becomes a HangarApiError with the server fields', async () => {
    const err = await rejectsWith(
      new HangarClient({ baseUrl: server.url, token: 'hgr_wrongwrongwrongwrong' }).whoami(),
    );
    assert.equal(err.name, 'HangarApiError');
    assert.equal(err.status, 401);
    assert.equal(err.code, 'unauthenticated');
    assert.match(err.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(err.message.length > 0);
    assert.equal(err.method, 'GET');
    assert.equal(err.url, `${server.url}/api/v1/me`);

    const anonymous = await rejectsWith(new HangarClient({ baseUrl: server.url }).listJobs());
    assert.equal(anonymous.status, 401);
  });

  test('a 404 names the job; a caller-chosen request id comes back', async () => {
    const err = await rejectsWith(admin.getJob({ id: 'nope' }, { headers: { 'x-request-id': 'sdk-test-1' } }));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
    assert.equal(err.message, 'no job nope');
    assert.equal(err.requestId, 'sdk-test-1');
    assert.equal(err.details, undefined);
  });

  test('path parameters are encoded as one segment; dot segments are refused', async () => {
    const err = await rejectsWith(admin.getJob({ id: 'a/b?c=d#e f' }));
    assert.equal(err.status, 404);
    assert.equal(err.message, 'no job a/b?c=d#e f');
    await assert.rejects(admin.getJob({ id: '..' }), TypeError);
    await assert.rejects(admin.getJob({ id: '' }), TypeError);
  });

  test('bad input is a 400 naming the field', async () => {
    const err = await rejectsWith(admin.enqueueJob({ body: { kind: 'no.such.kind' } }));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_input');
    assert.deepEqual(err.details, { field: 'kind' });

    const limit = await rejectsWith(admin.listJobs({ limit: 0 }));
    assert.equal(limit.status, 400);
    assert.match(String(limit.details?.field), /limit/);
  });

  test('enqueue a noop job and poll it to success', async () => {
    const job = await admin.enqueueJob({ body: { kind: 'system.noop', payload: {} } });
    assert.equal(job.kind, 'system.noop');
    assert.ok(['queued', 'running', 'succeeded'].includes(job.state));
    const done = await waitForState(admin, job.id, ['succeeded', 'failed', 'cancelled']);
    assert.equal(done.state, 'succeeded');
    assert.ok(done.finishedAt);
  });

  test('listJobs pages with nextCursor and filters by query parameters', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await admin.enqueueJob({ body: { kind: 'system.noop', priority: i } })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.listJobs({ kind: 'system.noop', limit: 2, cursor });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no job appears twice');
    for (const id of ids) assert.ok(seen.includes(id), `job ${id} listed`);
    assert.ok(pages >= 3);

    const none = await admin.listJobs({ kind: 'system.noop', state: 'cancelled' });
    assert.deepEqual(none, { items: [], nextCursor: null });
  });

  test('job logs, long-polling and per-call timeouts', async () => {
    const job = await admin.enqueueJob({
      body: { kind: 'system.exec', payload: { command: ['sh', '-c', 'echo one; echo two'] } },
    });
    let text = '';
    let after = 0;
    for (let i = 0; i < 50; i++) {
      const logs = await admin.getJobLogs({ id: job.id, after, waitMs: 2000 });
      text += logs.chunks.map((c) => c.data).join('');
      after = logs.next;
      if (logs.complete) break;
    }
    assert.match(text, /one\n[\s\S]*two\n/);

    // A job scheduled far ahead never logs, so a long poll on it outlasts a short client timeout.
    const later = await admin.enqueueJob({
      body: { kind: 'system.noop', runAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const err = await rejectsWith(admin.getJobLogs({ id: later.id, waitMs: 5000 }, { timeoutMs: 200 }));
    assert.equal(err.status, 0);
    assert.equal(err.code, 'timeout');

    const ac = new AbortController();
    const pending = admin.getJobLogs({ id: later.id, waitMs: 5000 }, { signal: ac.signal });
    ac.abort();
    assert.equal((await rejectsWith(pending)).code, 'aborted');

    const cancelled = await admin.cancelJob({ id: later.id });
    assert.equal(cancelled.state, 'cancelled');
  });

  test('tokens: create, use, revoke (204 resolves to undefined), then refused', async () => {
    const created = await admin.createToken({ body: { name: 'sdk-test', expiresInDays: 1 } });
    assert.match(created.token, /^hgr_/);
    assert.equal(created.name, 'sdk-test');
    const client = new HangarClient({ baseUrl: server.url, token: created.token });
    assert.equal((await client.whoami()).tokenId, created.id);
    assert.ok((await admin.listTokens()).items.some((t) => t.id === created.id));
    assert.equal(await admin.revokeToken({ id: created.id }), undefined);
    assert.equal((await rejectsWith(client.whoami())).status, 401);
  });

  test('public operations: health, version, ready and the metrics text', async () => {
    const anonymous = new HangarClient({ baseUrl: server.url });
    assert.equal((await anonymous.health()).status, 'ok');
    assert.match((await anonymous.version()).version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof (await anonymous.ready()).checks, 'object');
    const metrics = await anonymous.metrics();
    assert.equal(typeof metrics, 'string');
    assert.match(metrics, /^# (HELP|TYPE) /m);
  });

  test('a custom fetch and default headers are used', async () => {
    const seen: { url: string; headers: Headers }[] = [];
    const client = new HangarClient({
      baseUrl: server.url,
      token: TOKEN,
      headers: { 'x-request-id': 'from-defaults' },
      fetch: (input, init) => {
        seen.push({ url: input, headers: new Headers(init.headers) });
        return fetch(input, init);
      },
    });
    await client.listJobs({ state: 'queued', limit: 3 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, `${server.url}/api/v1/jobs?state=queued&limit=3`);
    assert.equal(seen[0]!.headers.get('authorization'), `Bearer ${TOKEN}`);
    assert.equal(seen[0]!.headers.get('x-request-id'), 'from-defaults');
    assert.equal(seen[0]!.headers.get('content-type'), null, 'no body, no content type');
  });
});

/** Hex sha256 of some bytes, with the web crypto API the SDK targets. */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Deterministic pseudo-random bytes (incompressible enough, and the same on every run). */
function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    n += chunk.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HangarClient streaming (artifacts of a run, audit export)', () => {
  let server: { url: string; stop: () => Promise<void> };
  let admin: HangarClient;
  let runId: string;

  before(async () => {
    server = await startTestServer();
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    const exp = await admin.createExperiment({ project: 'default', body: { name: 'sdk-streams' } });
    const res = await fetch(`${server.url}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_id: exp.experimentId }),
    });
    runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  });
  after(async () => {
    await server?.stop();
  });

  test('uploads a ReadableStream, an async iterable and a Blob; the server hashes what was sent', async () => {
    const data = bytesOf(3 * 1024 * 1024 + 17);
    const chunks = function* () {
      for (let at = 0; at < data.length; at += 256 * 1024) yield data.subarray(at, at + 256 * 1024);
    };
    const web = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (const c of chunks()) ctrl.enqueue(c);
        ctrl.close();
      },
    });
    const expected = { size: data.length, sha256: await sha256(data) };
    const a = await admin.uploadRunArtifactStream(
      { runId, path: 'streams/web.bin', body: web },
      { contentLength: data.length },
    );
    assert.deepEqual(a, { path: 'streams/web.bin', ...expected });
    const iterable = (async function* () {
      for (const c of chunks()) {
        await sleep(0);
        yield c;
      }
    })();
    // Without a length the body goes chunked; the server counts it itself.
    const b = await admin.uploadRunArtifactStream({ runId, path: 'streams/iter.bin', body: iterable });
    assert.deepEqual(b, { path: 'streams/iter.bin', ...expected });
    const c = await admin.uploadRunArtifactStream({ runId, path: 'streams/blob.bin', body: new Blob([data]) });
    assert.deepEqual(c, { path: 'streams/blob.bin', ...expected });
    const listed = await admin.listRunArtifacts({ runId, path: 'streams' });
    assert.deepEqual(
      listed.items.map((e) => [e.path, e.size]),
      [
        ['streams/blob.bin', data.length],
        ['streams/iter.bin', data.length],
        ['streams/web.bin', data.length],
      ],
    );
  });

  test('downloads as a stream with its length, and byte ranges as 206 with the whole size', async () => {
    const data = bytesOf(1_000_000, 7);
    await admin.uploadRunArtifactStream({ runId, path: 'dl/data.bin', body: new Blob([data]) });

    const whole = await admin.downloadRunArtifactStream({ runId, path: 'dl/data.bin' });
    assert.equal(whole.status, 200);
    assert.equal(whole.contentLength, data.length);
    assert.equal(whole.range, null);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(await readAll(whole.body), data);

    const tail = await admin.downloadRunArtifactStream({ runId, path: 'dl/data.bin' }, { range: { start: 999_000 } });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.range, { start: 999_000, end: 999_999, size: data.length });
    assert.equal(tail.contentLength, 1000);
    assert.deepEqual(await readAll(tail.body), data.subarray(999_000));

    const middle = await admin.downloadRunArtifactStream(
      { runId, path: 'dl/data.bin' },
      { range: { start: 10, end: 19 } },
    );
    assert.deepEqual(await readAll(middle.body), data.subarray(10, 20));

    const past = await rejectsWith(
      admin.downloadRunArtifactStream({ runId, path: 'dl/data.bin' }, { range: { start: data.length } }),
    );
    assert.equal(past.status, 416);
    await assert.rejects(
      admin.downloadRunArtifactStream({ runId, path: 'dl/data.bin' }, { range: { start: 5, end: 1 } }),
      TypeError,
    );

    // Cancelling the body closes the connection; the client stays usable.
    const cancelled = await admin.downloadRunArtifactStream({ runId, path: 'dl/data.bin' });
    await cancelled.body.cancel();
    assert.equal((await admin.listRunArtifacts({ runId, path: 'dl' })).items.length, 1);
  });

  test('errors: unknown run and traversal are API errors; a failing source rejects with its own error', async () => {
    const unknown = await rejectsWith(
      admin.uploadRunArtifactStream(
        { runId: '0'.repeat(32), path: 'x.bin', body: new Blob([bytesOf(1000)]) },
        { contentLength: 1000 },
      ),
    );
    assert.equal(unknown.status, 404);
    const missing = await rejectsWith(admin.downloadRunArtifactStream({ runId, path: 'no/such.bin' }));
    assert.equal(missing.status, 404);
    const traversal = await rejectsWith(
      admin.uploadRunArtifactStream({ runId, path: '../escape.bin', body: new Blob([bytesOf(10)]) }),
    );
    assert.equal(traversal.status, 400);
    assert.match(traversal.message, /"\.\." segment/);

    const broken = new Error('disk on fire');
    const failing = (async function* () {
      yield bytesOf(1000);
      await sleep(10);
      throw broken;
    })();
    await assert.rejects(
      admin.uploadRunArtifactStream({ runId, path: 'broken.bin', body: failing }, { contentLength: 5000 }),
      (err) => err === broken,
    );
    // A body shorter than its Content-Length is refused, and nothing is stored.
    const short = await rejectsWith(
      admin.uploadRunArtifactStream(
        { runId, path: 'short.bin', body: new ReadableStream({ start: (c) => (c.enqueue(bytesOf(10)), c.close()) }) },
        { contentLength: 11 },
      ),
    );
    assert.equal(short.status, 0);
    const names = (await admin.listRunArtifacts({ runId })).items.map((e) => e.path);
    assert.ok(!names.includes('broken.bin') && !names.includes('short.bin'), names.join());
  });

  test('timeoutMs is an idle limit: a slow but moving upload outlasts it, a stalled one fails', async () => {
    const slow = (async function* () {
      for (let i = 0; i < 6; i++) {
        await sleep(100);
        yield bytesOf(1000, i);
      }
    })();
    const ok = await admin.uploadRunArtifactStream(
      { runId, path: 'slow.bin', body: slow },
      { contentLength: 6000, timeoutMs: 400 },
    );
    assert.equal(ok.size, 6000);

    const stalled = (async function* () {
      yield bytesOf(1000);
      await sleep(2000);
      yield bytesOf(1000);
    })();
    const err = await rejectsWith(
      admin.uploadRunArtifactStream(
        { runId, path: 'stalled.bin', body: stalled },
        { contentLength: 2000, timeoutMs: 300 },
      ),
    );
    assert.equal(err.status, 0);
    assert.equal(err.code, 'timeout');
    assert.match(err.message, /stalled: nothing moved for 300 ms/);

    // A consumer that holds the body longer than the limit is not counted against it.
    const res = await admin.downloadRunArtifactStream({ runId, path: 'slow.bin' }, { timeoutMs: 200 });
    await sleep(500);
    assert.equal((await readAll(res.body)).length, 6000);

    const ac = new AbortController();
    const pending = admin.uploadRunArtifactStream(
      {
        runId,
        path: 'aborted.bin',
        body: (async function* () {
          yield bytesOf(10);
          await sleep(1000);
        })(),
      },
      { contentLength: 20, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 50);
    assert.equal((await rejectsWith(pending)).code, 'aborted');
  });

  test('a large upload is not held in memory (fetch would keep a copy to follow redirects)', async () => {
    const size = 160 * 1024 * 1024;
    let peak = 0;
    let sent = 0;
    const body = (async function* () {
      while (sent < size) {
        // Fresh chunks: a copy kept anywhere would add up.
        const chunk = bytesOf(1024 * 1024, sent);
        sent += chunk.length;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield chunk;
      }
    })();
    const before = process.memoryUsage().arrayBuffers;
    const r = await admin.uploadRunArtifactStream({ runId, path: 'large.bin', body }, { contentLength: size });
    assert.equal(r.size, size);
    assert.ok(peak - before < size / 2, `peak ${Math.round((peak - before) / 1e6)} MB of buffers for ${size / 1e6} MB`);
  });

  test('exportAuditEventsStream streams the JSON lines', async () => {
    const res = await admin.exportAuditEventsStream({ action: 'experiment.*' });
    assert.equal(res.status, 200);
    const lines = new TextDecoder()
      .decode(await readAll(res.body))
      .trim()
      .split('\n');
    assert.ok(lines.length >= 1);
    assert.equal((JSON.parse(lines[0]!) as { action: string }).action, 'experiment.create');
  });
});

describe('HangarClient without a server', () => {
  test('an unreachable server is status 0 with a message naming the URL', async () => {
    const port = await closedPort();
    const client = new HangarClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
    const err = await rejectsWith(client.whoami());
    assert.equal(err.status, 0);
    assert.equal(err.code, 'network_error');
    assert.equal(err.message, `cannot reach http://127.0.0.1:${port}/api/v1/me: connection refused`);
    assert.equal(err.requestId, null);
  });

  test('bad options are refused at construction', () => {
    assert.throws(() => new HangarClient({ baseUrl: 'not a url' }), TypeError);
    assert.throws(() => new HangarClient({ baseUrl: 'ftp://x' }), TypeError);
    assert.throws(() => new HangarClient({ baseUrl: 'http://x', username: 'admin' }), TypeError);
    assert.equal(new HangarClient({ baseUrl: 'http://x:1/prefix//' }).baseUrl, 'http://x:1/prefix');
    assert.equal(new HangarClient({ baseUrl: '' }).baseUrl, '');
  });

  test('the runtime sources use web APIs only, so the SDK runs in browsers', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) files.push(path.join(dir, e.name));
      }
    };
    walk(import.meta.dirname);
    assert.ok(files.length >= 4);
    for (const file of files) {
      const src = readFileSync(file, 'utf8');
      for (const banned of [
        /from ['"]node:/,
        /\brequire\(/,
        /\bprocess\./,
        /\bBuffer\b/,
        /from ['"](fs|path|http|https|os)['"]/,
      ]) {
        assert.doesNotMatch(src, banned, `${path.relative(import.meta.dirname, file)} uses ${banned}`);
      }
    }
  });
});
