import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from './app.js';
import { createTestStore, ENGINES, type TestStore } from './testing/engines.js';
import { ADMIN_PASSWORD, adminAuth, buildTestApp } from './testing/test-app.js';

/*
 * Walks every operation in the OpenAPI spec as every kind of caller and checks the answer against
 * the permission table below. The table must name every operation, so a new route cannot ship
 * without a decision about who may call it.
 *
 * Callers: anonymous; "outsider" (signed in, no role in the project); viewer, developer,
 * maintainer and admin of project "proj" by direct grant; "lead" (leads team "team-a", which owns
 * "proj"); the platform admin; and the platform admin through a token scoped to project "other".
 * Allowed calls must succeed (2xx); refused ones answer 401 (anonymous) or 403/404.
 */

const PRINCIPALS = [
  'anonymous',
  'outsider',
  'viewer',
  'developer',
  'maintainer',
  'padmin',
  'lead',
  'admin',
  'scoped',
] as const;
type Principal = (typeof PRINCIPALS)[number];

const SIGNED_IN = PRINCIPALS.filter((p) => p !== 'anonymous');
const ADMIN_ONLY: Principal[] = ['admin'];
const PROJECT_VIEWERS: Principal[] = ['viewer', 'developer', 'maintainer', 'padmin', 'lead', 'admin'];
const PROJECT_DEVELOPERS: Principal[] = ['developer', 'maintainer', 'padmin', 'lead', 'admin'];
const PROJECT_MAINTAINERS: Principal[] = ['maintainer', 'padmin', 'lead', 'admin'];
const PROJECT_ADMINS: Principal[] = ['padmin', 'lead', 'admin'];
const TEAM_LEADS: Principal[] = ['lead', 'admin'];
const JOB_OWNER: Principal[] = ['admin', 'scoped'];

interface Fixture {
  jobId: string;
  targetTokenId: string;
  experimentId: string;
  runId: string;
  /** An experiment and a run of it that the walk renames, deletes and restores. */
  doomedExperimentId: string;
  doomedRunId: string;
  modelId: string;
  /** A logged model the walk deletes. */
  doomedModelId: string;
  datasetId: string;
}

interface Rule {
  /** Who gets a 2xx; everyone else is refused. */
  allow: readonly Principal[];
  /** Path parameter values (defaults: project=proj, team=team-a, username=target). */
  params?: (f: Fixture) => Record<string, string>;
  body?: (n: number) => unknown;
  /** Query string parameters. */
  query?: Record<string, string>;
  /** Answers other than 2xx that still count as allowed (e.g. getSession without a cookie). */
  allowedStatus?: number[];
}

const PASSWORD = 'walk-password-123';
/** Set in before(); the body builders of the table read it. */
let walkExperimentId = '';
let walkDatasetId = '';
let walkRunId = '';
let walkReleaseId = '';
let walkWebhookId = '';
let walkDoomedWebhookId = '';
let walkDoomedExperimentId = '';
const ONNX_MLMODEL = 'flavors:\n  onnx:\n    data: model.onnx\n  python_function:\n    loader_module: mlflow.onnx\n';
const BINARY_ONNX = readFileSync(path.join(import.meta.dirname, 'modules/evaluation/fixtures/binary.onnx'));
const ROW = Array.from({ length: 30 }, (_, i) => i / 10);
const inferBody = () => ({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 30], data: ROW }] });
const recordsBody = () => ({ instances: [Object.fromEntries(ROW.map((v, i) => [`f${i}`, v]))] });
const walkSpec = () => ({
  datasetId: walkDatasetId,
  task: 'binary',
  labelColumn: 'label',
  thresholds: [],
  championRule: null,
});

