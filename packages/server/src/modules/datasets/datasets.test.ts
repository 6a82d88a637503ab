// Dataset versions on both engines: MLflow's log_input (validated, deduplicated by content), runs
// searched by datasets.name|digest|context, native registration from artifacts (digest, schema and
// profile computed by streaming the files) or from an external URI, links to runs, project roles.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import type { DB } from '../../db/schema.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { call, countRows, createProject, type Headers } from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import {
  createExperiment,
  createRun,
  mlflow,
  mlflowError,
  ok,
  projectFixture,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const CONTEXT = 'mlflow.data.context';

interface DatasetJson {
  datasetId: string;
  projectId: string;
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: unknown;
  profile: Record<string, unknown> | null;
  createdBy: string;
}

const TRACKED = ['datasets', 'run_inputs', 'run_models', 'audit_events'] as const satisfies readonly (keyof DB)[];

async function counts(app: HangarApp): Promise<Record<(typeof TRACKED)[number], number>> {
  const out = {} as Record<(typeof TRACKED)[number], number>;
  for (const t of TRACKED) out[t] = await countRows(app, t);
  return out;
}

async function writesNothing(app: HangarApp, what: string, fn: () => Promise<void>): Promise<void> {
  const before = await counts(app);
  await fn();
  // Refusals of writes are audited (a moment later); only the data tables must stay as they were.
  const after = await counts(app);
  assert.deepEqual({ ...after, audit_events: 0 }, { ...before, audit_events: 0 }, `${what} must write nothing`);
}

