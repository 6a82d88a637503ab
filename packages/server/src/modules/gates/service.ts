import type { Kysely } from 'kysely';
import type { Caller } from '../../core/auth.js';
import { requireAuth } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, InvalidStateError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { DB, GateStatus, ModelStage, RiskTier } from '../../db/schema.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { AuditLog } from '../audit/log.js';
import type { DatasetsService } from '../datasets/service.js';
import type { EventSink } from '../events/types.js';
import type { AccessService } from '../projects/access.js';
import type { GateSummary, VersionGates } from '../registry/service.js';
import type { RegisteredModelRow, RegistryStore } from '../registry/store.js';
import { noGateListener, type GateListener } from './listener.js';
import { parseSpec, schemaColumns, type EvaluationSpec, type GateCheck } from './spec.js';
import type { GateRow, GateStore, SpecRow } from './store.js';

/** The job kind that evaluates a gate; payload {gateId}. */
export const GATE_JOB = 'registry.gate';
/** Scoring can take long (a venv build for pyfunc models); three attempts ride out a flaky index. */
export const GATE_JOB_ATTEMPTS = 3;
const HISTORY = 50;
const REASON_LENGTH = 2000;

export interface SpecView extends EvaluationSpec {
  updatedBy: string;
  updatedAt: number;
}

export interface GateView {
  id: string;
  modelId: string;
  version: number;
  status: GateStatus;
  overridden: boolean;
  override: { by: string; reason: string; at: number } | null;
  /** The spec as it was when the gate ran (null before it started, or when skipped). */
  spec: EvaluationSpec | null;
  scorer: string | null;
  rows: number | null;
  metrics: Record<string, number | null> | null;
  checks: GateCheck[] | null;
  championVersion: number | null;
  championMetrics: Record<string, number | null> | null;
  reason: string | null;
  jobId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** A champion and what it scored on a held-out set. */
export interface ChampionScore {
  version: number;
  /** Its newest passed gate's metrics on the same dataset and task; null when it has none. */
  metrics: Record<string, number | null> | null;
  gateId: string | null;
}

export interface GateResult {
  gate: GateView | null;
  /** The model's current champion beside it, with its metrics on the gate's held-out set. */
  champion: ChampionScore | null;
  /** Every gate of the version, newest first (the first is `gate`). */
  history: GateView[];
}

/** What the gate runner writes when a gate is evaluated. */
export interface Evaluated {
  scorer: string;
  rows: number;
  metrics: Record<string, number | null>;
  checks: GateCheck[];
  champion: { version: number; metrics: Record<string, number | null> } | null;
  reason: string | null;
}

export interface GatesDeps {
  db: Kysely<DB>;
  store: GateStore;
  registry: Pick<RegistryStore, 'modelByName'>;
  access: AccessService;
  datasets: Pick<DatasetsService, 'get'>;
  audit: AuditLog;
  jobs: Pick<JobStore, 'enqueueIn'>;
  events: EventSink;
  clock: Clock;
  /** Tells an idle worker that a gate job is queued (after the commit). */
  wake: () => void;
  /** Where listener failures are reported (they never fail the gate). */
  onListenerError?: (err: unknown) => void;
}

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const key = (modelId: string, version: number) => `${modelId}\n${version}`;

export function specView(r: SpecRow): SpecView {
  return {
    datasetId: r.dataset_id,
    task: r.task,
    labelColumn: r.label_column,
    thresholds: JSON.parse(r.thresholds) as EvaluationSpec['thresholds'],
    championRule: json<EvaluationSpec['championRule']>(r.champion_rule),
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  };
}

export function gateView(g: GateRow): GateView {
  return {
    id: g.id,
    modelId: g.model_id,
    version: g.version,
    status: g.status,
    overridden: g.override_by !== null,
    override:
      g.override_by !== null ? { by: g.override_by, reason: g.override_reason ?? '', at: Number(g.override_at) } : null,
    spec: json<EvaluationSpec>(g.spec),
    scorer: g.scorer,
    rows: g.rows,
    metrics: json(g.metrics),
    checks: json(g.checks),
    championVersion: g.champion_version,
    championMetrics: json(g.champion_metrics),
    reason: g.reason,
    jobId: g.job_id,
    createdAt: g.created_at,
    startedAt: g.started_at,
    finishedAt: g.finished_at,
  };
}

/**
 * The evaluation gate: each registered model's evaluation spec (maintainers), the gate every new
 * version gets (evaluated by the 'registry.gate' job, see handler.ts), re-runs (maintainers) and
 * overrides of failed gates (project admins, with a reason). Every change is audited; gate
 * outcomes are domain events (gate.passed / gate.failed) emitted in the transaction that stores
 * them, and the GateListener hears of every settled gate after its commit.
 *
 * The registry calls in here when a version is created (its first gate) and before an MLflow stage
 * transition (a failed gate, not overridden, blocks Staging and Production; a critical model goes
 * to Production only with an approved production release).
 */
export class GatesService implements VersionGates {
  private listener: GateListener = noGateListener;

