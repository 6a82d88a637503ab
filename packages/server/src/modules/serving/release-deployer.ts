import { performance } from 'node:perf_hooks';
import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { ArtifactStore } from '../../artifacts/index.js';
import { SYSTEM_CALLER } from '../../core/auth.js';
import type { DB, ReleaseEnvironment } from '../../db/schema.js';
import type { JobStore } from '../../jobs/job-store.js';
import { PermanentJobError, type JobContext, type JobHandler } from '../../jobs/job-handler.js';
import { loadHeldOut } from '../gates/held-out.js';
import type { GateStore } from '../gates/store.js';
import type { ReleaseDeployer, ReleasesService } from '../releases/service.js';
import type { ReleaseWithModel } from '../releases/store.js';
import { quantile } from './analysis.js';
import { columnsToTensors } from './oip/records.js';
import { buildBundle } from './packaging.js';
import type { ServingPlane } from './plane.js';
import type { ServingService } from './service.js';
import type { DeploymentStore } from './store.js';

export const RELEASE_DEPLOY_JOB = 'release.deploy';
/** Sample requests the staging test sends, drawn from the held-out set's first rows. */
export const INTEGRATION_SAMPLES = 20;
/** The staging test's p99 latency budget for one sample request. */
export const LATENCY_BUDGET_MS = 500;
const READY_TIMEOUT_MS = 15 * 60_000;

