// Releases and approvals on both engines: request rules, gate outcomes (gate rows written directly),
// the four-eyes rule, racing approvers, reject/cancel/rollback, MLflow stages following releases,
// and the transitions, audit events and domain events every step leaves. Then the scenario
// with the real gate (ONNX fixtures scored by the worker).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { newId } from '../../core/ids.js';
import type { GateStatus } from '../../db/schema.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  call,
  countRows,
  createProject,
  createTeam,
  createUser,
  expectStatus,
  grant,
  type Headers,
} from '../../testing/identity-fixtures.js';
import { createExperiment, putRunArtifact } from '../../testing/tracking-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

type Json = Record<string, unknown>;
interface ReleaseJson {
  id: string;
  model: string;
  version: number;
  environment: string;
  status: string;
  requestedBy: string;
  decision: { decision: string; by: string; reason: string | null } | null;
  current: boolean;
  transitions: { seq: number; status: string; actor: string; reason: string | null }[];
  gate: { id: string; status: string } | null;
}

const P = 'rel-proj';
const base = `/api/v1/projects/${P}`;

for (const engine of ENGINES) {
  describe(`releases (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let runId: string;
    const who: Record<string, Headers> = {};
    let gateClock = Date.now() + 3_600_000;

    const modelId = async (name: string) => {
      const res = await call(app, 'GET', `${base}/models/${name}`, adminAuth);
      expectStatus(res, 200, `get model ${name}`);
      return res.json<{ id: string }>().id;
    };

    /** A model with `versions` versions (all from the same run). */
    const model = async (name: string, riskTier: 'low' | 'critical', versions: number) => {
      expectStatus(await call(app, 'POST', `${base}/models`, adminAuth, { name, riskTier }), 201, `model ${name}`);
      for (let i = 0; i < versions; i++) {
        const res = await call(app, 'POST', `${base}/models/${name}/versions`, adminAuth, { source: `runs:/${runId}` });
        expectStatus(res, 201, `version of ${name}`);
      }
      return modelId(name);
    };

    /** Writes a gate result as the gate code would (the newest row is the result). */
    const setGate = async (
      id: string,
      version: number,
      status: GateStatus,
      o: { reason?: string; override?: boolean } = {},
    ) => {
      gateClock += 1000;
      const gateId = newId(gateClock);
      await app.database.db
        .insertInto('model_version_gates')
        .values({
          id: gateId,
          model_id: id,
          version,
          status,
          job_id: null,
          spec: null,
          scorer: null,
          rows: null,
          metrics: status === 'passed' || status === 'failed' ? JSON.stringify({ accuracy: 0.9 }) : null,
          checks: null,
          champion_version: null,
          champion_metrics: null,
          reason: o.reason ?? null,
          override_by: o.override ? 'admin' : null,
          override_reason: o.override ? 'known issue, accepted' : null,
          override_at: o.override ? gateClock : null,
          created_at: gateClock,
          started_at: null,
          finished_at: status === 'pending' || status === 'running' ? null : gateClock,
        })
        .execute();
      if (status !== 'pending' && status !== 'running') await app.services.releases.gateSettled(id, version);
      return gateId;
    };

    const request = (name: string, version: number, body: Json, h: Headers = who.dev!) =>
      call(app, 'POST', `${base}/models/${name}/versions/${version}/releases`, h, body);
    const requested = async (name: string, version: number, environment: string, h: Headers = who.dev!) => {
      const res = await request(name, version, { environment }, h);
      expectStatus(res, 201, `request ${name} v${version} -> ${environment}`);
      return res.json<ReleaseJson>();
    };
    const act = (id: string, verb: string, h: Headers, body: Json = {}) =>
      call(app, 'POST', `${base}/releases/${id}/${verb}`, h, body);
    const get = async (id: string) => {
      const res = await call(app, 'GET', `${base}/releases/${id}`, who.viewer!);
      expectStatus(res, 200, `get release ${id}`);
      return res.json<ReleaseJson>();
    };
    const stage = async (name: string, version: number) => {
      const res = await call(app, 'GET', `${base}/models/${name}/versions/${version}`, adminAuth);
      return res.json<{ stage: string }>().stage;
    };
    const counts = async () => ({
      releases: await countRows(app, 'releases'),
      transitions: await countRows(app, 'release_transitions'),
      events: await countRows(app, 'events'),
    });
    const writesNothing = async (what: string, fn: () => Promise<void>) => {
      const before = await counts();
      await fn();
      assert.deepEqual(await counts(), before, `${what} must write nothing`);
    };
    const events = async (type: string) => {
      const res = await call(app, 'GET', `${base}/events?type=${type}&limit=1000`, who.viewer!);
      expectStatus(res, 200, `events ${type}`);
      return res.json<{ items: { data: Json }[] }>().items.map((e) => e.data);
    };

    before(async () => {
      store = await createTestStore(engine);
      // Deployment of approved releases is serving's, tested in serving/release-deploy.test.ts.
      app = await buildTestApp(store, { releaseAutoDeploy: false });
      await app.http.ready();
      app.start();
      await createTeam(app, 'rel-team');
      await createProject(app, P, 'rel-team');
      for (const [name, role] of [
        ['rel-dev', 'developer'],
        ['rel-dev2', 'developer'],
        ['rel-viewer', 'viewer'],
        ['rel-m1', 'maintainer'],
        ['rel-m2', 'maintainer'],
        ['rel-m3', 'maintainer'],
      ] as const) {
        const u = await createUser(app, name);
        await grant(app, P, u.username, role);
        who[name.slice(4)] = u.auth;
      }
      const experimentId = await createExperiment(app, P, 'rel-exp');
      const run = await call(app, 'POST', '/api/2.0/mlflow/runs/create', adminAuth, { experiment_id: experimentId });
      runId = run.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
      const up = await app.http.inject({
        method: 'PUT',
        url: `/api/v1/runs/${runId}/artifacts/file?path=model.bin`,
        headers: { ...adminAuth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from('weights'),
      });
      assert.ok(up.statusCode < 300, up.body);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('bad requests are refused and write nothing', async () => {
      const id = await model('req-crit', 'critical', 3);
      await setGate(id, 1, 'failed', { reason: 'accuracy 0.70 < 0.85' });
      await setGate(id, 2, 'skipped', { reason: 'no evaluation spec' });
      await writesNothing('refused requests', async () => {
        let res = await request('req-crit', 1, { environment: 'moon' });
        expectStatus(res, 400, 'bad environment');
        assert.match(res.body, /environment/);
        res = await request('req-crit', 1, {});
        expectStatus(res, 400, 'no environment');
        expectStatus(await request('req-crit', 99, { environment: 'production' }), 404, 'missing version');
        expectStatus(await request('no-such-model', 1, { environment: 'production' }), 404, 'missing model');
        expectStatus(await request('req-crit', 3, { environment: 'production' }, who.viewer), 403, 'viewer');
        res = await request('req-crit', 1, { environment: 'production' });
        expectStatus(res, 409, 'failed gate');
        assert.match(res.body, /evaluation gate [0-9a-z]+ failed: accuracy 0\.70 < 0\.85/);
        res = await request('req-crit', 2, { environment: 'staging' });
        expectStatus(res, 409, 'critical, skipped gate');
        assert.match(res.body, /critical models need an evaluation spec/);
        // A version that was never gated counts as skipped.
        res = await request('req-crit', 3, { environment: 'production' });
        expectStatus(res, 409, 'critical, never gated');
      });
    });

    test('a release waits for its gate, then asks for approval (critical, production) or auto-approves', async () => {
      const id = await model('wait-crit', 'critical', 2);
      await setGate(id, 1, 'pending');
      const prod = await requested('wait-crit', 1, 'production');
      assert.equal(prod.status, 'gate');
      assert.equal(prod.requestedBy, 'rel-dev');
      assert.deepEqual(
        prod.transitions.map((t) => [t.seq, t.status, t.actor]),
        [[1, 'gate', 'rel-dev']],
      );
      // One open release per model and environment.
      await writesNothing('second open release', async () => {
        const res = await request('wait-crit', 2, { environment: 'production' });
        expectStatus(res, 409, 'open release');
        assert.match(res.body, new RegExp(prod.id));
      });
      const staging = await requested('wait-crit', 1, 'staging');
      assert.equal(staging.status, 'gate');
      // Still running: nothing moves.
      await setGate(id, 1, 'running');
      await app.services.releases.gateSettled(id, 1);
      assert.equal((await get(prod.id)).status, 'gate');

      await setGate(id, 1, 'passed');
      const p = await get(prod.id);
      assert.equal(p.status, 'approval');
      assert.deepEqual(
        p.transitions.map((t) => [t.seq, t.status, t.actor, t.reason]),
        [
          [1, 'gate', 'rel-dev', null],
          [2, 'approval', 'system', 'gate passed'],
        ],
      );
      assert.equal(p.gate?.status, 'passed');
      const s = await get(staging.id);
      assert.equal(s.status, 'approved', 'staging auto-approves');
      assert.equal(s.decision?.by, 'system');
      assert.equal(await stage('wait-crit', 1), 'None', 'a staging release does not touch MLflow stages');

      const queue = await call(app, 'GET', `${base}/releases?status=approval&model=wait-crit`, who.viewer!);
      expectStatus(queue, 200, 'approval queue');
      assert.deepEqual(
        queue.json<{ items: { id: string }[] }>().items.map((r) => r.id),
        [prod.id],
      );
      const requestedEvents = await events('approval.requested');
      assert.ok(requestedEvents.some((e) => e.releaseId === prod.id && e.model === 'wait-crit' && e.version === 1));
    });

    test('a gate that fails blocks the waiting release; an override clears the gate for a new request', async () => {
      const id = await model('block-crit', 'critical', 1);
      await setGate(id, 1, 'pending');
      const r = await requested('block-crit', 1, 'production');
      await setGate(id, 1, 'failed', { reason: 'f1 0.41 < 0.80' });
      const blocked = await get(r.id);
      assert.equal(blocked.status, 'blocked');
      assert.match(blocked.transitions.at(-1)!.reason!, /f1 0\.41 < 0\.80/);
      // Blocked stays blocked; after an override the user requests again.
      await setGate(id, 1, 'failed', { reason: 'f1 0.41 < 0.80', override: true });
      assert.equal((await get(r.id)).status, 'blocked');
      const again = await requested('block-crit', 1, 'production');
      assert.equal(again.status, 'approval');
    });

    test('four-eyes: the requester, viewers and developers cannot approve; another maintainer can', async () => {
      const id = await model('eyes-crit', 'critical', 1);
      await setGate(id, 1, 'passed');
      const r = await requested('eyes-crit', 1, 'production', who.m1);
      assert.equal(r.status, 'approval');
      await writesNothing('refused approvals', async () => {
        let res = await act(r.id, 'approve', who.m1!);
        expectStatus(res, 403, 'requester approves');
        assert.match(res.body, /four-eyes/);
        expectStatus(await act(r.id, 'approve', who.viewer!), 403, 'viewer approves');
        expectStatus(await act(r.id, 'approve', who.dev!), 403, 'developer approves');
        res = await act(r.id, 'reject', who.m1!, { reason: 'no' });
        expectStatus(res, 403, 'requester rejects');
      });
      const res = await act(r.id, 'approve', who.m2!, { reason: 'looks good' });
      expectStatus(res, 200, 'maintainer approves');
      const done = res.json<ReleaseJson>();
      assert.equal(done.status, 'approved');
      assert.deepEqual(done.decision && [done.decision.decision, done.decision.by, done.decision.reason], [
        'approved',
        'rel-m2',
        'looks good',
      ]);
      assert.equal(done.current, true);
      assert.equal(await stage('eyes-crit', 1), 'Production', 'models:/eyes-crit/Production follows the release');
      expectStatus(await act(r.id, 'approve', who.m3!), 409, 'approve twice');
      const granted = await events('approval.granted');
      assert.ok(granted.some((e) => e.releaseId === r.id && e.actor === 'rel-m2'));
      const promoted = await events('release.promoted');
      assert.ok(promoted.some((e) => e.releaseId === r.id));

      // Even a platform admin cannot approve their own request.
      const id2 = await model('eyes-admin', 'critical', 1);
      await setGate(id2, 1, 'passed');
      const own = await requested('eyes-admin', 1, 'production', adminAuth);
      const refused = await act(own.id, 'approve', adminAuth);
      expectStatus(refused, 403, 'admin approves own request');
      assert.match(refused.body, /four-eyes/);
    });

    test('two maintainers approving at once produce exactly one decision', async () => {
      const id = await model('race-crit', 'critical', 1);
      await setGate(id, 1, 'passed');
      const r = await requested('race-crit', 1, 'production');
      const answers = await Promise.all([act(r.id, 'approve', who.m1!), act(r.id, 'approve', who.m2!)]);
      const codes = answers.map((a) => a.statusCode).sort();
      assert.deepEqual(codes, [200, 409], answers.map((a) => a.body).join('\n'));
      const winner = answers.find((a) => a.statusCode === 200)!.json<ReleaseJson>().decision!.by;
      const final = await get(r.id);
      assert.equal(final.decision?.by, winner);
      assert.equal(final.transitions.filter((t) => t.status === 'approved').length, 1);
      const granted = (await events('approval.granted')).filter((e) => e.releaseId === r.id);
      assert.equal(granted.length, 1);
      const audited = (await auditEvents(app, 'action=release.approved')).filter((e) => e.target === r.id);
      assert.equal(audited.length, 1);

      // The same race between an approval and a rejection.
      const id2 = await model('race-2', 'critical', 1);
      await setGate(id2, 1, 'passed');
      const r2 = await requested('race-2', 1, 'production');
      const mixed = await Promise.all([
        act(r2.id, 'reject', who.m1!, { reason: 'not yet' }),
        act(r2.id, 'approve', who.m2!),
      ]);
      assert.deepEqual(mixed.map((a) => a.statusCode).sort(), [200, 409]);
      const t = (await get(r2.id)).transitions.map((x) => x.status);
      assert.equal(t.filter((s) => s === 'approved' || s === 'rejected').length, 1);
    });

    test('a rejection needs a reason', async () => {
      const id = await model('rej-crit', 'critical', 1);
      await setGate(id, 1, 'passed');
      const r = await requested('rej-crit', 1, 'production');
      await writesNothing('reject without reason', async () => {
        let res = await act(r.id, 'reject', who.m1!, {});
        expectStatus(res, 400, 'no reason');
        assert.match(res.body, /reason/);
        res = await act(r.id, 'reject', who.m1!, { reason: '' });
        expectStatus(res, 400, 'empty reason');
      });
      const res = await act(r.id, 'reject', who.m1!, { reason: 'calibration is off on segment B' });
      expectStatus(res, 200, 'reject');
      const done = res.json<ReleaseJson>();
      assert.equal(done.status, 'rejected');
      assert.equal(done.decision?.reason, 'calibration is off on segment B');
      assert.equal(await stage('rej-crit', 1), 'None');
      const rejected = await events('approval.rejected');
      assert.ok(rejected.some((e) => e.releaseId === r.id && e.reason === 'calibration is off on segment B'));
    });

    test('low-risk models auto-approve once the gate is cleared, with or without a spec', async () => {
      const id = await model('low-auto', 'low', 2);
      const r1 = await requested('low-auto', 1, 'production');
      assert.equal(r1.status, 'approved', 'never gated, low risk');
      assert.equal(r1.decision?.by, 'system');
      assert.deepEqual(
        r1.transitions.map((t) => [t.status, t.actor]),
        [
          ['gate', 'rel-dev'],
          ['approved', 'system'],
        ],
      );
      await setGate(id, 2, 'pending');
      const r2 = await requested('low-auto', 2, 'production');
      assert.equal(r2.status, 'gate');
      await setGate(id, 2, 'passed');
      assert.equal((await get(r2.id)).status, 'approved');
      assert.equal(await stage('low-auto', 2), 'Production');
      assert.equal(await stage('low-auto', 1), 'Archived', 'the previous champion is archived');
    });

    test('cancel: the requester or a maintainer, only while open', async () => {
      const id = await model('cancel-crit', 'critical', 1);
      await setGate(id, 1, 'pending');
      const r = await requested('cancel-crit', 1, 'production');
      await writesNothing('refused cancel', async () => {
        const res = await act(r.id, 'cancel', who.dev2!);
        expectStatus(res, 403, 'another developer cancels');
        expectStatus(await act(r.id, 'cancel', who.viewer!), 403, 'viewer cancels');
      });
      const res = await act(r.id, 'cancel', who.dev!, { reason: 'wrong version' });
      expectStatus(res, 200, 'requester cancels');
      assert.equal(res.json<ReleaseJson>().status, 'cancelled');
      expectStatus(await act(r.id, 'cancel', who.m1!), 409, 'cancel twice');
      // The gate settling later leaves a cancelled release alone.
      await setGate(id, 1, 'passed');
      assert.equal((await get(r.id)).status, 'cancelled');
      const r2 = await requested('cancel-crit', 1, 'production');
      assert.equal(r2.status, 'approval');
      expectStatus(await act(r2.id, 'cancel', who.m1!), 200, 'maintainer cancels');
    });

    test('rollback: only the current production release, with a reason; the previous champion returns', async () => {
      await model('roll-low', 'low', 3);
      const r1 = await requested('roll-low', 1, 'production');
      const r2 = await requested('roll-low', 2, 'production');
      const staging = await requested('roll-low', 3, 'staging');
      assert.equal(await stage('roll-low', 2), 'Production');
      assert.equal(await stage('roll-low', 1), 'Archived');
      await writesNothing('refused rollbacks', async () => {
        expectStatus(await act(r1.id, 'rollback', who.m1!, { reason: 'x' }), 409, 'not the current one');
        expectStatus(await act(staging.id, 'rollback', who.m1!, { reason: 'x' }), 409, 'staging');
        expectStatus(await act(r2.id, 'rollback', who.m1!, {}), 400, 'no reason');
        expectStatus(await act(r2.id, 'rollback', who.dev!, { reason: 'x' }), 403, 'developer');
      });
      const res = await act(r2.id, 'rollback', who.m1!, { reason: 'latency regression' });
      expectStatus(res, 200, 'rollback');
      assert.equal(res.json<ReleaseJson>().status, 'rolled_back');
      assert.equal(await stage('roll-low', 2), 'Archived');
      assert.equal(await stage('roll-low', 1), 'Production');
      assert.equal((await get(r1.id)).current, true, 'the previous release is current again');
      const rolled = await events('release.rolled_back');
      assert.ok(
        rolled.some((e) => e.releaseId === r2.id && e.previousVersion === 1 && e.reason === 'latency regression'),
      );
      expectStatus(await act(r2.id, 'rollback', who.m1!, { reason: 'again' }), 409, 'twice');
      // Rolling back the last one leaves no champion and nothing in Production.
      expectStatus(await act(r1.id, 'rollback', who.m2!, { reason: 'bad too' }), 200, 'rollback the first');
      assert.equal(await stage('roll-low', 1), 'Archived');
    });

    test('every transition is audited with its release, and listed in order', async () => {
      const id = await model('audit-crit', 'critical', 1);
      await setGate(id, 1, 'pending');
      const r = await requested('audit-crit', 1, 'production', who.m1);
      await setGate(id, 1, 'passed');
      expectStatus(await act(r.id, 'approve', who.m2!, { reason: 'ok' }), 200, 'approve');
      const detail = await get(r.id);
      assert.deepEqual(
        detail.transitions.map((t) => [t.seq, t.status]),
        [
          [1, 'gate'],
          [2, 'approval'],
          [3, 'approved'],
        ],
      );
      const audited = (await auditEvents(app, 'action=release.*'))
        .filter((e) => e.target === r.id)
        .map((e) => [e.action, e.actor, e.details.from, e.details.status]);
      assert.deepEqual(audited.reverse(), [
        ['release.gate', 'rel-m1', null, 'gate'],
        ['release.approval', 'system', 'gate', 'approval'],
        ['release.approved', 'rel-m2', 'approval', 'approved'],
      ]);
      const denied = await act(r.id, 'approve', who.m1!);
      expectStatus(denied, 403, 'requester');
      // Releases of other projects are not visible here.
      await createProject(app, 'rel-other', 'rel-team');
      expectStatus(await call(app, 'GET', `/api/v1/projects/rel-other/releases/${r.id}`, adminAuth), 404, 'other');
      // Paging.
      const page1 = await call(app, 'GET', `${base}/releases?limit=2`, who.viewer!);
      const p1 = page1.json<{ items: { id: string }[]; nextCursor: string | null }>();
      assert.equal(p1.items.length, 2);
      assert.ok(p1.nextCursor);
      const page2 = await call(app, 'GET', `${base}/releases?limit=2&cursor=${p1.nextCursor}`, who.viewer!);
      const p2 = page2.json<{ items: { id: string }[] }>();
      assert.ok(p2.items.every((x) => x.id < p1.items[1]!.id));
    });
  });
}

const FIXTURES = path.join(import.meta.dirname, '../evaluation/fixtures');
const ONNX_MLMODEL = `flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CPUExecutionProvider]
  python_function:
    loader_module: mlflow.onnx
    data: model.onnx
`;

for (const engine of ENGINES) {
  describe(`release scenario with the real gate (${engine})`, () => {
    const S = 'scn-proj';
    const sbase = `/api/v1/projects/${S}`;
    let store: TestStore;
    let app: HangarApp;
    const who: Record<string, Headers> = {};

    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, h: Headers = adminAuth) => {
      const res = await call(app, method, url, h, body);
      assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json<Json>();
    };
    const release = async (id: string) => (await ok('GET', `${sbase}/releases/${id}`)) as unknown as ReleaseJson;
    const until = async (id: string, status: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await release(id);
        if (r.status === status) return r;
        if (Date.now() > deadline) throw new Error(`release ${id} is ${r.status}, not ${status}: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    };

    before(async () => {
      store = await createTestStore(engine);
      // Deployment of approved releases is serving's, tested in serving/release-deploy.test.ts.
      app = await buildTestApp(store, { releaseAutoDeploy: false });
      await app.http.ready();
      // The worker starts only after the releases are requested, so they meet their gates pending.
      await createTeam(app, 'scn-team');
      await createProject(app, S, 'scn-team');
      for (const [name, role] of [
        ['scn-dev', 'developer'],
        ['scn-m1', 'maintainer'],
        ['scn-m2', 'maintainer'],
      ] as const) {
        const u = await createUser(app, name);
        await grant(app, S, u.username, role);
        who[name.slice(4)] = u.auth;
      }
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('critical passes and needs a second maintainer; low-risk auto-approves; below threshold is blocked', async () => {
      const experimentId = await createExperiment(app, S, 'scn-exp');
      const runId = ((await ok('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId })).run as Json)
        .info as Json;
      const upload = (p: string, content: Buffer | string) => putRunArtifact(app, String(runId.run_id), p, content);
      await upload('onnx/MLmodel', ONNX_MLMODEL);
      await upload('onnx/model.onnx', readFileSync(path.join(FIXTURES, 'binary.onnx')));
      await upload('data/heldout.csv', readFileSync(path.join(FIXTURES, 'binary.csv')));
      const dataset = await ok('POST', `${sbase}/datasets`, {
        name: 'heldout',
        artifactUri: `mlflow-artifacts:/${experimentId}/${String(runId.run_id)}/artifacts/data/heldout.csv`,
      });
      const datasetId = (dataset.dataset as Json).datasetId;
      const spec = (threshold: number) => ({
        datasetId,
        task: 'binary',
        labelColumn: 'label',
        thresholds: [{ metric: 'accuracy', op: '>=', threshold }],
        championRule: null,
      });
      const models = [
        ['fraud-critical', 'critical', 0.9],
        ['churn-low', 'low', 0.9],
        ['fraud-strict', 'critical', 0.9999],
      ] as const;
      const ids: Record<string, string> = {};
      for (const [name, riskTier, threshold] of models) {
        await ok('POST', `${sbase}/models`, { name, riskTier });
        await ok('PUT', `${sbase}/models/${name}/evaluation-spec`, spec(threshold), who.m1);
        await ok('POST', `${sbase}/models/${name}/versions`, { source: `runs:/${String(runId.run_id)}/onnx` }, who.dev);
        const r = (await ok(
          'POST',
          `${sbase}/models/${name}/versions/1/releases`,
          { environment: 'production', note: 'quarterly refresh' },
          name === 'fraud-critical' ? who.m1 : who.dev,
        )) as unknown as ReleaseJson;
        assert.equal(r.status, 'gate', `${name} waits for its gate`);
        ids[name] = r.id;
      }

      app.start();

      // The critical model passes its gate and waits for a second person.
      const waiting = await until(ids['fraud-critical']!, 'approval');
      assert.equal(waiting.gate?.status, 'passed');
      const own = await call(app, 'POST', `${sbase}/releases/${waiting.id}/approve`, who.m1!, {});
      expectStatus(own, 403, 'the requester approves');
      assert.match(own.body, /four-eyes/);
      expectStatus(await call(app, 'POST', `${sbase}/releases/${waiting.id}/approve`, who.dev!, {}), 403, 'developer');
      const approved = await call(app, 'POST', `${sbase}/releases/${waiting.id}/approve`, who.m2!, { reason: 'ok' });
      expectStatus(approved, 200, 'a second maintainer approves');
      assert.equal(approved.json<ReleaseJson>().status, 'approved');
      assert.deepEqual(
        approved.json<ReleaseJson>().transitions.map((t) => t.status),
        ['gate', 'approval', 'approved'],
      );
      const v = await ok('GET', `${sbase}/models/fraud-critical/versions/1`);
      assert.equal(v.stage, 'Production');

      // The low-risk model's version auto-approves once its gate passes.
      const low = await until(ids['churn-low']!, 'approved');
      assert.equal(low.decision?.by, 'system');

      // Below the threshold: the gate fails and the release is blocked, naming why.
      const blocked = await until(ids['fraud-strict']!, 'blocked');
      assert.equal(blocked.gate?.status, 'failed');
      assert.match(blocked.transitions.at(-1)!.reason!, /accuracy/);
      // A new request for that version is refused outright.
      const again = await call(app, 'POST', `${sbase}/models/fraud-strict/versions/1/releases`, who.dev!, {
        environment: 'production',
      });
      expectStatus(again, 409, 'request a failed version');
      assert.match(again.body, /evaluation gate .* failed/);

      const types = (await ok('GET', `${sbase}/events?limit=1000`)).items as { type: string; data: Json }[];
      const seen = (type: string, model: string) => types.some((e) => e.type === type && e.data.model === model);
      assert.ok(seen('approval.requested', 'fraud-critical'));
      assert.ok(seen('approval.granted', 'fraud-critical'));
      assert.ok(seen('release.promoted', 'fraud-critical'));
      assert.ok(seen('release.promoted', 'churn-low'));
      assert.ok(seen('gate.failed', 'fraud-strict'));
      assert.ok(!seen('release.promoted', 'fraud-strict'));
    });
  });
}