  constructor(private readonly d: GatesDeps) {}

  /** Wires the releases service (or whoever advances work waiting on gates). */
  setListener(listener: GateListener): void {
    this.listener = listener;
  }

  // ---- the spec ----

  async getSpec(caller: Caller, project: string, name: string): Promise<SpecView> {
    const { m } = await this.model(caller, project, name, 'viewer', null);
    const row = await this.d.store.spec(m.id);
    if (!row) throw new NotFoundError(`registered model ${name} has no evaluation spec`);
    return specView(row);
  }

  /**
   * Sets (replaces) a model's evaluation spec. The dataset must be a version of the model's
   * project that the caller can read; the label column must be in its recorded schema when it
   * has one; metric names must be the task's.
   */
  async putSpec(caller: Caller, project: string, name: string, input: Record<string, unknown>): Promise<SpecView> {
    const a = requireAuth(caller);
    const { m } = await this.model(caller, project, name, 'maintainer', 'evaluation_spec.put');
    const spec = parseSpec(input);
    const dataset = await this.d.datasets.get(caller, spec.datasetId).catch((err: unknown) => {
      if (err instanceof NotFoundError) {
        throw new InputError(`no dataset version ${JSON.stringify(spec.datasetId)} in project ${project}`, 'datasetId');
      }
      throw err;
    });
    if (dataset.dataset.projectId !== m.project_id) {
      throw new InputError(`dataset version ${spec.datasetId} belongs to another project`, 'datasetId');
    }
    const columns = schemaColumns(dataset.dataset.schema);
    if (columns && !columns.includes(spec.labelColumn)) {
      throw new InputError(
        `the dataset has no column "${spec.labelColumn}" (columns: ${columns.join(', ')})`,
        'labelColumn',
      );
    }
    const row: SpecRow = {
      model_id: m.id,
      dataset_id: spec.datasetId,
      task: spec.task,
      label_column: spec.labelColumn,
      thresholds: JSON.stringify(spec.thresholds),
      champion_rule: spec.championRule ? JSON.stringify(spec.championRule) : null,
      updated_by: a.username,
      updated_at: this.d.clock.now(),
    };
    await this.d.audit.change(caller, async (tx, record) => {
      await this.d.store.with(tx).putSpec(row);
      record(
        'evaluation_spec.put',
        { type: 'registered_model', name: m.id },
        { projectId: m.project_id, details: { name: m.name, ...spec } },
      );
    });
    return specView(row);
  }

  /** Removes a model's spec; its next versions' gates are skipped. Removing none is no error. */
  async deleteSpec(caller: Caller, project: string, name: string): Promise<void> {
    const { m } = await this.model(caller, project, name, 'maintainer', 'evaluation_spec.delete');
    await this.d.audit.change(caller, async (tx, record) => {
      if (await this.d.store.with(tx).deleteSpec(m.id)) {
        record(
          'evaluation_spec.delete',
          { type: 'registered_model', name: m.id },
          { projectId: m.project_id, details: { name: m.name } },
        );
      }
    });
  }

