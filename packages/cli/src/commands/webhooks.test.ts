// End-to-end: `hangar webhooks ...` (the built binary) against a real server that may deliver to
// loopback (--webhooks-allow-private-targets), with a real HTTP receiver on 127.0.0.1: create
// (generated and own secrets), list as a table and as JSON, a model version whose event is
// delivered and shows in `deliveries` with the body sent, the ping, delete; and the exits of bad
// input (a malformed URL, an unknown event type, a scheme the server refuses, a developer's call).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HangarClient, type CreateWebhookResponse, type Webhook, type WebhookDelivery } from '@hangar/sdk';
import type { ServerProcess } from '@hangar/server/testing';
import {
  assertFreshBuild,
  assertNoStack,
  hangar,
  removeTempDirs,
  startCliServer,
  tempDir,
  type Result,
} from '../cli-harness.js';

const PASSWORD = 'cli-webhooks-password';
const TOKEN = `hgr_cliwebhooks${'w'.repeat(22)}`;

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body });
      res.writeHead(req.url?.startsWith('/down') ? 503 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { received, url: (path: string) => `http://127.0.0.1:${port}${path}`, close: () => server.close() };
}

describe('hangar webhooks against a real server', () => {
  let server: ServerProcess;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: HangarClient;
  let configDir: string;
  let devToken: string;

  async function run(args: string[], opts: { token?: string; input?: string } = {}): Promise<Result> {
    return hangar(args, { configDir, input: opts.input, ...(opts.token ? { env: { HANGAR_TOKEN: opts.token } } : {}) });
  }
  async function ok(args: string[], opts: { token?: string; input?: string } = {}): Promise<Result> {
    const r = await run(args, opts);
    assert.equal(r.code, 0, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  }
  async function okJson<T>(args: string[], opts: { token?: string; input?: string } = {}): Promise<T> {
    return JSON.parse((await ok([...args, '--json'], opts)).stdout) as T;
  }
  async function fails(args: string[], code: number, message: RegExp, token?: string): Promise<Result> {
    const r = await run(args, { token });
    assert.equal(r.code, code, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message, `hangar ${args.join(' ')}`);
    assertNoStack(r);
    return r;
  }
  /** Polls the delivery log until `done` holds for it. */
  async function deliveriesUntil(id: string, done: (items: WebhookDelivery[]) => boolean): Promise<WebhookDelivery[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { items } = await admin.listWebhookDeliveries({ project: 'default', id });
      if (done(items)) return items;
      if (Date.now() > deadline) assert.fail(`deliveries of ${id}: ${JSON.stringify(items)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    assertFreshBuild();
    receiver = await startReceiver();
    server = await startCliServer({ password: PASSWORD, token: TOKEN }, ['--webhooks-allow-private-targets', 'true']);
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    configDir = tempDir('hangar-cli-webhooks-');
    await ok(['login', '--url', server.url, '--token', TOKEN]);
    await admin.createUser({ body: { username: 'hook-dev', password: 'hook-dev-password-1' } });
    await admin.setProjectMember({ project: 'default', username: 'hook-dev', body: { role: 'developer' } });
    const dev = new HangarClient({ baseUrl: server.url, username: 'hook-dev', password: 'hook-dev-password-1' });
    devToken = (await dev.createToken({ body: { name: 'hook-dev-token' } })).token;
  });

  after(async () => {
    await server?.stop();
    receiver?.close();
    removeTempDirs();
  });

  test('create, list, a delivered event in deliveries, ping, delete', async () => {
    let r = await ok(['webhooks', 'list']);
    assert.equal(r.stdout, 'No webhooks in default.\n');

    // A generated secret is printed once, with a note on stderr.
    r = await ok([
      'webhooks',
      'create',
      receiver.url('/ok/versions'),
      '--events',
      'model_version.created,gate.passed',
      '--description',
      'CI',
    ]);
    const secret = /^secret:\s+(whsec_\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(secret, r.stdout);
    assert.match(r.stdout, /^events:\s+model_version\.created,gate\.passed$/m);
    assert.match(r.stderr, /copy the signing secret now/);
    const id = /^id:\s+(\S+)$/m.exec(r.stdout)![1]!;

    // Our own secret, from stdin, is not echoed; --json answers the API's object.
    const own = await okJson<CreateWebhookResponse>(
      ['webhooks', 'create', receiver.url('/ok/all'), '--secret-stdin', '--disabled'],
      { input: 'my-own-secret-of-the-receiver\n' },
    );
    assert.deepEqual([own.webhook.events, own.webhook.active], [['*'], false]);
    assert.equal(own.secret, 'my-own-secret-of-the-receiver');

    r = await ok(['webhooks', 'list']);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.match(header!, /^ID\s+URL\s+EVENTS\s+ENABLED\s+DESCRIPTION\s+CREATED$/);
    assert.equal(rows.length, 2);
    assert.ok(!r.stdout.includes(secret), 'never the secret');
    const listed = await okJson<{ items: Webhook[] }>(['webhooks', 'list', '-p', 'default']);
    assert.deepEqual(
      listed.items.map((w) => [w.id, w.active]).sort(),
      [
        [id, true],
        [own.webhook.id, false],
      ].sort(),
    );

    // A model version: its event is POSTed, signed, to the first webhook only (the other is disabled).
    const experimentId = (await admin.createExperiment({ project: 'default', body: { name: 'cli-webhooks' } }))
      .experimentId;
    const run = await fetch(`${server.url}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_id: experimentId }),
    });
    const runId = ((await run.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
    await admin.uploadRunArtifact({ runId, path: 'model/model.bin', body: new TextEncoder().encode('weights') });
    await admin.createRegisteredModel({ project: 'default', body: { name: 'hooked' } });
    await admin.createModelVersion({ project: 'default', name: 'hooked', body: { source: `runs:/${runId}/model` } });
    const [d] = await deliveriesUntil(id, (items) => items.some((x) => x.status === 'delivered'));
    const got = receiver.received.find((x) => x.path === '/ok/versions')!;
    const ts = String(got.headers['x-hangar-timestamp']);
    assert.equal(
      got.headers['x-hangar-signature'],
      `sha256=${createHmac('sha256', secret).update(`${ts}.${got.body}`).digest('hex')}`,
    );
    assert.equal(receiver.received.filter((x) => x.path === '/ok/all').length, 0, 'disabled: nothing sent');

    r = await ok(['webhooks', 'deliveries', id]);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+EVENT\s+STATUS\s+ATTEMPTS\s+HTTP\s+ERROR\s+TOOK\s+CREATED\s+UPDATED$/);
    assert.match(lines[1]!, new RegExp(`^${d!.id}\\s+model_version\\.created\\s+delivered\\s+1\\s+200\\s+-\\s+\\d+ms`));
    const json = await okJson<{ items: WebhookDelivery[]; nextCursor: string | null }>(['webhooks', 'deliveries', id]);
    assert.equal(json.nextCursor, null);
    assert.deepEqual(json.items[0]!.payload, JSON.parse(got.body), 'the body sent');

    // The ping is logged too; --limit pages through the log.
    const ping = await okJson<WebhookDelivery>(['webhooks', 'test', id]);
    assert.deepEqual([ping.eventType, ping.status, ping.responseStatus], ['ping', 'delivered', 200]);
    r = await ok(['webhooks', 'deliveries', id, '--limit', '1']);
    assert.equal(r.stdout.trim().split('\n').length, 2);
    assert.match(r.stdout, /\sping\s/);
    assert.match(r.stderr, /1 shown; more with --all, or --cursor \S+/);

    // Delete asks for --yes without a terminal, then deletes the webhook and its log.
    await fails(['webhooks', 'delete', id], 2, /refusing to delete webhook .* pass --yes/);
    r = await ok(['webhooks', 'delete', id, '--yes']);
    assert.equal(r.stdout, `Deleted webhook ${id}.\n`);
    await fails(['webhooks', 'deliveries', id], 1, /^hangar: 404 not_found: no webhook/);
    assert.deepEqual(
      (await okJson<{ deleted: boolean; id: string }>(['webhooks', 'delete', own.webhook.id, '--yes'])).deleted,
      true,
    );
  });

  test('a ping the receiver refuses exits 1 with the answer', async () => {
    const { webhook } = await admin.createWebhook({
      project: 'default',
      body: { url: receiver.url('/down'), events: ['*'] },
    });
    const r = await fails(['webhooks', 'test', webhook.id], 1, /^hangar: the ping was not delivered: HTTP 503/);
    assert.match(r.stdout, /\sping\s+failed\s+1\s+503\s/);
    await admin.deleteWebhook({ project: 'default', id: webhook.id });
  });

  test('bad input: clear errors, non-zero exits, nothing created', async () => {
    await fails(['webhooks', 'create', 'not-a-url'], 2, /^hangar: not an absolute URL: "not-a-url"/);
    await fails(['webhooks', 'create', 'ftp://hooks.example/x'], 2, /webhook URLs are http or https, not ftp:/);
    await fails(
      ['webhooks', 'create', receiver.url('/x'), '--events', 'gate.passed,model.deleted'],
      2,
      /unknown event type "model\.deleted"; known: model_version\.created, .*, \*/,
    );
    // What only the server can judge comes back as its 400, naming the field.
    await fails(
      ['webhooks', 'create', 'http://user:pw@hooks.example/x'],
      1,
      /^hangar: 400 invalid_input: .*credentials/,
    );
    await fails(['webhooks', 'create', receiver.url('/x'), '--secret-stdin'], 2, /--secret-stdin: stdin was empty/);
    // Developers may not manage (or read) webhooks.
    await fails(['webhooks', 'list'], 1, /^hangar: 403 forbidden: .*maintainer/, devToken);
    await fails(['webhooks', 'create', receiver.url('/x')], 1, /^hangar: 403 forbidden: /, devToken);
    await fails(['webhooks', 'deliveries', 'nope'], 1, /^hangar: 404 not_found: no webhook "nope"/);
    assert.deepEqual((await admin.listWebhooks({ project: 'default' })).items, []);
  });
});
