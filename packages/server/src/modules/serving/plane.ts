import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { PredictionRoute } from '../../db/schema.js';
import { BatchingRuntime, type BatchingPolicy } from './batching.js';
import type { PredictionLog, PredictionRecord } from './prediction-log.js';
import { RuntimeInputError, RuntimeUnavailableError, type ModelMetadata, type ModelRuntime } from './runtime.js';
import type { ServingMetrics } from './serving-metrics.js';
import { ShadowRunner } from './shadow-runner.js';
import type { DeploymentStore, DeploymentWithModel, ServableVersion } from './store.js';
import type { Tensor } from './tensors.js';
import { TrafficRouter, type RoutingKey, type ShadowPolicy, type TrafficSplit } from './traffic.js';

/** A loaded version: its runtime plus what the records endpoint needs to build tensors. */
export interface LoadedVersion {
  runtime: ModelRuntime;
  /** Column names in the model signature's order (column-based signatures), else null. */
  columns: string[] | null;
}

/** Loads one version of a deployment; `version-loader.ts` is the real one. */
export interface VersionLoader {
  load(deployment: DeploymentWithModel, version: ServableVersion): Promise<LoadedVersion>;
}

/** One deployment as this process serves it: replaced whole on every change, never mutated. */
export interface LiveDeployment {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  modelName: string;
  revision: number;
  traffic: readonly TrafficSplit[];
  shadow: ShadowPolicy | null;
  stableVersion: number;
  router: TrafficRouter;
  routingKey: RoutingKey | null;
  versions: ReadonlyMap<number, LoadedVersion>;
}

export interface InferOutcome {
  version: number;
  route: PredictionRoute;
  outputs: Tensor[];
}

/** The deployment exists but cannot serve yet (still loading) or any more (failed to load). */
export class DeploymentUnavailableError extends Error {
  override readonly name = 'DeploymentUnavailableError';
}

/** The model raised an error for inputs that passed validation: a 500 naming the version. */
export class ModelFailedError extends Error {
  override readonly name = 'ModelFailedError';
}

/** No deployment (or no such version of it) is served here. */
export class DeploymentNotFoundError extends Error {
  override readonly name = 'DeploymentNotFoundError';
}

export interface ServingPlaneOptions {
  /** How often the store is polled for changed deployments (other processes' changes). Default 1 s. */
  pollMs?: number;
  /** Shadow copies in flight at once; more are skipped and counted. Default 64. */
  maxShadowInFlight?: number;
  /** How long a replaced runtime lives on for requests already using it. Default 5 s. */
  retireAfterMs?: number;
}

/**
 * The data plane of one process: the deployments it serves, each with its versions' runtimes loaded
 * and a router for its traffic split. A change (new split, rollback, rollout step) loads whatever
 * version is new *before* swapping the deployment's entry in one assignment, so a request sees
 * either the old policy or the new one, never a half-applied one, and never waits for a load.
 * Versions a deployment may need instantly (its stable version, and the one before the last
 * promotion) stay loaded, which is what makes a rollback a pointer swap. A version that fails to
 * load marks the deployment failed and leaves its traffic where it was.
 *
 * Other processes' changes arrive by polling the store's revisions; changes made in this process
 * are applied at once through `refresh`.
 */
export class ServingPlane {
  private readonly live = new Map<string, LiveDeployment>();
  /** Loads in progress by deployment name, so concurrent refreshes share one. */
  private readonly loading = new Map<string, Promise<void>>();
  private readonly failedRevision = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private shadowInFlight = 0;
  /** One per candidate runtime in use as a shadow; gone with the runtime. */
  private readonly shadowRunners = new WeakMap<ModelRuntime, ShadowRunner>();
  private closed = false;
  /** True once the first sync finished: the server-readiness of the data plane. */
  synced = false;
  private readonly pollMs: number;
  private readonly maxShadowInFlight: number;
  private readonly retireAfterMs: number;

  constructor(
    private readonly store: DeploymentStore,
    private readonly loader: VersionLoader,
    private readonly log: PredictionLog,
    private readonly metrics: ServingMetrics,
    private readonly clock: Clock,
    private readonly logger: FastifyBaseLogger,
    options: ServingPlaneOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.maxShadowInFlight = options.maxShadowInFlight ?? 64;
    this.retireAfterMs = options.retireAfterMs ?? 5000;
  }

  /** Loads every deployment now and starts polling for changes. */
  start(): void {
    const tick = () => {
      this.sync()
        .catch((err: unknown) => this.logger.error({ err }, 'serving: could not sync deployments'))
        .finally(() => {
          if (!this.closed) {
            this.timer = setTimeout(tick, this.pollMs);
            this.timer.unref();
          }
        });
    };
    tick();
  }

  /** Brings every deployment to its stored revision; removes those deleted. */
  async sync(): Promise<void> {
    const stored = await this.store.revisions();
    const names = new Set(stored.map((s) => s.name));
    const work: Promise<void>[] = [];
    for (const { name, revision } of stored) {
      const rev = Number(revision);
      if (this.live.get(name)?.revision === rev || this.failedRevision.get(name) === rev) continue;
      work.push(this.refresh(name));
    }
    for (const name of this.live.keys()) if (!names.has(name)) this.unload(name);
    // Readiness does not wait for loads (a model server can take minutes): models report their own.
    this.synced = true;
    await Promise.all(work);
  }