  // ---- gate results ----

  /** A version's gate result, the champion beside it, and its gate history (viewers). */
  async getGate(caller: Caller, project: string, name: string, version: number): Promise<GateResult> {
    const { m } = await this.model(caller, project, name, 'viewer', null);
    await this.version(m, version);
    const history = await this.d.store.gates(m.id, version, HISTORY);
    const gate = history[0] ? gateView(history[0]) : null;
    let spec = gate?.spec ?? null;
    if (!spec) {
      const row = await this.d.store.spec(m.id);
      spec = row ? specView(row) : null;
    }
    const championVersion = await this.d.store.champion(m.id);
    const champion =
      championVersion === null
        ? null
        : spec
          ? await this.championScore(m.id, championVersion, spec)
          : { version: championVersion, metrics: null, gateId: null };
    return { gate, champion, history: history.map(gateView) };
  }

  /** Evaluates a version again (e.g. after the spec changed): a new gate becomes its result. */
  async rerun(caller: Caller, project: string, name: string, version: number): Promise<GateView> {
    const { m } = await this.model(caller, project, name, 'maintainer', 'model_version.gate_rerun');
    await this.version(m, version);
    const gate = await this.d.audit.change(caller, async (tx, record) => {
      const g = await this.createIn(tx, { modelId: m.id, version });
      record(
        'model_version.gate_rerun',
        { type: 'model_version', name: `${m.id}/${version}` },
        { projectId: m.project_id, details: { name: m.name, version, gateId: g.gateId, status: g.status } },
      );
      return g;
    });
    this.created(m.id, version, gate.status);
    return gateView((await this.d.store.gate(gate.gateId))!);
  }

  /**
   * Clears a failed gate by decision of a project admin (or platform admin), with a reason; the
   * result stays 'failed', marked overridden. Only the version's current gate, only once.
   */
  async override(caller: Caller, project: string, name: string, version: number, reason: unknown): Promise<GateView> {
    const a = requireAuth(caller);
    const { m } = await this.model(caller, project, name, 'admin', 'model_version.gate_override');
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new InputError('an override needs a reason', 'reason');
    }
    if (reason.length > REASON_LENGTH)
      throw new InputError(`reason is longer than ${REASON_LENGTH} characters`, 'reason');
    await this.version(m, version);
    const gate = await this.d.store.newest(m.id, version);
    if (!gate) throw new ConflictError(`version ${version} of ${m.name} has no gate to override`);
    if (gate.status !== 'failed') {
      throw new ConflictError(`only a failed gate can be overridden; the gate of version ${version} is ${gate.status}`);
    }
    const now = this.d.clock.now();
    const text = reason.trim();
    await this.d.audit.change(caller, async (tx, record) => {
      if (!(await this.d.store.with(tx).override(gate.id, a.username, text, now))) {
        throw new ConflictError(`the gate of version ${version} was overridden already`);
      }
      record(
        'model_version.gate_override',
        { type: 'model_version', name: `${m.id}/${version}` },
        {
          projectId: m.project_id,
          details: { name: m.name, version, gateId: gate.id, reason: text, failure: gate.reason },
        },
      );
    });
    await this.settled(m.id, version);
    return gateView((await this.d.store.gate(gate.id))!);
  }

  // ---- called by the registry ----

