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
