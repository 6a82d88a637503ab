// Webhooks on both engines, against a real local HTTP receiver (so this app allows private
// targets): signatures, retries with backoff, exhaustion, the delivery log, subscriptions, the ping;
// and URL validation with the setting off (loopback, metadata, IPv4-mapped, schemes, credentials,
// DNS rebinding between creation and delivery).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { SYSTEM_CALLER } from '../../core/auth.js';
import { systemClock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import type { DomainEvent } from '../events/types.js';
import { SecretBox } from '../secrets/secret-box.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  call,
  countRows,
  createProject,
  createTeam,
  createUser,
  eventually,
  expectStatus,
  grant,
  type Headers,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import { WebhooksService } from './service.js';
import { WebhookStore } from './store.js';
import { checkWebhookUrl, forbiddenAddress, type Resolver } from './url-guard.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver whose answer depends on the path: /ok, /flaky (500 then 200), /down (always 500), /redirect. */
async function startReceiver() {
  const received: Received[] = [];
  const flaky = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      if (path.startsWith('/flaky')) {
        const n = (flaky.get(path) ?? 0) + 1;
        flaky.set(path, n);
        res.writeHead(n === 1 ? 500 : 204).end(n === 1 ? 'try again later' : undefined);
      } else if (path.startsWith('/down')) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`overloaded ${'x'.repeat(10_000)}`);
      } else if (path.startsWith('/redirect')) {
        res.writeHead(302, { location: '/ok' }).end();
      } else {
        res.writeHead(200).end('thanks');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { received, url: (path: string) => `http://127.0.0.1:${port}${path}`, close: () => server.close() };
}

const P = 'hook-proj';
const base = `/api/v1/projects/${P}`;

interface DeliveryJson {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  durationMs: number | null;
  payload: Record<string, unknown> | null;
}

