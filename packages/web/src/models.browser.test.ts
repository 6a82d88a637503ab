// Drives the portal's model registry pages in a real Chromium against a real server (its worker
// runs the evaluation gates): a critical model whose versions are real ONNX classifiers gated on a
// held-out set (the evaluation module's fixtures), a low-risk model of another team in Staging.
// It checks the models list's filters (grammar, tag, owner, stage), the model page's versions
// table, a version's gate results beside the champion's, and the approval workflow with two
// people: a developer promotes a version of the critical model to production and cannot approve
// it; a maintainer, logged in in a second browser context, approves it from the approval queue,
// and the release history shows it approved with its transitions. Then the lineage graph, whose
// nodes open their pages.
// Screenshots go to packages/web/test-output/screenshots/ (5x-*.png).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HangarClient } from '@hangar/sdk';
import type { Page } from 'playwright-core';
import {
  ADMIN_PASSWORD,
  ADMIN_TOKEN,
  logIn,
  ROOT,
  scenario,
  sections,
  shot,
  STEP_TIMEOUT_MS,
  usePortal,
} from './testing/browser-harness.js';

// Releases stop at approved here; deployments.browser.test.ts covers what serving does next.
usePortal(['--release-auto-deploy', 'false']);

const FIXTURES = path.join(ROOT, 'packages/server/src/modules/evaluation/fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(path.join(FIXTURES, name)));
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CPUExecutionProvider]
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;
const PROJECT = 'default';
const CRITICAL = 'fraud-detector';
const LOW = 'churn';
const DEV = { username: 'dana', password: 'dana-password-1' };
const MAINTAINER = { username: 'mark', password: 'mark-password-1' };
/** The ONNX fixture's accuracy on its held-out set (scikit-learn's figure, in binary.expected.json). */
const ACCURACY = (
  JSON.parse(readFileSync(path.join(FIXTURES, 'binary.expected.json'), 'utf8')) as {
    metrics: { accuracy: number };
  }
).metrics.accuracy;

type Body = Record<string, unknown>;

async function mlflow(base: string, path: string, body: Body): Promise<Body> {
  const res = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Body;
}

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

interface Seeded {
  experimentId: string;
  runId: string;
  datasetId: string;
  /** The critical model's owner team: the project's team. */
  owner: string;
}

/**
 * Two users, a team, a run holding an ONNX model and its held-out set, the critical model with an
 * evaluation spec and two gated versions (v1 the champion), and a low-risk model in Staging.
 */
