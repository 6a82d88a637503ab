// End-to-end: `hangar models ...` (the built binary) against a real server: listings as tables and
// JSON, aliases, the lineage tree, promotion through the gate and approval by a second person, and
// the exits of bad requests (unknown models, missing arguments, refused approvals).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HangarClient, type GetLineageResponse, type Release } from '@hangar/sdk';
import type { ServerProcess } from '@hangar/server/testing';
import {
  ROOT,
  assertFreshBuild,
  assertNoStack,
  hangar,
  removeTempDirs,
  startCliServer,
  tempDir,
  type Result,
} from '../cli-harness.js';

const PASSWORD = 'cli-models-password';
const TOKEN = `hgr_climodels${'m'.repeat(24)}`;
const FIXTURES = path.join(ROOT, 'packages/server/src/modules/evaluation/fixtures');
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CPUExecutionProvider]
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;

/** The first cell of each row of a table, header excluded. */
const firstColumn = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0]);

describe('hangar models against a real server', () => {
  let server: ServerProcess;
  let admin: HangarClient;
  let configDir: string;
  let devToken: string;
  let runId: string;

  async function run(args: string[], token?: string): Promise<Result> {
    return hangar(args, { configDir, ...(token ? { env: { HANGAR_TOKEN: token } } : {}) });
  }
  async function ok(args: string[], token?: string): Promise<Result> {
    const r = await run(args, token);
    assert.equal(r.code, 0, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  }
  async function okJson<T>(args: string[], token?: string): Promise<T> {
    return JSON.parse((await ok([...args, '--json'], token)).stdout) as T;
  }
  async function fails(args: string[], code: number, message: RegExp, token?: string): Promise<Result> {
    const r = await run(args, token);
    assert.equal(r.code, code, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message, `hangar ${args.join(' ')}`);
    assertNoStack(r);
    return r;
  }
  async function mlflow<T>(route: string, body: unknown): Promise<T> {
    const res = await fetch(`${server.url}/api/2.0/mlflow/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  }
  async function upload(file: string, content: Buffer | string): Promise<void> {
    const res = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(file)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
      body: content,
    });
    assert.ok(res.status < 300, `upload ${file}: ${res.status} ${await res.text()}`);
  }

  before(async () => {
    assertFreshBuild();
    // Releases stop at approved here: deploying them is the serving commands' (serving.test.ts).
    server = await startCliServer({ password: PASSWORD, token: TOKEN }, ['--release-auto-deploy', 'false']);
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    configDir = tempDir('hangar-cli-models-');
    await ok(['login', '--url', server.url, '--token', TOKEN]);

    // A developer (who requests releases) besides the admin (who approves them).
    await admin.createUser({ body: { username: 'cli-dev', password: 'cli-dev-password-1' } });
    await admin.setProjectMember({ project: 'default', username: 'cli-dev', body: { role: 'developer' } });
    const dev = new HangarClient({ baseUrl: server.url, username: 'cli-dev', password: 'cli-dev-password-1' });
    devToken = (await dev.createToken({ body: { name: 'cli-dev-token' } })).token;

    const experimentId = (await admin.createExperiment({ project: 'default', body: { name: 'cli-models' } }))
      .experimentId;
    runId = (
      await mlflow<{ run: { info: { run_id: string } } }>('runs/create', {
        experiment_id: experimentId,
        run_name: 'trainer',
        tags: [{ key: 'mlflow.source.git.commit', value: '0123456789abcdef' }],
      })
    ).run.info.run_id;
    await mlflow('runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: { name: 'train', digest: 'feedbeef', source_type: 's3', source: '{"uri":"s3://t"}' },
        },
      ],
    });
    await upload('onnx/MLmodel', ONNX_MLMODEL);
    await upload('onnx/model.onnx', readFileSync(path.join(FIXTURES, 'binary.onnx')));
    await upload('data/heldout.csv', readFileSync(path.join(FIXTURES, 'binary.csv')));
    const heldout = await admin.registerDataset({
      project: 'default',
      body: { name: 'heldout', artifactUri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/data/heldout.csv` },
    });

    // churn: low risk, no evaluation spec; fraud: critical, gated on the held-out set.
    await admin.createRegisteredModel({ project: 'default', body: { name: 'churn' } });
    await admin.createRegisteredModel({ project: 'default', body: { name: 'fraud', riskTier: 'critical' } });
    await admin.putEvaluationSpec({
      project: 'default',
      name: 'fraud',
      body: {
        datasetId: heldout.dataset.datasetId,
        task: 'binary',
        labelColumn: 'label',
        thresholds: [{ metric: 'accuracy', op: '>=', threshold: 0.5 }],
        championRule: null,
      },
    });
    const source = `runs:/${runId}/onnx`;
    await admin.createModelVersion({ project: 'default', name: 'churn', body: { source } });
    await admin.createModelVersion({ project: 'default', name: 'churn', body: { source: 'models:/churn/1' } });
    await admin.createModelVersion({ project: 'default', name: 'fraud', body: { source } });
    // The gates run in the server's worker; wait for them to settle.
    for (const [name, version] of [
      ['fraud', 1],
      ['churn', 1],
      ['churn', 2],
    ] as const) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await admin.getModelVersionGate({ project: 'default', name, version });
        if (r.gate && !['pending', 'running'].includes(r.gate.status)) break;
        if (Date.now() > deadline) throw new Error(`the gate of ${name} v${version} did not settle`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  });

  after(async () => {
    await server?.stop();
    removeTempDirs();
  });

  test('models list: a table, --json, --filter', async () => {
    const r = await ok(['models', 'list']);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+RISK\s+OWNER\s+ALIASES\s+LATEST\s+UPDATED$/);
    assert.deepEqual(firstColumn(r.stdout), ['churn', 'fraud']);
    assert.match(
      lines.find((l) => l.startsWith('fraud'))!,
      /^fraud\s+critical\s+\S+\s+-\s+v1\s+\d{4}-/,
    );
    const json = await okJson<{ items: { name: string; riskTier: string }[]; nextPageToken: string | null }>([
      'models',
      'list',
      '--project',
      'default',
    ]);
    assert.deepEqual(
      json.items.map((m) => [m.name, m.riskTier]),
      [
        ['churn', 'low'],
        ['fraud', 'critical'],
      ],
    );
    assert.equal(json.nextPageToken, null);
    assert.deepEqual(firstColumn((await ok(['models', 'list', '--filter', "name LIKE 'chu%'"])).stdout), ['churn']);
    assert.equal(
      (await ok(['models', 'list', '-f', "name = 'nothing'"])).stdout,
      'No registered models in default match.\n',
    );
    await fails(['models', 'list', '--filter', 'name ==== 1'], 1, /^hangar: 400 /);
    await fails(['models', 'list', '--project', 'nope'], 1, /404 not_found: no project "nope"/);
  });

  test('models versions and alias: stage, aliases, gate, source', async () => {
    await ok(['models', 'alias', 'churn', 'champion', '1']);
    const r = await ok(['models', 'versions', 'churn']);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^VERSION\s+STAGE\s+ALIASES\s+GATE\s+CREATED\s+SOURCE$/);
    assert.deepEqual(firstColumn(r.stdout), ['2', '1']);
    assert.match(lines[1]!, /^2\s+None\s+-\s+skipped\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+models:\/churn\/1$/);
    assert.match(lines[2]!, new RegExp(`^1\\s+None\\s+champion\\s+skipped\\s+.*runs:/${runId}/onnx$`));
    const fraud = await ok(['models', 'versions', 'fraud']);
    assert.match(fraud.stdout.split('\n')[1]!, /^1\s+None\s+-\s+passed\s/);

    const json = await okJson<{ items: { version: number; aliases: string[] }[] }>(['models', 'versions', 'churn']);
    assert.deepEqual(
      json.items.map((v) => [v.version, v.aliases]),
      [
        [2, []],
        [1, ['champion']],
      ],
    );
    const moved = await ok(['models', 'alias', 'churn', 'champion', '2']);
    assert.equal(moved.stdout, 'churn@champion -> version 2\n');
    const deleted = await okJson<{ deleted: boolean }>(['models', 'alias', 'churn', 'champion', '--delete']);
    assert.equal(deleted.deleted, true);
    assert.ok(!(await ok(['models', 'versions', 'churn'])).stdout.includes('champion'));

    await fails(['models', 'versions', 'nope'], 1, /404 not_found: Registered Model with name=nope not found/);
    await fails(['models', 'alias', 'churn', 'champion'], 2, /say which version the alias points to/);
    await fails(['models', 'alias', 'churn', 'champion', '1', '--delete'], 2, /not both/);
    await fails(['models', 'alias', 'churn', 'champion', 'one'], 2, /version must be a whole number/);
    await fails(['models', 'alias', 'churn', 'x', '9'], 1, /^hangar: 404 /);
  });

  test('models lineage: an indented tree for people, the graph with --json', async () => {
    const r = await ok(['models', 'lineage', 'churn', '2']);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^churn v2 {2}\[model_version:churn\/2\] {2}stage None, gate skipped/);
    assert.equal(lines[1], 'upstream (what it came from):');
    assert.match(lines[2]!, /^ {2}<- source: churn v1 {2}\[model_version:churn\/1\]/);
    assert.match(
      lines[3]!,
      new RegExp(`^ {5}<- source: trainer {2}\\[run:${runId}\\] {2}RUNNING, commit 0123456789ab`),
    );
    assert.match(
      lines[4]!,
      /^ {8}<- input \(training\): train \(feedbeef\) {2}\[dataset:d-[0-9a-f]+\] {2}digest feedbeef$/,
    );

    const down = await ok(['models', 'lineage', 'churn', '1', '--direction', 'downstream']);
    assert.match(
      down.stdout,
      /downstream \(what came from it\):\n {2}-> source: churn v2 {2}\[model_version:churn\/2\]/,
    );
    assert.doesNotMatch(down.stdout, /upstream/);

    const g = await okJson<GetLineageResponse>(['models', 'lineage', 'churn', '2', '--depth', '1']);
    assert.equal(g.root, 'model_version:churn/2');
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ['model_version:churn/2', 'model_version:churn/1'],
    );
    assert.deepEqual(g.edges, [
      { from: 'model_version:churn/1', to: 'model_version:churn/2', relation: 'source', context: null },
    ]);
    const capped = await run(['models', 'lineage', 'churn', '2', '--max-nodes', '2']);
    assert.equal(capped.code, 0, capped.stderr);
    assert.match(capped.stderr, /truncated at 2 nodes/);

    await fails(['models', 'lineage', 'nope', '1'], 1, /404 not_found: no model version nope\/1 in project "default"/);
    await fails(['models', 'lineage', 'churn', 'abc'], 2, /version must be a whole number/);
    await fails(['models', 'lineage', 'churn', '1', '--direction', 'sideways'], 2, /Allowed choices are upstream/);
    await fails(['models', 'lineage', 'churn', '1', '--depth', '11'], 2, /from 1 to 10/);
  });

  test('promote, the approval queue, approve and reject', async () => {
    // A critical model's production release waits for a maintainer who is not the requester.
    const requested = await okJson<Release>(
      ['models', 'promote', 'fraud', '1', '--to', 'production', '--note', 'q3 refresh'],
      devToken,
    );
    assert.equal(requested.status, 'approval');
    assert.equal(requested.requestedBy, 'cli-dev');
    const queue = await ok(['models', 'releases', '--status', 'approval']);
    assert.match(
      queue.stdout.split('\n')[0]!,
      /^ID\s+MODEL\s+VERSION\s+ENVIRONMENT\s+STATUS\s+REQUESTED BY\s+CREATED$/,
    );
    assert.deepEqual(firstColumn(queue.stdout), [requested.id]);
    assert.match(queue.stdout, /fraud\s+1\s+production\s+approval\s+cli-dev/);

    await fails(['models', 'approve', requested.id], 1, /^hangar: 403 forbidden: /, devToken);
    await fails(['models', 'reject', requested.id], 2, /required option '--reason <text>'/);
    const approved = await ok(['models', 'approve', requested.id, '--reason', 'metrics look right']);
    assert.match(approved.stdout, /^release: +\S+\n/);
    assert.match(approved.stdout, /\nstatus: +approved\n/);
    assert.match(approved.stdout, /\ndecision: +approved by admin /);
    assert.equal(
      (await ok(['models', 'releases', '--status', 'approval'])).stdout,
      'No releases in status approval.\n',
    );
    await fails(['models', 'approve', requested.id], 1, /^hangar: 409 /);

    const second = await okJson<Release>(['models', 'promote', 'fraud', '1', '--to', 'production'], devToken);
    const rejected = await okJson<Release>(['models', 'reject', second.id, '--reason', 'not this quarter']);
    assert.equal(rejected.status, 'rejected');

    // A low-risk model's release needs nobody.
    const staging = await okJson<Release>(['models', 'promote', 'churn', '2', '--to', 'staging'], devToken);
    assert.equal(staging.status, 'approved');
    const all = await okJson<{ items: Release[] }>(['models', 'releases', '--model', 'fraud']);
    assert.deepEqual(all.items.map((r) => r.status).sort(), ['approved', 'rejected']);

    await fails(['models', 'promote', 'fraud', '9', '--to', 'staging'], 1, /^hangar: 404 /);
    await fails(['models', 'promote', 'fraud', '1'], 2, /required option '--to <environment>'/);
    await fails(['models', 'promote', 'fraud', '1', '--to', 'moon'], 2, /Allowed choices are staging, production/);
    await fails(['models', 'approve', 'no-such-release'], 1, /^hangar: 404 /);
    await fails(['models', 'releases', '--status', 'sleeping'], 2, /Allowed choices are gate/);
  });
});