describe('webhook URL validation', () => {
  const names: Record<string, string[]> = {
    'public.example': ['93.184.216.34'],
    'localhost.example': ['127.0.0.1'],
    'mixed.example': ['93.184.216.34', '10.1.2.3'],
    'v6.example': ['2606:2800:220:1:248:1893:25c8:1946'],
  };
  const resolve: Resolver = (host) => {
    const found = names[host];
    if (!found) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  const refused = async (url: string, pattern: RegExp) => {
    await assert.rejects(checkWebhookUrl(url, false, resolve), (err: Error & { field?: string }) => {
      assert.equal(err.field, 'url');
      assert.match(err.message, pattern, url);
      return true;
    });
  };

  test('refuses non-public targets, other schemes and credentials when the setting is off', async () => {
    await refused('http://127.0.0.1:8080/hook', /loopback/);
    await refused('http://localhost.example/hook', /resolves to 127\.0\.0\.1, which is loopback/);
    await refused('http://169.254.169.254/latest/meta-data/', /link-local/);
    await refused('http://[::ffff:127.0.0.1]/hook', /loopback/);
    await refused('http://[::ffff:a9fe:a9fe]/hook', /link-local/);
    await refused('http://[::1]/hook', /loopback/);
    await refused('http://[::]/hook', /unspecified/);
    await refused('http://0.0.0.0/hook', /unspecified/);
    await refused('http://2130706433/hook', /loopback/); // 127.0.0.1 spelt as a number
    await refused('http://0x7f.1/hook', /loopback/);
    await refused('http://10.0.0.5/hook', /private/);
    await refused('http://192.168.1.1/hook', /private/);
    await refused('http://172.20.0.1/hook', /private/);
    await refused('http://[fd00::1]/hook', /unique local/);
    await refused('http://[fe80::1]/hook', /link-local/);
    await refused('http://224.0.0.1/hook', /multicast/);
    await refused('http://[ff02::1]/hook', /multicast/);
    await refused('http://[64:ff9b::7f00:1]/hook', /loopback/);
    await refused('http://[2002:7f00:1::]/hook', /loopback/);
    await refused('http://mixed.example/hook', /10\.1\.2\.3, which is private/);
    await refused('ftp://public.example/hook', /scheme ftp:/);
    await refused('file:///etc/passwd', /scheme file:/);
    await refused('http://user:pw@public.example/hook', /credentials/);
    await refused('http://user@public.example/hook', /credentials/);
    await refused('http://nowhere.example/hook', /cannot resolve nowhere\.example: ENOTFOUND/);
    await refused('not a url', /not an absolute URL/);
  });

  test('accepts public targets and answers the address to connect to', async () => {
    const t = await checkWebhookUrl('https://public.example:8443/hooks?x=1', false, resolve);
    assert.deepEqual([t.host, t.address, t.family, t.url.port], ['public.example', '93.184.216.34', 4, '8443']);
    const v6 = await checkWebhookUrl('https://v6.example/', false, resolve);
    assert.equal(v6.family, 6);
    assert.equal((await checkWebhookUrl('http://[2606:4700::1111]/', false, resolve)).address, '2606:4700::1111');
    // With the admin setting on, private targets pass.
    assert.equal((await checkWebhookUrl('http://127.0.0.1:9/x', true, resolve)).address, '127.0.0.1');
    assert.equal(forbiddenAddress('8.8.8.8'), null);
    assert.equal(forbiddenAddress('::ffff:8.8.8.8'), null);
    assert.equal(forbiddenAddress('100.64.1.1'), 'shared (carrier-grade NAT)');
  });
});

for (const engine of ENGINES) {
  describe(`webhooks (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let maintainer: Headers;
    let developer: Headers;
    let projectId: string;

    const create = async (body: Record<string, unknown>, h: Headers = maintainer) => {
      const res = await call(app, 'POST', `${base}/webhooks`, h, body);
      expectStatus(res, 201, `create webhook ${JSON.stringify(body)}`);
      return res.json<{ webhook: { id: string; url: string; events: string[] }; secret: string }>();
    };
    const emit = (event: DomainEvent) =>
      app.database.db.transaction().execute((tx) => app.services.eventLog.emit(tx, event));
    const deliveries = async (id: string) => {
      const res = await call(app, 'GET', `${base}/webhooks/${id}/deliveries`, maintainer);
      expectStatus(res, 200, 'deliveries');
      return res.json<{ items: DeliveryJson[] }>().items;
    };
    const settled = (id: string, n = 1, timeoutMs = 10_000) =>
      eventually(
        async () => {
          const items = await deliveries(id);
          return items.length >= n && items.every((d) => d.status !== 'pending') ? items : undefined;
        },
        `deliveries of ${id} settled`,
        timeoutMs,
      );
    const event = (type: DomainEvent['type'], data: Record<string, unknown> = {}): DomainEvent => ({
      type,
      projectId,
      payload: { model: 'fraud', version: 3, projectId, actor: 'someone', ...data },
    });

    before(async () => {
      receiver = await startReceiver();
      store = await createTestStore(engine);
      app = await buildTestApp(
        store,
        { webhooksAllowPrivateTargets: true },
        { workerBackoffMs: { base: 20, max: 40 } },
      );
      await app.http.ready();
      app.start();
      await createTeam(app, 'hook-team');
      projectId = (await createProject(app, P, 'hook-team')).id;
      const m = await createUser(app, 'hook-maint');
      const d = await createUser(app, 'hook-dev');
      await grant(app, P, m.username, 'maintainer');
      await grant(app, P, d.username, 'developer');
      maintainer = m.auth;
      developer = d.auth;
    });
    after(async () => {
      await app.close();
      await store.cleanup();
      receiver.close();
    });

    test('maintainers manage webhooks; the secret is shown once and sealed at rest', async () => {
      const before = await countRows(app, 'webhooks');
      expectStatus(
        await call(app, 'POST', `${base}/webhooks`, developer, { url: receiver.url('/ok'), events: ['*'] }),
        403,
        'developer creates',
      );
      expectStatus(await call(app, 'GET', `${base}/webhooks`, developer), 403, 'developer lists');
      let res = await call(app, 'POST', `${base}/webhooks`, maintainer, { url: receiver.url('/ok'), events: ['nope'] });
      expectStatus(res, 400, 'unknown event type');
      assert.match(res.body, /events/);
      res = await call(app, 'POST', `${base}/webhooks`, maintainer, { url: receiver.url('/ok'), events: [] });
      expectStatus(res, 400, 'no events');
      res = await call(app, 'POST', `${base}/webhooks`, maintainer, {
        url: receiver.url('/ok'),
        events: ['*'],
        secret: 'short',
      });
      expectStatus(res, 400, 'short secret');
      assert.equal(await countRows(app, 'webhooks'), before, 'refusals write nothing');

      const created = await create({ url: receiver.url('/ok'), events: ['gate.passed'], description: 'CI' });
      assert.match(created.secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
      const stored = await app.database.db
        .selectFrom('webhooks')
        .select('secret')
        .where('id', '=', created.webhook.id)
        .executeTakeFirstOrThrow();
      assert.ok(!stored.secret.includes(created.secret), 'sealed');
      const got = await call(app, 'GET', `${base}/webhooks/${created.webhook.id}`, maintainer);
      expectStatus(got, 200, 'get');
      assert.ok(!got.body.includes(created.secret));
      assert.equal(got.json<{ description: string }>().description, 'CI');
      const list = await call(app, 'GET', `${base}/webhooks`, maintainer);
      assert.ok(!list.body.includes(created.secret));
      const patched = await call(app, 'PATCH', `${base}/webhooks/${created.webhook.id}`, maintainer, {
        events: ['gate.failed', 'release.promoted'],
        active: false,
      });
      expectStatus(patched, 200, 'patch');
      assert.deepEqual(patched.json<{ events: string[]; active: boolean }>().events, [
        'gate.failed',
        'release.promoted',
      ]);
      expectStatus(await call(app, 'DELETE', `${base}/webhooks/${created.webhook.id}`, maintainer), 204, 'delete');
      expectStatus(await call(app, 'GET', `${base}/webhooks/${created.webhook.id}`, maintainer), 404, 'gone');
    });

    test('deliveries are signed: the receiver verifies the HMAC over "<timestamp>.<body>"', async () => {
      const secret = 'a-shared-secret-of-the-receiver';
      const { webhook } = await create({ url: receiver.url('/ok/signed'), events: ['gate.passed'], secret });
      await emit(event('gate.passed', { gate: 'g1' }));
      const [d] = await settled(webhook.id);
      assert.equal(d!.status, 'delivered');
      assert.equal(d!.attempts, 1);
      assert.equal(d!.responseStatus, 200);
      assert.equal(d!.eventType, 'gate.passed');
      const got = receiver.received.filter((r) => r.path === '/ok/signed');
      assert.equal(got.length, 1);
      const r = got[0]!;
      const ts = String(r.headers['x-hangar-timestamp']);
      assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60);
      const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
      assert.equal(r.headers['x-hangar-signature'], expected);
      assert.equal(r.headers['x-hangar-event'], 'gate.passed');
      assert.equal(r.headers['x-hangar-delivery'], d!.id);
      assert.equal(r.headers['content-type'], 'application/json');
      const body = JSON.parse(r.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'data', 'id', 'projectId', 'type']);
      assert.equal(body.id, d!.eventId);
      assert.equal(body.type, 'gate.passed');
      assert.equal(body.projectId, projectId);
      assert.deepEqual(body.data, { model: 'fraud', version: 3, projectId, actor: 'someone', gate: 'g1' });
      // The delivery log shows the body as it was sent.
      assert.deepEqual(d!.payload, body);
    });

    test('only active webhooks subscribed to the type (or "*") get a delivery', async () => {
      const all = await create({ url: receiver.url('/ok/all'), events: ['*'] });
      const other = await create({ url: receiver.url('/ok/other'), events: ['gate.failed'] });
      const off = await create({ url: receiver.url('/ok/off'), events: ['*'], active: false });
      await emit(event('release.rolled_back'));
      await settled(all.webhook.id);
      assert.deepEqual(await deliveries(other.webhook.id), []);
      assert.deepEqual(await deliveries(off.webhook.id), []);
      // Events of another project reach none of these.
      const elsewhere = (await createProject(app, 'hook-elsewhere', 'hook-team')).id;
      await emit({ type: 'gate.failed', projectId: elsewhere, payload: {} });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await deliveries(other.webhook.id), []);
      for (const w of [all, other, off]) await call(app, 'DELETE', `${base}/webhooks/${w.webhook.id}`, maintainer);
    });

    test('a failed attempt is retried with backoff and then succeeds', async () => {
      const { webhook } = await create({ url: receiver.url('/flaky/1'), events: ['approval.requested'] });
      await emit(event('approval.requested'));
      const [d] = await settled(webhook.id);
      assert.equal(d!.status, 'delivered');
      assert.equal(d!.attempts, 2);
      assert.equal(d!.responseStatus, 204);
      assert.equal(receiver.received.filter((r) => r.path === '/flaky/1').length, 2);
      // Both attempts carried the same delivery id (receivers can de-duplicate).
      const ids = new Set(
        receiver.received.filter((r) => r.path === '/flaky/1').map((r) => r.headers['x-hangar-delivery']),
      );
      assert.equal(ids.size, 1);
      await call(app, 'DELETE', `${base}/webhooks/${webhook.id}`, maintainer);
    });

    test('after the last attempt the delivery is failed, with the status and a bounded excerpt', async () => {
      const { webhook } = await create({ url: receiver.url('/down/1'), events: ['release.promoted'] });
      await emit(event('release.promoted'));
      const [d] = await settled(webhook.id, 1, 20_000);
      assert.equal(d!.status, 'failed');
      assert.equal(d!.attempts, 8);
      assert.equal(d!.responseStatus, 503);
      assert.match(d!.error!, /^HTTP 503: overloaded x+/);
      assert.ok(d!.error!.length < 400, 'the response body is not stored beyond an excerpt');
      assert.equal(receiver.received.filter((r) => r.path === '/down/1').length, 8);
      const row = await app.database.db
        .selectFrom('webhook_deliveries')
        .select('job_id')
        .where('id', '=', d!.id)
        .executeTakeFirstOrThrow();
      // The delivery row is final inside the last attempt; the worker records the job's outcome just after.
      const jobState = async () =>
        (await call(app, 'GET', `/api/v1/jobs/${row.job_id}`, adminAuth)).json<{ state: string }>().state;
      let state = await jobState();
      for (let i = 0; i < 200 && state === 'running'; i++) {
        await new Promise((res) => setTimeout(res, 25));
        state = await jobState();
      }
      assert.equal(state, 'failed');
      await call(app, 'DELETE', `${base}/webhooks/${webhook.id}`, maintainer);
    });

    test('a delivery whose job ended with no attempt to record it is failed, not left pending', async () => {
      const { webhook } = await create({ url: receiver.url('/ok/abandoned'), events: ['release.promoted'] });
      const pending = async (id: string) => {
        const now = Date.now();
        await app.database.db
          .insertInto('webhook_deliveries')
          .values({
            id,
            webhook_id: webhook.id,
            event_id: `e-${id}`,
            event_type: 'release.promoted',
            status: 'pending',
            attempts: 0,
            job_id: null,
            response_status: null,
            error: null,
            duration_ms: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
      };
      await pending('abandoned-cancel');
      await pending('abandoned-lost');
      await app.services.webhooks.abandon('abandoned-cancel', 'cancelled');
      await app.services.webhooks.abandon('abandoned-lost', 'lease-expired');
      const byId = new Map((await deliveries(webhook.id)).map((d) => [d.id, d]));
      assert.deepEqual(
        [byId.get('abandoned-cancel')?.status, byId.get('abandoned-cancel')?.error],
        ['failed', 'the delivery job was cancelled'],
      );
      assert.equal(byId.get('abandoned-lost')?.status, 'failed');
      assert.equal(byId.get('abandoned-lost')?.payload, null, 'its event is not in the log');
      assert.match(byId.get('abandoned-lost')!.error!, /worker of the last attempt was lost/);
      await call(app, 'DELETE', `${base}/webhooks/${webhook.id}`, maintainer);
    });

    test('the ping test sends a signed ping now; redirects are not followed', async () => {
      const { webhook, secret } = await create({ url: receiver.url('/ok/ping'), events: ['*'] });
      const res = await call(app, 'POST', `${base}/webhooks/${webhook.id}/test`, maintainer);
      expectStatus(res, 200, 'ping');
      const d = res.json<DeliveryJson>();
      assert.deepEqual([d.status, d.eventType, d.responseStatus, d.attempts], ['delivered', 'ping', 200, 1]);
      assert.equal(d.payload, null, "a ping's body is not kept");
      const r = receiver.received.find((x) => x.path === '/ok/ping')!;
      const ts = String(r.headers['x-hangar-timestamp']);
      assert.equal(
        r.headers['x-hangar-signature'],
        `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`,
      );
      assert.equal((await deliveries(webhook.id))[0]!.id, d.id, 'the ping is in the delivery log');
      expectStatus(await call(app, 'POST', `${base}/webhooks/${webhook.id}/test`, developer), 403, 'developer pings');

      const redirect = await create({ url: receiver.url('/redirect'), events: ['*'] });
      const rr = await call(app, 'POST', `${base}/webhooks/${redirect.webhook.id}/test`, maintainer);
      expectStatus(rr, 200, 'ping a redirect');
      const rd = rr.json<DeliveryJson>();
      assert.equal(rd.status, 'failed');
      assert.equal(rd.responseStatus, 302);
      assert.match(rd.error!, /redirects are not followed/);
      assert.equal(receiver.received.filter((x) => x.path === '/ok' && x.body.includes('"ping"')).length, 0);
    });

    test('with the setting off, private targets are refused at creation and again at delivery', async () => {
      let answer = '93.184.216.34';
      const strict = new WebhooksService(
        new WebhookStore(app.database.db),
        new SecretBox('a test key of at least thirty-two characters'),
        app.services.access,
        app.services.audit,
        systemClock,
        {
          allowPrivateTargets: false,
          resolve: () => Promise.resolve([{ address: answer, family: 4 }]),
        },
      );
      const before = await countRows(app, 'webhooks');
      for (const url of [
        receiver.url('/ok'),
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:127.0.0.1]/',
        'ftp://hooks.example/',
        'http://user:pw@hooks.example/',
      ]) {
        await assert.rejects(strict.create(SYSTEM_CALLER, P, { url, events: ['*'] }), /webhook url refused/, url);
      }
      assert.equal(await countRows(app, 'webhooks'), before, 'nothing written');

      // Created while the name pointed at a public address; by delivery time it points at loopback.
      const { webhook } = await strict.create(SYSTEM_CALLER, P, { url: 'http://hooks.example/x', events: ['*'] });
      await strict.update(SYSTEM_CALLER, P, webhook.id, { active: true });
      answer = '127.0.0.1';
      const now = Date.now();
      const eventId = newId(now);
      const deliveryId = newId(now);
      await app.database.db
        .insertInto('events')
        .values({ id: eventId, project_id: projectId, type: 'gate.passed', payload: '{}', created_at: now })
        .execute();
      await app.database.db
        .insertInto('webhook_deliveries')
        .values({
          id: deliveryId,
          webhook_id: webhook.id,
          event_id: eventId,
          event_type: 'gate.passed',
          status: 'pending',
          attempts: 0,
          job_id: null,
          response_status: null,
          error: null,
          duration_ms: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await assert.rejects(strict.deliver(deliveryId, 8, 8), /hooks\.example resolves to 127\.0\.0\.1/);
      const row = await app.database.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', deliveryId)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'failed');
      assert.equal(Number(row.attempts), 1);
      assert.match(row.error!, /loopback/);
      await strict.delete(SYSTEM_CALLER, P, webhook.id);
    });
  });
}
