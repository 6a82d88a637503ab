import type { Insertable, Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthContext, Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { AuditEventsTable, AuditOutcome, DB } from '../../db/schema.js';
import { eventHash, GENESIS_HASH, type AuditRow } from './chain.js';
import type { AuditFilter, AuditStore } from './store.js';

export interface AuditTarget {
  /** e.g. user, team, project, token, session, secret, job. */
  type: string;
  /** A stable name or id: a username, project name, token id, ... */
  name: string;
}

export interface AuditOptions {
  projectId?: string | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
}

/** Records one event inside the caller's transaction (see {@link AuditLog.change}). */
export type RecordEvent = (action: string, target: AuditTarget, options?: AuditOptions) => void;

export interface AuditEvent {
  id: string;
  seq: number | null;
  at: string;
  actor: string;
  actorId: string | null;
  action: string;
  targetType: string;
  target: string;
  projectId: string | null;
  outcome: AuditOutcome;
  requestId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  hash: string | null;
}

export interface AuditQuery {
  actor?: string;
  target?: string;
  action?: string;
  outcome?: AuditOutcome;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Linked events whose hashes were recomputed. */
  checked: number;
  /** Events recorded but not yet linked (they are linked moments after they are written). */
  pending: number;
  headSeq: number;
  /** The hash of the last linked event: record it outside the store to detect a rewritten chain later. */
  headHash: string;
  /** The first event that does not verify, and why. */
  problem: { seq: number; reason: string } | null;
}

export function auditEventView(r: AuditRow): AuditEvent {
  return {
    id: r.id,
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    target: r.target,
    projectId: r.project_id,
    outcome: r.outcome,
    requestId: r.request_id,
    ip: r.ip,
    details: JSON.parse(r.details) as Record<string, unknown>,
    hash: r.hash,
  };
}

const LINK_BATCH = 500;
const VERIFY_BATCH = 2000;

/**
 * The append-only, hash-chained audit log.
 *
 * Writing and linking are split so the chain never sits on a request's critical path: a change and
 * its audit event commit in one transaction (the event is durable the moment the change is, so
 * nothing acknowledged is ever lost), and the chainer links new events into the hash chain in
 * the background, in id order, a few milliseconds later. Refusals (denied actions) have no
 * change to commit with and are appended without waiting.
 */
export class AuditLog {
  private linking: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /**
   * Runs `fn` in a transaction and commits the events it records with it: either the change and
   * its audit trail are both stored, or neither.
   */
  async change<T>(caller: Caller, fn: (tx: Kysely<DB>, record: RecordEvent) => Promise<T>): Promise<T> {
    const events: Insertable<AuditEventsTable>[] = [];
    const result = await this.db.transaction().execute(async (tx) => {
      const r = await fn(tx, (action, target, options) => events.push(this.row(caller, action, target, options)));
      await this.store.append(tx, events);
      return r;
    });
    if (events.length) this.kick();
    return result;
  }

  /** Appends one event on its own and waits until it is stored. */
  async record(caller: Caller, action: string, target: AuditTarget, options?: AuditOptions): Promise<void> {
    await this.store.append(this.db, [this.row(caller, action, target, options)]);
    this.kick();
  }

  /** Appends a refusal without making the refused request wait for it. */
  recordDenied(caller: Caller, action: string, target: AuditTarget, reason: string, projectId?: string | null): void {
    this.record(caller, action, target, { outcome: 'denied', projectId, details: { reason } }).catch((err: unknown) =>
      this.logger.error({ err, action, target }, 'could not record a denied action in the audit log'),
    );
  }

  private row(caller: Caller, action: string, target: AuditTarget, o: AuditOptions = {}): Insertable<AuditEventsTable> {
    const now = this.clock.now();
    const a: AuthContext | null = caller.auth;
    return {
      id: newId(now),
      seq: null,
      at: now,
      actor_id: a?.userId ?? null,
      actor: a?.username ?? 'anonymous',
      action,
      target_type: target.type,
      target: target.name,
      project_id: o.projectId ?? null,
      outcome: o.outcome ?? 'success',
      request_id: caller.requestId,
      ip: caller.ip,
      details: JSON.stringify(o.details ?? {}),
      prev_hash: null,
      hash: null,
    };
  }

  /** Schedules linking soon; bursts of events are linked in one pass. */
  kick(): void {
    if (this.linking) {
      this.again = true;
      return;
    }
    this.linking = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        await this.linkAll();
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit chain linking failed; will retry'))
      .finally(() => {
        this.linking = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Links every pending event (also those written by other processes sharing the store). */
  async linkAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.store.link(LINK_BATCH);
      total += n;
      if (n < LINK_BATCH) return total;
    }
  }

  /** Links events written by other processes too; call once per API process. */
  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.linking;
    await this.linkAll().catch((err: unknown) => this.logger.error({ err }, 'final audit linking failed'));
  }

  async list(scope: string[] | undefined, query: AuditQuery): Promise<Page<AuditEvent>> {
    const limit = query.limit ?? 100;
    const filter = this.filterOf(scope, query);
    if (query.cursor) filter.beforeId = String(decodeCursor(query.cursor, ['id']).id);
    const rows = await this.store.list(filter, limit + 1);
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(auditEventView);
    return { items, nextCursor: more ? encodeCursor({ id: items[items.length - 1]!.id }) : null };
  }

  /** Every matching event, newest first, read in pages so memory stays flat however long the log. */
  async *export(scope: string[] | undefined, query: AuditQuery): AsyncGenerator<AuditEvent> {
    const filter = this.filterOf(scope, query);
    for (;;) {
      const rows = await this.store.list(filter, 1000);
      for (const r of rows) yield auditEventView(r);
      if (rows.length < 1000) return;
      filter.beforeId = rows[rows.length - 1]!.id;
    }
  }

  /**
   * Links pending events, then recomputes the chain from the start: a changed field, a removed or
   * reordered event, or a cut tail (head row disagreeing with the last event) is reported.
   */
  async verify(): Promise<VerifyResult> {
    await this.linkAll();
    const head = (await this.store.head()) ?? { seq: 0, hash: GENESIS_HASH };
    let prev = GENESIS_HASH;
    let seq = 0;
    let problem: VerifyResult['problem'] = null;
    walk: for (;;) {
      const rows = await this.store.linkedAfter(seq, VERIFY_BATCH);
      for (const r of rows) {
        const expected = seq + 1;
        if (r.seq !== expected) {
          problem = { seq: expected, reason: `event ${expected} is missing (next is ${r.seq})` };
          break walk;
        }
        if (r.prev_hash !== prev) {
          problem = { seq: expected, reason: 'its link to the previous event does not match' };
          break walk;
        }
        const h = eventHash(prev, expected, r);
        if (h !== r.hash) {
          problem = { seq: expected, reason: 'its content does not match its hash (edited)' };
          break walk;
        }
        prev = h;
        seq = expected;
      }
      if (rows.length < VERIFY_BATCH) break;
    }
    if (!problem && (seq !== head.seq || prev !== head.hash)) {
      problem = {
        seq: seq + 1,
        reason: `the chain ends at event ${seq} but its head says ${head.seq}: events were removed from the end`,
      };
    }
    return {
      ok: problem === null,
      checked: seq,
      pending: await this.store.countUnlinked(),
      headSeq: head.seq,
      headHash: head.hash,
      problem,
    };
  }

  private filterOf(scope: string[] | undefined, q: AuditQuery): AuditFilter {
    return {
      actor: q.actor,
      target: q.target,
      action: q.action,
      outcome: q.outcome,
      projectIds: scope,
      sinceMs: q.since ? Date.parse(q.since) : undefined,
      untilMs: q.until ? Date.parse(q.until) : undefined,
    };
  }
}
