// The lineage graph and the reproducibility record of model versions, on both engines: a dataset
// used by a run, the logged model it produced, versions registered from it and copied from those
// (models:/ by number and by alias), the evaluation gate's held-out set and a release; walks up,
// down and both ways, depth, the node cap, what callers of other projects see, and bad node forms.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { call, type Headers } from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import {
  createLoggedModel,
  createRun,
  mlflow,
  ok,
  projectFixture,
  type ProjectFixture,
} from '../../testing/tracking-fixtures.js';
import type { LineageGraph } from './service.js';

const MLMODEL = `flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
`;
const MODEL_FILES: Record<string, string> = {
  MLmodel: MLMODEL,
  'model.pkl': 'pickled bytes',
  'requirements.txt': 'mlflow==3.1.0\nscikit-learn==1.5.2\n',
  'python_env.yaml': 'python: 3.11.9\n',
  'conda.yaml': `name: mlflow-env\ndependencies:\n  - python=3.11.9\n  - pip:\n    - ${'x'.repeat(70_000)}\n`,
};

interface Scenario {
  run: string;
  loggedModel: string;
  train: string;
  valid: string;
  holdout: string;
  release: string;
  otherRun: string;
}

const edgeKey = (e: LineageGraph['edges'][number]) => `${e.from} -${e.relation}-> ${e.to}`;