const Payload = Type.Object(
  { releaseId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
type Payload = Static<typeof Payload>;

export interface ReleaseDeployDeps {
  releases: ReleasesService;
  serving: ServingService;
  store: DeploymentStore;
  gates: GateStore;
  artifacts: ArtifactStore;
  /**
   * The data plane the staging test runs through: this process's serving plane, or (a worker
   * without the serving role) a private one that loads the deployment under test only for the test.
   */
  plane: ServingPlane | null;
  privatePlane: boolean;
  jobs: JobStore;
  wake: () => void;
}

/** Enqueues the deployment of approved releases (wired into the releases service). */
export function releaseDeployer(deps: Pick<ReleaseDeployDeps, 'jobs' | 'wake'>): ReleaseDeployer {
  return {
    async enqueue(tx: Kysely<DB>, releaseId: string) {
      await deps.jobs.enqueueIn(tx, { kind: RELEASE_DEPLOY_JOB, payload: { releaseId }, maxAttempts: 3 });
      setTimeout(deps.wake, 20).unref();
    },
  };
}

/**
 * The 'release.deploy' job: takes an approved release through its deployment stages.
 * 1. packages the version (bundle with manifest, checksums and an OCI build context);
 * 2. deploys it to the model's staging deployment (created on first use) and waits until it serves;
 * 3. integration-tests it there: every declared input column present in the held-out set, sample
 *    requests drawn from it answered, p99 within the latency budget;
 * 4. for production: the first production deployment of a model serves it at once; an existing one
 *    rolls it out as a canary, and the release is done or rolled back when the canary ends.
 * A failure at any stage rolls the release back (MLflow's Production stage returns to the previous
 * champion) with the reason.
 */
export function releaseDeployHandler(deps: ReleaseDeployDeps): JobHandler<Payload> {
  return {
    kind: RELEASE_DEPLOY_JOB,
    payloadSchema: Payload,
    async run(ctx: JobContext<Payload>) {
      return { result: await deploy(deps, ctx) };
    },
  };
}

async function deploy(deps: ReleaseDeployDeps, ctx: JobContext<Payload>): Promise<Record<string, unknown>> {
  const r = await deps.releases.forDeployment(ctx.payload.releaseId);
  if (!r) throw new PermanentJobError(`no release ${ctx.payload.releaseId}`);
  if (r.status !== 'approved' && r.status !== 'deploying') {
    ctx.log('system', `release ${r.id} is ${r.status}: nothing to deploy\n`);
    return { skipped: r.status };
  }
  const say = (text: string) => ctx.log('system', `${text}\n`);
  const fail = async (why: string) => {
    say(`rolling back: ${why}`);
    await deps.releases.deploymentStep(r.id, 'rolled_back', why);
    return { outcome: 'rolled_back', reason: why };
  };
  const version = Number(r.version);
  const facts = await deps.store.versions(r.model_id, [version]);
  const v = facts[0];
  if (!v) return fail(`version ${version} no longer exists`);
  let bundle: string;
  try {
    const built = await buildBundle(deps.artifacts, {
      modelId: r.model_id,
      modelName: r.model_name,
      version,
      storageLocation: v.storage_location,
      signature: v.signature,
    });
    bundle = built.path;
    say(`packaged: ${built.manifest.files.length} model files, runtime ${built.manifest.runtime}, bundle at ${bundle}`);
  } catch (err) {
    return fail(`packaging failed: ${(err as Error).message}`);
  }
  if (r.status === 'approved') await deps.releases.deploymentStep(r.id, 'deploying', `packaged at ${bundle}`);
  if (!deps.plane)
    return fail('this process cannot run the staging test: it has neither the worker nor the serving role');

  const staging = await ensureServing(deps, r, 'staging', version, say);
  if ('failure' in staging) return fail(`staging: ${staging.failure}`);
  let report: IntegrationReport;
  try {
    report = await integrationTest(deps, r, staging.name, version);
  } finally {
    if (deps.privatePlane) deps.plane.forget(staging.name);
  }
  say(`staging test: ${report.summary}`);
  if (!report.passed) return fail(`staging test failed: ${report.summary}`);
  if (r.environment === 'staging') {
    await deps.releases.deploymentStep(r.id, 'done', `serving on ${staging.name}; ${report.summary}`);
    return { outcome: 'done', deployment: staging.name, bundle, test: report };
  }

  const existing = await deps.store.forModel(r.model_id, 'production');
  if (!existing) {
    const prod = await ensureServing(deps, r, 'production', version, say);
    if ('failure' in prod) return fail(`production: ${prod.failure}`);
    await deps.releases.deploymentStep(r.id, 'done', `first production deployment ${prod.name}`);
    return { outcome: 'done', deployment: prod.name, bundle, test: report };
  }
  if (Number(existing.stable_version) === version) {
    await deps.releases.deploymentStep(r.id, 'done', `${existing.name} serves version ${version} already`);
    return { outcome: 'done', deployment: existing.name };
  }
  try {
    const rollout = await deps.serving.startRollout(
      SYSTEM_CALLER,
      existing.project_name,
      existing.name,
      { strategy: 'canary', version },
      r.id,
    );
    say(`canary ${rollout.id} started on ${existing.name}: the release is done when it is promoted`);
    return { outcome: 'rolling_out', deployment: existing.name, rollout: rollout.id, bundle, test: report };
  } catch (err) {
    return fail(`the production rollout could not start: ${(err as Error).message}`);
  }
}

/**
 * Makes the model's deployment in `environment` serve `version` with all traffic (creating it on
 * first use, named after the model) and waits until this process's plane serves it. A worker with
 * a private plane loads staging into it for the test and does not wait for production.
 */
async function ensureServing(
  deps: ReleaseDeployDeps,
  r: ReleaseWithModel,
  environment: ReleaseEnvironment,
  version: number,
  say: (t: string) => void,
): Promise<{ name: string } | { failure: string }> {
  const project = (await deps.store.projectName(r.project_id))!;
  const existing = await deps.store.forModel(r.model_id, environment);
  let name: string;
  try {
    if (existing) {
      name = existing.name;
      await deps.serving.setTraffic(SYSTEM_CALLER, project, name, [{ version, weight: 100 }]);
    } else {
      name = await freeName(deps.store, deploymentNameFor(r.model_name, environment));
      await deps.serving.create(SYSTEM_CALLER, project, {
        name,
        model: r.model_name,
        environment,
        versions: [{ version, weight: 100 }],
      });
    }
  } catch (err) {
    return { failure: (err as Error).message };
  }
  if (deps.privatePlane) {
    // Serving replicas apply the change by polling; this worker loads staging only, to test it.
    if (environment === 'production') {
      say(`${environment}: deployment ${name} → version ${version}; serving replicas apply it as they poll`);
      return { name };
    }
    await deps.plane!.refresh(name);
  }
  say(`${environment}: deployment ${name} → version ${version}, waiting until it serves`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // The change above is being applied to this process's plane (loading takes as long as it takes);
  // watch the plane, and the store only for a failure it recorded.
  for (;;) {
    const live = deps.plane!.get(name);
    if (live?.traffic.length === 1 && live.traffic[0]!.version === version && live.versions.has(version))
      return { name };
    const row = await deps.store.byName(name);
    if (row?.status === 'failed') return { failure: `deployment ${name} failed to load: ${row.failure}` };
    if (Date.now() > deadline) return { failure: `deployment ${name} did not serve version ${version} in time` };
    await new Promise((res) => setTimeout(res, 250));
  }
}

export interface IntegrationReport {
  passed: boolean;
  summary: string;
  samples: number;
  failures: number;
  p99Ms: number | null;
}

/**
 * The staging test: the version's declared columns must all be in the held-out set, and sample
 * requests built from its first rows must all be answered within the latency budget. A model with
 * no evaluation spec has no held-out set: only its loading is tested.
 */
async function integrationTest(
  deps: ReleaseDeployDeps,
  r: ReleaseWithModel,
  name: string,
  version: number,
): Promise<IntegrationReport> {
  const spec = await deps.gates.spec(r.model_id);
  if (!spec)
    return {
      passed: true,
      summary: 'loaded; no evaluation spec, so no sample requests',
      samples: 0,
      failures: 0,
      p99Ms: null,
    };
  const dataset = await deps.gates.dataset(spec.dataset_id);
  if (!dataset) return { passed: false, summary: 'the held-out dataset is gone', samples: 0, failures: 0, p99Ms: null };
  const heldOut = await loadHeldOut(deps.artifacts, dataset, spec.label_column);
  const { metadata, loaded } = deps.plane!.metadata(name, version);
  const names = [...heldOut.features.names];
  const missing = (loaded.columns ?? []).filter((c) => !names.includes(c));
  if (missing.length > 0) {
    return {
      passed: false,
      summary: `schema: the model's inputs ${missing.join(', ')} are not in the held-out set`,
      samples: 0,
      failures: 0,
      p99Ms: null,
    };
  }
  const rows = Math.min(INTEGRATION_SAMPLES, heldOut.features.rows);
  const width = names.length;
  const latencies: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < rows; i++) {
    const cells = Array.from(heldOut.features.data.subarray(i * width, (i + 1) * width));
    const cols = { names, rows: 1, columns: cells.map((c) => [c]) };
    const started = performance.now();
    try {
      const inputs = columnsToTensors(cols, metadata.inputs, loaded.columns);
      const out = await deps.plane!.infer(name, version, `staging-test-${r.id}-${i}`, inputs, undefined, undefined);
      if (out.outputs.length === 0) errors.push(`row ${i}: no outputs`);
    } catch (err) {
      errors.push(`row ${i}: ${(err as Error).message}`);
    }
    latencies.push(performance.now() - started);
  }
  const p99 = quantile(Float64Array.from(latencies).sort(), 0.99);
  const passed = errors.length === 0 && (p99 ?? 0) <= LATENCY_BUDGET_MS;
  const summary =
    errors.length > 0
      ? `${errors.length} of ${rows} sample requests failed (${errors[0]})`
      : `${rows} sample requests answered, p99 ${p99?.toFixed(1)} ms (budget ${LATENCY_BUDGET_MS} ms)`;
  return { passed, summary, samples: rows, failures: errors.length, p99Ms: p99 };
}

/** `churn` -> `churn` (production) / `churn-staging`: lowercase, dashes, within the name rule. */
export function deploymentNameFor(model: string, environment: ReleaseEnvironment): string {
  const base =
    model
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'model';
  return environment === 'production' ? base : `${base}-staging`;
}

async function freeName(store: DeploymentStore, wanted: string): Promise<string> {
  if (!(await store.byName(wanted))) return wanted;
  for (let i = 2; ; i++) {
    const name = `${wanted}-${i}`;
    if (!(await store.byName(name))) return name;
  }
}