async function seed(base: string): Promise<Seeded> {
  const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });
  await sdk.createUser({ body: DEV });
  await sdk.createUser({ body: MAINTAINER });
  await sdk.setProjectMember({ project: PROJECT, username: DEV.username, body: { role: 'developer' } });
  await sdk.setProjectMember({ project: PROJECT, username: MAINTAINER.username, body: { role: 'maintainer' } });
  await sdk.createTeam({ body: { name: 'growth' } });

  const { experiment_id: experimentId } = (await mlflow(base, 'experiments/create', { name: 'fraud-training' })) as {
    experiment_id: string;
  };
  const { run } = (await mlflow(base, 'runs/create', {
    experiment_id: experimentId,
    run_name: 'train-fraud',
    start_time: Date.now() - 60_000,
  })) as { run: { info: { run_id: string } } };
  const runId = run.info.run_id;
  await sdk.uploadRunArtifact({ runId, path: 'onnx/MLmodel', body: new TextEncoder().encode(ONNX_MLMODEL) });
  await sdk.uploadRunArtifact({ runId, path: 'onnx/model.onnx', body: fixture('binary.onnx') });
  await sdk.uploadRunArtifact({ runId, path: 'bad/MLmodel', body: new TextEncoder().encode(ONNX_MLMODEL) });
  await sdk.uploadRunArtifact({ runId, path: 'bad/model.onnx', body: new TextEncoder().encode('no ONNX graph') });
  await sdk.uploadRunArtifact({ runId, path: 'data/heldout.csv', body: fixture('binary.csv') });
  await mlflow(base, 'runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  const { dataset } = await sdk.registerDataset({
    project: PROJECT,
    body: {
      name: 'fraud-heldout',
      artifactUri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/data/heldout.csv`,
    },
  });
  const datasetId = dataset.datasetId;

  await sdk.createRegisteredModel({
    project: PROJECT,
    body: {
      name: CRITICAL,
      description: 'Scores card transactions for fraud.',
      riskTier: 'critical',
      tags: [
        { key: 'team', value: 'risk' },
        { key: 'pii', value: 'yes' },
      ],
    },
  });
  await sdk.putEvaluationSpec({
    project: PROJECT,
    name: CRITICAL,
    body: {
      datasetId,
      task: 'binary',
      labelColumn: 'label',
      thresholds: [
        { metric: 'accuracy', op: '>=', threshold: 0.95 },
        { metric: 'logLoss', op: '<=', threshold: 0.1 },
      ],
      championRule: { metric: 'f1', maxDegradation: 0.01 },
    },
  });
  const gated = async (version: number) =>
    until(
      () => sdk.getModelVersionGate({ project: PROJECT, name: CRITICAL, version }),
      (r) => r.gate !== null && !['pending', 'running'].includes(r.gate.status),
      `the gate of v${version}`,
      60_000,
    );
  const source = `runs:/${runId}/onnx`;
  await sdk.createModelVersion({ project: PROJECT, name: CRITICAL, body: { source } });
  assert.equal((await gated(1)).gate?.status, 'passed', 'v1 passes its gate');
  await sdk.setModelAlias({ project: PROJECT, name: CRITICAL, alias: 'champion', body: { version: 1 } });
  await sdk.createModelVersion({ project: PROJECT, name: CRITICAL, body: { source } });
  const v2 = await gated(2);
  assert.equal(v2.gate?.status, 'passed', 'v2 passes its gate');
  assert.equal(v2.gate?.championVersion, 1, "v2's gate was judged against the champion v1");
  // v3's model file is no ONNX graph: its gate fails with the reason.
  await sdk.createModelVersion({ project: PROJECT, name: CRITICAL, body: { source: `runs:/${runId}/bad` } });
  assert.equal((await gated(3)).gate?.status, 'failed', 'v3 fails its gate');

  await sdk.createRegisteredModel({
    project: PROJECT,
    body: { name: LOW, ownerTeam: 'growth', tags: [{ key: 'team', value: 'growth' }] },
  });
  await sdk.createModelVersion({ project: PROJECT, name: LOW, body: { source } });
  await mlflow(base, 'model-versions/transition-stage', { name: LOW, version: '1', stage: 'Staging' });
  const { ownerTeam: owner } = await sdk.getRegisteredModel({ project: PROJECT, name: CRITICAL });
  return { experimentId, runId, datasetId, owner };
}

const modelRows = (page: Page) => page.locator('tr[data-model]');
const modelNames = (page: Page) => modelRows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-model')));

test(
  'models: list filters, versions, gate beside the champion, approval by a second user, lineage',
  { timeout: 300_000 },
  async (t) => {
    await scenario(t, 'models', { width: 1440, height: 900 }, async ({ base, context, page, step }) => {
      step('seed: users, a run with an ONNX model and its held-out set, two models, gated versions');
      const { experimentId, runId, datasetId, owner } = await seed(base);
      const dialog = page.getByRole('dialog');

      step('the developer opens Models: both models with tier, owner, latest versions, aliases, tags');
      await page.goto(`${base}/`);
      await logIn(page, DEV.username, DEV.password);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await sections(page).getByRole('link', { name: 'Models' }).click();
      await page.waitForURL(`${base}/models`);
      const critical = page.locator(`tr[data-model="${CRITICAL}"]`);
      await critical.waitFor();
      await page.locator(`tr[data-model="${LOW}"]`).waitFor();
      await critical.locator('[data-risk-tier="critical"]').waitFor();
      assert.equal(await critical.locator('td[data-col="owner"]').textContent(), owner);
      await critical.locator('[data-stage="None"]').getByText('None v3').waitFor();
      await critical.locator('td[data-col="aliases"]').getByText('@champion').waitFor();
      await critical.locator('[data-tag="team"]').getByText('team=risk').waitFor();
      const low = page.locator(`tr[data-model="${LOW}"]`);
      assert.equal(await low.locator('td[data-col="owner"]').textContent(), 'growth');
      await low.locator('[data-stage="Staging"]').getByText('Staging v1').waitFor();
      await shot(page, '50-models-list');

      step('filters: a tag, the grammar, an owner, a stage; a bad filter shows the error');
      await page.getByTestId('tag-filter').fill('team=risk');
      await page.getByTestId('tag-filter').press('Enter');
      await page.waitForURL(/tag=team%3Drisk/);
      assert.deepEqual(
        await until(
          () => modelNames(page),
          (n) => n.length === 1,
          'one model',
        ),
        [CRITICAL],
      );
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.waitForURL(`${base}/models`);
      await page.getByTestId('model-filter').fill("name LIKE 'chu%'");
      await page.getByTestId('model-filter').press('Enter');
      assert.deepEqual(
        await until(
          () => modelNames(page),
          (n) => n.length === 1 && n[0] === LOW,
          'churn only',
        ),
        [LOW],
      );
      await page.getByRole('button', { name: 'Reset' }).click();
      await critical.waitFor();
      // The owner and stage filters are the list API's: the server answers only matching models.
      const ownerAsked = page.waitForRequest((r) => new URL(r.url()).searchParams.get('ownerTeam') === 'growth');
      await page.getByTestId('owner-filter').selectOption('growth');
      await page.waitForURL(/owner=growth/);
      await ownerAsked;
      assert.deepEqual(
        await until(
          () => modelNames(page),
          (n) => n.length === 1,
          'growth-owned models',
        ),
        [LOW],
      );
      await page.getByTestId('owner-filter').selectOption('');
      const stageAsked = page.waitForRequest((r) => new URL(r.url()).searchParams.get('stage') === 'Staging');
      await page.getByTestId('stage-filter').selectOption('Staging');
      await page.waitForURL(/stage=Staging/);
      await stageAsked;
      assert.deepEqual(
        await until(
          () => modelNames(page),
          (n) => n.length === 1,
          'models with a Staging version',
        ),
        [LOW],
      );
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.getByTestId('model-filter').fill('name >');
      await page.getByTestId('model-filter').press('Enter');
      const filterError = page.getByTestId('filter-error');
      await filterError.getByText('This filter cannot be used').waitFor();
      assert.equal(await filterError.getByTestId('error-code').textContent(), 'invalid_input');
      assert.equal(await modelRows(page).count(), 0, 'no stale rows under a bad filter');
      await page.getByRole('button', { name: 'Reset' }).click();

      step('the model page: header and the versions table with aliases, stages, checksums, run links');
      await critical.getByRole('link', { name: CRITICAL }).click();
      await page.waitForURL(`${base}/models/${PROJECT}/${CRITICAL}`);
      await page.getByTestId('model-title').filter({ hasText: CRITICAL }).waitFor();
      await page.getByTestId('model-description').getByText('Scores card transactions for fraud.').waitFor();
      assert.equal(await page.getByTestId('model-owner').textContent(), owner);
      await page.getByTestId('model-tags').locator('[data-tag="pii"]').waitFor();
      const versions = page.getByTestId('versions-table');
      const v1 = versions.locator('tr[data-version="1"]');
      const v2row = versions.locator('tr[data-version="2"]');
      await v2row.waitFor();
      assert.deepEqual(
        await versions.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-version'))),
        ['3', '2', '1'],
        'newest first',
      );
      await v1.locator('[data-alias="champion"]').waitFor();
      assert.equal(await v2row.locator('[data-alias]').count(), 0);
      await v2row.locator('[data-stage="None"]').waitFor();
      assert.equal(await v2row.locator('td[data-col="framework"]').textContent(), 'onnx');
      assert.match(
        (await v2row.locator('[data-checksum]').getAttribute('data-checksum')) ?? '',
        /^sha256:[0-9a-f]{64}$/,
      );
      assert.match((await v2row.locator('td[data-col="size"]').textContent()) ?? '', /KiB$/);
      assert.equal(
        await v2row.locator('td[data-col="run"] a').getAttribute('href'),
        `/experiments/${experimentId}/runs/${runId}`,
      );
      await shot(page, '51-model-versions');

      step("v2's gate results sit beside the champion's (v1): value, threshold, pass, champion value, delta");
      await v2row.getByRole('link', { name: 'v2' }).click();
      await page.waitForURL(`${base}/models/${PROJECT}/${CRITICAL}/versions/2`);
      const gate = page.getByTestId('gate');
      await gate.locator('[data-gate-status="passed"]').waitFor();
      await page.getByTestId('gate-champion').getByRole('link', { name: 'v1' }).waitFor();
      const gateTable = page.getByTestId('gate-table');
      const acc = gateTable.locator('tr[data-metric="accuracy"]');
      assert.equal(await acc.locator('td[data-col="value"]').textContent(), String(Number(ACCURACY.toPrecision(6))));
      assert.equal(await acc.locator('td[data-col="threshold"]').textContent(), '≥ 0.95');
      await acc.locator('[data-result="pass"]').waitFor();
      assert.equal(await acc.locator('td[data-col="champion"]').textContent(), String(Number(ACCURACY.toPrecision(6))));
      assert.equal(await acc.locator('td[data-col="delta"]').textContent(), '0', 'the same model scores the same');
      const logLoss = gateTable.locator('tr[data-metric="logLoss"]');
      assert.equal(await logLoss.locator('td[data-col="threshold"]').textContent(), '≤ 0.1');
      const f1 = gateTable.locator('tr[data-metric="f1"]');
      assert.match((await f1.locator('td[data-col="championRule"]').textContent()) ?? '', /^≥ 0\.97/);
      await f1.locator('[data-result="pass"]').waitFor();
      // Metrics without checks are shown too, after the checked ones.
      await gateTable.locator('tr[data-metric="rocAuc"] td[data-col="result"]').getByText('—').waitFor();
      assert.equal(await page.getByTestId('override-gate').count(), 0, 'a passed gate has nothing to override');
      await page.getByTestId('source-run').getByRole('link', { name: runId }).waitFor();
      await shot(page, '52-version-gate-vs-champion');

      step('the developer promotes v2 to production: it waits for approval');
      await page.getByTestId('promote').click();
      await dialog
        .getByTestId('promote-explain')
        .getByText(/a maintainer other than you must then approve it/)
        .waitFor();
      await dialog.getByLabel('Note').fill('better recall on the March data');
      await dialog.getByRole('button', { name: 'Request production release' }).click();
      await dialog.waitFor({ state: 'detached' });
      const result = page.getByTestId('promote-result');
      await result.locator('[data-release-status="approval"]').first().waitFor();
      await result.getByRole('link', { name: 'approval queue' }).waitFor();
      await page
        .getByTestId('version-releases')
        .locator('tr[data-environment="production"] [data-release-status="approval"]')
        .waitFor();
      await shot(page, '53-promoted-waiting-for-approval');

      step('the requester sees the release in the approval queue and cannot approve it');
      await result.getByRole('link', { name: 'approval queue' }).click();
      await page.waitForURL(`${base}/models/approvals`);
      const queued = page.getByTestId('approval-queue').locator(`tr[data-model="${CRITICAL}"][data-version="2"]`);
      await queued.waitFor();
      await queued
        .getByTestId('approval-blocked')
        .getByText(/You requested this release/)
        .waitFor();
      assert.equal(await queued.getByRole('button', { name: 'Approve' }).count(), 0, 'no Approve for the requester');
      assert.equal(await queued.getByRole('button', { name: 'Reject' }).count(), 0);
      const releaseId = await queued.getAttribute('data-release');
      assert.ok(releaseId);
      await shot(page, '54-requester-cannot-approve');

      step('a maintainer logs in in a second browser context and approves it from the queue');
      const browser = context.browser();
      assert.ok(browser);
      // Closed at the end; on a failure, closing the browser after the file's tests closes it.
      const other = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
      const page2 = await other.newPage();
      const errors: string[] = [];
      {
        page2.on('pageerror', (e) => errors.push(e.message));
        await page2.goto(`${base}/models/approvals`);
        await page2.waitForURL(/\/login/);
        await logIn(page2, MAINTAINER.username, MAINTAINER.password);
        await page2.waitForURL(`${base}/models/approvals`);
        const row = page2.getByTestId('approval-queue').locator(`tr[data-release="${releaseId}"]`);
        await row.getByText(DEV.username).waitFor();
        await row.getByText('better recall on the March data').waitFor();
        await row.getByRole('button', { name: 'Reject' }).waitFor();
        await shot(page2, '55-maintainer-approval-queue');
        await row.getByRole('button', { name: 'Approve' }).click();
        const approve = page2.getByRole('dialog');
        await approve.getByLabel('Comment').fill('gate passed, metrics equal to the champion');
        await approve.getByRole('button', { name: 'Approve release' }).click();
        await approve.waitFor({ state: 'detached' });
        await page2.getByTestId('decision-result').getByText(`${CRITICAL} v2 → production: approved`).waitFor();
        await row.waitFor({ state: 'detached' });
        await page2.getByTestId('approval-queue').getByText('Nothing waiting').waitFor();
        await shot(page2, '56-maintainer-approved');
      }

      step('the release history shows the release approved, with its transitions');
      await page.goto(`${base}/models/${PROJECT}/${CRITICAL}/releases`);
      const history = page.getByTestId('release-history');
      const rel = history.locator(`tr[data-release="${releaseId}"]`);
      await rel.locator('[data-release-status="approved"]').waitFor();
      await rel.locator('td[data-col="decision"]').getByText(MAINTAINER.username).waitFor();
      await rel.getByRole('button', { name: 'Show transitions' }).click();
      const steps = rel.locator('li[data-transition]');
      await steps.nth(2).waitFor();
      assert.deepEqual(await steps.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-transition'))), [
        'gate',
        'approval',
        'approved',
      ]);
      await shot(page, '57-release-history');

      step('the approval made v2 the champion: Production stage, and the list says so');
      await page.goto(`${base}/models`);
      await page.locator(`tr[data-model="${CRITICAL}"] [data-stage="Production"]`).getByText('Production v2').waitFor();

      step('the lineage graph of v2: dataset, run, version, release; nodes open their pages');
      await page.goto(`${base}/models/${PROJECT}/${CRITICAL}/versions/2/lineage`);
      const graph = page.getByTestId('lineage-graph');
      await graph.locator(`[data-node="model_version:${CRITICAL}/2"]`).waitFor();
      await graph.locator(`a[data-node="run:${runId}"]`).waitFor();
      await graph.locator(`a[data-node="dataset:${datasetId}"]`).waitFor();
      await graph.locator('a[data-kind="release"]').first().waitFor();
      assert.ok((await graph.locator('path.lineage-edge').count()) >= 3, 'the nodes are linked');
      // Left to right: the run before the version, the version before its release.
      const x = async (sel: string) => (await graph.locator(sel).first().boundingBox())?.x ?? Number.NaN;
      const runX = await x(`a[data-node="run:${runId}"]`);
      const versionX = await x(`[data-node="model_version:${CRITICAL}/2"]`);
      const releaseX = await x('a[data-kind="release"]');
      assert.ok(
        runX < versionX && versionX < releaseX,
        `columns: run ${runX}, version ${versionX}, release ${releaseX}`,
      );
      await shot(page, '58-lineage-graph');
      await graph.locator(`a[data-node="run:${runId}"]`).click();
      await page.waitForURL(`${base}/experiments/${experimentId}/runs/${runId}`);
      await page.getByTestId('run-name').filter({ hasText: 'train-fraud' }).waitFor();
      await page.goBack();
      await graph.locator(`a[data-node="dataset:${datasetId}"]`).click();
      await page.waitForURL(`${base}/experiments/datasets/${datasetId}`);
      await page.getByTestId('dataset-name').filter({ hasText: 'fraud-heldout' }).waitFor();

      step("v3's model file does not load: its gate failed with the reason, and promoting it is refused");
      await page.goto(`${base}/models/${PROJECT}/${CRITICAL}/versions/3`);
      await gate.locator('[data-gate-status="failed"]').waitFor();
      assert.ok(((await page.getByTestId('gate-reason').textContent()) ?? '').length > 0, 'the reason is shown');
      await gate.getByText('a project admin can override it').waitFor();
      assert.equal(await page.getByTestId('override-gate').count(), 0, 'developers cannot override');
      await page.getByTestId('promote').click();
      await dialog.getByRole('button', { name: 'Request production release' }).click();
      await dialog.getByText('Not promoted').waitFor();
      await dialog
        .getByText(/gate .* failed/)
        .first()
        .waitFor();
      await shot(page, '59-failed-gate-promotion-refused');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });

      step('the admin overrides the failed gate (a reason is required) and requests a production release');
      await page.getByRole('button', { name: /dana/ }).click();
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL(`${base}/login`);
      await logIn(page, 'admin', ADMIN_PASSWORD);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.goto(`${base}/models/${PROJECT}/${CRITICAL}/versions/3`);
      await gate.locator('[data-gate-status="failed"]').waitFor();
      await page.getByTestId('override-gate').click();
      await dialog.getByRole('button', { name: 'Override gate' }).click();
      await dialog.getByText(/Say why the failure is acceptable/).waitFor();
      await dialog.getByLabel('Reason').fill('known loader issue, verified by hand');
      await dialog.getByRole('button', { name: 'Override gate' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByTestId('gate-override').getByText('known loader issue, verified by hand').waitFor();
      await gate.locator('[data-gate-status="failed"]').getByText('failed').waitFor();
      await gate.getByText('· overridden').waitFor();
      await page.getByTestId('promote').click();
      await dialog.getByRole('button', { name: 'Request production release' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByTestId('promote-result').locator('[data-release-status="approval"]').first().waitFor();
      await shot(page, '60-gate-overridden-promoted');

      step('the maintainer rejects it from the queue: a rejection needs a reason');
      await page2.getByRole('button', { name: 'Refresh' }).click();
      const v3row = page2.getByTestId('approval-queue').locator(`tr[data-model="${CRITICAL}"][data-version="3"]`);
      await v3row.getByRole('button', { name: 'Reject' }).click();
      const reject = page2.getByRole('dialog');
      await reject.getByRole('button', { name: 'Reject release' }).click();
      await reject.getByText(/Say why it is rejected/).waitFor();
      await reject.getByLabel('Reason').fill('an overridden gate is not enough for production');
      await reject.getByRole('button', { name: 'Reject release' }).click();
      await reject.waitFor({ state: 'detached' });
      await page2.getByTestId('decision-result').getByText(`${CRITICAL} v3 → production: rejected`).waitFor();
      await page2.goto(`${base}/models/${PROJECT}/${CRITICAL}/releases`);
      const rejected = page2.getByTestId('release-history').locator('tr[data-version="3"]');
      await rejected.locator('[data-release-status="rejected"]').waitFor();
      await rejected.getByText('an overridden gate is not enough for production').waitFor();
      await shot(page2, '61-rejected-with-reason');
      assert.deepEqual(errors, [], 'the second context logged no errors');
      await other.close();
    });
  },
);