for (const engine of ENGINES) {
  describe(`lineage and version reproducibility (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let f: ProjectFixture;
    let s: Scenario;

    const lineage = (query: Record<string, string | number>, headers: Headers = f.viewer, project = f.project) =>
      call(
        app,
        'GET',
        `/api/v1/projects/${project}/lineage?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`,
        headers,
      );
    const graph = async (query: Record<string, string | number>, headers: Headers = f.viewer) => {
      const res = await lineage(query, headers);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<LineageGraph>();
    };
    const ids = (g: LineageGraph) => g.nodes.map((n) => n.id).sort();
    const edges = (g: LineageGraph) => g.edges.map(edgeKey).sort();
    const node = (g: LineageGraph, id: string) => {
      const n = g.nodes.find((x) => x.id === id);
      assert.ok(n, `${id} in ${ids(g).join(', ')}`);
      return n;
    };
    const errorOf = (res: LightMyRequestResponse, status: number, what: string) => {
      assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body}`);
      return res.json<{ error: { code: string; message: string; details?: { field?: string } } }>().error;
    };
    const native = async (path: string, body: unknown, headers: Headers = f.developer) => {
      const res = await call(app, 'POST', `/api/v1/projects/${f.project}/${path}`, headers, body);
      assert.ok(res.statusCode < 300, `${path}: ${res.statusCode} ${res.body}`);
      return res.json<Record<string, unknown>>();
    };

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      f = await projectFixture(app, `lin-${engine}`);

      // A run with code version and params, using two datasets, producing a logged model.
      const run = await createRun(app, f.experimentId, f.developer, [
        { key: 'mlflow.source.git.commit', value: 'abc123def' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.runName', value: 'trainer' },
      ]);
      ok(
        await mlflow(
          app,
          'POST',
          'runs/log-batch',
          {
            run_id: run,
            params: [
              { key: 'lr', value: '0.1' },
              { key: 'depth', value: '4' },
            ],
          },
          f.developer,
        ),
      );
      ok(
        await mlflow(
          app,
          'POST',
          'runs/log-inputs',
          {
            run_id: run,
            datasets: [
              {
                tags: [{ key: 'mlflow.data.context', value: 'training' }],
                dataset: { name: 'churn-train', digest: 'aaaa1111', source_type: 's3', source: '{"uri":"s3://t"}' },
              },
              {
                tags: [{ key: 'mlflow.data.context', value: 'validation' }],
                dataset: { name: 'churn-valid', digest: 'bbbb2222', source_type: 's3', source: '{"uri":"s3://v"}' },
              },
            ],
          },
          f.developer,
        ),
      );
      const loggedModel = await createLoggedModel(
        app,
        f.experimentId,
        { name: 'clf', source_run_id: run },
        f.developer,
      );
      for (const [p, c] of Object.entries(MODEL_FILES)) {
        const res = await app.http.inject({
          method: 'PUT',
          url: `/api/2.0/mlflow-artifacts/artifacts/${f.experimentId}/models/${loggedModel}/artifacts/${p}`,
          headers: { ...f.developer, 'content-type': 'application/octet-stream' },
          payload: Buffer.from(c),
        });
        assert.equal(res.statusCode, 200, res.body);
      }
      ok(await mlflow(app, 'POST', 'runs/outputs', { run_id: run, models: [{ model_id: loggedModel }] }, f.developer));
      const record = await call(app, 'GET', `/api/v1/runs/${run}/reproducibility`, f.viewer);
      assert.equal(record.statusCode, 200, record.body);
      const datasetIds = new Map(
        record.json<{ datasets: { datasetId: string; name: string }[] }>().datasets.map((d) => [d.name, d.datasetId]),
      );
      const holdout = (
        await native('datasets', { name: 'churn-holdout', uri: 's3://lake/holdout.csv', digest: 'cccc3333' })
      ).dataset as { datasetId: string };

      // churn v1 from the logged model; churn v2 copied from v1 by number; churn-copy v1 by alias.
      await native('models', { name: 'churn' });
      await native('models', { name: 'churn-copy' });
      await native('models/churn/versions', { source: `models:/${loggedModel}` });
      await native('models/churn/versions', { source: 'models:/churn/1' });
      const alias = await call(app, 'PUT', `/api/v1/projects/${f.project}/models/churn/aliases/champion`, f.developer, {
        version: 1,
      });
      assert.equal(alias.statusCode, 200, alias.body);
      await native('models/churn-copy/versions', { source: 'models:/churn@champion' });

      // The gate's held-out set: churn v1 gated with a spec snapshot; v2 has only the model's spec.
      const db = app.database.db;
      const churn = await db
        .selectFrom('registered_models')
        .select('id')
        .where('name', '=', 'churn')
        .executeTakeFirstOrThrow();
      const now = Date.now();
      await db
        .insertInto('evaluation_specs')
        .values({
          model_id: churn.id,
          dataset_id: holdout.datasetId,
          task: 'binary',
          label_column: 'churned',
          thresholds: '[]',
          champion_rule: null,
          updated_by: 'admin',
          updated_at: now,
        })
        .execute();
      await db
        .insertInto('model_version_gates')
        .values({
          id: randomUUID(),
          model_id: churn.id,
          version: 1,
          status: 'passed',
          job_id: null,
          spec: JSON.stringify({
            datasetId: holdout.datasetId,
            task: 'binary',
            labelColumn: 'churned',
            thresholds: [],
          }),
          scorer: 'pyfunc',
          rows: 100,
          metrics: '{}',
          checks: '[]',
          champion_version: null,
          champion_metrics: null,
          reason: null,
          override_by: null,
          override_reason: null,
          override_at: null,
          created_at: now,
          started_at: now,
          finished_at: now,
        })
        .execute();
      // A release row as the releases module writes it.
      const release = `rel-${randomUUID()}`;
      await db
        .insertInto('releases')
        .values({
          id: release,
          model_id: churn.id,
          version: 1,
          environment: 'production',
          status: 'approved',
          requested_by: `lin-${engine}-dev`,
          requested_by_id: null,
          note: null,
          decided_by: null,
          decided_by_id: null,
          decision: null,
          decision_reason: null,
          decided_at: null,
          created_at: now,
          updated_at: now,
        })
        .execute();

      // Deployments as the serving module writes them, each with its traffic revisions. churn-prod
      // served v1 (which the release put there), then a 90/10 split with v2 (deployed by hand);
      // churn-staging serves v2 with a shadow copy to v1 (a shadow answers no one: not served).
      // An external runtime at a closed port: the data plane's load fails fast and marks it failed,
      // as it is written here (so the status read below does not race that load).
      const deployment = async (
        name: string,
        environment: 'staging' | 'production',
        revisions: { traffic: { version: number; weight: number }[]; shadow?: { version: number; percent: number } }[],
      ) => {
        const id = `dep-${randomUUID()}`;
        const last = revisions[revisions.length - 1]!;
        await db
          .insertInto('deployments')
          .values({
            id,
            name,
            project_id: churnProject.project_id,
            model_id: churn.id,
            environment,
            runtime: 'external',
            external: JSON.stringify({ url: 'http://127.0.0.1:9' }),
            routing_key: null,
            batching: null,
            traffic: JSON.stringify(last.traffic),
            shadow: last.shadow ? JSON.stringify(last.shadow) : null,
            stable_version: last.traffic[0]!.version,
            previous_version: null,
            status: 'failed',
            failure: 'connection refused',
            revision: revisions.length,
            created_by: 'admin',
            created_at: now,
            updated_at: now,
          })
          .execute();
        await db
          .insertInto('deployment_revisions')
          .values(
            revisions.map((r, i) => ({
              deployment_id: id,
              revision: i + 1,
              traffic: JSON.stringify(r.traffic),
              shadow: r.shadow ? JSON.stringify(r.shadow) : null,
              stable_version: r.traffic[0]!.version,
              reason: i === 0 ? 'created' : 'traffic',
              actor: 'admin',
              at: now + i,
            })),
          )
          .execute();
      };
      const churnProject = await db
        .selectFrom('registered_models')
        .select('project_id')
        .where('id', '=', churn.id)
        .executeTakeFirstOrThrow();
      await deployment(`churn-prod-${engine}`, 'production', [
        { traffic: [{ version: 1, weight: 100 }] },
        {
          traffic: [
            { version: 1, weight: 90 },
            { version: 2, weight: 10 },
          ],
        },
      ]);
      await deployment(`churn-staging-${engine}`, 'staging', [
        { traffic: [{ version: 2, weight: 100 }], shadow: { version: 1, percent: 100 } },
      ]);

      // A run of the other project consumes the logged model.
      const otherRun = await createRun(app, f.otherExperimentId);
      ok(await mlflow(app, 'POST', 'runs/log-inputs', { run_id: otherRun, models: [{ model_id: loggedModel }] }));

      s = {
        run,
        loggedModel,
        train: datasetIds.get('churn-train')!,
        valid: datasetIds.get('churn-valid')!,
        holdout: holdout.datasetId,
        release,
        otherRun,
      };
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('upstream of a version: the logged model, its run, the run datasets and the held-out set', async () => {
      const g = await graph({ node: 'model_version:churn/1', direction: 'upstream' });
      assert.equal(g.root, 'model_version:churn/1');
      assert.equal(g.truncated, false);
      assert.deepEqual(
        ids(g),
        [
          `dataset:${s.holdout}`,
          `dataset:${s.train}`,
          `dataset:${s.valid}`,
          `logged_model:${s.loggedModel}`,
          'model_version:churn/1',
          `run:${s.run}`,
        ].sort(),
      );
      assert.deepEqual(
        edges(g),
        [
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/1`,
          `dataset:${s.train} -input-> run:${s.run}`,
          `dataset:${s.valid} -input-> run:${s.run}`,
          `logged_model:${s.loggedModel} -registered_as-> model_version:churn/1`,
          `run:${s.run} -output-> logged_model:${s.loggedModel}`,
          `run:${s.run} -source-> model_version:churn/1`,
        ].sort(),
      );
      const input = g.edges.find((e) => e.from === `dataset:${s.train}`)!;
      assert.equal(input.context, 'training');
      assert.equal(g.edges.find((e) => e.from === `dataset:${s.valid}`)!.context, 'validation');

      const run = node(g, `run:${s.run}`);
      assert.equal(run.kind, 'run');
      assert.equal(run.label, 'trainer');
      assert.equal(run.project, f.project);
      assert.equal(run.attributes.codeCommit, 'abc123def');
      assert.equal(run.attributes.paramsCount, 2);
      assert.equal(run.attributes.status, 'RUNNING');
      const v = node(g, 'model_version:churn/1');
      assert.equal(v.label, 'churn v1');
      assert.equal(v.attributes.source, `models:/${s.loggedModel}`);
      assert.match(String(v.attributes.checksum), /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(v.attributes.aliases, ['champion']);
      assert.equal(v.attributes.stage, 'None');
      assert.equal(v.attributes.gateStatus, 'passed');
      const d = node(g, `dataset:${s.train}`);
      assert.deepEqual([d.attributes.name, d.attributes.digest], ['churn-train', 'aaaa1111']);
      assert.equal(node(g, `logged_model:${s.loggedModel}`).attributes.name, 'clf');

      // One link deep: only the direct parents.
      const shallow = await graph({ node: 'model_version:churn/1', direction: 'upstream', depth: 1 });
      assert.deepEqual(
        ids(shallow),
        [`dataset:${s.holdout}`, `logged_model:${s.loggedModel}`, 'model_version:churn/1', `run:${s.run}`].sort(),
      );
      const none = await graph({ node: 'model_version:churn/1', depth: 0 });
      assert.deepEqual(ids(none), ['model_version:churn/1']);
      assert.deepEqual(none.edges, []);
    });

    test('copies link to the version they were registered from, by number and by alias', async () => {
      const byNumber = await graph({ node: 'model_version:churn/2', direction: 'upstream', depth: 1 });
      assert.deepEqual(
        edges(byNumber),
        [
          'model_version:churn/1 -source-> model_version:churn/2',
          // v2 has no gate run: its held-out set is the model's spec.
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/2`,
        ].sort(),
      );
      const byAlias = await graph({ node: 'model_version:churn-copy/1', direction: 'upstream' });
      assert.ok(edges(byAlias).includes('model_version:churn/1 -source-> model_version:churn-copy/1'));
      // Through the original, up to the run's datasets.
      assert.ok(ids(byAlias).includes(`dataset:${s.train}`));
      assert.ok(!edges(byAlias).includes(`run:${s.run} -source-> model_version:churn-copy/1`));
    });

    test('downstream of a dataset: the run, its model, versions, copies, the release and deployments', async () => {
      const g = await graph({ node: `dataset:${s.train}`, direction: 'downstream', depth: 4 }, f.developer);
      assert.deepEqual(
        edges(g),
        [
          `dataset:${s.train} -input-> run:${s.run}`,
          `run:${s.run} -output-> logged_model:${s.loggedModel}`,
          `run:${s.run} -source-> model_version:churn/1`,
          `logged_model:${s.loggedModel} -registered_as-> model_version:churn/1`,
          `logged_model:${s.loggedModel} -input-> run:${s.otherRun}`,
          'model_version:churn/1 -source-> model_version:churn/2',
          'model_version:churn/1 -source-> model_version:churn-copy/1',
          `model_version:churn/1 -released_as-> release:${s.release}`,
          `release:${s.release} -deployed_to-> deployment:churn-prod-${engine}`,
          `model_version:churn/2 -served_by-> deployment:churn-prod-${engine}`,
          `model_version:churn/2 -served_by-> deployment:churn-staging-${engine}`,
        ].sort(),
      );
      const release = node(g, `release:${s.release}`);
      assert.deepEqual(
        [
          release.attributes.environment,
          release.attributes.status,
          release.attributes.model,
          release.attributes.version,
        ],
        ['production', 'approved', 'churn', 1],
      );
      // The run of the other project, which the developer may read (as a viewer) is labelled with it.
      assert.equal(node(g, `run:${s.otherRun}`).project, f.other);

      const shallow = await graph({ node: `dataset:${s.train}`, direction: 'downstream', depth: 1 });
      assert.deepEqual(ids(shallow), [`dataset:${s.train}`, `run:${s.run}`].sort());

      const heldOut = await graph({ node: `dataset:${s.holdout}`, direction: 'downstream', depth: 1 });
      assert.deepEqual(
        edges(heldOut),
        [
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/1`,
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/2`,
        ].sort(),
      );
    });

    test('deployments: through the release that put a version there, else straight from the version', async () => {
      const prod = `deployment:churn-prod-${engine}`;
      const staging = `deployment:churn-staging-${engine}`;
      // v1 reached production by its release; the staging shadow of v1 answered no one.
      const v1 = await graph({ node: 'model_version:churn/1', direction: 'downstream', depth: 2 });
      assert.deepEqual(
        edges(v1).filter((e) => !e.startsWith('model_version:churn/2') && e.includes('deployment:')),
        [`release:${s.release} -deployed_to-> ${prod}`],
      );
      const v2 = await graph({ node: 'model_version:churn/2', direction: 'downstream', depth: 1 });
      assert.deepEqual(edges(v2), [
        `model_version:churn/2 -served_by-> ${prod}`,
        `model_version:churn/2 -served_by-> ${staging}`,
      ]);

      const up = await graph({ node: prod, direction: 'upstream', depth: 3 });
      assert.equal(up.root, prod);
      assert.deepEqual(
        edges(up).filter((e) => !e.startsWith('model_version:churn/1 -source->')),
        [
          `model_version:churn/1 -released_as-> release:${s.release}`,
          `model_version:churn/2 -served_by-> ${prod}`,
          `release:${s.release} -deployed_to-> ${prod}`,
          `run:${s.run} -source-> model_version:churn/1`,
          `logged_model:${s.loggedModel} -registered_as-> model_version:churn/1`,
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/1`,
          `dataset:${s.holdout} -evaluated_on-> model_version:churn/2`,
        ].sort(),
      );
      const d = node(up, prod);
      assert.equal(d.kind, 'deployment');
      assert.equal(d.label, `churn-prod-${engine}`);
      assert.deepEqual(
        [d.attributes.environment, d.attributes.model, d.attributes.status, d.attributes.runtime, d.attributes.traffic],
        ['production', 'churn', 'failed', 'external', ['v1 90%', 'v2 10%']],
      );
      // Nothing comes after a deployment.
      const down = await graph({ node: staging, direction: 'downstream' });
      assert.deepEqual(ids(down), [staging]);

      // Names, not internal ids; other projects' deployments are not found through this one.
      const bad = await lineage({ node: 'deployment:../x' });
      assert.equal(errorOf(bad, 400, 'malformed deployment').details?.field, 'node');
      errorOf(await lineage({ node: 'deployment:nope' }), 404, 'unknown deployment');
      errorOf(await lineage({ node: prod }, f.developer, f.other), 404, 'deployment of another project');
    });

    test('both ways is the union of the two walks; the node cap truncates', async () => {
      const up = await graph({ node: `logged_model:${s.loggedModel}`, direction: 'upstream' });
      const down = await graph({ node: `logged_model:${s.loggedModel}`, direction: 'downstream' });
      const both = await graph({ node: `logged_model:${s.loggedModel}` });
      assert.deepEqual(ids(both), [...new Set([...ids(up), ...ids(down)])].sort());
      assert.deepEqual(edges(both), [...new Set([...edges(up), ...edges(down)])].sort());
      assert.equal(both.truncated, false);

      const capped = await graph({ node: `logged_model:${s.loggedModel}`, maxNodes: 3 });
      assert.equal(capped.truncated, true);
      assert.equal(capped.nodes.length, 3);
      assert.equal(capped.nodes[0]!.id, `logged_model:${s.loggedModel}`);
      const kept = new Set(ids(capped));
      assert.ok(capped.edges.every((e) => kept.has(e.from) && kept.has(e.to)));
      assert.ok(capped.edges.length >= 2);
    });

    test('releases and runs as roots', async () => {
      const r = await graph({ node: `release:${s.release}`, direction: 'upstream', depth: 1 });
      assert.deepEqual(edges(r), [`model_version:churn/1 -released_as-> release:${s.release}`]);
      assert.equal(node(r, `release:${s.release}`).label, 'production release of churn v1');
      const run = await graph({ node: `run:${s.run}`, direction: 'both', depth: 1 });
      assert.deepEqual(
        ids(run),
        [
          `dataset:${s.train}`,
          `dataset:${s.valid}`,
          `logged_model:${s.loggedModel}`,
          'model_version:churn/1',
          `run:${s.run}`,
        ].sort(),
      );
    });

    test('only projects the caller reads: outsiders get 404, other projects are left out', async () => {
      // The viewer of this project cannot read the other project: its run is left out.
      const viewer = await graph({ node: `logged_model:${s.loggedModel}`, direction: 'downstream' }, f.viewer);
      assert.ok(!ids(viewer).includes(`run:${s.otherRun}`));
      const admin = await graph({ node: `logged_model:${s.loggedModel}`, direction: 'downstream' }, adminAuth);
      assert.ok(ids(admin).includes(`run:${s.otherRun}`));

      const q = { node: 'model_version:churn/1' };
      errorOf(await lineage(q, f.outsider), 404, 'outsider');
      errorOf(await lineage(q, f.anonymous), 401, 'anonymous');
      errorOf(await lineage(q, f.scopedToOther), 403, 'token scoped to another project');
      // A node of another project is not found in this one.
      errorOf(await lineage({ node: `run:${s.otherRun}` }, adminAuth), 404, 'run of another project');
      const repro = await call(
        app,
        'GET',
        `/api/v1/projects/${f.project}/models/churn/versions/1/reproducibility`,
        f.outsider,
      );
      errorOf(repro, 404, 'outsider reproducibility');
    });

    test('malformed nodes are 400 naming node; unknown ones 404', async () => {
      const bad = [
        'run',
        'bogus:1',
        'run:',
        'run:xyz',
        'logged_model:123',
        'model_version:churn',
        'model_version:churn/abc',
        'model_version:churn/1/2',
        'dataset:a b',
        `release:${'x'.repeat(200)}`,
      ];
      for (const n of bad) {
        const e = errorOf(await lineage({ node: n }), 400, n);
        assert.equal(e.details?.field, 'node', `${n}: ${e.message}`);
      }
      assert.match(errorOf(await lineage({}), 400, 'no node').details?.field ?? '', /node/);
      errorOf(await lineage({ node: 'model_version:churn/1', direction: 'sideways' }), 400, 'direction');
      errorOf(await lineage({ node: 'model_version:churn/1', depth: 11 }), 400, 'depth');
      errorOf(await lineage({ node: 'model_version:churn/1', maxNodes: 0 }), 400, 'maxNodes');
      for (const n of [
        `run:${'0'.repeat(32)}`,
        'model_version:churn/99',
        'model_version:nope/1',
        'dataset:d-nope',
        'release:rel-nope',
        `logged_model:m-${'0'.repeat(32)}`,
      ]) {
        const e = errorOf(await lineage({ node: n }), 404, n);
        assert.equal(e.code, 'not_found');
      }
      errorOf(await lineage({ node: 'model_version:churn/1' }, adminAuth, 'no-such-project'), 404, 'no project');
    });

    test("a version's reproducibility record: files, environment, the run's record, the held-out set", async () => {
      const res = await call(
        app,
        'GET',
        `/api/v1/projects/${f.project}/models/churn/versions/1/reproducibility`,
        f.viewer,
      );
      assert.equal(res.statusCode, 200, res.body);
      const r = res.json<{
        version: Record<string, unknown>;
        environment: { name: string; content: string; size: number; truncated: boolean }[];
        run: {
          runId: string;
          code: { gitCommit: string; entryPoint: string };
          params: unknown[];
          datasets: { name: string; context: string }[];
        } | null;
        heldOutDataset: Record<string, unknown> | null;
      }>();
      assert.equal(r.version.modelName, 'churn');
      assert.equal(r.version.version, 1);
      assert.equal(r.version.source, `models:/${s.loggedModel}`);
      assert.equal(r.version.storageLocation, `mlflow-artifacts:/${f.experimentId}/models/${s.loggedModel}/artifacts`);
      assert.equal(r.version.runId, s.run);
      assert.equal(r.version.framework, 'sklearn');
      assert.equal(r.version.format, 'cloudpickle');
      assert.match(String(r.version.checksum), /^sha256:/);
      assert.equal(
        r.version.sizeBytes,
        Object.values(MODEL_FILES).reduce((n, c) => n + Buffer.byteLength(c), 0),
      );
      assert.deepEqual(
        r.environment.map((e) => [e.name, e.truncated]),
        [
          ['requirements.txt', false],
          ['python_env.yaml', false],
          ['conda.yaml', true],
        ],
      );
      assert.equal(r.environment[0]!.content, MODEL_FILES['requirements.txt']);
      assert.equal(r.environment[2]!.content.length, 64 * 1024);
      assert.equal(r.environment[2]!.size, Buffer.byteLength(MODEL_FILES['conda.yaml']!));
      assert.equal(r.run?.runId, s.run);
      assert.equal(r.run?.code.gitCommit, 'abc123def');
      assert.equal(r.run?.code.entryPoint, 'train.py');
      assert.equal(r.run?.params.length, 2);
      assert.deepEqual(
        r.run?.datasets.map((d) => [d.name, d.context]),
        [
          ['churn-train', 'training'],
          ['churn-valid', 'validation'],
        ],
      );
      assert.deepEqual(r.heldOutDataset, {
        datasetId: s.holdout,
        name: 'churn-holdout',
        digest: 'cccc3333',
        task: 'binary',
        labelColumn: 'churned',
        from: 'gate',
      });

      // A copy has the same files and run; the model without a spec has no held-out set.
      const copy = await call(
        app,
        'GET',
        `/api/v1/projects/${f.project}/models/churn-copy/versions/1/reproducibility`,
        f.viewer,
      );
      assert.equal(copy.statusCode, 200, copy.body);
      const c = copy.json<typeof r>();
      assert.equal(c.run?.runId, s.run);
      assert.equal(c.heldOutDataset, null);
      assert.equal(c.environment.length, 3);

      for (const [path, status] of [
        ['models/churn/versions/9/reproducibility', 404],
        ['models/nope/versions/1/reproducibility', 404],
        ['models/churn/versions/zero/reproducibility', 400],
      ] as const) {
        errorOf(await call(app, 'GET', `/api/v1/projects/${f.project}/${path}`, f.viewer), status, path);
      }
    });
  });
}