  /**
   * In the transaction that creates a version (or re-runs its gate): a new gate, pending with its
   * job, or skipped when the model has no spec.
   */
  async createIn(
    tx: Kysely<DB>,
    v: { modelId: string; version: number },
  ): Promise<{ gateId: string; status: GateStatus }> {
    const s = this.d.store.with(tx);
    const now = this.d.clock.now();
    const gateId = newId(now);
    const spec = await s.spec(v.modelId);
    const job = spec
      ? await this.d.jobs.enqueueIn(tx, { kind: GATE_JOB, payload: { gateId }, maxAttempts: GATE_JOB_ATTEMPTS })
      : null;
    const status: GateStatus = spec ? 'pending' : 'skipped';
    await s.insertGate({
      id: gateId,
      model_id: v.modelId,
      version: v.version,
      status,
      job_id: job?.id ?? null,
      spec: null,
      scorer: null,
      rows: null,
      metrics: null,
      checks: null,
      champion_version: null,
      champion_metrics: null,
      reason: spec ? null : 'no evaluation spec',
      override_by: null,
      override_reason: null,
      override_at: null,
      created_at: now,
      started_at: null,
      finished_at: spec ? null : now,
    });
    return { gateId, status };
  }

  /** After the transaction of {@link createIn} committed: wake the worker, or report the skipped gate. */
  created(modelId: string, version: number, status: GateStatus): void {
    if (status === 'pending') this.d.wake();
    else void this.settled(modelId, version);
  }

  /** Gate summaries of versions of models, keyed `modelId\nversion`. */
  async summaries(keys: { modelId: string; version: number }[]): Promise<Map<string, GateSummary>> {
    const byModel = new Map<string, number[]>();
    for (const k of keys) byModel.set(k.modelId, [...(byModel.get(k.modelId) ?? []), k.version]);
    const out = new Map<string, GateSummary>();
    for (const [modelId, versions] of byModel) {
      for (let i = 0; i < versions.length; i += 5000) {
        for (const g of await this.d.store.newestOf(modelId, versions.slice(i, i + 5000))) {
          out.set(key(g.model_id, g.version), { status: g.status, overridden: g.override_by !== null });
        }
      }
    }
    return out;
  }

  /**
   * Refuses an MLflow stage transition the gate rules forbid: to Staging or Production while the
   * version's gate failed (not overridden); to Production of a critical model without an approved
   * production release. Pending and running gates do not block (MLflow clients transition right
   * after registering).
   */
  async assertPromotable(
    tx: Kysely<DB>,
    m: { id: string; name: string; riskTier: RiskTier },
    version: number,
    stage: ModelStage,
  ): Promise<void> {
    if (stage !== 'Staging' && stage !== 'Production') return;
    const s = this.d.store.with(tx);
    const gate = await s.newest(m.id, version);
    if (gate?.status === 'failed' && gate.override_by === null) {
      throw new InvalidStateError(
        `Cannot transition model version ${version} of ${m.name} to ${stage}: its evaluation gate failed (${gate.reason ?? 'no reason recorded'}). A project admin may override the gate.`,
      );
    }
    if (stage === 'Production' && m.riskTier === 'critical' && !(await s.approvedForProduction(m.id, version))) {
      throw new InvalidStateError(
        `Cannot transition model version ${version} of ${m.name} to Production: ${m.name} is a critical model and this version has no approved production release. Request a release and have it approved.`,
      );
    }
  }

  // ---- called by the gate runner ----

  /**
   * Starts a pending gate: snapshots the model's spec onto it (running), or skips it when the
   * model has no spec any more. Null when there is nothing to do (the gate settled, or its version
   * was deleted).
   */
  async begin(gateId: string): Promise<{
    gate: GateRow;
    model: RegisteredModelRow;
    spec: EvaluationSpec;
  } | null> {
    const gate = await this.d.store.gate(gateId);
    if (!gate || (gate.status !== 'pending' && gate.status !== 'running')) return null;
    const model = await this.d.store.model(gate.model_id);
    if (!model) return null;
    const row = await this.d.store.spec(model.id);
    const now = this.d.clock.now();
    if (!row) {
      const skipped = await this.d.store.settle(gateId, {
        status: 'skipped',
        reason: 'no evaluation spec',
        finished_at: now,
      });
      if (skipped) await this.settled(model.id, gate.version);
      return null;
    }
    const { updatedBy: _, updatedAt: __, ...spec } = specView(row);
    if (!(await this.d.store.start(gateId, JSON.stringify(spec), now))) return null;
    return { gate: { ...gate, status: 'running' }, model, spec };
  }

