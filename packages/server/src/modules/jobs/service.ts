import { Value } from '@sinclair/typebox/value';
import { isPlatformAdmin, requireAdmin, requireAuth, type AuthContext, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import type { JobHandlerRegistry } from '../../jobs/job-handler.js';
import { JobStore, type JobRow } from '../../jobs/job-store.js';
import type { EnqueueJobBody, Job, JobLogs, JobLogsQuery, ListJobsQuery } from './schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    payload: JSON.parse(row.payload) as unknown,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    error: row.error,
    priority: row.priority,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    runAt: iso(row.run_at)!,
    cancelRequested: row.cancel_requested === 1,
    worker: row.worker,
    createdBy: row.created_by,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    usage: { wallSeconds: row.wall_seconds, cpuSeconds: row.cpu_seconds, peakRssBytes: row.peak_rss_bytes },
    logBytes: row.log_bytes,
    logsTruncated: row.logs_truncated === 1,
  };
}

/**
 * The rules for jobs seen from the API. Platform admins see and manage every job; other users see
 * and cancel the jobs they created. Creating and cancelling jobs is audited.
 */
export class JobService {
  constructor(
    private readonly store: JobStore,
    private readonly handlers: JobHandlerRegistry,
    private readonly clock: Clock,
    private readonly signals: { enqueued(): void; cancelRequested(id: string): void },
    private readonly audit: AuditLog,
    private readonly log?: FastifyBaseLogger,
  ) {}

  async enqueue(caller: Caller, input: EnqueueJobBody): Promise<Job> {
    const a = requireAuth(caller);
    const handler = this.handlers.get(input.kind);
    if (!handler) {
      throw new InputError(
        `unknown job kind "${input.kind}"; known kinds: ${this.handlers.kinds().join(', ')}`,
        'kind',
      );
    }
    if (handler.adminOnly) requireAdmin(caller);
    const payload = input.payload ?? {};
    const problem = Value.Errors(handler.payloadSchema, payload).First();
    if (problem)
      throw new InputError(
        `payload${problem.path.replace(/\//g, '.')}: ${problem.message}`,
        `payload${problem.path.replace(/\//g, '.')}`,
      );
    const runAt = input.runAt ? Date.parse(input.runAt) : undefined;
    const row = await this.store.enqueue({
      kind: input.kind,
      payload,
      priority: input.priority,
      maxAttempts: input.maxAttempts,
      runAt,
      createdBy: a.userId,
    });
    await this.audit.record(caller, 'job.create', { type: 'job', name: row.id }, { details: { kind: row.kind } });
    if (runAt === undefined || runAt <= this.clock.now()) this.signals.enqueued();
    return toJob(row);
  }

  async get(caller: Caller, id: string): Promise<Job> {
    return toJob(await this.visible(requireAuth(caller), id));
  }

  async list(caller: Caller, query: ListJobsQuery): Promise<Page<Job>> {
    const a = requireAuth(caller);
    const limit = query.limit ?? 50;
    const beforeId = query.cursor ? String(decodeCursor(query.cursor, ['before']).before) : undefined;
    const rows = await this.store.list({
      state: query.state as JobRow['state'] | undefined,
      kind: query.kind,
      createdBy: isPlatformAdmin(a) ? undefined : a.userId,
      beforeId,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit).map(toJob);
    const nextCursor = rows.length > limit ? encodeCursor({ before: items[items.length - 1]!.id }) : null;
    return { items, nextCursor };
  }

  async cancel(caller: Caller, id: string): Promise<Job> {
    const a = requireAuth(caller);
    const before = await this.visible(a, id);
    const row = (await this.store.requestCancel(id))!;
    await this.audit.record(caller, 'job.cancel', { type: 'job', name: id });
    this.signals.cancelRequested(id);
    // A running job sees the cancellation in its attempt; a queued one never runs again.
    if (before.state === 'queued' && row.state === 'cancelled') {
      await this.handlers
        .get(row.kind)
        ?.onEndedWithoutAttempt?.(row, 'cancelled')
        .catch((err: unknown) => this.log?.error({ err, jobId: id }, 'a job cancellation hook failed'));
    }
    return toJob(row);
  }

  /**
   * Returns log chunks after `after`. With `waitMs`, waits (polling the store) until there is
   * something new or the job finishes, so clients can follow a running job without busy loops.
   */
  async logs(caller: Caller, id: string, query: JobLogsQuery, signal?: AbortSignal): Promise<JobLogs> {
    const a = requireAuth(caller);
    let job = await this.visible(a, id);
    const after = query.after ?? 0;
    const limit = query.limit ?? 1000;
    const deadline = this.clock.now() + (query.waitMs ?? 0);
    for (;;) {
      const rows = await this.store.logs(id, after, limit);
      const finished = JobStore.isFinished(job.state);
      if (rows.length > 0 || finished || this.clock.now() >= deadline || signal?.aborted) {
        const next = rows.length ? rows[rows.length - 1]!.id : after;
        return {
          chunks: rows.map((r) => ({
            id: r.id,
            attempt: r.attempt,
            stream: r.stream,
            data: r.data,
            createdAt: iso(r.created_at)!,
          })),
          next,
          complete: finished && rows.length < limit,
          state: job.state,
        };
      }
      await new Promise((r) => setTimeout(r, 200));
      job = (await this.store.get(id)) ?? job;
    }
  }

  private async visible(a: AuthContext, id: string): Promise<JobRow> {
    const row = await this.store.get(id);
    if (!row) throw new NotFoundError(`no job ${id}`);
    if (!isPlatformAdmin(a) && row.created_by !== a.userId) {
      // Same answer as a missing job would leak existence; admins-only jobs are not the caller's business.
      throw new NotFoundError(`no job ${id}`);
    }
    return row;
  }
}
