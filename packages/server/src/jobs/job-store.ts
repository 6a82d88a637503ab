import { sql, type Kysely, type Selectable } from 'kysely';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { forUpdateSkipLocked, type Engine } from '../db/dialect.js';
import type { DB, JobLogsTable, JobState, JobsTable } from '../db/schema.js';

export type JobRow = Selectable<JobsTable>;
export type JobLogRow = Selectable<JobLogsTable>;

export interface EnqueueInput {
  kind: string;
  payload: unknown;
  priority?: number;
  maxAttempts?: number;
  runAt?: number;
  createdBy?: string | null;
}

/** What an attempt cost; null where nothing was measured (in-process handlers run no process tree). */
export interface ResourceUsage {
  wallSeconds: number;
  cpuSeconds: number | null;
  peakRssBytes: number | null;
}

/** The end of one attempt, as the worker that held the lease saw it. */
export type AttemptOutcome =
  | { id: string; attempt: number; type: 'succeeded'; result: unknown; usage: ResourceUsage }
  | { id: string; attempt: number; type: 'cancelled'; usage: ResourceUsage }
  | { id: string; attempt: number; type: 'failed'; error: string; retryAt: number | null; usage: ResourceUsage };

export interface LogEntry {
  jobId: string;
  attempt: number;
  stream: string;
  data: string;
}

export interface ListJobsFilter {
  state?: JobState;
  kind?: string;
  createdBy?: string;
  beforeId?: string;
  limit: number;
}

const FINISHED: JobState[] = ['succeeded', 'failed', 'cancelled'];

/**
 * The durable job queue. Every state change is one statement or one transaction, and every change a
 * worker makes to a running job is fenced by (lease_owner, attempt): a worker whose lease expired and
 * was taken over can no longer complete, fail or extend the job, so each attempt finishes at most once.
 */
