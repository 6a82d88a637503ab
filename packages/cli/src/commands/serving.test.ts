// End-to-end: the serving commands (the built binary) against a real server serving real ONNX
// models: deploy --wait (ready and failed), listings, predict through both data-plane routes and
// its errors, traffic splits, canary and shadow rollouts with their status, pause/resume/abort,
// an automatic promotion, rollback, delete, and the refusals (non-maintainers, bad flags).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HangarClient, type Deployment, type Rollout } from '@hangar/sdk';
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

const PASSWORD = 'cli-serving-password';
const TOKEN = `hgr_cliserving${'s'.repeat(24)}`;
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
const rows = readFileSync(path.join(EVAL, 'binary.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',').slice(0, 30).map(Number));
const oipBody = (batch: number[][]) => ({
  inputs: [{ name: 'X', datatype: 'FP32', shape: [batch.length, 30], data: batch.flat() }],
});
const record = (r: number[]) => Object.fromEntries(r.map((v, i) => [`f${i}`, v]));
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('hangar serving commands against a real server', () => {
  let server: ServerProcess;
  let admin: HangarClient;
  let configDir: string;
  let devToken: string;

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
  /** Inference straight over HTTP, as any client would send it (traffic for the rollouts). */
  async function infer(name: string, batch: number[][]): Promise<number> {
    const res = await fetch(`${server.url}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(oipBody(batch)),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return Number(res.headers.get('x-hangar-model-version'));
  }
  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    assertFreshBuild();
    server = await startCliServer({ password: PASSWORD, token: TOKEN });
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    configDir = tempDir('hangar-cli-serving-');
    await ok(['login', '--url', server.url, '--token', TOKEN]);

    // A developer: may read and infer, not change deployments (maintainers).
    await admin.createUser({ body: { username: 'cli-dev', password: 'cli-dev-password-1' } });
    await admin.setProjectMember({ project: 'default', username: 'cli-dev', body: { role: 'developer' } });
    const dev = new HangarClient({ baseUrl: server.url, username: 'cli-dev', password: 'cli-dev-password-1' });
    devToken = (await dev.createToken({ body: { name: 'cli-dev-token' } })).token;

    const mlflow = async <T>(route: string, body: unknown): Promise<T> => {
      const res = await fetch(`${server.url}/api/2.0/mlflow/${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as T;
    };
    const experimentId = (await admin.createExperiment({ project: 'default', body: { name: 'cli-serving' } }))
      .experimentId;
    const runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId }))
      .run.info.run_id;
    const upload = async (file: string, content: Buffer | string) => {
      const res = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(file)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
        body: content,
      });
      assert.ok(res.status < 300, `upload ${file}: ${res.status} ${await res.text()}`);
    };
    for (const [folder, bytes] of [
      ['good', readFileSync(path.join(EVAL, 'binary.onnx'))],
      ['flipped', readFileSync(path.join(SERVING, 'binary_flipped.onnx'))],
      ['broken', Buffer.from('these bytes are no ONNX graph')],
    ] as const) {
      await upload(`${folder}/MLmodel`, ONNX_MLMODEL);
      await upload(`${folder}/model.onnx`, bytes);
    }
    await admin.createRegisteredModel({ project: 'default', body: { name: 'clf' } });
    // v1 good, v2 flipped, v3 good again (a harmless candidate), v4 broken.
    for (const folder of ['good', 'flipped', 'good', 'broken']) {
      await admin.createModelVersion({ project: 'default', name: 'clf', body: { source: `runs:/${runId}/${folder}` } });
    }
  });

  after(async () => {
    await server?.stop();
    removeTempDirs();
  });

  test('deploy --wait: ready, or failed with the reason and exit 1; bad flags and refusals', async () => {
    const r = await ok(['deploy', 'churn', '--model', 'clf', '--version', '1', '--wait']);
    assert.match(r.stdout, /^deployment: +churn\n/);
    assert.match(r.stdout, /\nstatus: +ready\n/);
    assert.match(r.stdout, /\ntraffic: +v1 100%\n/);
    assert.match(r.stdout, /\nenvironment: +production\n/);
    assert.match(r.stderr, /Waiting for churn to load/);

    const staged = await okJson<Deployment>([
      'deploy',
      'churn-staging',
      '--model',
      'clf',
      '--version',
      '1=50,3=50',
      '--environment',
      'staging',
      '--runtime',
      'onnx',
      '--wait',
    ]);
    assert.equal(staged.status, 'ready');
    assert.equal(staged.runtime, 'onnx');
    assert.deepEqual(staged.traffic, [
      { version: 1, weight: 50 },
      { version: 3, weight: 50 },
    ]);

    const broken = await fails(
      ['deploy', 'broken', '--model', 'clf', '--version', '4', '--wait'],
      1,
      /\nhangar: deployment broken failed: \S/,
    );
    assert.match(broken.stdout, /\nstatus: +failed\n/);
    // Without --wait the answer comes at once, still loading.
    const quick = await ok(['deploy', 'quick', '--model', 'clf', '--version', '3']);
    assert.match(quick.stdout, /\nstatus: +(deploying|ready)\n/);
    assert.match(quick.stderr, /hangar deployments get quick/);

    await fails(['deploy', 'churn', '--model', 'clf', '--version', '1'], 1, /^hangar: 409 conflict: .*exists already/);
    await fails(['deploy', 'x', '--model', 'nope', '--version', '1'], 1, /^hangar: 404 not_found: no model "nope"/);
    await fails(['deploy', 'x', '--model', 'clf', '--version', '99'], 1, /^hangar: 404 .*no version 99/);
    await fails(['deploy', 'x', '--model', 'clf', '--version', '1=60,2=30'], 2, /weights must sum to 100, not 90/);
    await fails(['deploy', 'x', '--model', 'clf', '--version', 'one'], 2, /traffic item "one" is not VERSION=WEIGHT/);
    await fails(
      ['deploy', 'x', '--model', 'clf', '--version', '1', '--runtime', 'external'],
      2,
      /needs --external-url/,
    );
    await fails(
      ['deploy', 'x', '--model', 'clf', '--version', '1', '--runtime', 'onnx', '--external-url', 'http://a'],
      2,
      /--external-url goes with --runtime external/,
    );
    await fails(
      ['deploy', 'x', '--model', 'clf', '--version', '1', '--environment', 'moon'],
      2,
      /Allowed choices are production, staging/,
    );
    await fails(['deploy', 'x', '--version', '1'], 2, /required option '--model <model>'/);
    await fails(['deploy', 'x', '--model', 'clf', '--version', '1'], 1, /^hangar: 403 forbidden: /, devToken);
  });

  test('deployments list and get: a table, key values, --json', async () => {
    const r = await ok(['deployments', 'list']);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+MODEL\s+ENVIRONMENT\s+STATUS\s+TRAFFIC\s+SHADOW\s+ROLLOUT\s+UPDATED$/);
    assert.match(r.stdout, /\nchurn +clf +production +ready +v1 100% +- +- +\d{4}-/);
    assert.match(r.stdout, /\nchurn-staging +clf +staging +ready +v1 50% · v3 50% +- +- /);
    assert.match(r.stdout, /\nbroken +clf +production +failed +v4 100% /);
    const json = await okJson<{ deployments: Deployment[] }>(['deployments', 'list'], devToken);
    assert.deepEqual(json.deployments.map((d) => d.name).sort(), ['broken', 'churn', 'churn-staging', 'quick']);

    const got = await ok(['deployments', 'get', 'churn'], devToken);
    assert.match(got.stdout, /\nmodel: +clf\n/);
    assert.match(got.stdout, /\nstable version: +1\n/);
    assert.match(got.stdout, /\nrollout: +-\n/);
    const failed = await okJson<Deployment>(['deployments', 'get', 'broken']);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.failure);
    assert.match((await ok(['deployments', 'get', 'broken'])).stdout, /\nfailure: +\S/);

    await fails(['deployments', 'get', 'nope'], 1, /^hangar: 404 not_found: no deployment "nope"/);
    await fails(['deployments', 'list', '--project', 'nope'], 1, /^hangar: 404 not_found: no project "nope"/);
    assert.equal((await ok(['deployments', 'list', '--json', '--project', 'default'])).code, 0);
  });

  test('predict: OIP bodies to /v2, records to /v1, pinned versions, request ids, and errors', async () => {
    const oip = await ok(['predict', 'churn', '--json', JSON.stringify(oipBody(rows.slice(0, 2)))], devToken);
    const answer = JSON.parse(oip.stdout) as Json;
    assert.equal(answer.model_name, 'churn');
    assert.equal(answer.model_version, '1');
    assert.deepEqual(
      answer.outputs.map((o: Json) => o.shape[0]),
      answer.outputs.map(() => 2),
    );
    assert.match(oip.stderr, /^request id \S+, version 1\n$/);

    // The request id sent is the one logged.
    const pinned = await ok([
      'predict',
      'churn-staging',
      '--json',
      JSON.stringify(oipBody([rows[0]!])),
      '--version',
      '3',
      '--request-id',
      'cli-req-0001',
    ]);
    assert.equal((JSON.parse(pinned.stdout) as Json).model_version, '3');
    assert.match(pinned.stderr, /^request id cli-req-0001, version 3\n$/);
    const logged = await until('the prediction to be logged', async () => {
      const p = await admin.listPredictions({ project: 'default', name: 'churn-staging', limit: 50 });
      return p.predictions.find((x) => x.requestId === 'cli-req-0001');
    });
    assert.equal(logged.route, 'pinned');
    assert.equal(logged.version, 3);

    // Ground truth for it, from a CSV and from JSON lines; labels for requests not logged are kept.
    const labelDir = tempDir('hangar-cli-labels-');
    const csv = path.join(labelDir, 'labels.csv');
    writeFileSync(csv, 'request_id,label\r\ncli-req-0001,1\r\nnot-logged-yet,0\r\n');
    assert.deepEqual(await okJson(['labels', 'churn-staging', '--file', csv]), { accepted: 2, matched: 1 });
    assert.match((await ok(['labels', 'churn-staging', '--file', csv])).stdout, /^2 labels stored; 1 of them match /);
    const jsonl = path.join(labelDir, 'labels.jsonl');
    writeFileSync(jsonl, '{"requestId": "cli-req-0001", "label": "0"}\n');
    assert.deepEqual(await okJson(['labels', 'churn-staging', '--file', jsonl]), { accepted: 1, matched: 1 });
    const badCsv = path.join(labelDir, 'bad.csv');
    writeFileSync(badCsv, 'id,label\nx,1\n');
    await fails(
      ['labels', 'churn-staging', '--file', badCsv],
      2,
      /the CSV header must name request_id and one of label or value/,
    );
    writeFileSync(badCsv, 'request_id,value\nx,high\n');
    await fails(['labels', 'churn-staging', '--file', badCsv], 2, /row 1: value must be a number/);
    writeFileSync(badCsv, 'request_id,label,value\nx,1,2\n');
    await fails(['labels', 'churn-staging', '--file', badCsv], 2, /one of label or value/);
    await fails(['labels', 'nope', '--file', csv], 1, /^hangar: 404 not_found: no deployment "nope"/);

    const records = await ok(['predict', 'churn', '--instances', JSON.stringify(rows.slice(0, 3).map(record))]);
    const recAnswer = JSON.parse(records.stdout) as Json;
    assert.equal(recAnswer.predictions.length, 3);
    assert.equal(recAnswer.model_version, '1');
    assert.match(records.stderr, new RegExp(`^request id ${recAnswer.id}, version 1\n$`));

    const file = path.join(tempDir('hangar-cli-predict-'), 'body.json');
    writeFileSync(
      file,
      JSON.stringify({ dataframe_split: { columns: rows[0]!.map((_v, i) => `f${i}`), data: rows.slice(0, 2) } }),
    );
    assert.equal((JSON.parse((await ok(['predict', 'churn', '--file', file])).stdout) as Json).predictions.length, 2);
    const stdin = await hangar(['predict', 'churn', '--file', '-'], {
      configDir,
      input: JSON.stringify(oipBody([rows[1]!])),
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal((JSON.parse(stdin.stdout) as Json).outputs.length > 0, true);

    // The data plane's {"error": "..."} answers read like every other API error, request id included.
    const bad = await fails(
      [
        'predict',
        'churn',
        '--json',
        JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 29], data: rows[0]!.slice(0, 29) }] }),
      ],
      1,
      /^hangar: 400 invalid_input: .*X.*\(request id \S+\)\n$/,
    );
    assert.equal(bad.stdout, '');
    await fails(
      ['predict', 'churn', '--instances', '[{"f0": 1}]'],
      1,
      /^hangar: 400 invalid_input: input "X" takes 30 columns, the request has 1 /,
    );
    await fails(
      ['predict', 'nope', '--json', JSON.stringify(oipBody([rows[0]!]))],
      1,
      /^hangar: 404 not_found: no deployment "nope"/,
    );
    await fails(
      ['predict', 'churn', '--json', JSON.stringify(oipBody([rows[0]!])), '--version', '2'],
      1,
      /^hangar: 404 not_found: /,
    );
    await fails(
      ['predict', 'broken', '--json', JSON.stringify(oipBody([rows[0]!]))],
      1,
      /^hangar: (503 unavailable|404 not_found): /,
    );
    await fails(
      ['predict', 'churn', '--json', JSON.stringify(oipBody([rows[0]!]))],
      3,
      /^hangar: 401 /,
      'hgr_not-a-real-token-at-all-xxxxxxxx',
    );

    await fails(['predict', 'churn'], 2, /exactly one of --json BODY, --file FILE or --instances JSON/);
    await fails(['predict', 'churn', '--json', '{}', '--instances', '[]'], 2, /exactly one of/);
    await fails(['predict', 'churn', '--json', '{"inputs": '], 2, /--json is not valid JSON/);
    await fails(['predict', 'churn', '--instances', '{"f0": 1}'], 2, /--instances must be a JSON list/);
    await fails(['predict', 'churn', '--file', '/no/such/file.json'], 2, /--file \/no\/such\/file\.json: ENOENT/);
    await fails(
      ['predict', 'churn', '--instances', '[{"f0": 1}]', '--version', '1'],
      2,
      /--version pins a version for Open Inference Protocol bodies/,
    );
  });

  test('traffic sets the split; bad splits are usage errors', async () => {
    const r = await ok(['traffic', 'churn', '1=90', '2=10']);
    assert.equal(r.stdout, 'churn: v1 90% · v2 10% (revision 2)\n');
    const d = await okJson<Deployment>(['traffic', 'churn', '1=100']);
    assert.deepEqual(d.traffic, [{ version: 1, weight: 100 }]);
    assert.equal(d.revision, 3);
    await fails(['traffic', 'churn', '1=90', '2=20'], 2, /must sum to 100, not 110/);
    await fails(['traffic', 'churn', '1=50', '1=50'], 2, /version 1 appears twice/);
    await fails(['traffic', 'churn', '1:100'], 2, /traffic item "1:100" is not VERSION=WEIGHT/);
    await fails(['traffic', 'churn', '1=100'], 1, /^hangar: 403 forbidden: /, devToken);
    await fails(['traffic', 'churn'], 2, /missing required argument 'split'/);
  });

  test('a canary: status with its step, pause and resume, traffic refused, rollback aborts it', async () => {
    const started = await ok([
      'rollout',
      'start',
      'churn',
      '--version',
      '3',
      '--strategy',
      'canary',
      '--steps',
      '10,50,100',
      '--step-seconds',
      '3600',
    ]);
    assert.match(started.stdout, /\nstrategy: +canary\n/);
    assert.match(started.stdout, /\nstatus: +running\n/);
    assert.match(started.stdout, /\nstep: +1 of 3: 10% since \d{4}-/);
    assert.match(started.stdout, /\nsteps: +10% → 50% → 100%\n/);
    assert.match(started.stdout, /\nNo step analysed yet\.\n/);

    const listed = await ok(['deployments', 'list']);
    assert.match(
      listed.stdout,
      /\nchurn +clf +production +ready +v1 90% · v3 10% +- +canary v3 running, step 1 of 3 \(10%\)/,
    );

    const paused = await okJson<Rollout>(['rollout', 'pause', 'churn', '--reason', 'lunch']);
    assert.equal(paused.status, 'paused');
    const status = await okJson<{ rollout: Rollout; shadowReport: null }>(['rollout', 'status', 'churn'], devToken);
    assert.equal(status.rollout.status, 'paused');
    assert.equal(status.shadowReport, null);
    assert.match((await ok(['rollout', 'resume', 'churn'])).stdout, /\nstatus: +running\n/);
    await fails(['rollout', 'abort', 'churn'], 1, /^hangar: 403 forbidden: /, devToken);
    await fails(['traffic', 'churn', '1=100'], 1, /^hangar: 409 /);
    await fails(['rollout', 'start', 'churn', '--version', '2', '--strategy', 'canary'], 1, /^hangar: 409 /);

    const rolled = await ok(['rollback', 'churn']);
    assert.match(rolled.stdout, /^Rolled back churn: v1 100% \(revision \d+\); rollout aborted\n$/);
    const after = await okJson<{ rollout: Rollout }>(['rollout', 'status', 'churn']);
    assert.equal(after.rollout.status, 'aborted');
    assert.equal((await okJson<Deployment>(['deployments', 'get', 'churn'])).traffic[0]!.weight, 100);

    await fails(
      ['rollout', 'status', 'churn-staging'],
      1,
      /^hangar: 404 not_found: deployment "churn-staging" has had no rollout/,
    );
    await fails(
      ['rollout', 'start', 'churn', '--version', '3', '--strategy', 'canary', '--steps', '10,50'],
      2,
      /must end at 100/,
    );
    await fails(
      ['rollout', 'start', 'churn', '--version', '3', '--strategy', 'canary', '--steps', '50,10,100'],
      2,
      /must increase/,
    );
    await fails(
      ['rollout', 'start', 'churn', '--version', '3', '--strategy', 'canary', '--percent', '5'],
      2,
      /--percent applies to shadow/,
    );
    await fails(
      ['rollout', 'start', 'churn', '--version', '3', '--strategy', 'blue'],
      2,
      /Allowed choices are canary, shadow/,
    );
    await fails(['rollout', 'start', 'churn', '--version', '3'], 2, /required option '--strategy <strategy>'/);
    await fails(
      ['rollout', 'start', 'churn', '--version', '3', '--strategy', 'canary', '--max-error-rate', '2'],
      2,
      /from 0 to 1/,
    );
  });

  test('a shadow rollout: the status shows the comparison report', async () => {
    const started = await okJson<Rollout>(['rollout', 'start', 'churn', '--version', '2', '--strategy', 'shadow']);
    assert.equal(started.strategy, 'shadow');
    await fails(
      ['rollout', 'start', 'churn', '--version', '2', '--strategy', 'shadow', '--step-seconds', '5'],
      2,
      /--step-seconds applies to canary rollouts/,
    );
    for (let i = 0; i < 10; i++) assert.equal(await infer('churn', [rows[i]!]), 1);
    const report = await until('the shadow answers to be compared', async () => {
      const s = await okJson<{ rollout: Rollout; shadowReport: Json }>(['rollout', 'status', 'churn']);
      return s.shadowReport.compared >= 10 ? s.shadowReport : undefined;
    });
    // The flipped model disagrees with the primary on (nearly) every row.
    assert.ok(report.agreementRate < 0.5, JSON.stringify(report));
    const human = await ok(['rollout', 'status', 'churn'], devToken);
    assert.match(human.stdout, /\nstrategy: +shadow\n/);
    assert.match(human.stdout, /\nshadow report:\n {2}requests: +\d+\n {2}compared: +\d+\n/);
    assert.match(human.stdout, /\n {2}agreement: +\d+\.\d%\n/);
    assert.match(human.stdout, /\n {2}latency delta: +p50 /);
    assert.match((await ok(['deployments', 'list'])).stdout, /\nchurn +.* v2 100% +shadow v2 running/);
    const aborted = await ok(['rollout', 'abort', 'churn', '--reason', 'disagrees']);
    assert.match(aborted.stdout, /\nstatus: +aborted\n/);
    assert.match(aborted.stdout, /\nreason: +disagrees\n/);
  });

  test('a canary that passes its analysis is promoted; rollback returns to the version before', async () => {
    await ok([
      'rollout',
      'start',
      'churn',
      '--version',
      '3',
      '--strategy',
      'canary',
      '--steps',
      '50,100',
      '--step-seconds',
      '1',
      '--min-requests',
      '3',
      '--max-p99-ratio',
      '1000',
    ]);
    // The same row every time: both versions answer alike, so the analysis passes.
    const promoted = await until(
      'the canary to be promoted',
      async () => {
        for (let i = 0; i < 10; i++) await infer('churn', [rows[0]!]);
        const r = await admin.getRollout({ project: 'default', name: 'churn' });
        assert.notEqual(r.status, 'aborted', JSON.stringify(r.analyses));
        return r.status === 'promoted' ? r : undefined;
      },
      60_000,
    );
    assert.equal(promoted.analyses.at(-1)!.decision, 'pass');
    const status = await ok(['rollout', 'status', 'churn']);
    assert.match(status.stdout, /\nstatus: +promoted\n/);
    assert.doesNotMatch(status.stdout, /\nstep: /, 'a finished rollout has no current step');
    assert.match(status.stdout, /\nreason: +\S/);
    assert.match(
      status.stdout,
      /\nSTEP +PERCENT +DECISION +STABLE REQ +CAND REQ +STABLE ERR +CAND ERR +STABLE P99 +CAND P99 +SHIFT +LIVE +CHECKS\n/,
    );
    assert.match(status.stdout, /\n1 +50% +pass +\d+ +\d+ +0\.0% +0\.0% +[\d.]+ms +[\d.]+ms +tvd 0\.000 +\S.*pass/);
    const d = await okJson<Deployment>(['deployments', 'get', 'churn']);
    assert.deepEqual(d.traffic, [{ version: 3, weight: 100 }]);
    assert.equal(d.stableVersion, 3);

    const back = await okJson<Deployment>(['rollback', 'churn']);
    assert.deepEqual(back.traffic, [{ version: 1, weight: 100 }]);
    assert.equal(await infer('churn', [rows[0]!]), 1);
  });

  test('deployments delete asks for --yes without a terminal, then deletes', async () => {
    await fails(['deployments', 'delete', 'quick'], 2, /refusing to delete deployment "quick".*pass --yes/);
    await fails(['deployments', 'delete', 'quick', '--yes'], 1, /^hangar: 403 forbidden: /, devToken);
    const r = await ok(['deployments', 'delete', 'quick', '--yes']);
    assert.equal(r.stdout, 'Deleted deployment quick.\n');
    await fails(['deployments', 'get', 'quick'], 1, /404 not_found/);
    await fails(['rollback', 'quick'], 1, /404 not_found/);
  });
});
