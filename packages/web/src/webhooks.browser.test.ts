// Drives the portal's webhook pages in a real Chromium against a real server that may deliver to
// loopback (--webhooks-allow-private-targets), with an HTTP receiver this test runs on 127.0.0.1.
// A maintainer finds Webhooks under the project in the nav, is stopped by the form's checks,
// creates a webhook for model_version.created and copies its signing secret (shown once); a model
// version registered through the API is delivered, signed with that secret, and its delivery
// appears in the log as delivered with its HTTP status and the body sent. A test ping to a receiver
// that answers 503 shows as failed; the webhook is disabled, then deleted. A viewer gets no
// Webhooks link and a "not allowed" page, without any create or delete button, by direct URL.
// Screenshots go to packages/web/test-output/screenshots/ (8x-*.png).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HangarClient } from '@hangar/sdk';
import { ADMIN_TOKEN, logIn, scenario, sections, shot, STEP_TIMEOUT_MS, usePortal } from './testing/browser-harness.js';

usePortal(['--webhooks-allow-private-targets', 'true']);

const PROJECT = 'default';
/** Where viv is a viewer only (in `default` every user is a developer, through its team). */
const READ_ONLY = 'hooks-ro';
const MAINTAINER = { username: 'mona', password: 'mona-password-1' };
const VIEWER = { username: 'viv', password: 'viv-password-1' };

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Answers 200, except on /down (503, as an overloaded receiver would). */
function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body });
      if (req.url?.startsWith('/down')) res.writeHead(503).end('overloaded');
      else res.writeHead(200).end('thanks');
    });
  });
  return { server, received };
}

const receiver = startReceiver();
let receiverBase = '';
before(async () => {
  await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
  receiverBase = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
});
after(() => receiver.server.close());

