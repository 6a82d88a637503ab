// Drives the portal's tracking pages in a real Chromium against a real server, with data logged
// the way MLflow clients log it (the MLflow REST API with a bearer token): an experiment of a
// parent run and three nested trials (params, 1000-step metrics, tags, artifacts of every preview
// kind, a dataset input), and a second experiment of 2500 runs. It checks the experiments list,
// filtering with the search grammar (and a bad filter's error), sorting by a metric, choosing
// param and metric columns, the run page (details, params, tags, charts, artifact previews,
// reproducibility record, child runs), comparing runs, MLflow UI links, and that the runs table
// stays small in the DOM while thousands of runs are paged in.
// Screenshots go to packages/web/test-output/screenshots/ (3x-*.png).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import {
  ADMIN_PASSWORD,
  ADMIN_TOKEN,
  logIn,
  scenario,
  sections,
  settled,
  shot,
  STEP_TIMEOUT_MS,
  usePortal,
} from './testing/browser-harness.js';

usePortal();

const BULK_RUNS = 2500;
const STEPS = 1000;
const LONG_STEPS = 10_000;
const COMMIT = '3f9a2c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';

type Body = Record<string, unknown>;

/** One MLflow REST call as a client makes it; fails the test with the server's answer. */
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

/** An artifact upload as MLflow's artifact proxy client does it. */
async function putArtifact(base: string, experimentId: string, runId: string, path: string, body: Uint8Array | string) {
  const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
    body,
  });
  assert.ok(res.ok, `upload ${path}: ${res.status} ${await res.text()}`);
}

const kv = (o: Record<string, string | number>) =>
  Object.entries(o).map(([key, value]) => ({ key, value: String(value) }));

async function createRun(
  base: string,
  experimentId: string,
  name: string,
  tags: Record<string, string>,
  start: number,
) {
  const { run } = (await mlflow(base, 'runs/create', {
    experiment_id: experimentId,
    run_name: name,
    start_time: start,
    tags: kv(tags),
  })) as { run: { info: { run_id: string } } };
  return run.info.run_id;
}