export class JobStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
    private readonly clock: Clock,
  ) {}

  async enqueue(input: EnqueueInput): Promise<JobRow> {
    const row = this.newRow(input, this.clock.now());
    await this.db.insertInto('jobs').values(row).execute();
    return row;
  }

  /**
   * Enqueues a job inside the caller's transaction, so the job exists exactly when the change that
   * caused it commits (a webhook delivery with its event, a gate with its version).
   */
  async enqueueIn(tx: Kysely<DB>, input: EnqueueInput): Promise<JobRow> {
    const row = this.newRow(input, this.clock.now());
    await tx.insertInto('jobs').values(row).execute();
    return row;
  }

  /** Enqueues many jobs in one transaction (fan-out, bulk loads); all or none are stored. */
  async enqueueMany(inputs: EnqueueInput[]): Promise<JobRow[]> {
    const now = this.clock.now();
    const rows = inputs.map((input) => this.newRow(input, now));
    // Chunked so no statement exceeds the engines' bound-parameter limits.
    const chunk = 500;
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += chunk)
        await tx
          .insertInto('jobs')
          .values(rows.slice(i, i + chunk))
          .execute();
    });
    return rows;
  }

  private newRow(input: EnqueueInput, now: number): JobRow {
    return {
      id: newId(now),
      kind: input.kind,
      state: 'queued',
      payload: JSON.stringify(input.payload ?? {}),
      result: null,
      error: null,
      priority: input.priority ?? 0,
      attempt: 0,
      max_attempts: input.maxAttempts ?? 3,
      run_at: input.runAt ?? now,
      lease_owner: null,
      worker: null,
      lease_expires_at: null,
      cancel_requested: 0,
      created_by: input.createdBy ?? null,
      created_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
      wall_seconds: null,
      cpu_seconds: null,
      peak_rss_bytes: null,
      log_bytes: 0,
      logs_truncated: 0,
    };
  }

  get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(filter: ListJobsFilter): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.createdBy) q = q.where('created_by', '=', filter.createdBy);
    if (filter.beforeId) q = q.where('id', '<', filter.beforeId);
    return q.execute();
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /**
   * Settles running jobs whose lease expired (their worker died or stalled): back to the queue while
   * attempts remain, otherwise failed; cancelled if a cancel was requested meanwhile. Returns how
   * many were settled, and the jobs this call ended (cancelled or failed), whose handlers get
   * `onEndedWithoutAttempt`.
   */
  async reapExpiredLeases(): Promise<{ settled: number; ended: JobRow[] }> {
    const now = this.clock.now();
    const results = await this.db.transaction().execute(async (tx) => {
      const ending = await tx
        .selectFrom('jobs')
        .select('id')
        .where('state', '=', 'running')
        .where('lease_expires_at', '<', now)
        .where((eb) => eb.or([eb('cancel_requested', '=', 1), eb('attempt', '>=', eb.ref('max_attempts'))]))
        .execute();
      const cancelled = await tx
        .updateTable('jobs')
        .set({
          state: 'cancelled',
          finished_at: now,
          updated_at: now,
          lease_owner: null,
          error: 'cancelled while its worker was lost',
        })
        .where('state', '=', 'running')
        .where('lease_expires_at', '<', now)
        .where('cancel_requested', '=', 1)
        .executeTakeFirst();
      const failed = await tx
        .updateTable('jobs')
        .set({
          state: 'failed',
          finished_at: now,
          updated_at: now,
          lease_owner: null,
          error: sql<string>`'lease expired on attempt ' || cast(attempt as text) || ' of ' || cast(max_attempts as text) || ': the worker died or stalled'`,
        })
        .where('state', '=', 'running')
        .where('lease_expires_at', '<', now)
        .whereRef('attempt', '>=', 'max_attempts')
        .executeTakeFirst();
      const requeued = await tx
        .updateTable('jobs')
        .set({ state: 'queued', run_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
        .where('state', '=', 'running')
        .where('lease_expires_at', '<', now)
        .executeTakeFirst();
      // finished_at = now: the rows this transaction ended (a concurrent reaper's have its own now).
      const ended =
        ending.length === 0
          ? []
          : await tx
              .selectFrom('jobs')
              .selectAll()
              .where(
                'id',
                'in',
                ending.map((r) => r.id),
              )
              .where('state', 'in', ['cancelled', 'failed'])
              .where('finished_at', '=', now)
              .execute();
      return { counts: [cancelled, failed, requeued], ended };
    });
    return {
      settled: results.counts.reduce((n, r) => n + Number(r.numUpdatedRows), 0),
      ended: results.ended,
    };
  }

  /**
   * Claims up to `limit` ready jobs of the given kinds for `workerId`, highest priority and oldest
   * first. On PostgreSQL rows locked by other claimers are skipped, so many workers share a queue.
   */
  async claim(workerId: string, kinds: string[], limit: number, leaseMs: number): Promise<JobRow[]> {
    if (kinds.length === 0 || limit <= 0) return [];
    const now = this.clock.now();
    // Most polls find nothing. A plain read says so without the write transaction, which on SQLite
    // takes the database's write lock at BEGIN: an idle poll must not queue behind (or stall) the
    // prediction log's writer.
    const any = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .where('kind', 'in', kinds)
      .limit(1)
      .executeTakeFirst();
    if (!any) return [];
    return this.db.transaction().execute(async (tx) => {
      const ids = await forUpdateSkipLocked(
        this.engine,
        tx
          .selectFrom('jobs')
          .select('id')
          .where('state', '=', 'queued')
          .where('run_at', '<=', now)
          .where('kind', 'in', kinds)
          .orderBy('priority', 'desc')
          .orderBy('run_at')
          .orderBy('id')
          .limit(limit),
      ).execute();
      if (ids.length === 0) return [];
      const rows = await tx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          attempt: eb('attempt', '+', 1),
          lease_owner: workerId,
          worker: workerId,
          lease_expires_at: now + leaseMs,
          started_at: now,
          updated_at: now,
        }))
        .where(
          'id',
          'in',
          ids.map((r) => r.id),
        )
        .returningAll()
        .execute();
      // RETURNING follows no particular order; hand jobs out in claim (priority) order.
      const rank = new Map(ids.map((r, i) => [r.id, i]));
      return rows.sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);
    });
  }

  /**
   * Extends the leases this worker still holds and reports which of them have a cancel request.
   * Jobs missing from the answer were lost (taken over after expiry) and must be abandoned.
   */
  async heartbeat(workerId: string, jobs: { id: string; attempt: number }[], leaseMs: number) {
    if (jobs.length === 0) return new Map<string, boolean>();
    const now = this.clock.now();
    const rows = await this.db
      .updateTable('jobs')
      .set({ lease_expires_at: now + leaseMs, updated_at: now })
      .where('state', '=', 'running')
      .where('lease_owner', '=', workerId)
      .where(
        'id',
        'in',
        jobs.map((j) => j.id),
      )
      .returning(['id', 'attempt', 'cancel_requested'])
      .execute();
    const attempts = new Map(jobs.map((j) => [j.id, j.attempt]));
    return new Map(rows.filter((r) => attempts.get(r.id) === r.attempt).map((r) => [r.id, r.cancel_requested === 1]));
  }

  /**
   * Records the outcomes of finished attempts in one transaction (group commit). Returns the ids whose
   * outcome was accepted; an outcome from a worker that lost its lease is ignored.
   */
  async settle(workerId: string, outcomes: AttemptOutcome[]): Promise<Set<string>> {
    const now = this.clock.now();
    const accepted = new Set<string>();
    if (outcomes.length === 0) return accepted;
    await this.db.transaction().execute(async (tx) => {
      for (const o of outcomes) {
        const usage = {
          wall_seconds: o.usage.wallSeconds,
          cpu_seconds: o.usage.cpuSeconds,
          peak_rss_bytes: o.usage.peakRssBytes === null ? null : Math.round(o.usage.peakRssBytes),
        };
        const base = { updated_at: now, lease_owner: null, lease_expires_at: null, ...usage };
        const set =
          o.type === 'succeeded'
            ? {
                ...base,
                state: 'succeeded' as const,
                result: JSON.stringify(o.result ?? null),
                error: null,
                finished_at: now,
              }
            : o.type === 'cancelled'
              ? { ...base, state: 'cancelled' as const, error: 'cancelled', finished_at: now }
              : o.retryAt !== null
                ? { ...base, state: 'queued' as const, error: o.error, run_at: o.retryAt }
                : { ...base, state: 'failed' as const, error: o.error, finished_at: now };
        const res = await tx
          .updateTable('jobs')
          .set(set)
          .where('id', '=', o.id)
          .where('state', '=', 'running')
          .where('lease_owner', '=', workerId)
          .where('attempt', '=', o.attempt)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) > 0) accepted.add(o.id);
      }
    });
    return accepted;
  }

  /** Hands running jobs back to the queue without charging an attempt (graceful shutdown). */
  async release(workerId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const now = this.clock.now();
    await this.db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'queued',
        attempt: eb('attempt', '-', 1),
        lease_owner: null,
        lease_expires_at: null,
        run_at: now,
        updated_at: now,
      }))
      .where('state', '=', 'running')
      .where('lease_owner', '=', workerId)
      .where('id', 'in', ids)
      .execute();
  }

  /**
   * Cancels a queued job at once, or flags a running one for its worker to stop. Finished jobs are
   * returned unchanged (cancelling is idempotent).
   */
  async requestCancel(id: string): Promise<JobRow | undefined> {
    const now = this.clock.now();
    await this.db
      .updateTable('jobs')
      .set({ state: 'cancelled', finished_at: now, updated_at: now, error: 'cancelled before it started' })
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .execute();
    await this.db
      .updateTable('jobs')
      .set({ cancel_requested: 1, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .execute();
    return this.get(id);
  }

  async appendLogs(entries: LogEntry[], truncated: Set<string>): Promise<void> {
    if (entries.length === 0 && truncated.size === 0) return;
    const now = this.clock.now();
    const bytes = new Map<string, number>();
    for (const e of entries) bytes.set(e.jobId, (bytes.get(e.jobId) ?? 0) + Buffer.byteLength(e.data));
    await this.db.transaction().execute(async (tx) => {
      if (entries.length > 0) {
        await tx
          .insertInto('job_logs')
          .values(
            entries.map((e) => ({
              job_id: e.jobId,
              attempt: e.attempt,
              stream: e.stream,
              data: e.data,
              created_at: now,
            })),
          )
          .execute();
      }
      for (const [jobId, n] of bytes) {
        await tx
          .updateTable('jobs')
          .set((eb) => ({ log_bytes: eb('log_bytes', '+', n) }))
          .where('id', '=', jobId)
          .execute();
      }
      for (const jobId of truncated)
        await tx.updateTable('jobs').set({ logs_truncated: 1 }).where('id', '=', jobId).execute();
    });
  }

  logs(jobId: string, afterId: number, limit: number): Promise<JobLogRow[]> {
    return this.db
      .selectFrom('job_logs')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  static isFinished(state: JobState): boolean {
    return FINISHED.includes(state);
  }
}
