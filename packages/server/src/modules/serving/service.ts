import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { SYSTEM_CALLER, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, InvalidStateError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { DB, DeploymentRuntime, ReleaseEnvironment, RolloutStatus, RolloutStrategy } from '../../db/schema.js';
import type { AuditLog, RecordEvent } from '../audit/log.js';
import type { AccessService } from '../projects/access.js';
import { forbiddenAddress } from '../webhooks/url-guard.js';
import { analyzeStep, DEFAULT_MIN_LABELS, quantile, type CanaryThresholds, type StepAnalysis } from './analysis.js';
import { BATCHING_LIMITS, type BatchingPolicy } from './batching.js';
import { decodeTensors } from './logged-tensors.js';
import type { ServingPlane } from './plane.js';
import type { DeploymentStore, DeploymentWithModel, NewLabel, RolloutRow } from './store.js';
import { canarySplit, checkTraffic, type RoutingKey, type ShadowPolicy, type TrafficSplit } from './traffic.js';

export const DEPLOYMENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const RUNTIMES = ['auto', 'onnx', 'process', 'external'] as const satisfies readonly DeploymentRuntime[];
export const DEFAULT_STEPS = [1, 10, 50, 100];
export const SERVING_LIMITS = {
  predictionsPage: 500,
  stepSeconds: { min: 1, max: 86_400 },
  steps: 10,
  labelsPerCall: 10_000,
} as const;

/** Ground truth for one request: a class (`label`) or a number (`value`). */
export interface LabelInput {
  requestId: string;
  label?: string | null;
  value?: number | null;
}

export interface ExternalTarget {
  url: string;
  model?: string;
  version?: string;
}

export interface CreateDeployment {
  name: string;
  model: string;
  environment: ReleaseEnvironment;
  versions: TrafficSplit[];
  runtime?: DeploymentRuntime;
  external?: ExternalTarget;
  routingKey?: RoutingKey;
  batching?: BatchingPolicy;
}

export type RolloutRequest =
  | ({ strategy: 'canary'; version: number; steps?: number[]; stepSeconds?: number } & Partial<CanaryThresholds>)
  | { strategy: 'shadow'; version: number; percent?: number };

/** A canary's settings as stored on the rollout. */
interface CanaryConfig extends CanaryThresholds {
  steps: number[];
  stepSeconds: number;
}

export interface StepRecord extends StepAnalysis {
  step: number;
  percent: number;
  at: string;
}

export interface Rollout {
  id: string;
  strategy: RolloutStrategy;
  candidateVersion: number;
  stableVersion: number;
  status: RolloutStatus;
  /** Canary: the step now running (index into steps) and its share of traffic. */
  step: { index: number; percent: number; startedAt: string } | null;
  config: Record<string, unknown>;
  analyses: StepRecord[];
  reason: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface Deployment {
  name: string;
  project: string;
  model: string;
  environment: ReleaseEnvironment;
  status: 'deploying' | 'ready' | 'failed';
  failure: string | null;
  runtime: DeploymentRuntime;
  external: ExternalTarget | null;
  traffic: TrafficSplit[];
  shadow: ShadowPolicy | null;
  stableVersion: number;
  previousVersion: number | null;
  revision: number;
  routingKey: RoutingKey | null;
  batching: BatchingPolicy | null;
  rollout: Rollout | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ServingDeps {
  db: Kysely<DB>;
  store: DeploymentStore;
  access: AccessService;
  audit: AuditLog;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** This process's data plane, when it has the serving role: changes apply to it at once. */
  plane: ServingPlane | null;
  /** Admin setting: external runtimes may point at loopback, private and link-local addresses. */
  allowPrivateTargets: boolean;
}

/** Told when a rollout started by a release ends. */
export type ReleaseListener = (releaseId: string, outcome: 'promoted' | 'aborted', reason: string) => Promise<unknown>;

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const notFound = (name: string) => new NotFoundError(`no deployment "${name}"`);
const ACTIVE: RolloutStatus[] = ['running', 'paused'];
const APPLY_WAIT_MS = 2000;

/**
 * Deployments and rollouts: the control plane of serving. Maintainers create deployments, set A/B
 * splits, start canary and shadow rollouts and roll back; viewers read. Every traffic change is a
 * compare-and-set on the deployment's revision recorded with its reason, audited in the same
 * transaction, and applied to this process's data plane at once (other serving processes poll).
 * `tick()` advances canaries: it judges each finished step from the prediction log and promotes,
 * goes on, or aborts and returns traffic to stable.
 */
export class ServingService {
  private ticking = false;
  private releaseListener: ReleaseListener | null = null;

  constructor(private readonly deps: ServingDeps) {}

  async create(caller: Caller, projectName: string, body: CreateDeployment): Promise<Deployment> {
    const { project } = await this.deps.access.requireProject(caller, projectName, 'maintainer', 'deployment.create');
    if (!DEPLOYMENT_NAME.test(body.name)) {
      throw new InputError(
        'name must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit',
        'name',
      );
    }
    const traffic = checkTraffic(body.versions);
    const runtime = body.runtime ?? 'auto';
    if (runtime === 'external' && !body.external)
      throw new InputError('runtime "external" needs external.url', 'external');
    if (runtime !== 'external' && body.external)
      throw new InputError('external is only for runtime "external"', 'external');
    if (body.external) await this.checkExternal(body.external);
    if (body.routingKey && !body.routingKey.header && !body.routingKey.field) {
      throw new InputError('routingKey needs a header or a field', 'routingKey');
    }
    if (body.batching) checkBatching(body.batching);
    const model = await this.deps.store.modelByName(project.id, body.model);
    if (!model) throw new NotFoundError(`no model "${body.model}" in project "${projectName}"`);
    await this.requireVersions(
      model.id,
      body.model,
      traffic.map((s) => s.version),
    );
    const now = this.deps.clock.now();
    const stable = [...traffic].sort((a, b) => b.weight - a.weight || a.version - b.version)[0]!.version;
    const actor = actorOf(caller);
    try {
      await this.deps.audit.change(caller, async (tx, record) => {
        if (await this.deps.store.with(tx).byName(body.name)) {
          throw new ConflictError(`a deployment named "${body.name}" exists already`);
        }
        await this.deps.store.with(tx).insert({
          id: newId(now),
          name: body.name,
          project_id: project.id,
          model_id: model.id,
          environment: body.environment,
          runtime,
          external: body.external ? JSON.stringify(body.external) : null,
          routing_key: body.routingKey ? JSON.stringify(body.routingKey) : null,
          batching: body.batching ? JSON.stringify(body.batching) : null,
          traffic: JSON.stringify(traffic),
          shadow: null,
          stable_version: stable,
          previous_version: null,
          status: 'deploying',
          failure: null,
          revision: 1,
          created_by: actor,
          created_at: now,
          updated_at: now,
        });
        record(
          'deployment.create',
          { type: 'deployment', name: body.name },
          {
            projectId: project.id,
            details: { model: body.model, environment: body.environment, traffic, runtime },
          },
        );
      });
    } catch (err) {
      // Two creates racing: the loser hits the unique name.
      if (err instanceof ConflictError) throw err;
      if ((await this.deps.store.byName(body.name)) !== undefined) {
        throw new ConflictError(`a deployment named "${body.name}" exists already`);
      }
      throw err;
    }
    // Loading may take minutes (a model server's environment): the caller polls the status.
    void this.applyLocally(body.name);
    return this.view((await this.deps.store.byName(body.name))!);
  }

  async list(caller: Caller, projectName: string): Promise<Deployment[]> {
    const { project } = await this.deps.access.requireProject(caller, projectName, 'viewer', null);
    const rows = await this.deps.store.list(project.id);
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async get(caller: Caller, projectName: string, name: string): Promise<Deployment> {
    return this.view(await this.find(caller, projectName, name, 'viewer', null));
  }

  async remove(caller: Caller, projectName: string, name: string): Promise<void> {
    const d = await this.find(caller, projectName, name, 'maintainer', 'deployment.delete');
    await this.deps.audit.change(caller, async (tx, record) => {
      await this.deps.store.with(tx).delete(d.id);
      record('deployment.delete', { type: 'deployment', name }, { projectId: d.project_id });
    });
    await this.applyLocally(name);
  }

  /** Sets an A/B split by hand. Refused while a rollout runs: it owns the split then. */
  async setTraffic(caller: Caller, projectName: string, name: string, versions: TrafficSplit[]): Promise<Deployment> {
    const d = await this.find(caller, projectName, name, 'maintainer', 'deployment.traffic');
    const traffic = checkTraffic(versions);
    await this.requireVersions(
      d.model_id,
      d.model_name,
      traffic.map((s) => s.version),
    );
    const active = await this.activeRollout(d.id);
    if (active) {
      throw new InvalidStateError(
        `a ${active.strategy} rollout of version ${active.candidate_version} is ${active.status}: promote or abort it first`,
      );
    }
    const stable = [...traffic].sort((a, b) => b.weight - a.weight || a.version - b.version)[0]!.version;
    await this.change(caller, d, 'traffic', {
      traffic,
      shadow: null,
      stable,
      previous: stable !== Number(d.stable_version) ? Number(d.stable_version) : d.previous_version,
    });
    return this.get(caller, projectName, name);
  }

  /** Who hears that a release's rollout ended (the releases module), set at wiring. */
  setReleaseListener(listener: ReleaseListener): void {
    this.releaseListener = listener;
  }

  /**
   * Starts a canary or shadow rollout. `releaseId` links it to the release that deploys the
   * version: the release is done when the canary is promoted and rolled back when it is aborted.
   */
  async startRollout(
    caller: Caller,
    projectName: string,
    name: string,
    body: RolloutRequest,
    releaseId: string | null = null,
  ): Promise<Rollout> {
    const d = await this.find(caller, projectName, name, 'maintainer', 'rollout.start');
    const stable = Number(d.stable_version);
    if (!Number.isInteger(body.version) || body.version < 1)
      throw new InputError('version must be a positive integer', 'version');
    if (body.version === stable)
      throw new InputError(`version ${body.version} is the stable version already`, 'version');
    await this.requireVersions(d.model_id, d.model_name, [body.version]);
    const active = await this.activeRollout(d.id);
    if (active)
      throw new InvalidStateError(
        `a ${active.strategy} rollout of version ${active.candidate_version} is ${active.status} already`,
      );
    const now = this.deps.clock.now();
    let config: Record<string, unknown>;
    let traffic: TrafficSplit[];
    let shadow: ShadowPolicy | null = null;
    if (body.strategy === 'canary') {
      const c = canaryConfig(body);
      config = { ...c };
      traffic = canarySplit(stable, body.version, c.steps[0]!);
    } else if (body.strategy === 'shadow') {
      const percent = body.percent ?? 100;
      if (!Number.isInteger(percent) || percent < 1 || percent > 100)
        throw new InputError('percent must be an integer from 1 to 100', 'percent');
      config = { percent };
      traffic = [{ version: stable, weight: 100 }];
      shadow = { version: body.version, percent };
    } else {
      throw new InputError('strategy must be "canary" or "shadow"', 'strategy');
    }
    const row: RolloutRow = {
      id: newId(now),
      deployment_id: d.id,
      strategy: body.strategy,
      candidate_version: body.version,
      release_id: releaseId,
      stable_version: stable,
      config: JSON.stringify(config),
      status: 'running',
      step_index: 0,
      step_started_at: now,
      analyses: '[]',
      reason: null,
      created_by: actorOf(caller),
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    await this.change(
      caller,
      d,
      `rollout.${body.strategy}`,
      { traffic, shadow, stable, previous: d.previous_version },
      async (tx) => {
        await this.deps.store.with(tx).insertRollout(row);
      },
    );
    return rolloutView(row);
  }

  async rollout(caller: Caller, projectName: string, name: string): Promise<Rollout> {
    const d = await this.find(caller, projectName, name, 'viewer', null);
    const r = await this.deps.store.latestRollout(d.id);
    if (!r) throw new NotFoundError(`deployment "${name}" has had no rollout`);
    return rolloutView(r);
  }

  /** promote | pause | resume | abort of the running rollout. */
  async rolloutAction(
    caller: Caller,
    projectName: string,
    name: string,
    action: 'promote' | 'pause' | 'resume' | 'abort',
    reason?: string,
  ): Promise<Rollout> {
    const d = await this.find(caller, projectName, name, 'maintainer', `rollout.${action}`);
    const r = await this.activeRollout(d.id);
    if (!r) throw new InvalidStateError(`deployment "${name}" has no running or paused rollout`);
    const now = this.deps.clock.now();
    const by = actorOf(caller);
    if (action === 'pause' || action === 'resume') {
      const from: RolloutStatus = action === 'pause' ? 'running' : 'paused';
      if (r.status !== from) throw new InvalidStateError(`the rollout is ${r.status}; it cannot ${action}`);
      await this.deps.audit.change(caller, async (tx, record) => {
        const ok = await this.deps.store.with(tx).updateRollout(
          r.id,
          { status: r.status, stepIndex: r.step_index },
          // A resumed step starts its window again: a paused step's requests were not watched.
          {
            status: action === 'pause' ? 'paused' : 'running',
            updated_at: now,
            ...(action === 'resume' ? { step_started_at: now } : {}),
          },
        );
        if (!ok) throw new ConflictError('the rollout changed meanwhile; reload and retry');
        record(
          `rollout.${action}`,
          { type: 'deployment', name },
          { projectId: d.project_id, details: { rollout: r.id } },
        );
      });
    } else {
      await this.finish(caller, d, r, action === 'promote' ? 'promoted' : 'aborted', reason ?? `${action}d by ${by}`);
    }
    return rolloutView((await this.deps.store.latestRollout(d.id))!);
  }

  /**
   * Returns all traffic to the stable version (ending any rollout or A/B split), or — when all
   * traffic is on stable already — to the version that was stable before the last promotion.
   */
  async rollback(caller: Caller, projectName: string, name: string): Promise<Deployment> {
    const d = await this.find(caller, projectName, name, 'maintainer', 'deployment.rollback');
    const stable = Number(d.stable_version);
    const traffic = JSON.parse(d.traffic) as TrafficSplit[];
    const onStable = d.shadow === null && traffic.length === 1 && traffic[0]!.version === stable;
    const active = await this.activeRollout(d.id);
    if (onStable && !active) {
      if (d.previous_version === null) {
        throw new InvalidStateError(`all traffic is on version ${stable} and no earlier stable version is known`);
      }
      const previous = Number(d.previous_version);
      await this.change(caller, d, 'rolled_back', {
        traffic: [{ version: previous, weight: 100 }],
        shadow: null,
        stable: previous,
        previous: null,
      });
    } else {
      await this.change(
        caller,
        d,
        'rolled_back',
        { traffic: [{ version: stable, weight: 100 }], shadow: null, stable, previous: d.previous_version },
        async (tx) => {
          if (active) await this.markFinished(tx, active, 'aborted', `rolled back by ${actorOf(caller)}`);
        },
      );
      if (active?.release_id)
        await this.reportToRelease(active.release_id, 'aborted', `rolled back by ${actorOf(caller)}`);
    }
    return this.get(caller, projectName, name);
  }

  async predictions(caller: Caller, projectName: string, name: string, limit: number) {
    const d = await this.find(caller, projectName, name, 'viewer', null);
    const rows = await this.deps.store.recentPredictions(
      d.id,
      Math.min(Math.max(1, limit), SERVING_LIMITS.predictionsPage),
    );
    return rows.map((r) => ({
      requestId: r.request_id,
      version: Number(r.version),
      route: r.route,
      outcome: r.outcome,
      error: r.error,
      latencyMs: Number(r.latency_ms),
      inputs: decodeTensors(r.inputs),
      outputs: decodeTensors(r.outputs),
      at: iso(r.created_at),
      shadow:
        r.shadow_version === null
          ? null
          : {
              version: Number(r.shadow_version),
              outcome: r.shadow_outcome ?? 'error',
              error: r.shadow_error,
              latencyMs: Number(r.shadow_latency_ms),
              outputs: decodeTensors(r.shadow_outputs),
            },
    }));
  }

  /**
   * Stores late ground truth by request id (developers: the pipelines that learn outcomes). A
   * classifier's label is a class, a regressor's a number; a label sent again replaces the old one.
   * Labels for request ids not (yet) in the log are kept too: the log is written asynchronously.
   */
  async addLabels(caller: Caller, projectName: string, name: string, labels: readonly LabelInput[]) {
    const d = await this.find(caller, projectName, name, 'developer', null);
    if (labels.length === 0) throw new InputError('labels must not be empty', 'labels');
    if (labels.length > SERVING_LIMITS.labelsPerCall)
      throw new InputError(`at most ${SERVING_LIMITS.labelsPerCall} labels per call`, 'labels');
    const byId = new Map<string, NewLabel>();
    labels.forEach((l, i) => {
      const hasLabel = l.label !== undefined && l.label !== null;
      const hasValue = l.value !== undefined && l.value !== null;
      if (hasLabel === hasValue)
        throw new InputError(`labels[${i}] needs exactly one of label (a class) or value (a number)`, `labels[${i}]`);
      if (hasValue && !Number.isFinite(l.value))
        throw new InputError(`labels[${i}].value must be finite`, `labels[${i}].value`);
      // The last label of a request in one call wins, as a later call's would.
      byId.set(l.requestId, {
        request_id: l.requestId,
        label: hasLabel ? l.label! : null,
        value: hasValue ? l.value! : null,
      });
    });
    const rows = [...byId.values()];
    await this.deps.store.upsertLabels(d.id, rows, this.deps.clock.now());
    const matched = await this.deps.store.countLogged(
      d.id,
      rows.map((r) => r.request_id),
    );
    return { accepted: rows.length, matched };
  }

  /** Requests, errors and latency per version over the last `minutes`, from the prediction log. */
  async stats(caller: Caller, projectName: string, name: string, minutes: number) {
    const d = await this.find(caller, projectName, name, 'viewer', null);
    const now = this.deps.clock.now();
    const samples = await this.deps.store.samples(d.id, now - minutes * 60_000, now + 1, 100_000);
    const byVersion = new Map<number, typeof samples>();
    for (const s of samples) (byVersion.get(s.version) ?? byVersion.set(s.version, []).get(s.version)!).push(s);
    return {
      windowMinutes: minutes,
      versions: [...byVersion.entries()]
        .sort(([a], [b]) => a - b)
        .map(([version, xs]) => {
          const lat = Float64Array.from(xs, (s) => s.latency_ms).sort();
          const errors = xs.filter((s) => s.outcome === 'error').length;
          return { version, requests: xs.length, errors, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };
        }),
    };
  }

  /** Shadow vs primary on the same requests: agreement, output deltas, latency deltas. */
  async shadowReport(caller: Caller, projectName: string, name: string) {
    const d = await this.find(caller, projectName, name, 'viewer', null);
    const r = await this.deps.store.latestRollout(d.id);
    const since = r?.strategy === 'shadow' ? Number(r.created_at) : 0;
    const pairs = await this.deps.store.shadowPairs(d.id, since, 50_000);
    const both = pairs.filter((p) => p.primary_outcome === 'ok' && p.shadow_outcome === 'ok');
    let agree = 0;
    const deltas: number[] = [];
    for (const p of both) {
      if (p.primary_label !== null || p.shadow_label !== null) {
        if (p.primary_label === p.shadow_label) agree++;
      } else if (p.primary_value !== null && p.shadow_value !== null) {
        const delta = Math.abs(p.primary_value - p.shadow_value);
        deltas.push(delta);
        if (delta <= 1e-6 * Math.max(1, Math.abs(p.primary_value))) agree++;
      }
    }
    const latencyDelta = Float64Array.from(pairs, (p) => p.shadow_latency - p.primary_latency).sort();
    const sortedDeltas = Float64Array.from(deltas).sort();
    return {
      rollout: r ? rolloutView(r) : null,
      requests: pairs.length,
      compared: both.length,
      shadowErrors: pairs.filter((p) => p.shadow_outcome === 'error').length,
      agreementRate: both.length === 0 ? null : agree / both.length,
      outputDelta:
        deltas.length === 0
          ? null
          : {
              mean: deltas.reduce((a, b) => a + b, 0) / deltas.length,
              p99: quantile(sortedDeltas, 0.99),
              max: sortedDeltas[sortedDeltas.length - 1]!,
            },
      latencyDeltaMs: { p50: quantile(latencyDelta, 0.5), p99: quantile(latencyDelta, 0.99) },
    };
  }

  async history(caller: Caller, projectName: string, name: string) {
    const d = await this.find(caller, projectName, name, 'viewer', null);
    const rows = await this.deps.store.history(d.id, 100);
    return rows.map((r) => ({
      revision: Number(r.revision),
      traffic: JSON.parse(r.traffic) as TrafficSplit[],
      shadow: r.shadow ? (JSON.parse(r.shadow) as ShadowPolicy) : null,
      stableVersion: Number(r.stable_version),
      reason: r.reason,
      actor: r.actor,
      at: iso(r.at),
    }));
  }

  /**
   * Advances every running canary whose step is over: judges the step from the prediction log;
   * a pass moves to the next step (the last one, 100 %, is the promotion), a failure aborts and
   * returns traffic to stable, too few requests waits. Runs on the worker role; safe to run in
   * several processes at once (each change is compare-and-set).
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.judgeDue();
    } finally {
      this.ticking = false;
    }
  }

  private async judgeDue(): Promise<void> {
    for (const r of await this.deps.store.unreportedRollouts()) {
      await this.reportToRelease(r.release_id!, r.status === 'promoted' ? 'promoted' : 'aborted', r.reason ?? r.status);
    }
    const now = this.deps.clock.now();
    for (const r of await this.deps.store.activeRollouts()) {
      if (r.strategy !== 'canary' || r.status !== 'running') continue;
      const config = JSON.parse(r.config) as CanaryConfig;
      if (now - Number(r.step_started_at) < config.stepSeconds * 1000) continue;
      const d = await this.deps.store.byId(r.deployment_id);
      if (!d) continue;
      try {
        await this.judge(d, r, config, now);
      } catch (err) {
        if (!(err instanceof ConflictError)) this.deps.logger.error({ err, rollout: r.id }, 'canary analysis failed');
      }
    }
  }

  private async judge(d: DeploymentWithModel, r: RolloutRow, config: CanaryConfig, now: number): Promise<void> {
    const samples = await this.deps.store.samples(d.id, Number(r.step_started_at), now + 1, 200_000);
    const analysis = analyzeStep(samples, Number(r.stable_version), Number(r.candidate_version), config);
    if (analysis.decision === 'wait') return;
    const percent = config.steps[r.step_index]!;
    const record: StepRecord = { step: r.step_index, percent, at: iso(now), ...analysis };
    const analyses = [...(JSON.parse(r.analyses) as StepRecord[]), record];
    if (analysis.decision === 'fail') {
      await this.finish(
        SYSTEM_CALLER,
        d,
        r,
        'aborted',
        `step ${r.step_index + 1} (${percent} %) failed: ${analysis.reason}`,
        analyses,
      );
      return;
    }
    const nextIndex = r.step_index + 1;
    const nextPercent = config.steps[nextIndex];
    if (nextPercent === undefined || nextPercent >= 100) {
      await this.finish(SYSTEM_CALLER, d, r, 'promoted', `every step passed`, analyses);
      return;
    }
    const stable = Number(r.stable_version);
    await this.change(
      SYSTEM_CALLER,
      d,
      'rollout.step',
      {
        traffic: canarySplit(stable, Number(r.candidate_version), nextPercent),
        shadow: null,
        stable,
        previous: d.previous_version,
      },
      async (tx) => {
        const ok = await this.deps.store
          .with(tx)
          .updateRollout(
            r.id,
            { status: 'running', stepIndex: r.step_index },
            { step_index: nextIndex, step_started_at: now, analyses: JSON.stringify(analyses), updated_at: now },
          );
        if (!ok) throw new ConflictError('the rollout changed meanwhile');
      },
    );
  }

  /** Ends a rollout: promoted moves all traffic to the candidate; aborted returns it to stable. */
  private async finish(
    caller: Caller,
    d: DeploymentWithModel,
    r: RolloutRow,
    outcome: 'promoted' | 'aborted',
    reason: string,
    analyses?: StepRecord[],
  ): Promise<void> {
    const stable = Number(r.stable_version);
    const candidate = Number(r.candidate_version);
    const policy =
      outcome === 'promoted'
        ? { traffic: [{ version: candidate, weight: 100 }], shadow: null, stable: candidate, previous: stable }
        : { traffic: [{ version: stable, weight: 100 }], shadow: null, stable, previous: d.previous_version };
    await this.change(caller, d, `rollout.${outcome}`, policy, async (tx) => {
      await this.markFinished(tx, r, outcome, reason, analyses);
    });
    if (r.release_id) await this.reportToRelease(r.release_id, outcome, reason);
  }

  /** Tells the release its rollout ended; a failure here is retried by the next tick's sweep. */
  private async reportToRelease(releaseId: string, outcome: 'promoted' | 'aborted', reason: string): Promise<void> {
    try {
      await this.releaseListener?.(releaseId, outcome, reason);
    } catch (err) {
      this.deps.logger.error({ err, releaseId }, 'could not report the end of a rollout to its release');
    }
  }

  private async markFinished(
    tx: Kysely<DB>,
    r: RolloutRow,
    outcome: 'promoted' | 'aborted',
    reason: string,
    analyses?: StepRecord[],
  ): Promise<void> {
    const now = this.deps.clock.now();
    const ok = await this.deps.store.with(tx).updateRollout(
      r.id,
      { status: r.status, stepIndex: r.step_index },
      {
        status: outcome,
        reason,
        finished_at: now,
        updated_at: now,
        ...(analyses ? { analyses: JSON.stringify(analyses) } : {}),
      },
    );
    if (!ok) throw new ConflictError('the rollout changed meanwhile; reload and retry');
  }

  /**
   * One traffic change: compare-and-set on the revision, audited, plus `also` in the same
   * transaction; then applied to this process's plane.
   */
  private async change(
    caller: Caller,
    d: DeploymentWithModel,
    reason: string,
    policy: { traffic: TrafficSplit[]; shadow: ShadowPolicy | null; stable: number; previous: number | null },
    also?: (tx: Kysely<DB>, record: RecordEvent) => Promise<void>,
  ): Promise<void> {
    await this.deps.audit.change(caller, async (tx, record) => {
      const revision = await this.deps.store.with(tx).changeTraffic(d.id, Number(d.revision), {
        traffic: JSON.stringify(policy.traffic),
        shadow: policy.shadow ? JSON.stringify(policy.shadow) : null,
        stableVersion: policy.stable,
        previousVersion: policy.previous,
        reason,
        actor: actorOf(caller),
        at: this.deps.clock.now(),
      });
      if (revision === null) throw new ConflictError(`deployment "${d.name}" changed meanwhile; reload and retry`);
      if (also) await also(tx, record);
      record(
        `deployment.${reason}`,
        { type: 'deployment', name: d.name },
        {
          projectId: d.project_id,
          details: { revision, traffic: policy.traffic, shadow: policy.shadow, stableVersion: policy.stable },
        },
      );
    });
    // A change among loaded versions (rollback, a step) is in effect when this returns; one that
    // needs a version loaded first takes effect when it is, without holding the response.
    await Promise.race([this.applyLocally(d.name), new Promise((r) => setTimeout(r, APPLY_WAIT_MS).unref())]);
  }

  /** Applies a committed change to this process's plane; other processes pick it up by polling. */
  private applyLocally(name: string): Promise<void> {
    return this.deps.plane ? this.deps.plane.refresh(name) : Promise.resolve();
  }

  private async find(
    caller: Caller,
    projectName: string,
    name: string,
    min: 'viewer' | 'developer' | 'maintainer',
    action: string | null,
  ): Promise<DeploymentWithModel> {
    const { project } = await this.deps.access.requireProject(caller, projectName, min, action);
    const d = await this.deps.store.byName(name);
    if (!d || d.project_id !== project.id) throw notFound(name);
    return d;
  }

  private async activeRollout(deploymentId: string): Promise<RolloutRow | undefined> {
    const r = await this.deps.store.latestRollout(deploymentId);
    return r && ACTIVE.includes(r.status) ? r : undefined;
  }

  private async requireVersions(modelId: string, modelName: string, versions: number[]): Promise<void> {
    const found = await this.deps.store.versions(modelId, versions);
    for (const v of versions) {
      const f = found.find((x) => x.version === v);
      if (!f) throw new NotFoundError(`model "${modelName}" has no version ${v}`);
      if (f.status !== 'READY')
        throw new InvalidStateError(`version ${v} of model "${modelName}" is ${f.status}, not READY`);
    }
  }

  /** External targets: http(s), no credentials, and no loopback/private/link-local without the admin setting. */
  private async checkExternal(t: ExternalTarget): Promise<void> {
    const bad = (why: string) => new InputError(`external.url refused: ${why}`, 'external.url');
    let url: URL;
    try {
      url = new URL(t.url);
    } catch {
      throw bad('not an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`scheme ${url.protocol} (use http or https)`);
    if (url.username || url.password) throw bad('credentials in the URL');
    if (this.deps.allowPrivateTargets) return;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw bad(`cannot resolve ${host}`);
    }
    for (const a of addresses) {
      const why = forbiddenAddress(a);
      if (why) throw bad(`${host} is ${why}; such targets need the admin setting servingAllowPrivateTargets`);
    }
  }

  private async view(d: DeploymentWithModel): Promise<Deployment> {
    const r = await this.deps.store.latestRollout(d.id);
    return {
      name: d.name,
      project: d.project_name,
      model: d.model_name,
      environment: d.environment,
      status: d.status,
      failure: d.failure,
      runtime: d.runtime,
      external: d.external ? (JSON.parse(d.external) as ExternalTarget) : null,
      traffic: JSON.parse(d.traffic) as TrafficSplit[],
      shadow: d.shadow ? (JSON.parse(d.shadow) as ShadowPolicy) : null,
      stableVersion: Number(d.stable_version),
      previousVersion: d.previous_version === null ? null : Number(d.previous_version),
      revision: Number(d.revision),
      routingKey: d.routing_key ? (JSON.parse(d.routing_key) as RoutingKey) : null,
      batching: d.batching ? (JSON.parse(d.batching) as BatchingPolicy) : null,
      rollout: r ? rolloutView(r) : null,
      createdBy: d.created_by,
      createdAt: iso(d.created_at),
      updatedAt: iso(d.updated_at),
    };
  }
}

function actorOf(caller: Caller): string {
  return caller.auth?.username ?? 'system';
}

function checkBatching(b: BatchingPolicy): void {
  if (!Number.isInteger(b.maxBatchSize) || b.maxBatchSize < 2 || b.maxBatchSize > BATCHING_LIMITS.maxBatchSize) {
    throw new InputError(
      `batching.maxBatchSize must be an integer from 2 to ${BATCHING_LIMITS.maxBatchSize}`,
      'batching.maxBatchSize',
    );
  }
  if (!(b.maxDelayMs >= 0 && b.maxDelayMs <= BATCHING_LIMITS.maxDelayMs)) {
    throw new InputError(`batching.maxDelayMs must be from 0 to ${BATCHING_LIMITS.maxDelayMs}`, 'batching.maxDelayMs');
  }
}

function canaryConfig(body: Extract<RolloutRequest, { strategy: 'canary' }>): CanaryConfig {
  const steps = body.steps ?? DEFAULT_STEPS;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > SERVING_LIMITS.steps) {
    throw new InputError(`steps must list 1 to ${SERVING_LIMITS.steps} percentages`, 'steps');
  }
  steps.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1 || s > 100)
      throw new InputError(`steps[${i}] must be an integer from 1 to 100`, `steps[${i}]`);
    if (i > 0 && s <= steps[i - 1]!) throw new InputError('steps must increase', `steps[${i}]`);
  });
  if (steps[steps.length - 1] !== 100) throw new InputError('the last step must be 100 (the promotion)', 'steps');
  if (steps.length === 1) throw new InputError('a canary needs at least one step below 100 to analyse', 'steps');
  const stepSeconds = body.stepSeconds ?? 60;
  const { min, max } = SERVING_LIMITS.stepSeconds;
  if (!(stepSeconds >= min && stepSeconds <= max))
    throw new InputError(`stepSeconds must be from ${min} to ${max}`, 'stepSeconds');
  const minRequests = body.minRequests ?? 20;
  if (!Number.isInteger(minRequests) || minRequests < 1)
    throw new InputError('minRequests must be a positive integer', 'minRequests');
  const minLabels = body.minLabels ?? DEFAULT_MIN_LABELS;
  if (!Number.isInteger(minLabels) || minLabels < 2)
    throw new InputError('minLabels must be an integer of at least 2', 'minLabels');
  const fraction = (v: number | null | undefined, field: string, dflt: number | null) => {
    if (v === undefined) return dflt;
    if (v === null) return null;
    if (!(v >= 0 && v <= 1)) throw new InputError(`${field} must be from 0 to 1`, field);
    return v;
  };
  const positive = (v: number | null | undefined, field: string, dflt: number | null) => {
    if (v === undefined) return dflt;
    if (v === null) return null;
    if (!(v > 0)) throw new InputError(`${field} must be positive`, field);
    return v;
  };
  return {
    steps,
    stepSeconds,
    minRequests,
    maxErrorRate: fraction(body.maxErrorRate, 'maxErrorRate', 0.05),
    maxP99Ms: positive(body.maxP99Ms, 'maxP99Ms', null),
    maxP99Ratio: positive(body.maxP99Ratio, 'maxP99Ratio', 3),
    maxDistributionShift: fraction(body.maxDistributionShift, 'maxDistributionShift', 0.2),
    minLabels,
    maxAccuracyDrop: fraction(body.maxAccuracyDrop, 'maxAccuracyDrop', 0.05),
    maxMaeIncrease: positive(body.maxMaeIncrease, 'maxMaeIncrease', 0.2),
  };
}

function rolloutView(r: RolloutRow): Rollout {
  const config = JSON.parse(r.config) as Record<string, unknown>;
  const steps = (config.steps as number[] | undefined) ?? null;
  return {
    id: r.id,
    strategy: r.strategy,
    candidateVersion: Number(r.candidate_version),
    stableVersion: Number(r.stable_version),
    status: r.status,
    step: steps ? { index: r.step_index, percent: steps[r.step_index]!, startedAt: iso(r.step_started_at) } : null,
    config,
    analyses: JSON.parse(r.analyses) as StepRecord[],
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    finishedAt: r.finished_at === null ? null : iso(r.finished_at),
  };
}