/** `STEPS` steps of six metrics ending exactly at the given final values, in batches of 1000. */
async function logCurves(base: string, runId: string, finalValAcc: number, seed: number) {
  const t0 = Date.now() - STEPS * 1000;
  const metrics: Body[] = [];
  for (let step = 0; step < STEPS; step++) {
    const done = step === STEPS - 1 ? 1 : 1 - Math.exp(-step / 180);
    const wiggle = step === STEPS - 1 ? 0 : 0.01 * Math.sin((step + seed * 7) / 9);
    const acc = finalValAcc + 0.03;
    const values: Record<string, number> = {
      loss: 1.2 - (1.2 - (1 - acc)) * done + wiggle,
      val_loss: 1.3 - (1.3 - (1 - finalValAcc)) * done + wiggle,
      acc: 0.1 + (acc - 0.1) * done + wiggle,
      val_acc: 0.1 + (finalValAcc - 0.1) * done + wiggle,
      f1: 0.05 + (finalValAcc - 0.07) * done,
      precision: 0.2 + (finalValAcc - 0.18) * done,
    };
    for (const [key, value] of Object.entries(values)) metrics.push({ key, value, step, timestamp: t0 + step * 1000 });
  }
  for (let i = 0; i < metrics.length; i += 1000) {
    await mlflow(base, 'runs/log-batch', { run_id: runId, metrics: metrics.slice(i, i + 1000) });
  }
  await mlflow(base, 'runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A real PNG (an RGB gradient), made here so the test needs no image files. */
function png(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 255);
      raw[row + 2 + x * 3] = Math.round((y / height) * 255);
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface Seeded {
  experimentId: string;
  bulkId: string;
  sweep: string;
  trials: Record<'a' | 'b' | 'c', string>;
}

async function seed(base: string): Promise<Seeded> {
  const { experiment_id: experimentId } = (await mlflow(base, 'experiments/create', {
    name: 'churn-classifier',
    tags: kv({ 'mlflow.note.content': 'Churn model sweeps' }),
  })) as { experiment_id: string };
  const start = Date.now() - 3_600_000;
  const source = {
    'mlflow.user': 'ana',
    'mlflow.source.name': 'train.py',
    'mlflow.source.type': 'LOCAL',
    'mlflow.source.git.commit': COMMIT,
    'mlflow.source.git.repoURL': 'git@github.com:acme/churn.git',
  };
  const sweep = await createRun(base, experimentId, 'sweep', { ...source, team: 'growth' }, start);
  const trials = { a: '', b: '', c: '' };
  const specs = [
    ['a', 0.01, 'adam', 64, 0.1, 1, 0.91],
    ['b', 0.001, 'sgd', 64, 0.3, 2, 0.85],
    ['c', 0.005, 'adam', 128, 0.2, 3, 0.88],
  ] as const;
  for (const [name, lr, optimizer, batch, dropout, seedValue, valAcc] of specs) {
    const id = await createRun(
      base,
      experimentId,
      `trial-${name}`,
      { ...source, 'mlflow.parentRunId': sweep, team: 'growth', stage: name === 'a' ? 'candidate' : 'explore' },
      start + seedValue * 60_000,
    );
    trials[name] = id;
    await mlflow(base, 'runs/log-batch', {
      run_id: id,
      params: kv({ lr, optimizer, batch_size: batch, dropout, seed: seedValue, epochs: 10, model: 'mlp' }),
    });
    await logCurves(base, id, valAcc, seedValue);
  }
  // A long history (10 000 steps) on the parent: the chart must downsample it.
  const long: Body[] = Array.from({ length: LONG_STEPS }, (_, step) => ({
    key: 'weight_norm',
    value: 10 + Math.sin(step / 40) + (step % 997 === 0 ? 5 : 0),
    step,
    timestamp: start + step,
  }));
  for (let i = 0; i < long.length; i += 1000)
    await mlflow(base, 'runs/log-batch', { run_id: sweep, metrics: long.slice(i, i + 1000) });
  await mlflow(base, 'runs/update', { run_id: sweep, status: 'FINISHED', end_time: Date.now() });

  // Artifacts of every preview kind on trial-a.
  const a = trials.a;
  await putArtifact(base, experimentId, a, 'notes.txt', 'hello from the run\nsecond line\n');
  await putArtifact(
    base,
    experimentId,
    a,
    'metrics/summary.json',
    JSON.stringify({ accuracy: 0.93, classes: ['stay', 'churn'] }),
  );
  await putArtifact(base, experimentId, a, 'plots/curve.png', png(64, 40));
  const csv = [
    'id,label,score',
    ...Array.from({ length: 500 }, (_, i) => `${i},${i % 3 ? 'stay' : 'churn'},${(i / 500).toFixed(3)}`),
  ];
  await putArtifact(base, experimentId, a, 'data/predictions.csv', `${csv.join('\n')}\n`);
  await putArtifact(
    base,
    experimentId,
    a,
    'model/MLmodel',
    'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n',
  );
  await putArtifact(base, experimentId, a, 'logs/train.log', `${'epoch done, loss went down\n'.repeat(25_000)}`);
  await putArtifact(base, experimentId, a, 'model/weights.bin', new Uint8Array([0, 1, 2, 3, 0, 255, 0, 7]));
  await mlflow(base, 'runs/log-inputs', {
    run_id: a,
    datasets: [
      {
        tags: kv({ 'mlflow.data.context': 'training' }),
        dataset: {
          name: 'churn-train',
          digest: 'a1b2c3d4',
          source_type: 'http',
          source: '{"url": "https://data.example/churn.csv"}',
        },
      },
    ],
  });

  // An MLflow 3 logged model produced by trial-a, with the environment files a rerun needs.
  const { model } = (await mlflow(base, 'logged-models', {
    experiment_id: experimentId,
    name: 'churn-mlp',
    model_type: 'sklearn',
    source_run_id: a,
    params: kv({ hidden: 64 }),
  })) as { model: { info: { model_id: string; artifact_uri: string } } };
  const modelRoot = model.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
  for (const [name, text] of [
    ['python_env.yaml', 'python: "3.11.9"\nbuild_dependencies:\n  - pip\n'],
    ['requirements.txt', 'scikit-learn==1.5.2\npandas==2.2.3\n'],
  ] as const) {
    const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${modelRoot}/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: text,
    });
    assert.ok(res.ok, `upload ${name}: ${res.status} ${await res.text()}`);
  }
  await mlflow(base, 'runs/outputs', { run_id: a, models: [{ model_id: model.info.model_id, step: 999 }] });

  // A big experiment: the table must page it, not load it.
  const { experiment_id: bulkId } = (await mlflow(base, 'experiments/create', { name: 'bulk-sweep' })) as {
    experiment_id: string;
  };
  let next = 0;
  const worker = async () => {
    while (next < BULK_RUNS) {
      const n = next++;
      const id = await createRun(
        base,
        bulkId,
        `bulk-${String(n).padStart(4, '0')}`,
        { 'mlflow.user': 'bot' },
        start + n * 1000,
      );
      await mlflow(base, 'runs/log-batch', {
        run_id: id,
        params: kv({ lr: (0.001 * ((n % 10) + 1)).toFixed(3), idx: n }),
        metrics: [
          { key: 'acc', value: ((n * 7919) % 2500) / 2500, step: 0, timestamp: start },
          { key: 'loss', value: 1 - ((n * 7919) % 2500) / 2500, step: 0, timestamp: start },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));
  return { experimentId, bulkId, sweep, trials };
}

/** Polls `read` until `ok` holds (or the step times out), returning the last value read. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const runRows = (page: Page) => page.getByTestId('runs-table').locator('tbody tr[data-run-name]');
const runNames = (page: Page) => runRows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-name')));

test(
  'tracking: experiments, runs table, run page, artifacts, compare, MLflow links, 2500 runs',
  { timeout: 300_000 },
  async (t) => {
    await scenario(t, 'tracking', { width: 1440, height: 900 }, async ({ base, page, step }) => {
      step('seed through the MLflow REST API');
      const seeded = await seed(base);
      const { experimentId, trials, sweep } = seeded;
      const dialog = page.getByRole('dialog');

      step('log in; Experiments in the nav lists the experiments of the project');
      await page.goto(`${base}/`);
      await logIn(page, 'admin', ADMIN_PASSWORD);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await sections(page).getByRole('link', { name: 'Experiments' }).click();
      await page.waitForURL(`${base}/experiments`);
      const expRow = page.locator('tr[data-experiment="churn-classifier"]');
      await expRow.getByText('Churn model sweeps').waitFor();
      await page.locator('tr[data-experiment="bulk-sweep"]').waitFor();
      await shot(page, '30-experiments');

      step('the experiment opens with its runs and the default columns');
      await expRow.getByRole('link', { name: 'churn-classifier' }).click();
      await page.waitForURL(`${base}/experiments/${experimentId}`);
      await page.getByTestId('experiment-name').filter({ hasText: 'churn-classifier' }).waitFor();
      await runRows(page).nth(3).waitFor();
      assert.deepEqual((await runNames(page)).sort(), ['sweep', 'trial-a', 'trial-b', 'trial-c']);
      const table = page.getByTestId('runs-table');
      for (const col of ['m:acc', 'm:val_acc', 'p:lr', 'p:model'])
        await table.locator(`th[data-col="${col}"]`).waitFor();
      assert.equal(await table.locator('th[data-col="p:seed"]').count(), 0, 'seed is not a default column');
      assert.equal(await table.locator('th[data-col="m:val_loss"]').count(), 0, 'val_loss is not a default column');
      await shot(page, '31-experiment-runs');

      step('a filter in the search grammar narrows the runs on the server');
      const filter = page.getByTestId('run-filter');
      await filter.fill("params.optimizer = 'adam' and metrics.val_acc > 0.8");
      await filter.press('Enter');
      await page.waitForURL(/filter=/);
      const filtered = await until(
        () => runNames(page),
        (n) => n.length === 2,
        'two runs',
      );
      assert.deepEqual(filtered.sort(), ['trial-a', 'trial-c']);

      step("a bad filter shows the server's error");
      await filter.fill('metrics.val_acc >');
      await filter.press('Enter');
      const filterError = page.getByTestId('filter-error');
      await filterError.getByText('This filter cannot be used').waitFor();
      await filterError.getByText(/Invalid clause\(s\) in filter string/).waitFor();
      assert.equal(await filterError.getByTestId('error-code').textContent(), 'invalid_input');
      assert.equal(await runRows(page).count(), 0, 'no stale rows under a bad filter');
      await shot(page, '32-bad-filter');

      step('sorting by a metric column orders the runs on the server, both ways');
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.waitForURL(`${base}/experiments/${experimentId}`);
      await runRows(page).nth(3).waitFor();
      const valAccHeader = table.locator('th[data-col="m:val_acc"]');
      await valAccHeader.getByRole('button').click();
      await page.waitForURL((u) => u.searchParams.get('order') === 'metrics.val_acc DESC');
      await page.locator('th[data-col="m:val_acc"][aria-sort="descending"]').waitFor();
      const desc = await until(
        () => runNames(page),
        (n) => n[0] === 'trial-a',
        'trial-a first',
      );
      assert.deepEqual(desc.slice(0, 3), ['trial-a', 'trial-c', 'trial-b']);
      assert.equal(
        (await table.locator('tr[data-run-name="trial-a"] td[data-col="m:val_acc"]').textContent())?.trim(),
        '0.91',
      );
      await page.locator('th[data-col="m:val_acc"]').getByRole('button').click();
      await page.locator('th[data-col="m:val_acc"][aria-sort="ascending"]').waitFor();
      const asc = await until(
        () => runNames(page),
        (n) => n[0] === 'trial-b',
        'trial-b first',
      );
      assert.deepEqual(asc.slice(0, 3), ['trial-b', 'trial-c', 'trial-a']);

      step('a param and a metric column are added, and stay after a reload');
      await page.getByTestId('choose-columns').click();
      await dialog
        .getByRole('group', { name: /Parameters/ })
        .getByLabel('seed')
        .check();
      await dialog
        .getByRole('group', { name: /Metrics/ })
        .getByLabel('val_loss')
        .check();
      await table.locator('th[data-col="p:seed"]').waitFor(); // the table follows behind the dialog
      await shot(page, '33-columns-dialog');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(
        (await table.locator('tr[data-run-name="trial-c"] td[data-col="p:seed"]').textContent())?.trim(),
        '3',
      );
      assert.match(
        (await table.locator('tr[data-run-name="trial-b"] td[data-col="m:val_loss"]').textContent()) ?? '',
        /^0\.15/,
      );
      await page.reload();
      await table.locator('th[data-col="m:val_loss"]').waitFor();
      await table.locator('th[data-col="p:seed"]').waitFor();
      await shot(page, '34-runs-sorted-with-columns');

      step('a run opens with its details, params and tags');
      await table.locator('tr[data-run-name="trial-a"]').getByRole('link', { name: 'trial-a' }).click();
      await page.waitForURL(`${base}/experiments/${experimentId}/runs/${trials.a}`);
      await page.getByTestId('run-name').filter({ hasText: 'trial-a' }).waitFor();
      await page.getByTestId('run-status').locator('[data-run-status="FINISHED"]').waitFor();
      const params = page.getByTestId('run-params');
      assert.equal(await params.locator('tr[data-key="lr"] td[data-col="value"]').textContent(), '0.01');
      assert.equal(await params.locator('tr[data-key="optimizer"] td[data-col="value"]').textContent(), 'adam');
      const tags = page.getByTestId('run-tags');
      assert.equal(await tags.locator('tr[data-key="stage"] td[data-col="value"]').textContent(), 'candidate');
      assert.equal(
        await tags.locator('tr[data-key="mlflow.parentRunId"]').count(),
        0,
        "MLflow's own tags wait for a click",
      );
      await page.getByLabel(/Show MLflow's own tags/).check();
      await tags.locator('tr[data-key="mlflow.source.git.commit"]').getByText(COMMIT).waitFor();
      assert.equal(
        await page.getByTestId('run-metrics').locator('tr[data-key="val_acc"] td[data-col="value"]').textContent(),
        '0.91',
      );
      assert.equal(await page.getByTestId('parent-run').getByRole('link').textContent(), sweep);
      await shot(page, '35-run-overview');

      step('the metric charts draw 1000 steps');
      await page
        .getByRole('navigation', { name: 'Run' })
        .getByRole('link', { name: /Metric charts/ })
        .click();
      await page.waitForURL(`${base}/experiments/${experimentId}/runs/${trials.a}/metrics`);
      const lossChart = page.locator('[data-metric="loss"]');
      await lossChart.locator('.chart[data-points="1000"] path.chart-line').waitFor();
      const d = (await lossChart.locator('path.chart-line').getAttribute('d')) ?? '';
      assert.ok(d.split('L').length > 100, 'the line has many segments');
      const box = await lossChart.locator('svg').boundingBox();
      assert.ok(box);
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
      await lossChart
        .locator('.chart-readout')
        .getByText(/^Step \d+/)
        .waitFor();
      await page.locator('[data-metric="val_acc"] .chart[data-points="1000"]').waitFor();
      await shot(page, '36-run-metric-charts');

      step('artifacts: text, JSON, image, table, YAML, a cut-off log and a binary file');
      const runTabs = page.getByRole('navigation', { name: 'Run' });
      await runTabs.getByRole('link', { name: 'Artifacts' }).click();
      await page.waitForURL(`${base}/experiments/${experimentId}/runs/${trials.a}/artifacts`);
      const tree = page.getByTestId('artifact-tree');
      const preview = page.getByTestId('artifact-preview');
      const open = async (path: string) => {
        const parts = path.split('/');
        for (let i = 1; i < parts.length; i++) {
          const folder = tree.locator(`button[data-artifact="${parts.slice(0, i).join('/')}"]`);
          if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
        }
        await tree.locator(`button[data-artifact="${path}"]`).click();
        await page.locator(`[data-testid="artifact-preview"][data-path="${path}"]:not([data-kind=""])`).waitFor();
      };
      await open('notes.txt');
      assert.equal(await preview.getAttribute('data-kind'), 'text');
      assert.equal(await preview.getByTestId('artifact-text').textContent(), 'hello from the run\nsecond line\n');
      await shot(page, '37-artifact-text');

      await open('metrics/summary.json');
      assert.equal(await preview.getAttribute('data-kind'), 'json');
      assert.match(
        (await preview.getByTestId('artifact-text').textContent()) ?? '',
        /\{\n {2}"accuracy": 0\.93,\n {2}"classes": \[/,
      );
      await shot(page, '38-artifact-json');

      await open('plots/curve.png');
      assert.equal(await preview.getAttribute('data-kind'), 'image');
      const img = preview.getByTestId('artifact-image');
      // String expressions: this file is type-checked without the DOM library.
      const imgSize = `(() => { const i = document.querySelector('[data-testid="artifact-image"]'); return i && i.complete ? i.naturalWidth + 'x' + i.naturalHeight : ''; })()`;
      assert.equal(
        await until(
          () => page.evaluate<string>(imgSize),
          (v) => v !== '' && v !== '0x0',
          'the image',
        ),
        '64x40',
      );
      assert.match((await img.getAttribute('src')) ?? '', /^blob:/);
      await shot(page, '39-artifact-image');

      await open('data/predictions.csv');
      assert.equal(await preview.getAttribute('data-kind'), 'table');
      const csvTable = preview.getByTestId('artifact-table');
      assert.deepEqual(await csvTable.locator('thead th').allTextContents(), ['#', 'id', 'label', 'score']);
      assert.equal(await csvTable.locator('tbody tr').count(), 100);
      assert.deepEqual(await csvTable.locator('tbody tr').nth(3).locator('td').allTextContents(), [
        '4',
        '3',
        'churn',
        '0.006',
      ]);
      await preview.getByText('The first 100 rows').waitFor();
      await shot(page, '40-artifact-table');

      await open('model/MLmodel');
      assert.equal(await preview.getAttribute('data-kind'), 'text');
      await preview.getByTestId('artifact-text').getByText('loader_module: mlflow.sklearn').waitFor();

      // 675 000 bytes: only the first 512 KiB are asked for (a Range request), and the page says so.
      const ranged = page.waitForRequest(
        (r) => r.url().includes('/artifacts/file?path=logs%2Ftrain.log') && r.headers().range === 'bytes=0-524287',
      );
      await open('logs/train.log');
      await ranged;
      await preview
        .getByTestId('preview-cut')
        .getByText(/Showing the first 512 KiB of 659 KiB/)
        .waitFor();

      await open('model/weights.bin');
      assert.equal(await preview.getAttribute('data-kind'), 'none');
      await preview.getByText('No preview', { exact: true }).waitFor();
      assert.equal(await preview.getByRole('link', { name: 'Download' }).getAttribute('download'), 'weights.bin');

      step('a previewed file has its own URL: a reload opens its folders and shows it again');
      await open('data/predictions.csv');
      assert.equal(new URL(page.url()).searchParams.get('path'), 'data/predictions.csv');
      await page.reload();
      await page.locator('[data-testid="artifact-preview"][data-kind="table"]').waitFor();
      await tree.locator('button[data-artifact="data/predictions.csv"][aria-current="true"]').waitFor();

      step('the reproducibility record links the code, the dataset version and the parent run');
      await runTabs.getByRole('link', { name: 'Reproducibility' }).click();
      const commit = page.getByTestId('repro-commit').getByRole('link', { name: COMMIT });
      assert.equal(await commit.getAttribute('href'), `https://github.com/acme/churn/commit/${COMMIT}`);
      await page.getByTestId('repro-code').getByText('train.py').waitFor();
      const dataset = page.getByTestId('repro-datasets').locator('tr[data-dataset="churn-train"]');
      assert.equal(await dataset.locator('td[data-col="context"]').textContent(), 'training');
      assert.equal(await dataset.locator('td[data-col="digest"]').textContent(), 'a1b2c3d4');
      await page.getByTestId('repro-environment').getByText('3.11.9').waitFor();
      await page.getByTestId('repro-requirements').getByText('scikit-learn==1.5.2').waitFor();
      const produced = page.getByTestId('repro-models').locator('tr', { hasText: 'churn-mlp' });
      assert.equal(await produced.locator('td[data-col="direction"]').textContent(), 'output');
      await shot(page, '41-run-reproducibility');
      await produced.getByRole('link', { name: 'churn-mlp' }).click();
      await page.getByTestId('model-name').filter({ hasText: 'churn-mlp' }).waitFor();
      await page.getByRole('link', { name: trials.a }).waitFor(); // its source run
      await page.goBack();
      await dataset.getByRole('link', { name: 'churn-train' }).click();
      await page.getByTestId('dataset-name').filter({ hasText: 'churn-train' }).waitFor();
      await page.getByRole('link', { name: 'trial-a' }).waitFor(); // the runs that read it

      step('the parent run lists its child runs');
      await page.goto(`${base}/experiments/${experimentId}/runs/${sweep}`);
      const children = page.getByTestId('child-runs');
      await children.locator('tr[data-run-id]').nth(2).waitFor();
      assert.equal(await children.locator('tr[data-run-id]').count(), 3);
      await children.locator(`tr[data-run-id="${trials.b}"]`).getByRole('link', { name: 'trial-b' }).waitFor();

      step(`a ${LONG_STEPS}-step history draws downsampled`);
      let started = Date.now();
      await page
        .getByRole('navigation', { name: 'Run' })
        .getByRole('link', { name: /Metric charts/ })
        .click();
      const longChart = page.locator(`[data-metric="weight_norm"] .chart[data-points="${LONG_STEPS}"]`);
      await longChart.locator('path.chart-line').waitFor();
      const longMs = Date.now() - started;
      const segments = ((await longChart.locator('path.chart-line').getAttribute('d')) ?? '').split('L').length;
      const width = (await longChart.boundingBox())?.width ?? 0;
      assert.ok(
        segments < LONG_STEPS / 2 && segments <= width * 4,
        `${segments} segments for ${LONG_STEPS} points, ${width} px`,
      );
      await page.locator(`[data-metric="weight_norm"] .chart-line`).hover();
      await shot(page, '42-long-history-chart');
      t.diagnostic(`${LONG_STEPS}-point chart drawn in ${longMs} ms with ${segments} segments`);

      step('two runs ticked in the table are compared: overlaid charts, differing params marked');
      await page.goto(`${base}/experiments/${experimentId}`);
      await table.locator('tr[data-run-name="trial-a"]').waitFor();
      await page.getByLabel('Select run trial-a').check();
      await page.getByLabel('Select run trial-b').check();
      await page.getByTestId('compare-runs').filter({ hasText: 'Compare 2 runs' }).click();
      await page.waitForURL(`${base}/experiments/compare?runs=${trials.a},${trials.b}`);
      const cparams = page.getByTestId('compare-params');
      assert.equal(await cparams.locator('tr[data-key="lr"]').getAttribute('data-differs'), 'true');
      assert.equal(await cparams.locator('tr[data-key="optimizer"]').getAttribute('data-differs'), 'true');
      assert.equal(await cparams.locator('tr[data-key="batch_size"]').getAttribute('data-differs'), 'false');
      assert.deepEqual(await cparams.locator('tr[data-key="lr"] td').allTextContents(), ['0.01', '0.001']);
      await shot(page, '43-compare-params');
      // Charts load their histories when scrolled to.
      const overlay = page.locator('[data-testid="compare-charts"] [data-metric="val_acc"]');
      await overlay.scrollIntoViewIfNeeded();
      await overlay.locator('.chart[data-points="2000"]').waitFor();
      assert.equal(await overlay.locator('path.chart-line').count(), 2, 'one line per run');
      assert.deepEqual(await overlay.locator('.chart-legend li').allTextContents(), ['trial-a', 'trial-b']);
      await shot(page, '44-compare-charts');
      await page.getByLabel('Only differences').check();
      await cparams.locator('tr[data-key="batch_size"]').waitFor({ state: 'detached' });
      assert.ok((await cparams.locator('tbody tr').count()) >= 4, 'lr, optimizer, dropout and seed differ');

      step('MLflow UI links (/#/experiments/...) land on the portal pages');
      await page.goto(`${base}/#/experiments/${experimentId}/runs/${trials.c}`);
      await page.waitForURL(`${base}/experiments/${experimentId}/runs/${trials.c}`);
      await page.getByTestId('run-name').filter({ hasText: 'trial-c' }).waitFor();
      await page.goto(`${base}/#/experiments/${experimentId}`);
      await page.waitForURL(`${base}/experiments/${experimentId}`);
      await page.getByTestId('experiment-name').filter({ hasText: 'churn-classifier' }).waitFor();
      // Pasted over the portal's own address, only the fragment changes: no reload, still followed.
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.evaluate(
        `location.hash = '#/compare-runs?runs=["${trials.a}","${trials.c}"]&experiments=["${experimentId}"]'`,
      );
      await page.waitForURL(`${base}/experiments/compare?runs=${trials.a},${trials.c}`);
      await page.getByTestId('compare-params').waitFor();

      step(`${BULK_RUNS} runs: pages load from the server as the table scrolls; the DOM keeps only what is in view`);
      started = Date.now();
      await page.goto(`${base}/experiments/${seeded.bulkId}`);
      await runRows(page).first().waitFor();
      const firstPageMs = Date.now() - started;
      const status = page.getByTestId('runs-status');
      await status.getByText('100 runs loaded, more as you scroll').waitFor();
      const scroller = page.getByTestId('runs-table');
      started = Date.now();
      for (let i = 0; i < 40; i++) {
        await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
        await settled(page);
        const text = (await status.textContent()) ?? '';
        if (/^1,[2-9]\d\d runs loaded/.test(text)) break;
        await page.waitForTimeout(100);
      }
      const scrolledMs = Date.now() - started;
      const loadedCount = Number(/^([\d,]+) runs/.exec((await status.textContent()) ?? '')?.[1]?.replace(/,/g, ''));
      assert.ok(loadedCount >= 1200, `scrolling loaded more pages (${loadedCount} runs)`);
      const domRows = await scroller.locator('tbody tr[data-row]').count();
      assert.ok(domRows < 100, `only the rows in view are rendered (${domRows} of ${loadedCount})`);
      // The rows at the bottom are really the last ones loaded.
      const lastName = await runRows(page).last().getAttribute('data-run-name');
      assert.match(lastName ?? '', /^bulk-\d{4}$/);
      await shot(page, '45-bulk-runs-scrolled');

      started = Date.now();
      await scroller.locator('th[data-col="m:acc"]').getByRole('button').click();
      await until(
        () => runRows(page).first().locator('td[data-col="m:acc"]').textContent(),
        (v) => v === '0.9996',
        'the best run first',
      );
      const sortMs = Date.now() - started;
      await status.getByText('100 runs loaded, more as you scroll').waitFor();
      t.diagnostic(
        `bulk: first page ${firstPageMs} ms, scrolled to ${loadedCount} runs in ${scrolledMs} ms, sort ${sortMs} ms, ${domRows} rows in the DOM`,
      );
      assert.ok(firstPageMs < 10_000 && sortMs < 10_000, 'the table answers in seconds, not minutes');
      await shot(page, '46-bulk-runs-sorted');
    });
  },
);