  /**
   * Applies the stored state of one deployment: loads versions it now needs, swaps the entry,
   * retires runtimes no longer needed. Resolves when done; a load failure is recorded on the
   * deployment (status failed) and does not reject.
   */
  refresh(name: string): Promise<void> {
    const running = this.loading.get(name);
    // One load at a time per deployment; a refresh asked for meanwhile runs after it.
    const next = (running ?? Promise.resolve()).then(() => this.apply(name));
    const tracked = next.finally(() => {
      if (this.loading.get(name) === tracked) this.loading.delete(name);
    });
    this.loading.set(name, tracked);
    return tracked;
  }

  /** Stops polling, closes every runtime and writes the queued predictions. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.loading.values()]);
    const runtimes = [...this.live.values()].flatMap((d) => [...d.versions.values()].map((v) => v.runtime));
    this.live.clear();
    await Promise.allSettled(runtimes.map((r) => r.close()));
    await this.log.close();
  }

  /** Stops serving a deployment here until its next refresh (a private plane after a staging test). */
  forget(name: string): void {
    this.unload(name);
  }

  get(name: string): LiveDeployment | undefined {
    return this.live.get(name);
  }

  list(): LiveDeployment[] {
    return [...this.live.values()];
  }

  /** Whether every version a deployment routes to can answer now. */
  ready(name: string): boolean {
    const d = this.live.get(name);
    if (!d) return false;
    return d.traffic.every((s) => s.weight === 0 || d.versions.get(s.version)?.runtime.ready() === true);
  }

  /**
   * The served version's metadata: the pinned one, else the stable version's (what most traffic
   * gets). Throws DeploymentNotFoundError for unknown names or versions.
   */
  metadata(name: string, version: number | null): { version: number; metadata: ModelMetadata; loaded: LoadedVersion } {
    const d = this.require(name);
    const v = version ?? d.stableVersion;
    const loaded = d.versions.get(v) ?? (version === null ? d.versions.get(d.traffic[0]!.version) : undefined);
    if (!loaded) throw new DeploymentNotFoundError(`deployment "${name}" does not serve version ${v}`);
    return { version: v, metadata: loaded.runtime.metadata(), loaded };
  }