function expectStatus(res: LightMyRequestResponse, status: number, what = ''): void {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body.slice(0, 400)}`);
}

const mlflowDataset = (over: Record<string, unknown> = {}) => ({
  name: 'iris',
  digest: 'a1b2c3d4',
  source_type: 'local',
  source: '{"uri": "/data/iris.csv"}',
  schema: '{"mlflow_colspec": [{"type": "double", "name": "sepal_length"}]}',
  profile: '{"num_rows": 150, "num_elements": 750}',
  ...over,
});

for (const engine of ENGINES) {
  describe(`datasets (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      f = await projectFixture(app, `ds-${engine}`);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const logInputs = (runId: string, datasets: unknown, headers: Headers = f.developer) =>
      mlflow(app, 'POST', 'runs/log-inputs', { run_id: runId, datasets }, headers);
    const runInputs = async (runId: string) =>
      ok<{
        run: {
          inputs: {
            dataset_inputs: { tags: { key: string; value: string }[]; dataset: Record<string, unknown> }[];
          };
        };
      }>(await mlflow(app, 'GET', `runs/get?run_id=${runId}`)).run.inputs.dataset_inputs;

    test('log_input stores a dataset version once per content and links it to each run', async () => {
      const run1 = await createRun(app, f.experimentId, f.developer);
      const run2 = await createRun(app, f.experimentId, f.developer);
      const before = await counts(app);
      const training = { tags: [{ key: CONTEXT, value: 'training' }], dataset: mlflowDataset() };
      ok(await logInputs(run1, [training]));
      assert.deepEqual(await runInputs(run1), [
        {
          tags: [{ key: CONTEXT, value: 'training' }],
          dataset: {
            name: 'iris',
            digest: 'a1b2c3d4',
            source_type: 'local',
            source: '{"uri": "/data/iris.csv"}',
            schema: '{"mlflow_colspec": [{"type": "double", "name": "sepal_length"}]}',
            profile: '{"num_rows": 150, "num_elements": 750}',
          },
        },
      ]);
      // Logging it again (same run, or another run) adds no version; the other run gets a link.
      ok(await logInputs(run1, [training]));
      ok(await logInputs(run2, [{ tags: [{ key: CONTEXT, value: 'eval' }], dataset: mlflowDataset() }]));
      // Identical content within one request is one version as well.
      ok(
        await logInputs(run2, [
          { dataset: mlflowDataset({ name: 'wine' }) },
          { dataset: mlflowDataset({ name: 'wine' }) },
        ]),
      );
      const after = await counts(app);
      assert.equal(after.datasets - before.datasets, 2, 'iris and wine');
      assert.equal(after.run_inputs - before.run_inputs, 3, 'iris in two runs, wine in one');
      assert.deepEqual(
        (await runInputs(run2)).map((i) => [i.dataset.name, i.tags]),
        [
          ['iris', [{ key: CONTEXT, value: 'eval' }]],
          ['wine', []],
        ],
      );
      // Another digest is another version of the same name; optional fields may be left out.
      ok(
        await logInputs(run2, [
          { dataset: { name: 'iris', digest: 'ffff', source_type: 'http', source: '{"url": "https://x"}' } },
        ]),
      );
      const irises = await call(app, 'GET', `/api/v1/projects/${f.project}/datasets?name=iris`, f.viewer);
      expectStatus(irises, 200);
      assert.deepEqual(
        irises
          .json<{ items: DatasetJson[] }>()
          .items.map((d) => d.digest)
          .sort(),
        ['a1b2c3d4', 'ffff'],
      );
      const v = irises.json<{ items: DatasetJson[] }>().items.find((d) => d.digest === 'a1b2c3d4')!;
      assert.deepEqual(v.profile, { num_rows: 150, num_elements: 750 });
      assert.equal(v.createdBy, `ds-${engine}-dev`);
      // A digest of exactly MLflow's 36 characters is fine.
      ok(await logInputs(run2, [{ dataset: mlflowDataset({ digest: 'd'.repeat(36) }) }]));

      // The version shows the runs that used it, with their context.
      const got = await call(app, 'GET', `/api/v1/datasets/${v.datasetId}`, f.viewer);
      expectStatus(got, 200);
      assert.deepEqual(
        got
          .json<{ runs: { runId: string; context: string | null; experimentId: string }[] }>()
          .runs.map((r) => [r.runId, r.context, r.experimentId])
          .sort(),
        [
          [run1, 'training', f.experimentId],
          [run2, 'eval', f.experimentId],
        ].sort(),
      );
    });

    test('bad log_input requests are 400 INVALID_PARAMETER_VALUE and write nothing', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const deleted = await createRun(app, f.experimentId, f.developer);
      ok(await mlflow(app, 'POST', 'runs/delete', { run_id: deleted }, f.developer));
      await writesNothing(app, 'bad log-inputs', async () => {
        // A deleted run takes no inputs (MLflow: "must be in the 'active' state").
        const msg = mlflowError(
          await logInputs(deleted, [{ dataset: mlflowDataset() }]),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        assert.match(msg, /must be in the 'active' state/);
        const bad: unknown[] = [
          [{ dataset: mlflowDataset({ name: undefined }) }],
          [{ dataset: mlflowDataset({ name: '' }) }],
          [{ dataset: mlflowDataset({ name: 5 }) }],
          [{ dataset: mlflowDataset({ name: 'x'.repeat(501) }) }],
          [{ dataset: mlflowDataset({ name: 'nul\u0000' }) }],
          [{ dataset: mlflowDataset({ digest: undefined }) }],
          [{ dataset: mlflowDataset({ digest: 'd'.repeat(37) }) }],
          [{ dataset: mlflowDataset({ digest: ['a'] }) }],
          [{ dataset: mlflowDataset({ source_type: undefined }) }],
          [{ dataset: mlflowDataset({ source_type: 'x'.repeat(37) }) }],
          [{ dataset: mlflowDataset({ source: undefined }) }],
          [{ dataset: mlflowDataset({ source: { uri: '/x' } }) }],
          [{ dataset: mlflowDataset({ schema: { parsed: true } }) }],
          [{ dataset: mlflowDataset({ profile: 150 }) }],
          [{ dataset: mlflowDataset({ profile: 'p\u0000' }) }],
          [{ dataset: 'iris' }],
          [{ dataset: null }],
          [{}],
          [{ dataset: [mlflowDataset()] }],
          [{ dataset: mlflowDataset(), tags: { key: CONTEXT } }],
          [{ dataset: mlflowDataset(), tags: null }],
          [{ dataset: mlflowDataset(), tags: [{ value: 'training' }] }],
          [{ dataset: mlflowDataset(), tags: [{ key: CONTEXT, value: 5 }] }],
          [{ dataset: mlflowDataset(), tags: [{ key: 'k'.repeat(256), value: 'v' }] }],
          [{ dataset: mlflowDataset(), tags: [{ key: CONTEXT, value: 'v'.repeat(501) }] }],
          // One bad input among good ones: none is written.
          [{ dataset: mlflowDataset({ name: 'good-one' }) }, { dataset: mlflowDataset({ digest: 'd'.repeat(40) }) }],
          'iris',
          [1, 2],
          Array.from({ length: 1001 }, (_, i) => ({ dataset: mlflowDataset({ digest: `d${i}` }) })),
        ];
        for (const datasets of bad) {
          mlflowError(
            await logInputs(run, datasets),
            400,
            'INVALID_PARAMETER_VALUE',
            JSON.stringify(datasets).slice(0, 120),
          );
        }
        mlflowError(
          await mlflow(app, 'POST', 'runs/log-inputs', { datasets: [{ dataset: mlflowDataset() }] }, f.developer),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        // Roles: viewers 403, outsiders 404, anonymous 401, unknown runs 404.
        mlflowError(await logInputs(run, [{ dataset: mlflowDataset() }], f.viewer), 403, 'PERMISSION_DENIED');
        mlflowError(await logInputs(run, [{ dataset: mlflowDataset() }], f.outsider), 404, 'RESOURCE_DOES_NOT_EXIST');
        mlflowError(await logInputs(run, [{ dataset: mlflowDataset() }], {}), 401, 'UNAUTHENTICATED');
        mlflowError(await logInputs('0'.repeat(32), [{ dataset: mlflowDataset() }]), 404, 'RESOURCE_DOES_NOT_EXIST');
      });
    });

    test('runs are searchable by datasets.name, digest and context', async () => {
      const exp = await createExperiment(app, f.project, `ds-${engine}-search`);
      const train = await createRun(app, exp, f.developer);
      const evalRun = await createRun(app, exp, f.developer);
      const none = await createRun(app, exp, f.developer);
      ok(
        await logInputs(train, [
          { tags: [{ key: CONTEXT, value: 'training' }], dataset: mlflowDataset({ name: 'churn', digest: 'c1' }) },
          {
            tags: [{ key: CONTEXT, value: 'validation' }],
            dataset: mlflowDataset({ name: 'churn-val', digest: 'c2' }),
          },
        ]),
      );
      ok(
        await logInputs(evalRun, [
          { tags: [{ key: CONTEXT, value: 'eval' }], dataset: mlflowDataset({ name: 'churn', digest: 'c9' }) },
        ]),
      );
      const names = new Map([
        [train, 'train'],
        [evalRun, 'eval'],
        [none, 'none'],
      ]);
      const search = async (filter: string) =>
        ok<{ runs?: { info: { run_id: string } }[] }>(
          await mlflow(app, 'POST', 'runs/search', { experiment_ids: [exp], filter }, f.viewer),
          filter,
        )
          .runs?.map((r) => names.get(r.info.run_id))
          .sort() ?? [];
      for (const [filter, expected] of [
        ["datasets.name = 'churn'", ['eval', 'train']],
        ["datasets.name = 'churn-val'", ['train']],
        ["datasets.digest = 'c9'", ['eval']],
        ["datasets.context = 'training'", ['train']],
        ["datasets.context = 'eval'", ['eval']],
        ["datasets.name LIKE 'churn%'", ['eval', 'train']],
        ["datasets.name ILIKE 'CHURN-%'", ['train']],
        ["datasets.name IN ('churn-val', 'other')", ['train']],
        ["datasets.digest NOT IN ('c1', 'c2')", ['eval']],
        ["datasets.context != 'training'", ['eval', 'train']], // train also has a validation input
        ["datasets.name = 'churn' AND datasets.context = 'training'", ['train']],
        ["datasets.digest = 'c9' AND datasets.context = 'training'", []],
        ["datasets.name = 'nothing'", []],
        ['datasets.name = "churn"', ['eval', 'train']],
      ] as const) {
        assert.deepEqual(await search(filter), [...expected].sort(), filter);
      }
      // The native search takes the same clauses.
      const native = await call(app, 'POST', '/api/v1/runs/search', f.viewer, {
        experimentIds: [exp],
        filter: "datasets.context = 'eval'",
      });
      expectStatus(native, 200);
      assert.deepEqual(
        native.json<{ items: { info: { runId: string } }[] }>().items.map((r) => r.info.runId),
        [evalRun],
      );
      for (const filter of [
        "datasets.size = 'x'",
        'datasets.name = 5',
        'datasets.name > 1',
        'datasets.name IS NULL',
        "datasets.name = 'a\u0000'",
        'datasets.name IN ()',
      ]) {
        mlflowError(
          await mlflow(app, 'POST', 'runs/search', { experiment_ids: [exp], filter }),
          400,
          'INVALID_PARAMETER_VALUE',
          filter,
        );
      }
    });

    test('registered from a CSV artifact: sha256 digest, schema and profile; registering again finds it', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const csv =
        'sepal_length,species,petal_count,flag\n' +
        '5.1,setosa,3,true\n' +
        '4.9,"setosa, var",4,false\n' +
        '6.2,"virginica\n(tall)",,TRUE\n' +
        '5.0,versicolor,5,false\n';
      const upload = await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run}/artifacts/file?path=data/train.csv`,
        headers: { ...f.developer, 'content-type': 'text/csv' },
        payload: csv,
      });
      expectStatus(upload, 200);
      assert.equal(upload.json<{ sha256: string }>().sha256, sha256(csv));
      const artifactUri = `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/data/train.csv`;
      const register = (body: Record<string, unknown>, headers: Headers = f.developer) =>
        call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, headers, body);

      const first = await register({ name: 'iris', artifactUri });
      expectStatus(first, 201, 'register');
      const { dataset, created } = first.json<{ dataset: DatasetJson; created: boolean }>();
      assert.equal(created, true);
      // The digest of a file is the sha256 of its bytes: what sha256sum prints, and what the upload answered.
      assert.equal(dataset.digest, `sha256:${sha256(csv)}`);
      assert.equal(dataset.name, 'iris');
      assert.equal(dataset.sourceType, 'artifact');
      assert.deepEqual(JSON.parse(dataset.source), { uri: artifactUri });
      assert.deepEqual(dataset.schema, {
        mlflow_colspec: [
          { name: 'sepal_length', type: 'double' },
          { name: 'species', type: 'string' },
          { name: 'petal_count', type: 'long' },
          { name: 'flag', type: 'boolean' },
        ],
      });
      const profile = dataset.profile!;
      assert.equal(profile.num_rows, 4);
      assert.equal(profile.num_columns, 4);
      assert.equal(profile.num_files, 1);
      assert.equal(profile.num_bytes, Buffer.byteLength(csv));
      const cols = profile.columns as { name: string; count: number; nulls: number; mean?: number; distinct: number }[];
      assert.deepEqual(
        cols.map((c) => [c.name, c.count, c.nulls, c.distinct]),
        [
          ['sepal_length', 4, 0, 4],
          ['species', 4, 0, 4],
          ['petal_count', 3, 1, 3],
          ['flag', 4, 0, 3],
        ],
      );
      assert.ok(Math.abs(cols[0]!.mean! - (5.1 + 4.9 + 6.2 + 5.0) / 4) < 1e-12);

      // Identical content: the same version (200, created false), from any path.
      const again = await register({ name: 'iris', artifactUri });
      expectStatus(again, 200, 'register again');
      assert.deepEqual(again.json(), { dataset, created: false });
      expectStatus(
        await app.http.inject({
          method: 'PUT',
          url: `/api/v1/runs/${run}/artifacts/file?path=copy/same.csv`,
          headers: f.developer,
          payload: csv,
        }),
        200,
      );
      const copy = await register({
        name: 'iris',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/copy/same.csv`,
      });
      expectStatus(copy, 200);
      assert.equal(copy.json<{ dataset: DatasetJson }>().dataset.datasetId, dataset.datasetId);
      // Another name is another dataset; changed content another version.
      const other = await register({ name: 'iris-copy', artifactUri });
      expectStatus(other, 201);
      assert.notEqual(other.json<{ dataset: DatasetJson }>().dataset.datasetId, dataset.datasetId);
      const changed = `${csv}5.5,setosa,2,true\n`;
      expectStatus(
        await app.http.inject({
          method: 'PUT',
          url: `/api/v1/runs/${run}/artifacts/file?path=data/train.csv`,
          headers: f.developer,
          payload: changed,
        }),
        200,
      );
      const v2 = await register({ name: 'iris', artifactUri });
      expectStatus(v2, 201);
      const d2 = v2.json<{ dataset: DatasetJson }>().dataset;
      assert.equal(d2.digest, `sha256:${sha256(changed)}`);
      assert.equal(d2.profile!.num_rows, 5);

      // A TSV is profiled too; other files get a digest and sizes only.
      const tsv = 'a\tb\n1\tx\n2\ty\n';
      await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run}/artifacts/file?path=data/t.TSV`,
        headers: f.developer,
        payload: tsv,
      });
      const t = await register({
        name: 'tsv',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/data/t.TSV`,
      });
      expectStatus(t, 201);
      assert.equal(t.json<{ dataset: DatasetJson }>().dataset.profile!.num_rows, 2);
      await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run}/artifacts/file?path=data/blob.parquet`,
        headers: f.developer,
        payload: Buffer.from([1, 2, 3]),
      });
      const blob = await register({
        name: 'blob',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/data/blob.parquet`,
      });
      expectStatus(blob, 201);
      const b = blob.json<{ dataset: DatasetJson }>().dataset;
      assert.equal(b.digest, `sha256:${sha256(Buffer.from([1, 2, 3]))}`);
      assert.equal(b.schema, null);
      assert.deepEqual(b.profile, { num_files: 1, num_bytes: 3 });
    });

    test('registered from an artifact folder: the digest covers every file and its path', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const files: [string, string][] = [
        ['shards/part-0.csv', 'a,b\n1,2\n'],
        ['shards/part-1.csv', 'a,b\n3,4\n5,6\n'],
        ['shards/meta/info.json', '{"rows": 3}'],
      ];
      for (const [p, content] of files) {
        expectStatus(
          await app.http.inject({
            method: 'PUT',
            url: `/api/v1/runs/${run}/artifacts/file?path=${encodeURIComponent(p)}`,
            headers: f.developer,
            payload: content,
          }),
          200,
        );
      }
      const manifest = [...files]
        .map(([p, content]) => [p.slice('shards/'.length), sha256(content)] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([p, h]) => `${p}\u0000${h}\n`)
        .join('');
      const artifactUri = `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/shards`;
      const res = await call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, {
        name: 'shards',
        artifactUri,
      });
      expectStatus(res, 201);
      const d = res.json<{ dataset: DatasetJson }>().dataset;
      assert.equal(d.digest, `sha256:${sha256(manifest)}`);
      assert.equal(d.schema, null);
      assert.deepEqual(d.profile, {
        num_files: 3,
        num_bytes: files.reduce((n, [, c]) => n + Buffer.byteLength(c), 0),
      });
      // The same files at another place: the same version. A renamed file: another version.
      const run2 = await createRun(app, f.experimentId, f.developer);
      for (const [p, content] of files) {
        await app.http.inject({
          method: 'PUT',
          url: `/api/v1/runs/${run2}/artifacts/file?path=${encodeURIComponent(p.replace('shards/', 'copy/'))}`,
          headers: f.developer,
          payload: content,
        });
      }
      const same = await call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, {
        name: 'shards',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run2}/artifacts/copy`,
      });
      expectStatus(same, 200);
      assert.equal(same.json<{ dataset: DatasetJson }>().dataset.datasetId, d.datasetId);
      await app.http.inject({
        method: 'DELETE',
        url: `/api/v1/runs/${run2}/artifacts/file?path=copy/part-1.csv`,
        headers: f.developer,
      });
      await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run2}/artifacts/file?path=copy/part-9.csv`,
        headers: f.developer,
        payload: files[1]![1],
      });
      const renamed = await call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, {
        name: 'shards',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run2}/artifacts/copy`,
      });
      expectStatus(renamed, 201);
      // A logged model's folder and a whole run's artifacts register the same way.
      const whole = await call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, {
        name: 'whole-run',
        artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts`,
      });
      expectStatus(whole, 201);
      assert.equal(whole.json<{ dataset: DatasetJson }>().dataset.profile!.num_files, 3);
    });

    test('registered from an external URI with its digest', async () => {
      const register = (body: Record<string, unknown>) =>
        call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, body);
      const res = await register({ name: 'lake', uri: 's3://lake/churn/2026-11', digest: 'md5:0123abcd' });
      expectStatus(res, 201);
      const d = res.json<{ dataset: DatasetJson; created: boolean }>();
      assert.equal(d.created, true);
      assert.equal(d.dataset.sourceType, 's3');
      assert.deepEqual(JSON.parse(d.dataset.source), { uri: 's3://lake/churn/2026-11' });
      assert.equal(d.dataset.digest, 'md5:0123abcd');
      assert.equal(d.dataset.schema, null);
      assert.equal(d.dataset.profile, null);
      const again = await register({ name: 'lake', uri: 's3://lake/elsewhere', digest: 'md5:0123abcd' });
      expectStatus(again, 200);
      assert.equal(again.json<{ dataset: DatasetJson }>().dataset.datasetId, d.dataset.datasetId);

      // Concurrent registrations of one new content: one version, created once.
      const racing = await Promise.all(
        Array.from({ length: 6 }, () => register({ name: 'race', uri: 's3://lake/race', digest: 'race-1' })),
      );
      assert.deepEqual(racing.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(racing.map((r) => r.json<{ dataset: DatasetJson }>().dataset.datasetId)).size, 1);
      assert.equal(racing.filter((r) => r.json<{ created: boolean }>().created).length, 1);
    });

    test('bad registrations are refused and write nothing; roles apply', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run}/artifacts/file?path=ok.csv`,
        headers: f.developer,
        payload: 'a\n1\n',
      });
      const otherRun = await createRun(app, f.otherExperimentId);
      await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${otherRun}/artifacts/file?path=ok.csv`,
        headers: adminAuth,
        payload: 'a\n1\n',
      });
      const hidden = `ds-${engine}-hidden`;
      await createProject(app, hidden, `ds-${engine}-team`);
      const hiddenExp = await createExperiment(app, hidden, 'hidden');
      const okUri = `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/ok.csv`;
      const register = (body: unknown, headers: Headers = f.developer, project = f.project) =>
        call(app, 'POST', `/api/v1/projects/${project}/datasets`, headers, body);
      await writesNothing(app, 'bad registrations', async () => {
        for (const [body, status] of [
          [{ name: 'x', uri: 'not a uri', digest: 'd' }, 400],
          [{ name: 'x', uri: 's3://b/k', digest: 'has space' }, 400],
          [{ name: 'x', uri: 's3://b/k', digest: 'semi;colon' }, 400],
          [{ name: 'x', uri: 's3://b/k', digest: 'd'.repeat(129) }, 400],
          [{ name: 'x', uri: 's3://b/k' }, 400],
          [{ name: 'x', digest: 'd' }, 400],
          [{ name: 'x' }, 400],
          [{ name: 'x', artifactUri: okUri, uri: 's3://b/k', digest: 'd' }, 400],
          [{ name: 'x', artifactUri: okUri, digest: 'd' }, 400],
          [{ name: '', artifactUri: okUri }, 400],
          [{ name: 'x'.repeat(501), artifactUri: okUri }, 400],
          [{ name: 'n\u0000', artifactUri: okUri }, 400],
          [{ name: 'x', artifactUri: okUri, extra: 1 }, 400],
          [{ name: 'x', artifactUri: 'file:///etc/passwd' }, 400],
          [{ name: 'x', artifactUri: 's3://bucket/key' }, 400],
          [
            { name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/../../../../etc/passwd` },
            400,
          ],
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/%2e%2e/x.csv` }, 400],
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/a\\..\\b.csv` }, 400],
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/missing.csv` }, 404],
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/empty-folder` }, 404],
          [{ name: 'x', artifactUri: 'mlflow-artifacts:/' }, 404],
          [{ name: 'x', artifactUri: 'mlflow-artifacts:/999999/x.csv' }, 404],
          // Artifacts of another project (readable, or not even that) are not this project's data.
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${f.otherExperimentId}/${otherRun}/artifacts/ok.csv` }, 400],
          [{ name: 'x', artifactUri: `mlflow-artifacts:/${hiddenExp}/x.csv` }, 404],
        ] as const) {
          expectStatus(await register(body), status, JSON.stringify(body));
        }
        const good = { name: 'roles', artifactUri: okUri };
        expectStatus(await register(good, f.viewer), 403, 'viewer');
        expectStatus(await register(good, f.outsider), 404, 'outsider');
        expectStatus(await register(good, f.scopedToOther), 403, 'scoped to another project');
        expectStatus(await register(good, {}), 401, 'anonymous');
        expectStatus(await register(good, f.developer, 'no-such-project'), 404, 'unknown project');
        // A developer of the project cannot register another project's artifacts in it either.
        expectStatus(
          await register(
            { name: 'x', artifactUri: `mlflow-artifacts:/${f.experimentId}/${run}/artifacts/ok.csv` },
            adminAuth,
            f.other,
          ),
          400,
          'artifacts of another project',
        );
      });
    });

    test('versions are listed and shown to viewers; runs link to versions of their project', async () => {
      const run = await createRun(app, f.experimentId, f.developer);
      const reg = await call(app, 'POST', `/api/v1/projects/${f.project}/datasets`, f.developer, {
        name: 'linked',
        uri: 'https://data.example/linked.csv',
        digest: 'sha256:beef',
      });
      expectStatus(reg, 201);
      const id = reg.json<{ dataset: DatasetJson }>().dataset.datasetId;
      const link = (runId: string, body: unknown, headers: Headers = f.developer) =>
        call(app, 'POST', `/api/v1/runs/${runId}/inputs`, headers, body);
      expectStatus(await link(run, { datasetId: id, context: 'training' }), 204);
      expectStatus(await link(run, { datasetId: id, context: 'training' }), 204); // again: no change
      assert.deepEqual(
        (await runInputs(run)).map((i) => [i.dataset.name, i.tags]),
        [['linked', [{ key: CONTEXT, value: 'training' }]]],
      );
      const shown = await call(app, 'GET', `/api/v1/datasets/${id}`, f.viewer);
      expectStatus(shown, 200);
      assert.deepEqual(shown.json<{ runs: unknown[] }>().runs, [
        {
          runId: run,
          runName: shown.json<{ runs: { runName: string }[] }>().runs[0]!.runName,
          experimentId: f.experimentId,
          context: 'training',
        },
      ]);
      // Listing: by name, newest first; a NUL in the name finds nothing (no 5xx).
      const list = await call(app, 'GET', `/api/v1/projects/${f.project}/datasets`, f.viewer);
      expectStatus(list, 200);
      const items = list.json<{ items: DatasetJson[] }>().items;
      assert.deepEqual(
        items.map((d) => d.name),
        [...items.map((d) => d.name)].sort(),
      );
      assert.ok(items.some((d) => d.datasetId === id));
      const nul = await call(app, 'GET', `/api/v1/projects/${f.project}/datasets?name=%00`, f.viewer);
      expectStatus(nul, 200);
      assert.deepEqual(nul.json(), { items: [] });

      // Refusals.
      const otherReg = await call(app, 'POST', `/api/v1/projects/${f.other}/datasets`, adminAuth, {
        name: 'elsewhere',
        uri: 's3://b/elsewhere',
        digest: 'e1',
      });
      expectStatus(otherReg, 201);
      const elsewhere = otherReg.json<{ dataset: DatasetJson }>().dataset.datasetId;
      const deletedRun = await createRun(app, f.experimentId, f.developer);
      ok(await mlflow(app, 'POST', 'runs/delete', { run_id: deletedRun }, f.developer));
      await writesNothing(app, 'refused links', async () => {
        expectStatus(await link(run, { datasetId: elsewhere }), 404, 'a version of another project');
        expectStatus(await link(run, { datasetId: `d-${'0'.repeat(32)}` }), 404, 'unknown version');
        expectStatus(await link(run, { datasetId: 'nope' }), 400, 'malformed id');
        expectStatus(await link(run, { datasetId: id, context: 'x'.repeat(501) }), 400, 'long context');
        expectStatus(await link(run, { datasetId: id, context: 'a\u0000' }), 400, 'NUL context');
        expectStatus(await link(run, { datasetId: id }, f.viewer), 403, 'viewer');
        expectStatus(await link(run, { datasetId: id }, f.outsider), 404, 'outsider');
        expectStatus(await link(run, { datasetId: id }, {}), 401, 'anonymous');
        expectStatus(await link('0'.repeat(32), { datasetId: id }), 404, 'unknown run');
        expectStatus(await link(deletedRun, { datasetId: id }), 400, 'deleted run');
      });
      expectStatus(await call(app, 'GET', `/api/v1/datasets/${id}`, f.outsider), 404, 'outsider get');
      expectStatus(await call(app, 'GET', `/api/v1/datasets/${id}`, {}), 401, 'anonymous get');
      expectStatus(await call(app, 'GET', `/api/v1/datasets/${elsewhere}`, f.viewer), 404, 'viewer of another project');
      expectStatus(await call(app, 'GET', `/api/v1/datasets/d-${'0'.repeat(32)}`, adminAuth), 404);
      expectStatus(await call(app, 'GET', '/api/v1/datasets/x', adminAuth), 400);
      expectStatus(await call(app, 'GET', `/api/v1/projects/${f.project}/datasets`, f.outsider), 404, 'outsider list');
      expectStatus(await call(app, 'GET', `/api/v1/projects/${f.project}/datasets`, {}), 401, 'anonymous list');
    });
  });
}
