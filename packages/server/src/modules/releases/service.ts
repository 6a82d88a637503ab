import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { SYSTEM_CALLER, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { DB, ReleaseEnvironment, ReleaseStatus, RiskTier } from '../../db/schema.js';
import type { AuditLog, RecordEvent } from '../audit/log.js';
import type { EventSink, EventType } from '../events/types.js';
import type { GateListener } from '../gates/listener.js';
import type { AccessService } from '../projects/access.js';
import { atLeast } from '../projects/roles.js';
import {
  LIVE_STATUSES,
  OPEN_STATUSES,
  type GateRow,
  type ModelFacts,
  type ReleaseRow,
  type ReleaseStore,
  type ReleaseWithModel,
} from './store.js';

export const ENVIRONMENTS = ['staging', 'production'] as const satisfies readonly ReleaseEnvironment[];
export const RELEASE_STATUSES = [
  'gate',
  'approval',
  'approved',
  'deploying',
  'done',
  'rejected',
  'blocked',
  'rolled_back',
  'cancelled',
] as const satisfies readonly ReleaseStatus[];
export const RELEASE_LIMITS = { reasonLength: 2000, page: { default: 50, max: 500 } } as const;

export interface Release {
  id: string;
  model: string;
  version: number;
  environment: ReleaseEnvironment;
  status: ReleaseStatus;
  requestedBy: string;
  note: string | null;
  /** The approval decision (for auto-approvals: by "system"), once made. */
  decision: { decision: 'approved' | 'rejected'; by: string; reason: string | null; at: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface GateSummary {
  id: string;
  status: GateRow['status'];
  reason: string | null;
  metrics: Record<string, unknown> | null;
  checks: unknown[] | null;
  override: { by: string; reason: string | null; at: string } | null;
  finishedAt: string | null;
}

export interface ReleaseDetail extends Release {
  /** A production release that is the model's champion now. */
  current: boolean;
  transitions: { seq: number; status: ReleaseStatus; actor: string; reason: string | null; at: string }[];
  /** The version's gate result now (its newest gate row), or null if it was never gated. */
  gate: GateSummary | null;
}

/** Deploys approved releases: enqueues the work inside the approving transaction. */
export interface ReleaseDeployer {
  enqueue(tx: Kysely<DB>, releaseId: string): Promise<void>;
}

/** Where a version stands with respect to its gate. */
type Clearance =
  | { kind: 'cleared'; how: 'passed' | 'overridden' | 'skipped' }
  | { kind: 'waiting' }
  | { kind: 'refused'; reason: string; gateId: string | null };

/**
 * Applies the shared rule "gate cleared": passed, failed-with-override, or skipped (no spec) for a
 * low-risk model. A version that was never gated counts as skipped.
 */
export function clearance(gate: GateRow | undefined, riskTier: RiskTier): Clearance {
  const status = gate?.status ?? 'skipped';
  if (status === 'pending' || status === 'running') return { kind: 'waiting' };
  if (status === 'passed') return { kind: 'cleared', how: 'passed' };
  if (status === 'failed') {
    if (gate!.override_at !== null) return { kind: 'cleared', how: 'overridden' };
    return {
      kind: 'refused',
      gateId: gate!.id,
      reason: `the evaluation gate ${gate!.id} failed${gate!.reason ? `: ${gate!.reason}` : ''}; an admin override (with a reason) is needed before it can be released`,
    };
  }
  if (riskTier === 'critical') {
    return {
      kind: 'refused',
      gateId: gate?.id ?? null,
      reason: 'critical models need an evaluation spec: the version was not evaluated (gate skipped)',
    };
  }
  return { kind: 'cleared', how: 'skipped' };
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const releaseNotFound = (id: string) => new NotFoundError(`no release "${id}"`);

function reasonOf(value: unknown, field: string, required: boolean): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (required) throw new InputError(`${field} is required`, field);
    return null;
  }
  if (typeof value !== 'string') throw new InputError(`${field} must be a string`, field);
  if (value.length > RELEASE_LIMITS.reasonLength) {
    throw new InputError(`${field} has ${value.length} characters; at most ${RELEASE_LIMITS.reasonLength}`, field);
  }
  return value.trim();
}

/** What a transition tells the audit log and the event log. */
interface Transition {
  release: ReleaseRow;
  model: ModelFacts;
  from: ReleaseStatus | null;
  to: ReleaseStatus;
  actor: string;
  reason: string | null;
  now: number;
}

/**
 * Releases: promotion of a model version to an environment, through its stages
 * gate -> approval (critical model, production) -> approved, with the side exits blocked, rejected,
 * cancelled and rolled_back. The rules:
 *
 * - developers request releases; a version whose gate failed (without override) is refused, and
 *   a critical model's version must have been evaluated;
 * - one open release (gate or approval) per model and environment;
 * - maintainers decide approvals, never on their own request (four-eyes), and exactly one decision
 *   is stored however many race (a conditional UPDATE on status = 'approval');
 * - low-risk models and staging releases auto-approve once the gate is cleared;
 * - an approved production release moves the version to MLflow stage Production (archiving the
 *   previous one), so `models:/<name>/Production` follows releases; rolling back restores the
 *   previous champion.
 *
 * Every status entered is a release_transitions row, an audit event (`release.<status>`) and, where
 * one is defined, a domain event, all in the transaction that changes the status. Implements the
 * gate's listener: a settled gate advances releases that wait on it.
 */
export class ReleasesService implements GateListener {
  private deployer: ReleaseDeployer | null = null;

  constructor(
    private readonly store: ReleaseStore,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly events: EventSink,
    private readonly clock: Clock,
    private readonly logger?: FastifyBaseLogger,
  ) {}

  /** Wires who deploys approved releases (the serving module); until then they stop at approved. */
  setDeployer(deployer: ReleaseDeployer): void {
    this.deployer = deployer;
  }

  /** The facts the deployer needs about a release, or undefined when it does not exist. */
  async forDeployment(id: string): Promise<ReleaseWithModel | undefined> {
    return this.store.get(id);
  }

  /**
   * Moves a release through its deployment stages on the platform's behalf: approved -> deploying
   * when its deployment starts, deploying -> done when it serves, deploying -> rolled_back when
   * staging tests or the production rollout failed (MLflow stage Production returns to the previous
   * champion, as for a rollback). Returns false when the release was not in a status that allows it
   * (e.g. rolled back by hand meanwhile): the caller stops.
   */
  async deploymentStep(id: string, to: 'deploying' | 'done' | 'rolled_back', reason: string): Promise<boolean> {
    const r = await this.store.get(id);
    if (!r) return false;
    const m = this.modelOf(r);
    const from: ReleaseStatus[] = to === 'deploying' ? ['approved'] : ['deploying'];
    if (!from.includes(r.status)) return false;
    const now = this.clock.now();
    return this.audit.change(SYSTEM_CALLER, async (tx, record) => {
      const s = this.store.with(tx);
      if (to === 'rolled_back') await s.lockModel(m.id);
      if (!(await s.move(r.id, from, { status: to, updated_at: now }))) return false;
      let extra: Record<string, unknown> = {};
      if (to === 'rolled_back' && r.environment === 'production') {
        const previous = await s.currentProduction(m.id);
        const version = Number(r.version);
        if (previous && Number(previous.version) !== version) {
          await s.setStage(m.id, [version], 'Archived', now);
          await s.setStage(m.id, [Number(previous.version)], 'Production', now);
        }
        extra = {
          previousReleaseId: previous?.id ?? null,
          previousVersion: previous ? Number(previous.version) : null,
        };
      }
      await this.entered(tx, record, { release: r, model: m, from: r.status, to, actor: 'system', reason, now }, extra);
      return true;
    });
  }

  /** Requests the release of a version to an environment (developers). */
  async request(
    caller: Caller,
    project: string,
    name: string,
    version: unknown,
    input: { environment?: unknown; note?: unknown },
  ): Promise<ReleaseDetail> {
    const { auth, project: p } = await this.access.requireProject(caller, project, 'developer', 'release.request');
    const environment = input.environment;
    if (typeof environment !== 'string' || !(ENVIRONMENTS as readonly string[]).includes(environment)) {
      throw new InputError(`environment must be one of ${ENVIRONMENTS.join(', ')}`, 'environment');
    }
    const env = environment as ReleaseEnvironment;
    const note = reasonOf(input.note, 'note', false);
    const n = Number(version);
    if (!Number.isSafeInteger(n) || n < 1) throw new InputError('version must be a positive integer', 'version');
    const m = await this.store.model(p.id, name);
    if (!m) throw new NotFoundError(`Registered Model with name=${name} not found`);
    if (!(await this.store.versionExists(m.id, n))) {
      throw new NotFoundError(`Model Version (name=${name}, version=${n}) not found`);
    }
    const now = this.clock.now();
    const id = newId(now);
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      await s.lockModel(m.id);
      const open = await s.open(m.id, env);
      if (open) {
        throw new ConflictError(
          `release ${open.id} of ${m.name} version ${open.version} to ${env} is still open (${open.status}); cancel it or wait for its outcome`,
          { releaseId: open.id },
        );
      }
      // Read inside the transaction, after the lock: the gate may have settled since the checks above.
      const c = clearance(await s.latestGate(m.id, n), m.risk_tier);
      if (c.kind === 'refused') throw new ConflictError(c.reason, { field: 'version', gateId: c.gateId });
      const row: ReleaseRow = {
        id,
        model_id: m.id,
        version: n,
        environment: env,
        status: 'gate',
        requested_by: auth.username,
        requested_by_id: auth.userId,
        note,
        decided_by: null,
        decided_by_id: null,
        decision: null,
        decision_reason: null,
        decided_at: null,
        created_at: now,
        updated_at: now,
      };
      await s.insert(row);
      await this.entered(tx, record, {
        release: row,
        model: m,
        from: null,
        to: 'gate',
        actor: auth.username,
        reason: note,
        now,
      });
      await this.passGate(tx, record, row, m, c, now);
    });
    return this.get(caller, project, id);
  }

  /** Approves a release waiting for approval (maintainers other than its requester). */
  async approve(caller: Caller, project: string, id: string, input: { reason?: unknown }): Promise<ReleaseDetail> {
    return this.decide(caller, project, id, 'approved', reasonOf(input.reason, 'reason', false));
  }

  /** Rejects a release waiting for approval; a reason is required (maintainers other than its requester). */
  async reject(caller: Caller, project: string, id: string, input: { reason?: unknown }): Promise<ReleaseDetail> {
    return this.decide(caller, project, id, 'rejected', reasonOf(input.reason, 'reason', true));
  }

  private async decide(
    caller: Caller,
    project: string,
    id: string,
    decision: 'approved' | 'rejected',
    reason: string | null,
  ): Promise<ReleaseDetail> {
    const action = decision === 'approved' ? 'release.approve' : 'release.reject';
    const { auth, project: p } = await this.access.requireProject(caller, project, 'maintainer', action);
    const r = await this.release(p.id, id);
    if (r.requested_by_id !== null && r.requested_by_id === auth.userId) {
      const why = `four-eyes rule: you requested release ${r.id}, so another maintainer must ${decision === 'approved' ? 'approve' : 'reject'} it`;
      this.audit.recordDenied(caller, action, { type: 'release', name: r.id }, why, p.id);
      throw new ForbiddenError(why);
    }
    const notWaiting = (status: ReleaseStatus) =>
      new ConflictError(`release ${r.id} is not waiting for approval (it is ${status})`, { status });
    if (r.status !== 'approval') throw notWaiting(r.status);
    const m = this.modelOf(r);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      const moved = await s.move(r.id, ['approval'], {
        status: decision,
        decided_by: auth.username,
        decided_by_id: auth.userId,
        decision,
        decision_reason: reason,
        decided_at: now,
        updated_at: now,
      });
      // Another decision committed first: this one loses and writes nothing.
      if (!moved) throw notWaiting((await s.get(r.id))?.status ?? 'cancelled');
      await this.entered(tx, record, {
        release: r,
        model: m,
        from: 'approval',
        to: decision,
        actor: auth.username,
        reason,
        now,
      });
    });
    return this.get(caller, project, id);
  }

  /** Withdraws an open release (its requester, or a maintainer). */
  async cancel(caller: Caller, project: string, id: string, input: { reason?: unknown }): Promise<ReleaseDetail> {
    const { auth, project: p, role } = await this.access.requireProject(caller, project, 'developer', 'release.cancel');
    const reason = reasonOf(input.reason, 'reason', false);
    const r = await this.release(p.id, id);
    if (r.requested_by_id !== auth.userId && !atLeast(role, 'maintainer')) {
      const why = `only the requester of release ${r.id} or a maintainer can cancel it`;
      this.audit.recordDenied(caller, 'release.cancel', { type: 'release', name: r.id }, why, p.id);
      throw new ForbiddenError(why);
    }
    const notOpen = (status: ReleaseStatus) =>
      new ConflictError(`release ${r.id} is ${status}; only open releases (gate, approval) can be cancelled`, {
        status,
      });
    if (!OPEN_STATUSES.includes(r.status)) throw notOpen(r.status);
    const m = this.modelOf(r);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      if (!(await s.move(r.id, OPEN_STATUSES, { status: 'cancelled', updated_at: now }))) {
        throw notOpen((await s.get(r.id))?.status ?? 'cancelled');
      }
      await this.entered(tx, record, {
        release: r,
        model: m,
        from: r.status,
        to: 'cancelled',
        actor: auth.username,
        reason,
        now,
      });
    });
    return this.get(caller, project, id);
  }

  /**
   * Rolls back the current production release (maintainers, with a reason): it becomes rolled_back,
   * and the previous approved production release is current again (MLflow stage Production moves
   * back to its version; the rolled-back version goes to Archived).
   */
  async rollback(caller: Caller, project: string, id: string, input: { reason?: unknown }): Promise<ReleaseDetail> {
    const { auth, project: p } = await this.access.requireProject(caller, project, 'maintainer', 'release.rollback');
    const reason = reasonOf(input.reason, 'reason', true);
    const r = await this.release(p.id, id);
    const m = this.modelOf(r);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      await s.lockModel(m.id);
      const current = await s.currentProduction(m.id);
      if (r.environment !== 'production' || current?.id !== r.id) {
        throw new ConflictError(
          `release ${r.id} is not the current production release of ${m.name}${current ? ` (that is ${current.id}, version ${current.version})` : ''}; only it can be rolled back`,
          { currentReleaseId: current?.id ?? null },
        );
      }
      if (!(await s.move(r.id, LIVE_STATUSES, { status: 'rolled_back', updated_at: now }))) {
        throw new ConflictError(`release ${r.id} was rolled back already`);
      }
      const previous = await s.currentProduction(m.id);
      const version = Number(r.version);
      if (previous?.version !== undefined && Number(previous.version) === version) {
        // The previous champion is the same version: it stays in Production.
      } else {
        await s.setStage(m.id, [version], 'Archived', now);
        if (previous) await s.setStage(m.id, [Number(previous.version)], 'Production', now);
      }
      await this.entered(
        tx,
        record,
        { release: r, model: m, from: r.status, to: 'rolled_back', actor: auth.username, reason, now },
        { previousReleaseId: previous?.id ?? null, previousVersion: previous ? Number(previous.version) : null },
      );
    });
    return this.get(caller, project, id);
  }

  /** A project's releases, newest first; `status=approval` is the approval queue (viewers). */
  async list(
    caller: Caller,
    project: string,
    q: { status?: string; model?: string; environment?: string; cursor?: string; limit?: number },
  ): Promise<Page<Release>> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    if (q.status !== undefined && !(RELEASE_STATUSES as readonly string[]).includes(q.status)) {
      throw new InputError(`status must be one of ${RELEASE_STATUSES.join(', ')}`, 'status');
    }
    if (q.environment !== undefined && !(ENVIRONMENTS as readonly string[]).includes(q.environment)) {
      throw new InputError(`environment must be one of ${ENVIRONMENTS.join(', ')}`, 'environment');
    }
    const limit = q.limit ?? RELEASE_LIMITS.page.default;
    const beforeId = q.cursor ? String(decodeCursor(q.cursor, ['id']).id) : undefined;
    const rows = await this.store.list({
      projectId: p.id,
      status: q.status as ReleaseStatus | undefined,
      environment: q.environment as ReleaseEnvironment | undefined,
      modelName: q.model,
      beforeId,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit).map((r) => this.view(r));
    return { items, nextCursor: rows.length > limit ? encodeCursor({ id: items[items.length - 1]!.id }) : null };
  }

  /** One release with its transitions and its version's gate result (viewers). */
  async get(caller: Caller, project: string, id: string): Promise<ReleaseDetail> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    const r = await this.release(p.id, id);
    const [transitions, gate, current] = await Promise.all([
      this.store.transitions(r.id),
      this.store.latestGate(r.model_id, Number(r.version)),
      r.environment === 'production' ? this.store.currentProduction(r.model_id) : Promise.resolve(undefined),
    ]);
    return {
      ...this.view(r),
      current: current?.id === r.id,
      transitions: transitions.map((t) => ({
        seq: Number(t.seq),
        status: t.status,
        actor: t.actor,
        reason: t.reason,
        at: iso(t.at),
      })),
      gate: gate ? gateSummary(gate) : null,
    };
  }

  /**
   * The gate of a version settled (passed, failed, skipped, or overridden): advances its releases
   * waiting in 'gate'. Called by the gate code after its commit; safe to call any number of times.
   */
  async gateSettled(modelId: string, version: number): Promise<void> {
    const waiting = await this.store.waitingOnGate(modelId, version);
    for (const r of waiting) {
      const m = await this.store.modelById(r.model_id);
      if (!m) continue;
      await this.audit.change(SYSTEM_CALLER, async (tx, record) => {
        const s = this.store.with(tx);
        await s.lockModel(m.id);
        const c = clearance(await s.latestGate(m.id, version), m.risk_tier);
        await this.passGate(tx, record, r, m, c, this.clock.now());
      });
    }
  }

  /**
   * Advances releases whose gate settled while no listener heard it (a process stopped between the
   * gate's commit and its notification). Run periodically by the worker role.
   */
  async reconcile(): Promise<void> {
    for (const { modelId, version } of await this.store.versionsWaiting(500)) {
      try {
        await this.gateSettled(modelId, version);
      } catch (err) {
        this.logger?.error({ err, modelId, version }, 'could not advance releases waiting on a gate');
      }
    }
  }

  // ---- internals ----

  /** Leaves 'gate' for where the gate's result leads, if it has settled. */
  private async passGate(
    tx: Kysely<DB>,
    record: RecordEvent,
    r: ReleaseRow,
    m: ModelFacts,
    c: Clearance,
    now: number,
  ): Promise<void> {
    if (c.kind === 'waiting') return;
    const s = this.store.with(tx);
    if (c.kind === 'refused') {
      if (await s.move(r.id, ['gate'], { status: 'blocked', updated_at: now })) {
        await this.entered(tx, record, {
          release: r,
          model: m,
          from: 'gate',
          to: 'blocked',
          actor: 'system',
          reason: c.reason,
          now,
        });
      }
      return;
    }
    const how = {
      passed: 'gate passed',
      overridden: 'gate failed, overridden by an admin',
      skipped: 'no evaluation spec (low-risk model)',
    }[c.how];
    if (m.risk_tier === 'critical' && r.environment === 'production') {
      if (await s.move(r.id, ['gate'], { status: 'approval', updated_at: now })) {
        await this.entered(tx, record, {
          release: r,
          model: m,
          from: 'gate',
          to: 'approval',
          actor: 'system',
          reason: how,
          now,
        });
      }
      return;
    }
    const why = `auto-approved: ${how}; ${r.environment === 'production' ? 'low-risk model' : 'staging release'}`;
    const moved = await s.move(r.id, ['gate'], {
      status: 'approved',
      decided_by: 'system',
      decided_by_id: null,
      decision: 'approved',
      decision_reason: why,
      decided_at: now,
      updated_at: now,
    });
    if (moved)
      await this.entered(tx, record, {
        release: r,
        model: m,
        from: 'gate',
        to: 'approved',
        actor: 'system',
        reason: why,
        now,
      });
  }

  /**
   * Records that a release entered a status: its transition row, its audit event and its domain
   * events; an approved production release also takes MLflow stage Production.
   */
  private async entered(
    tx: Kysely<DB>,
    record: RecordEvent,
    t: Transition,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const s = this.store.with(tx);
    const version = Number(t.release.version);
    await s.addTransition({ release_id: t.release.id, status: t.to, actor: t.actor, reason: t.reason, at: t.now });
    // Approved releases deploy in the background, enqueued with the approval so none is lost.
    if (t.to === 'approved' && this.deployer) await this.deployer.enqueue(tx, t.release.id);
    let archived: number[] = [];
    if (t.to === 'approved' && t.release.environment === 'production') {
      archived = await s.productionVersions(t.model.id, version);
      await s.setStage(t.model.id, archived, 'Archived', t.now);
      await s.setStage(t.model.id, [version], 'Production', t.now);
    }
    const facts = {
      model: t.model.name,
      version,
      projectId: t.model.project_id,
      releaseId: t.release.id,
      environment: t.release.environment,
      status: t.to,
      requestedBy: t.release.requested_by,
      actor: t.actor,
      ...(t.reason !== null ? { reason: t.reason } : {}),
      ...extra,
    };
    record(
      `release.${t.to}`,
      { type: 'release', name: t.release.id },
      {
        projectId: t.model.project_id,
        details: {
          ...facts,
          from: t.from,
          ...(t.to === 'approved' && t.release.environment === 'production' ? { stage: 'Production', archived } : {}),
        },
      },
    );
    const types: EventType[] = {
      gate: [],
      approval: ['approval.requested'],
      approved: t.actor === 'system' ? ['release.promoted'] : ['approval.granted', 'release.promoted'],
      rejected: ['approval.rejected'],
      rolled_back: ['release.rolled_back'],
      blocked: [],
      cancelled: [],
      deploying: [],
      done: [],
    }[t.to] as EventType[];
    for (const type of types) await this.events.emit(tx, { type, projectId: t.model.project_id, payload: facts });
  }

  private async release(projectId: string, id: string): Promise<ReleaseWithModel> {
    const r = await this.store.get(id);
    // Releases of other projects do not exist from here.
    if (!r || r.project_id !== projectId) throw releaseNotFound(id);
    return r;
  }

  private modelOf(r: ReleaseWithModel): ModelFacts {
    return { id: r.model_id, name: r.model_name, project_id: r.project_id, risk_tier: r.risk_tier };
  }

  private view(r: ReleaseWithModel): Release {
    return {
      id: r.id,
      model: r.model_name,
      version: Number(r.version),
      environment: r.environment,
      status: r.status,
      requestedBy: r.requested_by,
      note: r.note,
      decision:
        r.decision && r.decided_by && r.decided_at !== null
          ? { decision: r.decision, by: r.decided_by, reason: r.decision_reason, at: iso(r.decided_at) }
          : null,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
  }
}

function gateSummary(g: GateRow): GateSummary {
  return {
    id: g.id,
    status: g.status,
    reason: g.reason,
    metrics: g.metrics ? (JSON.parse(g.metrics) as Record<string, unknown>) : null,
    checks: g.checks ? (JSON.parse(g.checks) as unknown[]) : null,
    override:
      g.override_at !== null ? { by: g.override_by ?? '', reason: g.override_reason, at: iso(g.override_at) } : null,
    finishedAt: g.finished_at !== null ? iso(g.finished_at) : null,
  };
}