const PERMISSIONS: Record<string, Rule> = {
  health: { allow: PRINCIPALS },
  ready: { allow: PRINCIPALS },
  version: { allow: PRINCIPALS },
  metrics: { allow: PRINCIPALS },

  whoami: { allow: SIGNED_IN },
  login: { allow: PRINCIPALS, body: () => ({ username: 'viewer', password: PASSWORD }) },
  // Bearer tokens are not browser sessions: everyone learns "no session" (401), nobody gets data.
  getSession: { allow: PRINCIPALS, allowedStatus: [401] },
  logout: { allow: PRINCIPALS },

  listUsers: { allow: SIGNED_IN },
  getUser: { allow: SIGNED_IN },
  createUser: { allow: ADMIN_ONLY, body: (n) => ({ username: `walk-user-${n}` }) },
  updateUser: { allow: ADMIN_ONLY, body: () => ({ displayName: 'Renamed' }) },
  setPassword: { allow: ADMIN_ONLY, body: () => ({ newPassword: PASSWORD }) },

  listTokens: { allow: SIGNED_IN },
  // A project-scoped token cannot mint an unscoped one.
  createToken: { allow: SIGNED_IN.filter((p) => p !== 'scoped'), body: (n) => ({ name: `walk-${n}` }) },
  revokeToken: { allow: ADMIN_ONLY, params: (f) => ({ id: f.targetTokenId }) },

  listTeams: { allow: SIGNED_IN },
  getTeam: { allow: SIGNED_IN },
  createTeam: { allow: ADMIN_ONLY, body: (n) => ({ name: `walk-team-${n}` }) },
  updateTeam: { allow: TEAM_LEADS, body: () => ({ description: 'changed' }) },
  deleteTeam: { allow: ADMIN_ONLY, params: () => ({ team: 'doomed-team' }) },
  setTeamMember: { allow: TEAM_LEADS, body: () => ({ role: 'member' }) },
  removeTeamMember: { allow: TEAM_LEADS },

  listProjects: { allow: SIGNED_IN },
  createProject: { allow: TEAM_LEADS, body: (n) => ({ name: `walk-proj-${n}`, team: 'team-a' }) },
  getProject: { allow: PROJECT_VIEWERS },
  updateProject: { allow: PROJECT_ADMINS, body: () => ({ description: 'changed' }) },
  deleteProject: { allow: ADMIN_ONLY, params: () => ({ project: 'doomed-proj' }) },
  listProjectMembers: { allow: PROJECT_VIEWERS },
  setProjectMember: { allow: PROJECT_ADMINS, body: () => ({ role: 'viewer' }) },
  removeProjectMember: { allow: PROJECT_ADMINS },

  listSecrets: { allow: PROJECT_DEVELOPERS },
  setSecret: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'WALK_SECRET' }), body: () => ({ value: 's3cr3t' }) },
  deleteSecret: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'WALK_SECRET' }) },

  // Maintainers read their projects' events; the scoped admin token reads its own project's.
  listAuditEvents: { allow: [...PROJECT_MAINTAINERS, 'scoped'] },
  exportAuditEvents: { allow: [...PROJECT_MAINTAINERS, 'scoped'] },
  verifyAuditChain: { allow: ADMIN_ONLY },

  listExperiments: { allow: PROJECT_VIEWERS },
  createExperiment: { allow: PROJECT_DEVELOPERS, body: (n) => ({ name: `walk-exp-${n}` }) },
  getExperiment: { allow: PROJECT_VIEWERS, params: (f) => ({ id: f.experimentId }) },
  getRun: { allow: PROJECT_VIEWERS, params: (f) => ({ id: f.runId }) },
  searchRuns: {
    allow: PROJECT_VIEWERS,
    body: () => ({ experimentIds: [walkExperimentId], filter: 'metrics.loss > 0', orderBy: ['metrics.loss DESC'] }),
  },
  getMetricHistory: { allow: PROJECT_VIEWERS, params: (f) => ({ id: f.runId, key: 'loss' }) },
  // Tracking writes (developers). reset() puts back the tags the deletes remove; deleting and
  // restoring again is no error, so the doomed experiment and run need no reset.
  createRun: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ id: f.experimentId }),
    body: (n) => ({ runName: `walk-${n}` }),
  },
  updateRun: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.runId }), body: () => ({ status: 'RUNNING' }) },
  logRunBatch: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ id: f.runId }),
    body: (n) => ({ metrics: [{ key: 'loss', value: 1, step: n }], params: [{ key: 'walk', value: '1' }] }),
  },
  deleteRunTag: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.runId, key: 'walk-tag' }) },
  deleteRun: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.doomedRunId }) },
  restoreRun: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.doomedRunId }) },
  updateExperiment: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ id: f.doomedExperimentId }),
    body: (n) => ({ name: `walk-doomed-${n}` }),
  },
  setExperimentTag: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ id: f.doomedExperimentId, key: 'walk-tag' }),
    body: () => ({ value: 'walk' }),
  },
  deleteExperimentTag: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.doomedExperimentId, key: 'walk-tag' }) },
  deleteExperiment: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.doomedExperimentId }) },
  restoreExperiment: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.doomedExperimentId }) },

  getRunReproducibility: { allow: PROJECT_VIEWERS, params: (f) => ({ runId: f.runId }) },
  listRunArtifacts: { allow: PROJECT_VIEWERS, params: (f) => ({ runId: f.runId }) },
  downloadRunArtifact: { allow: PROJECT_VIEWERS, params: (f) => ({ runId: f.runId }), query: { path: 'walk.txt' } },
  uploadRunArtifact: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ runId: f.runId }),
    query: { path: 'walk-upload.txt' },
    body: () => 'uploaded',
  },
  deleteRunArtifact: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ runId: f.runId }),
    query: { path: 'walk-upload.txt' },
  },

  getLoggedModel: { allow: PROJECT_VIEWERS, params: (f) => ({ modelId: f.modelId }) },
  searchLoggedModels: { allow: PROJECT_VIEWERS, body: () => ({ experimentIds: [walkExperimentId] }) },
  createLoggedModel: { allow: PROJECT_DEVELOPERS, params: (f) => ({ id: f.experimentId }), body: () => ({}) },
  finalizeLoggedModel: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ modelId: f.modelId }),
    body: () => ({ status: 'READY' }),
  },
  logLoggedModelParams: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ modelId: f.modelId }),
    body: () => ({ params: [{ key: 'walk', value: '1' }] }),
  },
  setLoggedModelTags: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ modelId: f.modelId }),
    body: () => ({ tags: [{ key: 'walk', value: '1' }] }),
  },
  deleteLoggedModelTag: { allow: PROJECT_DEVELOPERS, params: (f) => ({ modelId: f.modelId, key: 'walk' }) },
  // The first allowed call deletes it; the others find it gone.
  deleteLoggedModel: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ modelId: f.doomedModelId }),
    allowedStatus: [404],
  },

  listDatasets: { allow: PROJECT_VIEWERS },
  registerDataset: {
    allow: PROJECT_DEVELOPERS,
    body: (n) => ({ name: 'walk-ds', uri: 's3://bucket/walk.csv', digest: `walk${n}` }),
  },
  getDataset: { allow: PROJECT_VIEWERS, params: (f) => ({ datasetId: f.datasetId }) },
  addRunInput: {
    allow: PROJECT_DEVELOPERS,
    params: (f) => ({ runId: f.runId }),
    body: () => ({ datasetId: walkDatasetId, context: 'training' }),
  },

  // The registry: viewers read, developers register and alias; risk tier and owner team changes
  // (maintainers) and deletes (maintainers, MLflow adapter only) are covered by the registry tests.
  listRegisteredModels: { allow: PROJECT_VIEWERS },
  createRegisteredModel: { allow: PROJECT_DEVELOPERS, body: (n) => ({ name: `walk-model-${n}` }) },
  getRegisteredModel: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model' }) },
  updateRegisteredModel: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-model' }),
    body: () => ({ description: 'changed' }),
  },
  listModelVersions: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model' }) },
  createModelVersion: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-model' }),
    body: () => ({ source: `runs:/${walkRunId}` }),
  },
  getModelVersion: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model', version: '1' }) },
  setModelAlias: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-model', alias: 'walk' }),
    body: () => ({ version: 1 }),
  },
  deleteModelAlias: { allow: PROJECT_DEVELOPERS, params: () => ({ name: 'walk-model', alias: 'walk' }) },
  getModelVersionReproducibility: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model', version: '1' }) },
  getLineage: { allow: PROJECT_VIEWERS, query: { node: 'model_version:walk-model/1' } },
  getEvaluationSpec: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model' }) },
  putEvaluationSpec: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-model' }), body: () => walkSpec() },
  deleteEvaluationSpec: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-model' }) },
  getModelVersionGate: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model', version: '1' }) },
  rerunModelVersionGate: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-model', version: '1' }) },
  // reset() gives version 1 a fresh failed gate after each allowed call.
  overrideModelVersionGate: {
    allow: PROJECT_ADMINS,
    params: () => ({ name: 'walk-model', version: '1' }),
    body: () => ({ reason: 'walk override' }),
  },

  enqueueJob: { allow: SIGNED_IN, body: () => ({ kind: 'system.noop' }) },
  listJobs: { allow: SIGNED_IN },
  // The job belongs to the admin: other users do not see it (404). Jobs belong to users, not
  // projects, so the admin's project-scoped token sees its owner's jobs too.
  getJob: { allow: JOB_OWNER, params: (f) => ({ id: f.jobId }) },
  cancelJob: { allow: JOB_OWNER, params: (f) => ({ id: f.jobId }) },
  getJobLogs: { allow: JOB_OWNER, params: (f) => ({ id: f.jobId }) },

  // Releases: decisions on the walk's (already approved, staging) release answer 409 to those
  // allowed to decide; the four-eyes rule and the flow are covered by releases.test.ts. reset()
  // fails version 1's gate, so later requests may answer 409 too.
  listEvents: { allow: PROJECT_VIEWERS },
  requestRelease: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-model', version: '1' }),
    body: () => ({ environment: 'staging' }),
    allowedStatus: [409],
  },
  listReleases: { allow: PROJECT_VIEWERS },
  getRelease: { allow: PROJECT_VIEWERS, params: () => ({ id: walkReleaseId }) },
  approveRelease: { allow: PROJECT_MAINTAINERS, params: () => ({ id: walkReleaseId }), allowedStatus: [409] },
  rejectRelease: {
    allow: PROJECT_MAINTAINERS,
    params: () => ({ id: walkReleaseId }),
    body: () => ({ reason: 'walk' }),
    allowedStatus: [409],
  },
  // The developer requested it, so may cancel it too (were it still open).
  cancelRelease: {
    allow: [...PROJECT_MAINTAINERS, 'developer'],
    params: () => ({ id: walkReleaseId }),
    allowedStatus: [409],
  },
  rollbackRelease: {
    allow: PROJECT_MAINTAINERS,
    params: () => ({ id: walkReleaseId }),
    body: () => ({ reason: 'walk' }),
    allowedStatus: [409],
  },

  // Webhooks (maintainers). The walk's webhooks are inactive and point at a closed local port.
  createWebhook: {
    allow: PROJECT_MAINTAINERS,
    body: () => ({ url: 'http://127.0.0.1:9/walk', events: ['gate.failed'], active: false }),
  },
  listWebhooks: { allow: PROJECT_MAINTAINERS },
  getWebhook: { allow: PROJECT_MAINTAINERS, params: () => ({ id: walkWebhookId }) },
  updateWebhook: {
    allow: PROJECT_MAINTAINERS,
    params: () => ({ id: walkWebhookId }),
    body: () => ({ description: 'walk' }),
  },
  // The first allowed call deletes it; the others find it gone.
  deleteWebhook: { allow: PROJECT_MAINTAINERS, params: () => ({ id: walkDoomedWebhookId }), allowedStatus: [404] },
  listWebhookDeliveries: { allow: PROJECT_MAINTAINERS, params: () => ({ id: walkWebhookId }) },
  testWebhook: { allow: PROJECT_MAINTAINERS, params: () => ({ id: walkWebhookId }) },

  // Deployments: "walk-dep" serves version 2 with a shadow rollout of version 3 running (reset()
  // restarts it), "walk-dep2" serves version 2 with no rollout, "walk-doomed" is recreated.
  createDeployment: {
    allow: PROJECT_MAINTAINERS,
    body: (n) => ({
      name: `walk-new-${n}`,
      model: 'walk-model',
      environment: 'staging',
      versions: [{ version: 2, weight: 100 }],
    }),
  },
  listDeployments: { allow: PROJECT_VIEWERS },
  getDeployment: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },
  deleteDeployment: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-doomed' }) },
  setDeploymentTraffic: {
    allow: PROJECT_MAINTAINERS,
    params: () => ({ name: 'walk-dep2' }),
    body: () => ({ versions: [{ version: 2, weight: 100 }] }),
  },
  rollbackDeployment: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-dep' }) },
  getDeploymentHistory: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },
  startRollout: {
    allow: PROJECT_MAINTAINERS,
    params: () => ({ name: 'walk-dep2' }),
    body: () => ({ strategy: 'shadow', version: 3 }),
  },
  getRollout: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },
  rolloutAction: { allow: PROJECT_MAINTAINERS, params: () => ({ name: 'walk-dep', action: 'pause' }) },
  listPredictions: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },
  addPredictionLabels: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-dep' }),
    body: (n) => ({ labels: [{ requestId: `walk-request-${n}`, label: 'yes' }] }),
  },
  getDeploymentStats: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },
  getShadowReport: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }) },

  // walk-model v2 is ONNX already: the allowed answer is a 409 after every check of the caller.
  convertVersion: {
    allow: PROJECT_DEVELOPERS,
    params: () => ({ name: 'walk-model', version: '2' }),
    allowedStatus: [409],
  },
  buildBundle: { allow: PROJECT_DEVELOPERS, params: () => ({ name: 'walk-model', version: '2' }) },
  getBundle: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-model', version: '2' }) },
  downloadBundleFile: {
    allow: PROJECT_VIEWERS,
    params: () => ({ name: 'walk-model', version: '2' }),
    query: { path: 'Dockerfile' },
  },

  // Inference: health and server metadata are public; models answer their project's members.
  oipServerLive: { allow: PRINCIPALS },
  oipServerReady: { allow: PRINCIPALS },
  oipServerMetadata: { allow: PRINCIPALS },
  oipModelMetadata: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep' }) },
  oipModelMetadataVersion: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep', version: '2' }) },
  oipModelReady: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep' }) },
  oipModelReadyVersion: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep', version: '2' }) },
  oipInfer: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep' }), body: inferBody },
  oipInferVersion: { allow: PROJECT_VIEWERS, params: () => ({ model: 'walk-dep', version: '2' }), body: inferBody },
  predictRecords: { allow: PROJECT_VIEWERS, params: () => ({ name: 'walk-dep' }), body: recordsBody },
};

