// Drives the portal's Deployments pages in a real Chromium against a real server serving real ONNX
// models (the evaluation module's binary classifier, and the serving module's "flipped" copy of
// it, which disagrees with it): a maintainer finds the deployment in the list, opens it, watches
// predictions sent over the inference API arrive, sees a shadow rollout's comparison report, aborts
// it, follows a canary's progress, pauses and resumes it, rolls back with a confirmation (traffic
// back to v1, the canary aborted), then sees a fast canary promoted with its step analysis. A
// viewer, arriving by a deep link, sees the same deployment without any action buttons.
// Screenshots go to packages/web/test-output/screenshots/ (7x-*.png).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HangarClient, type Deployment } from '@hangar/sdk';
import type { Page } from 'playwright-core';
import {
  ADMIN_TOKEN,
  logIn,
  ROOT,
  scenario,
  sections,
  settled,
  shot,
  STEP_TIMEOUT_MS,
  usePortal,
} from './testing/browser-harness.js';

usePortal();

const EVAL = path.join(ROOT, 'packages/server/src/modules/evaluation/fixtures');
const SERVING = path.join(ROOT, 'packages/server/src/modules/serving/fixtures');
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;
const PROJECT = 'serving';
const MODEL = 'clf';
const NAME = 'churn-api';
const MAINTAINER = { username: 'mia', password: 'mia-password-1' };
const VIEWER = { username: 'vic', password: 'vic-password-1' };
/** The 30 features of the fixture's held-out rows. */
const ROWS = readFileSync(path.join(EVAL, 'binary.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',').slice(0, 30).map(Number));

/** Polls `read` until `ok` holds (or the step times out), returning the last value read. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One Open Inference Protocol request, as any client sends it; returns the version that answered. */
async function infer(base: string, row: number[], id?: string): Promise<number> {
  const res = await fetch(`${base}/v2/models/${NAME}/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(id ? { id } : {}),
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: row }],
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return Number(res.headers.get('x-hangar-model-version'));
}

/**
 * A team and project of their own (so the viewer is only a viewer there), a maintainer and a
 * viewer, a run holding the good and the flipped ONNX model, model versions v1 (good), v2
 * (flipped) and v3 (good again), and the deployment of v1, loaded.
 */
async function seed(base: string): Promise<HangarClient> {
  const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });
  await sdk.createUser({ body: MAINTAINER });
  await sdk.createUser({ body: VIEWER });
  await sdk.createTeam({ body: { name: 'ml' } });
  await sdk.createProject({ body: { name: PROJECT, team: 'ml', displayName: 'Serving' } });
  await sdk.setProjectMember({ project: PROJECT, username: MAINTAINER.username, body: { role: 'maintainer' } });
  await sdk.setProjectMember({ project: PROJECT, username: VIEWER.username, body: { role: 'viewer' } });

  const { experimentId } = await sdk.createExperiment({ project: PROJECT, body: { name: 'clf-training' } });
  const res = await fetch(`${base}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: experimentId, run_name: 'train-clf' }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  for (const [folder, file] of [
    ['good', path.join(EVAL, 'binary.onnx')],
    ['flipped', path.join(SERVING, 'binary_flipped.onnx')],
  ] as const) {
    await sdk.uploadRunArtifact({ runId, path: `${folder}/MLmodel`, body: new TextEncoder().encode(ONNX_MLMODEL) });
    await sdk.uploadRunArtifact({ runId, path: `${folder}/model.onnx`, body: new Uint8Array(readFileSync(file)) });
  }
  await sdk.createRegisteredModel({ project: PROJECT, body: { name: MODEL } });
  for (const folder of ['good', 'flipped', 'good']) {
    await sdk.createModelVersion({ project: PROJECT, name: MODEL, body: { source: `runs:/${runId}/${folder}` } });
  }
  await sdk.createDeployment({
    project: PROJECT,
    body: { name: NAME, model: MODEL, environment: 'production', versions: [{ version: 1, weight: 100 }] },
  });
  const d = await until(
    () => sdk.getDeployment({ project: PROJECT, name: NAME }),
    (x: Deployment) => x.status !== 'deploying',
    'the deployment to load',
    60_000,
  );
  assert.equal(d.status, 'ready', d.failure ?? '');
  return sdk;
}

const rollout = (page: Page) => page.getByTestId('rollout');

test(
  'deployments: list, predictions, shadow report, canary progress and controls, rollback, a viewer',
  { timeout: 300_000 },
  async (t) => {
    await scenario(t, 'deployments', { width: 1440, height: 900 }, async ({ base, context, page, step }) => {
      step('seed: a project, a maintainer and a viewer, three versions of an ONNX classifier, v1 deployed');
      const sdk = await seed(base);
      const dialog = page.getByRole('dialog');

      step('the maintainer opens Deployments in the project: the deployment, ready, all traffic on v1');
      await page.goto(`${base}/`);
      await logIn(page, MAINTAINER.username, MAINTAINER.password);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByTestId('project-switcher').selectOption(PROJECT);
      await sections(page).getByRole('link', { name: 'Deployments' }).click();
      await page.waitForURL(`${base}/deployments`);
      const row = page.locator(`tr[data-deployment="${NAME}"]`);
      await row.locator('[data-deployment-status="ready"]').waitFor();
      assert.equal(await row.locator('td[data-col="model"]').textContent(), MODEL);
      assert.equal(await row.locator('td[data-col="environment"]').textContent(), 'production');
      assert.equal(await row.getByTestId('traffic-text').textContent(), 'v1 100%');
      await shot(page, '70-deployments-list');

      step('inference requests over the API show up in the recent predictions, newest first');
      for (let i = 0; i < 3; i++) assert.equal(await infer(base, ROWS[i]!, `portal-req-${i}`), 1);
      await row.getByRole('link', { name: NAME }).click();
      await page.waitForURL(`${base}/deployments/${NAME}`);
      await page.getByTestId('deployment-title').filter({ hasText: NAME }).waitFor();
      assert.equal(await page.getByTestId('traffic-split').textContent(), 'v1 100%');
      assert.equal(await page.getByTestId('stable-version').textContent(), 'v1');
      const predictions = page.getByTestId('predictions');
      // No reload: the page polls.
      await predictions.locator('tr[data-request-id="portal-req-2"]').waitFor();
      const ids = await predictions
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-request-id')));
      assert.deepEqual([...ids].sort(), ['portal-req-0', 'portal-req-1', 'portal-req-2']);
      const first = predictions.locator('tr[data-request-id="portal-req-0"]');
      assert.equal(await first.locator('td[data-col="version"]').textContent(), 'v1');
      assert.equal(await first.locator('td[data-col="route"]').textContent(), 'stable');
      await first.locator('[data-outcome="ok"]').waitFor();
      assert.match((await first.locator('td[data-col="latency"]').textContent()) ?? '', / ms$/);
      await first.getByTestId('toggle-prediction').click();
      // The logged inputs hold the row that was sent; it stays open across refreshes.
      const inputs = first.getByTestId('prediction-inputs');
      await inputs.getByText('"datatype": "FP32"').waitFor();
      // FP32 as the model saw it: the row's first value to float precision.
      assert.match((await inputs.textContent()) ?? '', new RegExp(`"shape": \\[\\s*1,\\s*30\\s*\\]`));
      assert.ok(((await inputs.textContent()) ?? '').includes(String(Math.fround(ROWS[0]![0]!))));
      await first.getByTestId('prediction-outputs').waitFor();
      await page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(`/deployments/${NAME}/predictions`));
      await settled(page);
      await first.getByTestId('prediction-inputs').waitFor();
      const stats = page.getByTestId('stats').locator('tr[data-version="1"]');
      await stats.locator('td[data-col="requests"]').getByText('3', { exact: true }).waitFor();
      assert.equal(await stats.locator('td[data-col="errors"]').textContent(), '0');
      assert.match((await stats.locator('td[data-col="p99"]').textContent()) ?? '', / ms$/);
      await shot(page, '71-deployment-predictions');

      step('a shadow rollout of v2 (started over the API): the comparison report fills in as requests come');
      await sdk.startRollout({ project: PROJECT, name: NAME, body: { strategy: 'shadow', version: 2 } });
      await rollout(page).and(page.locator('[data-strategy="shadow"][data-status="running"]')).waitFor();
      for (let i = 3; i < 9; i++) assert.equal(await infer(base, ROWS[i]!), 1, 'the primary still answers');
      const report = page.getByTestId('shadow-report');
      await until(
        async () =>
          Number((await report.getByTestId('shadow-compared').textContent({ timeout: STEP_TIMEOUT_MS })) ?? 0),
        (n) => n >= 6,
        'six compared requests',
      );
      // The flipped model answers the other class on (nearly) every row.
      const agreement = (await report.getByTestId('agreement-rate').textContent()) ?? '';
      assert.match(agreement, /^\d+\.\d%$/);
      assert.ok(Number.parseFloat(agreement) < 50, `agreement ${agreement}`);
      assert.match((await report.getByTestId('latency-delta').textContent()) ?? '', /^p50 .* · p99 /);
      assert.match(
        (await page.getByTestId('shadow-policy').textContent()) ?? '',
        /^v2 gets a copy of 100% of requests$/,
      );
      await predictions.locator('[data-shadow-outcome="ok"]').first().waitFor();
      await shot(page, '72-shadow-report');

      step('the maintainer aborts the shadow rollout (it asks first)');
      await page.getByTestId('rollout-actions').getByRole('button', { name: 'Abort' }).click();
      await dialog.getByText('all traffic returns to v1').waitFor();
      await dialog.getByRole('button', { name: 'Abort rollout' }).click();
      await dialog.waitFor({ state: 'detached' });
      await rollout(page).and(page.locator('[data-status="aborted"]')).waitFor();
      assert.equal(await page.getByTestId('rollout-actions').count(), 0, 'a finished rollout has no controls');

      step('a canary of v3 with long steps: step 1 of 3 at 10%, the split follows; pause and resume');
      await sdk.startRollout({
        project: PROJECT,
        name: NAME,
        body: { strategy: 'canary', version: 3, steps: [10, 50, 100], stepSeconds: 3600 },
      });
      await rollout(page).and(page.locator('[data-strategy="canary"][data-status="running"]')).waitFor();
      await page.getByTestId('canary-step').getByText('Step 1 of 3').waitFor();
      assert.equal(await page.getByTestId('canary-percent').textContent(), '10%');
      assert.deepEqual(
        await page
          .locator('[data-step-state]')
          .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step-state'))),
        ['current', 'todo', 'todo'],
      );
      await page.getByTestId('traffic-split').getByText('v1 90% · v3 10%').waitFor();
      await page.getByTestId('no-analysis').waitFor();
      const bar = page.getByTestId('traffic').getByTestId('traffic-bar');
      assert.deepEqual(
        await bar.locator('[data-version]').evaluateAll((els) => els.map((e) => e.getAttribute('data-weight'))),
        ['90', '10'],
      );
      await shot(page, '73-canary-progress');
      await page.getByTestId('rollout-actions').getByRole('button', { name: 'Pause' }).click();
      await rollout(page).and(page.locator('[data-status="paused"]')).waitFor();
      await page.getByTestId('rollout-actions').getByRole('button', { name: 'Resume' }).click();
      await rollout(page).and(page.locator('[data-status="running"]')).waitFor();

      step('Rollback, confirmed: all traffic back to v1, the canary aborted, the history records it');
      await page.getByTestId('rollback').click();
      await dialog
        .getByText(/All traffic goes back to the stable version v1 at once, ending the canary rollout of v3/)
        .waitFor();
      await shot(page, '74-rollback-confirm');
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByTestId('action-result').getByText('Rolled back: v1 100%.').waitFor();
      await page.getByTestId('traffic-split').getByText('v1 100%', { exact: true }).waitFor();
      await rollout(page).and(page.locator('[data-strategy="canary"][data-status="aborted"]')).waitFor();
      assert.equal(await page.getByTestId('canary-progress').count(), 0);
      const d = await sdk.getDeployment({ project: PROJECT, name: NAME });
      assert.deepEqual(d.traffic, [{ version: 1, weight: 100 }]);
      const history = page.getByTestId('history');
      await history.locator(`tr[data-revision="${d.revision}"]`).waitFor();
      assert.equal(
        await history.locator(`tr[data-revision="${d.revision}"] td[data-col="traffic"]`).textContent(),
        'v1 100%',
      );
      assert.equal(
        await history.locator(`tr[data-revision="${d.revision}"] td[data-col="actor"]`).textContent(),
        'mia',
      );
      await shot(page, '75-rolled-back');

      step('a canary that passes its analysis is promoted: the step analysis with every check');
      await sdk.startRollout({
        project: PROJECT,
        name: NAME,
        body: { strategy: 'canary', version: 3, steps: [50, 100], stepSeconds: 1, minRequests: 3, maxP99Ratio: 1000 },
      });
      // The same row every time: both versions answer alike, so the distribution does not shift.
      await until(
        async () => {
          for (let i = 0; i < 10; i++) await infer(base, ROWS[0]!);
          return (await sdk.getRollout({ project: PROJECT, name: NAME })).status;
        },
        (s) => s !== 'running',
        'the canary to be judged',
        60_000,
      );
      await rollout(page).and(page.locator('[data-status="promoted"]')).waitFor();
      const analysis = page.getByTestId('analysis-table').locator('tr[data-step="1"]');
      await analysis.locator('[data-decision="pass"]').waitFor();
      assert.equal(await analysis.locator('td[data-col="percent"]').textContent(), '50%');
      assert.match((await analysis.locator('td[data-col="requests"]').textContent()) ?? '', /^\d+ \/ \d+$/);
      assert.match((await analysis.locator('td[data-col="errorRate"]').textContent()) ?? '', /^0\.0% \/ 0\.0%$/);
      assert.match((await analysis.locator('td[data-col="shift"]').textContent()) ?? '', /^TVD 0$/);
      for (const check of ['error_rate', 'p99_ratio', 'distribution_shift'])
        await analysis.locator(`[data-check="${check}"][data-passed="true"]`).waitFor();
      await page.getByTestId('traffic-split').getByText('v3 100%', { exact: true }).waitFor();
      assert.equal(await page.getByTestId('stable-version').textContent(), 'v3');
      await shot(page, '76-canary-promoted');

      step('a viewer follows a deep link: the deployment, its project chosen for them, and no action buttons');
      const browser = context.browser();
      assert.ok(browser);
      const other = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
      const errors: string[] = [];
      try {
        const page2 = await other.newPage();
        page2.on('pageerror', (e) => errors.push(e.message));
        await page2.goto(`${base}/deployments/${NAME}`);
        await page2.waitForURL(/\/login/);
        await logIn(page2, VIEWER.username, VIEWER.password);
        await page2.waitForURL(`${base}/deployments/${NAME}`);
        await page2.getByTestId('traffic-split').getByText('v3 100%', { exact: true }).waitFor();
        await page2.getByTestId('rollout').and(page2.locator('[data-status="promoted"]')).waitFor();
        await page2.getByTestId('predictions').locator('tbody tr').first().waitFor();
        assert.equal(await page2.getByTestId('project-switcher').inputValue(), PROJECT, 'the switcher follows');
        assert.equal(await page2.getByTestId('rollback').count(), 0, 'no Rollback for a viewer');
        assert.equal(await page2.getByTestId('rollout-actions').count(), 0);
        assert.equal(await page2.getByRole('button', { name: /Promote|Pause|Resume|Abort|Roll back/ }).count(), 0);
        await shot(page2, '77-viewer-no-actions');

        // A running rollout is where controls would show: still none for the viewer.
        await sdk.startRollout({
          project: PROJECT,
          name: NAME,
          body: { strategy: 'canary', version: 1, steps: [10, 100], stepSeconds: 3600 },
        });
        await page2.getByTestId('canary-step').getByText('Step 1 of 2').waitFor();
        assert.equal(await page2.getByTestId('rollout-actions').count(), 0);
        assert.equal(await page2.getByTestId('rollback').count(), 0);

        await page2.goto(`${base}/deployments`);
        await page2
          .locator(`tr[data-deployment="${NAME}"] td[data-col="rollout"]`)
          .getByText(/step 1 of 2/)
          .waitFor();
        await page2.goto(`${base}/deployments/no-such-thing`);
        await page2.getByText('No such deployment').waitFor();
      } finally {
        await other.close();
      }
      assert.deepEqual(errors, [], 'the viewer context logged no errors');
    });
  },
);