/** Polls `read` until `ok` holds (or the step times out), returning the last value read. */
async function until<T>(read: () => T, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The two users (mona a maintainer of `default`, viv a viewer of another project that has a
 * webhook), and a run holding a model file for a version to be registered from later.
 */
async function seed(base: string): Promise<{ sdk: HangarClient; runId: string; readOnlyHook: string }> {
  const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });
  await sdk.createUser({ body: MAINTAINER });
  await sdk.setProjectMember({ project: PROJECT, username: MAINTAINER.username, body: { role: 'maintainer' } });
  await sdk.createUser({ body: VIEWER });
  await sdk.createTeam({ body: { name: 'hooks-team' } });
  await sdk.createProject({ body: { name: READ_ONLY, team: 'hooks-team' } });
  await sdk.setProjectMember({ project: READ_ONLY, username: VIEWER.username, body: { role: 'viewer' } });
  const readOnlyHook = (
    await sdk.createWebhook({
      project: READ_ONLY,
      body: { url: 'http://127.0.0.1:9/never', events: ['*'], active: false },
    })
  ).webhook.id;
  const { experimentId } = await sdk.createExperiment({ project: PROJECT, body: { name: 'hooks' } });
  const res = await fetch(`${base}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: experimentId }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  await sdk.uploadRunArtifact({ runId, path: 'model/model.bin', body: new TextEncoder().encode('weights') });
  await sdk.createRegisteredModel({ project: PROJECT, body: { name: 'hooked' } });
  return { sdk, runId, readOnlyHook };
}

test(
  'webhooks: create, a delivered event in the log, a failed ping, disable, delete; a viewer is kept out',
  { timeout: 180_000 },
  async (t) => {
    await scenario(t, 'webhooks', { width: 1440, height: 900 }, async ({ base, page, step }) => {
      step('seed: a maintainer and a viewer of the project, a run with a model file');
      const { sdk, runId, readOnlyHook } = await seed(base);
      const dialog = page.getByRole('dialog');

      step('the maintainer finds Webhooks under the project in the nav: none yet');
      await page.goto(`${base}/`);
      await logIn(page, MAINTAINER.username, MAINTAINER.password);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await sections(page).getByRole('link', { name: 'Webhooks' }).click();
      await page.waitForURL(`${base}/projects/${PROJECT}/webhooks`);
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await page.getByText('No webhooks yet.').waitFor();

      step('the form checks the URL and the events before sending anything');
      await page.getByRole('button', { name: 'Create webhook' }).click();
      await dialog.getByLabel('URL').fill('hooks.example.com/x');
      await dialog.getByRole('checkbox', { name: /All events/ }).uncheck();
      await dialog.getByRole('button', { name: 'Create webhook' }).click();
      await dialog.getByText('Enter an absolute URL').waitFor();
      await dialog.getByText('Choose at least one event type').waitFor();
      await shot(page, '80-webhook-form-errors');

      step('create a webhook for model_version.created; its signing secret is shown once');
      const url = `${receiverBase}/hooks/versions`;
      await dialog.getByLabel('URL').fill(url);
      await dialog.getByRole('checkbox', { name: /model_version\.created/ }).check();
      await dialog.getByLabel('Description').fill('CI trigger');
      await dialog.getByRole('button', { name: 'Create webhook' }).click();
      const created = page.getByTestId('webhook-created');
      await created.waitFor();
      const secret = await created.getByTestId('secret-value').inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
      await shot(page, '81-webhook-secret');
      await created.getByRole('button', { name: 'Done' }).click();
      assert.equal(await page.getByTestId('secret-value').count(), 0, 'the secret is gone once closed');
      const row = page.locator('tr[data-webhook]');
      await row.waitFor();
      assert.equal(await row.locator('td[data-col="url"]').textContent(), url);
      assert.equal(await row.locator('td[data-col="events"]').textContent(), 'model_version.created');
      await row.locator('[data-enabled="true"]').waitFor();
      assert.equal(await row.locator('td[data-col="description"]').textContent(), 'CI trigger');
      await shot(page, '82-webhooks-list');

      step('a version registered through the API is delivered, signed with that secret');
      await row.getByRole('link', { name: url }).click();
      await page.waitForURL(/\/projects\/default\/webhooks\/[^/]+$/);
      await page.getByText('No deliveries yet.').waitFor();
      await sdk.createModelVersion({ project: PROJECT, name: 'hooked', body: { source: `runs:/${runId}/model` } });
      const got = await until(
        () => receiver.received.find((r) => r.path === '/hooks/versions'),
        (r) => r !== undefined,
        'the delivery at the receiver',
      );
      const ts = String(got!.headers['x-hangar-timestamp']);
      assert.equal(
        got!.headers['x-hangar-signature'],
        `sha256=${createHmac('sha256', secret).update(`${ts}.${got!.body}`).digest('hex')}`,
      );

      step('the delivery appears in the log (it refreshes by itself): delivered, 1 attempt, HTTP 200');
      const delivery = page.locator('tr[data-event="model_version.created"]');
      await delivery.locator('[data-delivery-status="delivered"]').waitFor();
      assert.equal(await delivery.getAttribute('data-delivery'), got!.headers['x-hangar-delivery']);
      assert.equal(await delivery.locator('td[data-col="attempts"]').textContent(), '1');
      assert.equal(await delivery.locator('td[data-col="response"]').textContent(), 'HTTP 200');
      assert.equal(await delivery.locator('td[data-col="error"]').textContent(), '—');
      await shot(page, '83-delivery-log');

      step('Details shows the body that was POSTed');
      await delivery.getByRole('button', { name: /Details/ }).click();
      const payload = page.getByTestId('delivery-payload');
      await payload.waitFor();
      assert.deepEqual(JSON.parse((await payload.textContent()) ?? ''), JSON.parse(got!.body));
      await shot(page, '84-delivery-body');
      await page.getByTestId('delivery-details').getByRole('button', { name: 'Close', exact: true }).last().click();
      await payload.waitFor({ state: 'detached' });

      step('a test ping to a receiver answering 503 shows as failed, with its status');
      const down = await sdk.createWebhook({
        project: PROJECT,
        body: { url: `${receiverBase}/down`, events: ['gate.failed'] },
      });
      await page.getByRole('link', { name: /Webhooks of default/ }).click();
      await page.locator(`tr[data-webhook="${down.webhook.id}"]`).getByRole('link').click();
      await page.getByTestId('webhook-url').getByText(`${receiverBase}/down`).waitFor();
      await page.getByRole('button', { name: 'Send test ping' }).click();
      await page.getByTestId('webhook-notice').getByText('Test ping failed: HTTP 503: overloaded.').waitFor();
      const ping = page.locator('tr[data-event="ping"]');
      await ping.locator('[data-delivery-status="failed"]').waitFor();
      assert.equal(await ping.locator('td[data-col="response"]').textContent(), 'HTTP 503');
      await ping.getByRole('button', { name: /Details/ }).click();
      await page.getByTestId('delivery-details').getByText("A test ping's body is not kept").waitFor();
      await page.keyboard.press('Escape');
      await shot(page, '85-failed-ping');

      step('disable it, then delete it: the list keeps the first webhook only');
      await page.getByRole('button', { name: 'Disable' }).click();
      await page.getByTestId('webhook-url').locator('xpath=..').locator('[data-enabled="false"]').waitFor();
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await dialog.getByRole('button', { name: 'Delete webhook' }).click();
      await page.waitForURL(`${base}/projects/${PROJECT}/webhooks`);
      await page.locator('tr[data-webhook]').first().waitFor();
      assert.equal(await page.locator('tr[data-webhook]').count(), 1);
      assert.equal(await page.locator(`tr[data-webhook="${down.webhook.id}"]`).count(), 0);
      assert.deepEqual(
        (await sdk.listWebhooks({ project: PROJECT })).items.map((w) => w.url),
        [url],
      );

      step('a viewer (and a developer) gets no Webhooks link, and a "not allowed" page by direct URL');
      await page.getByRole('button', { name: /mona/ }).click();
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL(`${base}/login`);
      await logIn(page, VIEWER.username, VIEWER.password);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const [hook] = (await sdk.listWebhooks({ project: PROJECT })).items;
      for (const [project, role, id] of [
        [READ_ONLY, 'viewer', readOnlyHook],
        [PROJECT, 'developer', hook!.id],
      ] as const) {
        for (const p of [`/projects/${project}/webhooks`, `/projects/${project}/webhooks/${id}`]) {
          await page.goto(`${base}${p}`);
          await page
            .getByTestId('not-allowed')
            .getByText(`The webhooks of ${project} are managed by its maintainers and admins; your role is ${role}.`)
            .waitFor();
          assert.equal(
            await page.getByRole('button', { name: /Create webhook|Delete|Send test ping|Disable/ }).count(),
            0,
          );
        }
        // The page made the project the current one: its nav has settings, but no webhooks.
        await sections(page).getByRole('link', { name: 'Project settings' }).waitFor();
        assert.equal(await sections(page).getByRole('link', { name: 'Webhooks' }).count(), 0, 'no Webhooks link');
        await page.goto(`${base}/projects/${project}/settings`);
        await page.getByRole('heading', { name: 'Project settings' }).waitFor();
        await page.locator('.page-subtitle').getByText(role, { exact: true }).waitFor();
        assert.equal(await page.getByRole('link', { name: 'Manage webhooks' }).count(), 0);
      }
      await shot(page, '86-viewer-no-webhooks');
    });
  },
);
