import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The few calls of Hangar's native API bench/serving needs to put a model behind a deployment, made
 * exactly as a user's script would: MLflow REST to create a run, the artifact upload route for the
 * model's files, the registry for a model and its versions, then the deployments API.
 */

export interface HangarApi {
  url: string;
  token: string;
}

export interface Deployment {
  name: string;
  status: 'deploying' | 'ready' | 'failed';
  failure: string | null;
  runtime: string;
  traffic: { version: number; weight: number }[];
  shadow: { version: number } | null;
  stableVersion: number;
}

export const PROJECT = 'default';
const DEPLOYMENTS = `/api/v1/projects/${PROJECT}/deployments`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One JSON call; throws with the method, path, status and body on anything but 2xx. */
export async function api<T>(h: HangarApi, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${h.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${h.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/**
 * Uploads the MLflow model folder `modelDir` as artifacts of a new run and registers it as model
 * `name` in the default project, `versions` times (identical versions 1..n, for canaries, shadows
 * and rollbacks of the same model).
 */
export async function registerModel(h: HangarApi, modelDir: string, name: string, versions: number): Promise<void> {
  const ml = '/api/2.0/mlflow';
  const exp = await api<{ experiment_id: string }>(h, 'POST', `${ml}/experiments/create`, {
    name: `bench-serving-${Date.now().toString(36)}`,
  });
  const run = await api<{ run: { info: { run_id: string } } }>(h, 'POST', `${ml}/runs/create`, {
    experiment_id: exp.experiment_id,
  });
  const runId = run.run.info.run_id;
  for (const rel of filesUnder(modelDir)) {
    const res = await fetch(`${h.url}/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(`model/${rel}`)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream' },
      body: readFileSync(path.join(modelDir, rel)),
    });
    if (!res.ok) throw new Error(`uploading ${rel}: ${res.status} ${await res.text()}`);
  }
  await api(h, 'POST', `/api/v1/projects/${PROJECT}/models`, { name });
  for (let i = 0; i < versions; i++) {
    await api(h, 'POST', `/api/v1/projects/${PROJECT}/models/${name}/versions`, { source: `runs:/${runId}/model` });
  }
}

/** GET of a deployment. */
export const getDeployment = (h: HangarApi, name: string) => api<Deployment>(h, 'GET', `${DEPLOYMENTS}/${name}`);

/**
 * Polls until the deployment is ready and every version it routes to (or shadows) answers ready on
 * the Open Inference Protocol's version route; throws if the deployment failed.
 */
export async function waitReady(h: HangarApi, name: string, timeoutMs = 60_000): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  const late = (what: string) => {
    if (Date.now() > deadline) throw new Error(`deployment ${name}: ${what} after ${timeoutMs} ms`);
  };
  let d = await getDeployment(h, name);
  while (d.status !== 'ready') {
    if (d.status === 'failed') throw new Error(`deployment ${name} failed: ${d.failure ?? JSON.stringify(d)}`);
    late(`status ${d.status}`);
    await sleep(100);
    d = await getDeployment(h, name);
  }
  const wanted = new Set([...d.traffic.map((t) => t.version), ...(d.shadow ? [d.shadow.version] : [])]);
  for (const v of wanted) {
    for (;;) {
      const res = await fetch(`${h.url}/v2/models/${name}/versions/${v}/ready`, {
        headers: { authorization: `Bearer ${h.token}` },
      });
      await res.arrayBuffer();
      if (res.status === 200) break;
      late(`version ${v} answers ${res.status} on /ready`);
      await sleep(100);
    }
  }
  return d;
}

/** Creates a production deployment of `model` with the given split and waits until it serves. */
export async function deploy(
  h: HangarApi,
  name: string,
  model: string,
  versions: { version: number; weight: number }[],
): Promise<Deployment> {
  await api(h, 'POST', DEPLOYMENTS, { name, model, environment: 'production', versions, runtime: 'onnx' });
  return waitReady(h, name);
}

export const startRollout = (h: HangarApi, name: string, body: Record<string, unknown>) =>
  api(h, 'POST', `${DEPLOYMENTS}/${name}/rollouts`, body);

export const setTraffic = (h: HangarApi, name: string, versions: { version: number; weight: number }[]) =>
  api(h, 'PUT', `${DEPLOYMENTS}/${name}/traffic`, { versions });

export const rollback = (h: HangarApi, name: string) => api<Deployment>(h, 'POST', `${DEPLOYMENTS}/${name}/rollback`);