interface Operation {
  method: string;
  path: string;
  operationId: string;
}

function operations(spec: { paths: Record<string, Record<string, { operationId?: string }>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      assert.ok(op.operationId, `${method.toUpperCase()} ${path} has no operationId`);
      out.push({ method: method.toUpperCase(), path, operationId: op.operationId });
    }
  }
  return out;
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

for (const engine of ENGINES) {
  describe(`permission walk (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    const headers = new Map<Principal, Record<string, string>>();
    let fixture: Fixture;

    const call = async (method: string, url: string, h: Record<string, string>, payload?: unknown) =>
      app.http.inject({
        method: method as 'GET',
        url,
        headers: h,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    const asAdmin = async (method: string, url: string, payload?: unknown, ok: number[] = [200, 201, 204]) => {
      const res = await call(method, url, adminAuth, payload);
      assert.ok(ok.includes(res.statusCode), `${method} ${url}: ${res.statusCode} ${res.body}`);
      return res;
    };

    /** Puts back whatever an allowed destructive call removed, so every call sees the same world. */
    const reset = async () => {
      await asAdmin('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: walkRunId, key: 'walk-tag', value: 'walk' });
      await asAdmin('PUT', `/api/v1/experiments/${walkDoomedExperimentId}/tags/walk-tag`, { value: 'walk' });
      await asAdmin('POST', `/api/v1/logged-models/${fixture.modelId}/tags`, { tags: [{ key: 'walk', value: '1' }] });
      const D = '/api/v1/projects/proj/deployments';
      const rollout = (name: string) =>
        app.database.db
          .selectFrom('rollouts as r')
          .innerJoin('deployments as d', 'd.id', 'r.deployment_id')
          .select(['r.status'])
          .where('d.name', '=', name)
          .orderBy('r.created_at', 'desc')
          .orderBy('r.id', 'desc')
          .executeTakeFirst();
      const main = await rollout('walk-dep');
      if (main?.status === 'paused') await asAdmin('POST', `${D}/walk-dep/rollout/resume`, {});
      else if (main?.status !== 'running')
        await asAdmin('POST', `${D}/walk-dep/rollouts`, { strategy: 'shadow', version: 3 });
      const other = await rollout('walk-dep2');
      if (other?.status === 'running' || other?.status === 'paused')
        await asAdmin('POST', `${D}/walk-dep2/rollout/abort`, {});
      await asAdmin(
        'POST',
        D,
        { name: 'walk-doomed', model: 'walk-model', environment: 'staging', versions: [{ version: 2, weight: 100 }] },
        [201, 409],
      );
      await asAdmin('PUT', '/api/v1/teams/team-a/members/target', { role: 'member' });
      await asAdmin('PUT', '/api/v1/projects/proj/members/target', { role: 'viewer' });
      await asAdmin('PUT', '/api/v1/projects/proj/secrets/WALK_SECRET', { value: 'x' });
      await asAdmin('POST', '/api/v1/teams', { name: 'doomed-team' }, [201, 409]);
      await asAdmin('POST', '/api/v1/projects', { name: 'doomed-proj', team: 'team-a' }, [201, 409]);
      await asAdmin('PATCH', '/api/v1/users/target', { displayName: 'Target', disabled: false });
      await asAdmin('PUT', '/api/v1/projects/proj/models/walk-model/evaluation-spec', walkSpec());
      // A failed gate, newest of version 1, for the override to clear.
      const model = await app.database.db
        .selectFrom('registered_models')
        .select('id')
        .where('name', '=', 'walk-model')
        .executeTakeFirstOrThrow();
      const at = Date.now() + 1;
      await app.database.db
        .insertInto('model_version_gates')
        .values({
          id: `walk-gate-${at}-${Math.random().toString(36).slice(2)}`,
          model_id: model.id,
          version: 1,
          status: 'failed',
          job_id: null,
          spec: null,
          scorer: null,
          rows: null,
          metrics: null,
          checks: null,
          champion_version: null,
          champion_metrics: null,
          reason: 'walk',
          override_by: null,
          override_reason: null,
          override_at: null,
          created_at: at,
          started_at: null,
          finished_at: at,
        })
        .execute();
    };

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, { adminPassword: ADMIN_PASSWORD, webhooksAllowPrivateTargets: true });
      app.start();
      for (const u of ['outsider', 'viewer', 'developer', 'maintainer', 'padmin', 'lead', 'target']) {
        await asAdmin('POST', '/api/v1/users', { username: u, password: PASSWORD });
      }
      await asAdmin('POST', '/api/v1/teams', { name: 'team-a' });
      await asAdmin('PUT', '/api/v1/teams/team-a/members/lead', { role: 'lead' });
      await asAdmin('POST', '/api/v1/projects', { name: 'proj', team: 'team-a' });
      await asAdmin('POST', '/api/v1/projects', { name: 'other', team: 'team-a' });
      for (const role of ['viewer', 'developer', 'maintainer'] as const) {
        await asAdmin('PUT', `/api/v1/projects/proj/members/${role}`, { role });
      }
      await asAdmin('PUT', '/api/v1/projects/proj/members/padmin', { role: 'admin' });
      // Everyone is in the default team (as developers of the default project); take the
      // outsider and the project members out of team-a's reach: they are not in team-a.
      for (const p of ['outsider', 'viewer', 'developer', 'maintainer', 'padmin', 'lead'] as const) {
        const res = await call('POST', '/api/v1/tokens', basic(p, PASSWORD), { name: 'walk' });
        assert.equal(res.statusCode, 201, res.body);
        headers.set(p, { authorization: `Bearer ${res.json<{ token: string }>().token}` });
      }
      headers.set('anonymous', {});
      headers.set('admin', adminAuth);
      const scoped = await asAdmin('POST', '/api/v1/tokens', { name: 'scoped', project: 'other' });
      headers.set('scoped', { authorization: `Bearer ${scoped.json<{ token: string }>().token}` });
      const target = await call('POST', '/api/v1/tokens', basic('target', PASSWORD), { name: 'target' });
      const job = await asAdmin('POST', '/api/v1/jobs', { kind: 'system.noop', runAt: '2999-01-01T00:00:00Z' });
      const experiment = await asAdmin('POST', '/api/v1/projects/proj/experiments', { name: 'walk' });
      const experimentId = experiment.json<{ experimentId: string }>().experimentId;
      walkExperimentId = experimentId;
      const run = await asAdmin('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId });
      const runId = run.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
      await asAdmin('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 1, step: 0 });
      await asAdmin('PUT', `/api/v1/runs/${runId}/artifacts/file?path=walk.txt`, 'walk');
      const model = await asAdmin('POST', '/api/2.0/mlflow/logged-models', { experiment_id: experimentId });
      const doomedModel = await asAdmin('POST', '/api/2.0/mlflow/logged-models', { experiment_id: experimentId });
      walkDoomedExperimentId = (
        await asAdmin('POST', '/api/v1/projects/proj/experiments', { name: 'walk-doomed' })
      ).json<{
        experimentId: string;
      }>().experimentId;
      const doomedRun = await asAdmin('POST', `/api/v1/experiments/${walkDoomedExperimentId}/runs`, {});
      const dataset = await asAdmin('POST', '/api/v1/projects/proj/datasets', {
        name: 'walk-data',
        uri: 's3://bucket/walk.csv',
        digest: 'walk',
      });
      walkDatasetId = dataset.json<{ dataset: { datasetId: string } }>().dataset.datasetId;
      walkRunId = runId;
      await asAdmin('POST', '/api/v1/projects/proj/models', { name: 'walk-model' });
      await asAdmin('POST', '/api/v1/projects/proj/models/walk-model/versions', { source: `runs:/${runId}` });
      // Versions 2 and 3 are a real ONNX model, so the walk's deployments serve.
      await asAdmin('PUT', `/api/v1/runs/${runId}/artifacts/file?path=model/MLmodel`, ONNX_MLMODEL);
      const onnx = await call(
        'PUT',
        `/api/v1/runs/${runId}/artifacts/file?path=model/model.onnx`,
        {
          ...adminAuth,
          'content-type': 'application/octet-stream',
        },
        BINARY_ONNX,
      );
      assert.equal(onnx.statusCode < 300, true, onnx.body);
      for (let i = 0; i < 2; i++) {
        await asAdmin('POST', '/api/v1/projects/proj/models/walk-model/versions', { source: `runs:/${runId}/model` });
      }
      await asAdmin('POST', '/api/v1/projects/proj/models/walk-model/versions/2/bundle');
      for (const name of ['walk-dep', 'walk-dep2']) {
        await asAdmin('POST', '/api/v1/projects/proj/deployments', {
          name,
          model: 'walk-model',
          environment: 'production',
          versions: [{ version: 2, weight: 100 }],
        });
      }
      for (let i = 0; ; i++) {
        const d = (await asAdmin('GET', '/api/v1/projects/proj/deployments/walk-dep')).json<{ status: string }>();
        if (d.status === 'ready') break;
        assert.ok(d.status === 'deploying' && i < 500, `walk-dep is ${d.status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Requested by the developer, so maintainers and admins are not its requester (four-eyes).
      const release = await call(
        'POST',
        '/api/v1/projects/proj/models/walk-model/versions/1/releases',
        headers.get('developer')!,
        { environment: 'staging' },
      );
      assert.equal(release.statusCode, 201, release.body);
      walkReleaseId = release.json<{ id: string }>().id;
      const hook = { url: 'http://127.0.0.1:9/walk', events: ['gate.failed'], active: false };
      walkWebhookId = (await asAdmin('POST', '/api/v1/projects/proj/webhooks', hook)).json<{
        webhook: { id: string };
      }>().webhook.id;
      walkDoomedWebhookId = (await asAdmin('POST', '/api/v1/projects/proj/webhooks', hook)).json<{
        webhook: { id: string };
      }>().webhook.id;
      fixture = {
        modelId: model.json<{ model: { info: { model_id: string } } }>().model.info.model_id,
        doomedModelId: doomedModel.json<{ model: { info: { model_id: string } } }>().model.info.model_id,
        datasetId: walkDatasetId,
        jobId: job.json<{ id: string }>().id,
        targetTokenId: target.json<{ id: string }>().id,
        experimentId,
        runId,
        doomedExperimentId: walkDoomedExperimentId,
        doomedRunId: doomedRun.json<{ info: { runId: string } }>().info.runId,
      };
      await reset();
    });

    after(async () => {
      await app?.close();
      await store?.cleanup();
    });

    test('the permission table names every operation in the spec, and nothing else', async () => {
      const spec = (await call('GET', '/openapi.json', adminAuth)).json<Parameters<typeof operations>[0]>();
      const inSpec = operations(spec)
        .map((o) => o.operationId)
        .sort();
      assert.deepEqual(inSpec, Object.keys(PERMISSIONS).sort());
      // The spec itself is served outside the spec, to signed-in callers only.
      assert.equal((await call('GET', '/openapi.json', {})).statusCode, 401);
      assert.equal((await call('GET', '/openapi.json', headers.get('scoped')!)).statusCode, 200);
    });

    test('every operation answers every caller as the table says', async () => {
      const spec = (await call('GET', '/openapi.json', adminAuth)).json<Parameters<typeof operations>[0]>();
      const wrong: string[] = [];
      let n = 0;
      for (const op of operations(spec)) {
        const rule = PERMISSIONS[op.operationId]!;
        const params = { project: 'proj', team: 'team-a', username: 'target', ...rule.params?.(fixture) };
        const query = rule.query ? `?${new URLSearchParams(rule.query).toString()}` : '';
        const url =
          op.path.replace(/\{(\w+)\}/g, (_, k: string) => {
            assert.ok(params[k as keyof typeof params], `${op.operationId}: no value for {${k}}`);
            return encodeURIComponent(params[k as keyof typeof params]!);
          }) + query;
        for (const who of PRINCIPALS) {
          n += 1;
          const res = await call(op.method, url, headers.get(who)!, rule.body?.(n));
          const allowed = rule.allow.includes(who);
          const ok = allowed
            ? res.statusCode < 300 || (rule.allowedStatus ?? []).includes(res.statusCode)
            : who === 'anonymous'
              ? res.statusCode === 401
              : res.statusCode === 403 || res.statusCode === 404;
          if (!ok)
            wrong.push(`${who} ${op.method} ${url} (${op.operationId}): ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (allowed && op.method !== 'GET') await reset();
        }
      }
      assert.deepEqual(wrong, [], `unexpected answers:\n${wrong.join('\n')}`);
    });
  });
}