  /**
   * Serves one request: picks the version (the pinned one, else by the traffic split and the
   * routing key), runs it, records metrics and the prediction log entry, and sends a copy to the
   * shadow version if there is one. Input errors reject with RuntimeInputError.
   */
  async infer(
    name: string,
    pinned: number | null,
    requestId: string,
    inputs: Tensor[],
    outputs: readonly string[] | undefined,
    routingKey: string | undefined,
  ): Promise<InferOutcome> {
    const d = this.require(name);
    const version = pinned ?? d.router.pick(routingKey);
    const loaded = d.versions.get(version);
    if (!loaded) {
      if (pinned !== null) throw new DeploymentNotFoundError(`deployment "${name}" does not serve version ${pinned}`);
      throw new DeploymentUnavailableError(`deployment "${name}" is loading version ${version}`);
    }
    const route: PredictionRoute = pinned !== null ? 'pinned' : version === d.stableVersion ? 'stable' : 'candidate';
    const started = performance.now();
    let result: Tensor[];
    try {
      result = await loaded.runtime.infer(inputs, outputs);
    } catch (err) {
      // Bad input is the caller's error, not the version's: it does not count against a canary.
      if (err instanceof RuntimeInputError) throw err;
      this.log.append(this.record(d, version, route, requestId, performance.now() - started, inputs, null, err));
      if (err instanceof RuntimeUnavailableError) throw err;
      throw new ModelFailedError(`version ${version} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const record = this.record(d, version, route, requestId, performance.now() - started, inputs, result, null);
    const shadowed =
      d.shadow && pinned === null && d.shadow.version !== version && this.shadow(d, record, inputs, outputs);
    if (!shadowed) this.log.append(record);
    return { version, route, outputs: result };
  }

  private require(name: string): LiveDeployment {
    const d = this.live.get(name);
    if (d) return d;
    if (this.loading.has(name) || this.failedRevision.has(name)) {
      throw new DeploymentUnavailableError(
        this.failedRevision.has(name) ? `deployment "${name}" failed to load` : `deployment "${name}" is loading`,
      );
    }
    throw new DeploymentNotFoundError(`no deployment "${name}"`);
  }

  /** Counts the answer in the metrics and makes its prediction log record. */
  private record(
    d: LiveDeployment,
    version: number,
    route: PredictionRoute,
    requestId: string,
    ms: number,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[] | null,
    err: unknown,
  ): PredictionRecord {
    this.metrics.observe(d.name, version, route, err === null, ms / 1000);
    return {
      deploymentId: d.id,
      requestId,
      version,
      route,
      error: err === null ? null : errorText(err),
      latencyMs: ms,
      inputs,
      outputs,
      at: this.clock.now(),
      shadow: null,
    };
  }

  /**
   * Sends a copy of a served request to the shadow version, if this request is sampled and a copy
   * may be in flight. Its answer goes into the primary's log record, which is appended once the
   * shadow has answered (so one row holds both). False when no copy was sent.
   */
  private shadow(
    d: LiveDeployment,
    record: PredictionRecord,
    inputs: readonly Tensor[],
    outputs: readonly string[] | undefined,
  ): boolean {
    const policy = d.shadow!;
    if (policy.percent < 100 && Math.random() * 100 >= policy.percent) return false;
    const loaded = d.versions.get(policy.version);
    if (!loaded) return false;
    if (this.shadowInFlight >= this.maxShadowInFlight) {
      this.metrics.shadowSkip(d.name);
      return false;
    }
    let runner = this.shadowRunners.get(loaded.runtime);
    if (!runner) {
      runner = new ShadowRunner(loaded.runtime);
      this.shadowRunners.set(loaded.runtime, runner);
    }
    this.shadowInFlight++;
    runner.submit({
      inputs,
      outputs,
      done: (result, err, ms) => {
        this.shadowInFlight--;
        this.metrics.observe(d.name, policy.version, 'shadow', result !== null, ms / 1000);
        record.shadow = {
          version: policy.version,
          error: result ? null : errorText(err),
          latencyMs: ms,
          outputs: result,
        };
        this.log.append(record);
      },
    });
    return true;
  }

  private async apply(name: string): Promise<void> {
    if (this.closed) return;
    const row = await this.store.byName(name);
    if (!row) {
      this.unload(name);
      return;
    }
    const revision = Number(row.revision);
    const current = this.live.get(name);
    if (current?.revision === revision) return;
    const traffic = JSON.parse(row.traffic) as TrafficSplit[];
    const shadow = row.shadow ? (JSON.parse(row.shadow) as ShadowPolicy) : null;
    const stable = Number(row.stable_version);
    const previous = row.previous_version === null ? null : Number(row.previous_version);
    const needed = new Set<number>([stable, ...traffic.map((s) => s.version)]);
    if (shadow) needed.add(shadow.version);
    if (previous !== null) needed.add(previous);
    const batching = row.batching ? (JSON.parse(row.batching) as BatchingPolicy) : null;

    const versions = new Map<number, LoadedVersion>();
    const fresh: LoadedVersion[] = [];
    try {
      const missing = [...needed].filter((v) => !current?.versions.has(v));
      const facts = await this.store.versions(row.model_id, missing);
      for (const v of missing) {
        const fact = facts.find((f) => f.version === v);
        if (!fact) throw new Error(`version ${v} of model "${row.model_name}" does not exist`);
        const loaded = await this.loader.load(row, fact);
        const runtime = batching ? new BatchingRuntime(loaded.runtime, batching) : loaded.runtime;
        const entry = { runtime, columns: loaded.columns };
        fresh.push(entry);
        versions.set(v, entry);
      }
    } catch (err) {
      await Promise.allSettled(fresh.map((f) => f.runtime.close()));
      const message = err instanceof Error ? err.message : String(err);
      this.failedRevision.set(name, revision);
      this.logger.error(
        { err, deployment: name, revision },
        'serving: a deployment failed to load; traffic stays as it was',
      );
      await this.store.setStatus(row.id, 'failed', message.slice(0, 2000), this.clock.now());
      return;
    }
    if (this.closed) {
      await Promise.allSettled(fresh.map((f) => f.runtime.close()));
      return;
    }
    for (const v of needed) {
      const kept = current?.versions.get(v);
      if (kept) versions.set(v, kept);
    }
    const next: LiveDeployment = {
      id: row.id,
      name,
      projectId: row.project_id,
      projectName: row.project_name,
      modelName: row.model_name,
      revision,
      traffic,
      shadow,
      stableVersion: stable,
      router: new TrafficRouter(traffic),
      routingKey: row.routing_key ? (JSON.parse(row.routing_key) as RoutingKey) : null,
      versions,
    };
    // The swap: one assignment; requests already past `require` finish on the old entry.
    this.live.set(name, next);
    this.failedRevision.delete(name);
    if (current) this.retire([...current.versions.entries()].filter(([v]) => !needed.has(v)).map(([, l]) => l));
    if (row.status !== 'ready') await this.store.setStatus(row.id, 'ready', null, this.clock.now());
  }

  private unload(name: string): void {
    const d = this.live.get(name);
    this.live.delete(name);
    this.failedRevision.delete(name);
    if (d) this.retire([...d.versions.values()]);
  }

  /** Closes runtimes after a grace period, so requests that picked them before the swap finish. */
  private retire(loaded: LoadedVersion[]): void {
    if (loaded.length === 0) return;
    setTimeout(() => {
      for (const l of loaded) {
        l.runtime.close().catch((err: unknown) => this.logger.warn({ err }, 'serving: closing a runtime failed'));
      }
    }, this.retireAfterMs).unref();
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
