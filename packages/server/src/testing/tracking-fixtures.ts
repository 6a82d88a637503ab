// Helpers for tests of tracking, artifacts, logged models and datasets: a project with callers of
// every kind, and MLflow calls through the HTTP API of a test app (app.http.inject).
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../app.js';
import { bearer, call, createProject, createTeam, createUser, grant, type Headers } from './identity-fixtures.js';
import { adminAuth } from './test-app.js';

/** A project with one caller of each kind, and an experiment in it. */
export interface ProjectFixture {
  /** The project's name. */
  project: string;
  /** A second project of the same team, where `developer` is only a viewer. */
  other: string;
  /** An experiment of `project`. */
  experimentId: string;
  /** A second experiment of `project`. */
  secondExperimentId: string;
  /** An experiment of `other`. */
  otherExperimentId: string;
  developer: Headers;
  viewer: Headers;
  /** Signed in, with no role in either project. */
  outsider: Headers;
  /** The platform admin through a token scoped to `other`. */
  scopedToOther: Headers;
  anonymous: Headers;
}

/** Creates a team, two projects, users with roles and experiments; names start with `prefix`. */
export async function projectFixture(app: HangarApp, prefix: string): Promise<ProjectFixture> {
  const team = `${prefix}-team`;
  const project = `${prefix}-proj`;
  const other = `${prefix}-other`;
  await createTeam(app, team);
  await createProject(app, project, team);
  await createProject(app, other, team);
  const developer = await createUser(app, `${prefix}-dev`);
  const viewer = await createUser(app, `${prefix}-viewer`);
  const outsider = await createUser(app, `${prefix}-outsider`);
  await grant(app, project, developer.username, 'developer');
  await grant(app, other, developer.username, 'viewer');
  await grant(app, project, viewer.username, 'viewer');
  const scoped = await call(app, 'POST', '/api/v1/tokens', adminAuth, { name: `${prefix}-scoped`, project: other });
  assert.equal(scoped.statusCode, 201, scoped.body);
  return {
    project,
    other,
    experimentId: await createExperiment(app, project, `${prefix}-exp`),
    secondExperimentId: await createExperiment(app, project, `${prefix}-exp-2`),
    otherExperimentId: await createExperiment(app, other, `${prefix}-exp-other`),
    developer: developer.auth,
    viewer: viewer.auth,
    outsider: outsider.auth,
    scopedToOther: bearer(scoped.json<{ token: string }>().token),
    anonymous: {},
  };
}

export async function createExperiment(app: HangarApp, project: string, name: string): Promise<string> {
  const res = await call(app, 'POST', `/api/v1/projects/${project}/experiments`, adminAuth, { name });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ experimentId: string }>().experimentId;
}

/** An MLflow REST call (`path` below /api/2.0/mlflow/), as the admin unless `headers` say otherwise. */
export function mlflow(
  app: HangarApp,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Headers = adminAuth,
): Promise<LightMyRequestResponse> {
  return app.http.inject({
    method,
    url: `/api/2.0/mlflow/${path}`,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Asserts a 200 and returns the JSON body. */
export function ok<T = Record<string, unknown>>(res: LightMyRequestResponse, what = ''): T {
  assert.equal(res.statusCode, 200, `${what} -> ${res.statusCode} ${res.body.slice(0, 500)}`);
  return res.json<T>();
}

/** Asserts an MLflow error answer: the status, exactly {error_code, message}, and the code. */
export function mlflowError(res: LightMyRequestResponse, status: number, code: string, what = ''): string {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body.slice(0, 500)}`);
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body).sort(), ['error_code', 'message'], `${what}: ${res.body.slice(0, 500)}`);
  assert.equal(body.error_code, code, `${what}: ${res.body.slice(0, 500)}`);
  return body.message as string;
}

/** Creates a run through MLflow's API and returns its id. */
export async function createRun(
  app: HangarApp,
  experimentId: string,
  headers: Headers = adminAuth,
  tags: { key: string; value: string }[] = [],
): Promise<string> {
  const res = ok<{ run: { info: { run_id: string } } }>(
    await mlflow(app, 'POST', 'runs/create', { experiment_id: experimentId, tags }, headers),
    'create run',
  );
  return res.run.info.run_id;
}

/** Creates a logged model through MLflow's API and returns its id. */
export async function createLoggedModel(
  app: HangarApp,
  experimentId: string,
  body: Record<string, unknown> = {},
  headers: Headers = adminAuth,
): Promise<string> {
  const res = ok<{ model: { info: { model_id: string } } }>(
    await mlflow(app, 'POST', 'logged-models', { experiment_id: experimentId, ...body }, headers),
    'create logged model',
  );
  return res.model.info.model_id;
}

/** Uploads a file into a run's artifacts through the native API (as the admin unless `headers` say otherwise). */
export async function putRunArtifact(
  app: HangarApp,
  runId: string,
  artifactPath: string,
  content: Buffer | string,
  headers: Record<string, string> = adminAuth,
): Promise<void> {
  const res = await app.http.inject({
    method: 'PUT',
    url: `/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(artifactPath)}`,
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    payload: Buffer.from(content),
  });
  assert.ok(res.statusCode < 300, `upload ${artifactPath}: ${res.statusCode} ${res.body}`);
}