  /**
   * The champion to judge a version against, with its metrics on the spec's held-out set when it
   * has a passed gate there. Null when the model has no champion or the version is the champion.
   */
  async championFor(modelId: string, version: number, spec: EvaluationSpec): Promise<ChampionScore | null> {
    const champion = await this.d.store.champion(modelId);
    if (champion === null || champion === version) return null;
    if (!(await this.d.store.version(modelId, champion))) return null;
    return this.championScore(modelId, champion, spec);
  }

  /** Stores a gate's evaluation, emits gate.passed / gate.failed with it, then tells the listener. */
  async finish(gateId: string, e: Evaluated): Promise<void> {
    const failed = e.checks.some((c) => !c.passed);
    await this.settle(gateId, {
      status: failed ? 'failed' : 'passed',
      scorer: e.scorer,
      rows: e.rows,
      metrics: JSON.stringify(e.metrics),
      checks: JSON.stringify(e.checks),
      champion_version: e.champion?.version ?? null,
      champion_metrics: e.champion ? JSON.stringify(e.champion.metrics) : null,
      reason: e.reason,
    });
  }

  /** Fails a gate that could not be evaluated (unreadable data, a model that does not load...). */
  async fail(gateId: string, reason: string, scorer: string | null = null): Promise<void> {
    await this.settle(gateId, { status: 'failed', reason: reason.slice(0, 4000), scorer });
  }

  // ---- internals ----

  private async settle(
    gateId: string,
    patch: { status: 'passed' | 'failed' } & Partial<Omit<GateRow, 'status'>>,
  ): Promise<void> {
    const gate = await this.d.store.gate(gateId);
    if (!gate) return;
    const model = await this.d.store.model(gate.model_id);
    if (!model) return;
    const settled = await this.d.db.transaction().execute(async (tx) => {
      if (!(await this.d.store.with(tx).settle(gateId, { ...patch, finished_at: this.d.clock.now() }))) return false;
      await this.d.events.emit(tx, {
        type: patch.status === 'passed' ? 'gate.passed' : 'gate.failed',
        projectId: model.project_id,
        payload: {
          model: model.name,
          modelId: model.id,
          version: gate.version,
          projectId: model.project_id,
          gateId,
          status: patch.status,
          metrics: patch.metrics ? (JSON.parse(patch.metrics) as unknown) : null,
          reason: patch.reason ?? null,
          actor: 'system',
        },
      });
      return true;
    });
    if (settled) await this.settled(model.id, gate.version);
  }

  private async settled(modelId: string, version: number): Promise<void> {
    try {
      await this.listener.gateSettled(modelId, version);
    } catch (err) {
      this.d.onListenerError?.(err);
    }
  }

  private async championScore(modelId: string, version: number, spec: EvaluationSpec): Promise<ChampionScore> {
    for (const g of await this.d.store.passed(modelId, version)) {
      const s = json<EvaluationSpec>(g.spec);
      if (s && s.datasetId === spec.datasetId && s.task === spec.task && s.labelColumn === spec.labelColumn) {
        return { version, metrics: json(g.metrics), gateId: g.id };
      }
    }
    return { version, metrics: null, gateId: null };
  }

  private async model(
    caller: Caller,
    project: string,
    name: string,
    min: 'viewer' | 'maintainer' | 'admin',
    action: string | null,
  ): Promise<{ m: RegisteredModelRow }> {
    const { project: p } = await this.d.access.requireProject(caller, project, min, action);
    const m = name.includes('\u0000') ? undefined : await this.d.registry.modelByName(p.id, name);
    if (!m) throw new NotFoundError(`Registered Model with name=${name} not found`);
    return { m };
  }

  private async version(m: RegisteredModelRow, version: number): Promise<void> {
    if (!(await this.d.store.version(m.id, version))) {
      throw new NotFoundError(`Model Version (name=${m.name}, version=${version}) not found`);
    }
  }
}
