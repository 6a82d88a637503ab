import type { FastifyBaseLogger } from 'fastify';
import { newId } from '../core/ids.js';
import type { JobHandlerRegistry, JobResult } from './job-handler.js';
import { PermanentJobError } from './job-handler.js';
import type { AttemptOutcome, JobRow, JobStore, LogEntry } from './job-store.js';

export interface WorkerOptions {
  store: JobStore;
  handlers: JobHandlerRegistry;
  logger: FastifyBaseLogger;
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  maxLogBytes: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`, with ±20% jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  workerId?: string;
  onSettled?: (job: { id: string; kind: string; type: AttemptOutcome['type'] }) => void;
}

interface Active {
  job: JobRow;
  controller: AbortController;
  /** Why the controller was aborted: decides the outcome recorded. */
  abortReason: 'cancelled' | 'lease-lost' | 'shutdown' | null;
  /**
   * The handler has returned and the outcome is being recorded. Heartbeats leave such a job alone:
   * on PostgreSQL a heartbeat's UPDATE and the outcome's transaction would lock the same rows in
   * different orders, and the deadlock PostgreSQL breaks could cost the outcome.
   */
  finished: boolean;
  logBytes: number;
  truncated: boolean;
}

/** Pauses before each new try of a failed outcome write; well inside any lease. */
const SETTLE_RETRY_DELAYS_MS = [50, 250, 1000];

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Claims jobs from the store and runs them through their handlers. Safe to run in many processes on
 * many machines against one PostgreSQL store. Writes are batched: outcomes are group-committed (all
 * attempts that finished while the previous commit was in flight go in the next one) and log lines are
 * flushed every 200 ms, but a job's logs are always persisted before its outcome.
 */
export class Worker {
  readonly id: string;
  private readonly active = new Map<string, Active>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeController = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  private lastReap = 0;
  private pendingOutcomes: { outcome: AttemptOutcome; kind: string; done: () => void }[] = [];
  private settling: Promise<void> | null = null;
  private pendingLogs: LogEntry[] = [];
  private pendingTruncated = new Set<string>();
  private flushingLogs: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkerOptions) {
    this.id = options.workerId ?? `worker-${process.pid}-${newId().slice(-8)}`;
  }

  get activeCount(): number {
    return this.active.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Heartbeats also carry cancel requests from other processes, so beat at least every second.
    const beat = Math.max(200, Math.min(1000, Math.floor(this.options.leaseMs / 3)));
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), beat);
    this.logTimer = setInterval(() => void this.flushLogs(), 200);
    this.loop = this.runLoop();
  }

  /** Makes an idle worker look for work now (same-process enqueues); other processes poll. */
  wake(): void {
    this.wakeController.abort();
  }

  /** A cancel was requested in this process: act on it now rather than at the next heartbeat. */
  cancelRequested(jobId: string): void {
    if (this.active.has(jobId)) void this.heartbeat();
  }

  /**
   * Stops claiming, lets running jobs finish for up to `graceMs`, then aborts the rest and hands
   * them back to the queue without charging an attempt.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const leftovers = [...this.active.values()];
    for (const a of leftovers) this.abort(a, 'shutdown');
    while (this.active.size > 0) await new Promise((r) => setTimeout(r, 10));
    clearInterval(this.heartbeatTimer!);
    clearInterval(this.logTimer!);
    await this.flushLogs();
    await this.settling;
  }

  /** Tells the handler of a job the reaper ended (see JobHandler.onEndedWithoutAttempt). */
  private endedWithoutAttempt(job: JobRow): void {
    const handler = this.options.handlers.get(job.kind);
    if (!handler?.onEndedWithoutAttempt) return;
    const why = job.state === 'cancelled' ? 'cancelled' : 'lease-expired';
    handler
      .onEndedWithoutAttempt(job, why)
      .catch((err: unknown) => this.options.logger.error({ err, jobId: job.id }, 'a job end hook failed'));
  }

  private async runLoop(): Promise<void> {
    const kinds = this.options.handlers.kinds();
    while (this.running) {
      const free = this.options.concurrency - this.active.size;
      let claimed: JobRow[] = [];
      if (free > 0) {
        try {
          if (Date.now() - this.lastReap > Math.min(1000, this.options.leaseMs / 2)) {
            this.lastReap = Date.now();
            const { ended } = await this.options.store.reapExpiredLeases();
            for (const job of ended) this.endedWithoutAttempt(job);
          }
          claimed = await this.options.store.claim(this.id, kinds, free, this.options.leaseMs);
        } catch (err) {
          this.options.logger.error({ err }, 'job claim failed; retrying after the poll interval');
        }
      }
      for (const job of claimed) this.execute(job);
      if (claimed.length === 0 || this.active.size >= this.options.concurrency) {
        if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
        await sleep(this.options.pollMs, this.wakeController.signal);
      }
    }
  }

  private execute(job: JobRow): void {
    const controller = new AbortController();
    const state: Active = { job, controller, abortReason: null, finished: false, logBytes: 0, truncated: false };
    this.active.set(job.id, state);
    const started = process.hrtime.bigint();
    void this.runHandler(state).then(async (outcome) => {
      state.finished = true;
      try {
        await this.flushLogs();
        if (state.abortReason === 'shutdown') {
          // Interrupted by our own shutdown, not by the job: hand it back uncharged, and finish
          // doing so before stop() lets the store close.
          await this.options.store
            .release(this.id, [job.id])
            .catch((err: unknown) =>
              this.options.logger.error(
                { err, jobId: job.id },
                'could not release job at shutdown; its lease will expire',
              ),
            );
          return;
        }
        const result = this.toOutcome(state, outcome, {
          wallSeconds: outcome.usage?.wallSeconds ?? Number(process.hrtime.bigint() - started) / 1e9,
          cpuSeconds: outcome.usage?.cpuSeconds ?? null,
          peakRssBytes: outcome.usage?.peakRssBytes ?? null,
        });
        if (result) await this.settle(result, job.kind);
      } finally {
        this.active.delete(job.id);
        if (this.running) this.wake();
      }
    });
  }

  private async runHandler(
    state: Active,
  ): Promise<
    | { ok: true; value: JobResult; usage?: JobResult['usage'] }
    | { ok: false; error: unknown; usage?: JobResult['usage'] }
  > {
    const { job, controller } = state;
    const handler = this.options.handlers.get(job.kind);
    if (!handler) return { ok: false, error: new PermanentJobError(`no handler for job kind ${job.kind}`) };
    try {
      const value = await handler.run({
        job,
        payload: JSON.parse(job.payload) as unknown,
        attempt: job.attempt,
        signal: controller.signal,
        log: (stream, text) => this.log(state, stream, text),
      });
      return { ok: true, value, usage: value.usage };
    } catch (error) {
      const usage = (error as { usage?: JobResult['usage'] }).usage;
      return { ok: false, error, usage };
    }
  }

  private toOutcome(
    state: Active,
    outcome: Awaited<ReturnType<Worker['runHandler']>>,
    usage: AttemptOutcome['usage'],
  ): AttemptOutcome | null {
    const { job } = state;
    const base = { id: job.id, attempt: job.attempt, usage };
    if (state.abortReason === 'lease-lost') return null; // another worker owns it now
    if (state.abortReason === 'cancelled') return { ...base, type: 'cancelled' };
    if (outcome.ok) return { ...base, type: 'succeeded', result: outcome.value.result ?? null };
    const err = outcome.error as Error;
    const message = err?.message ?? String(err);
    const retryable = !(err instanceof PermanentJobError) && job.attempt < job.max_attempts;
    return {
      ...base,
      type: 'failed',
      error: message,
      retryAt: retryable ? Date.now() + this.backoff(job.attempt) : null,
    };
  }

  private backoff(attempt: number): number {
    const base = this.options.baseBackoffMs ?? 1000;
    const max = this.options.maxBackoffMs ?? 300_000;
    const delay = Math.min(max, base * 2 ** (attempt - 1));
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }

  private settle(outcome: AttemptOutcome, kind: string): Promise<void> {
    return new Promise((resolve) => {
      this.pendingOutcomes.push({ outcome, kind, done: resolve });
      if (!this.settling) this.settling = this.drainOutcomes();
    });
  }

  private async drainOutcomes(): Promise<void> {
    while (this.pendingOutcomes.length > 0) {
      const batch = this.pendingOutcomes.splice(0);
      const accepted = await this.record(batch.map((b) => b.outcome));
      if (accepted) {
        for (const b of batch) {
          if (accepted.has(b.outcome.id))
            this.options.onSettled?.({ id: b.outcome.id, kind: b.kind, type: b.outcome.type });
          else
            this.options.logger.warn({ jobId: b.outcome.id }, 'job outcome dropped: lease was lost to another worker');
        }
      }
      for (const b of batch) b.done();
    }
    this.settling = null;
  }

  /**
   * Writes outcomes, trying again on failure: a write can lose to a transient conflict (a deadlock
   * PostgreSQL broke, a busy SQLite file) and a lost outcome costs a whole rerun after the lease
   * expires. The store accepts an outcome only while this worker holds the lease, so a retry of a
   * write that did commit records nothing twice. Null when every try failed.
   */
  private async record(outcomes: AttemptOutcome[]): Promise<Set<string> | null> {
    const delays = SETTLE_RETRY_DELAYS_MS;
    for (let i = 0; ; i++) {
      try {
        return await this.options.store.settle(this.id, outcomes);
      } catch (err) {
        if (i === delays.length) {
          // The lease will expire and the job run again: at-least-once, never silently lost.
          this.options.logger.error({ err }, 'could not record job outcomes; leases will expire and jobs rerun');
          return null;
        }
        this.options.logger.warn({ err, retryInMs: delays[i] }, 'could not record job outcomes; trying again');
        await new Promise((r) => setTimeout(r, delays[i]));
      }
    }
  }

  private log(state: Active, stream: string, text: string): void {
    if (state.truncated) return;
    const bytes = Buffer.byteLength(text);
    if (state.logBytes + bytes > this.options.maxLogBytes) {
      state.truncated = true;
      this.pendingTruncated.add(state.job.id);
      text = `[log truncated: over ${this.options.maxLogBytes} bytes]\n`;
      stream = 'system';
    }
    state.logBytes += bytes;
    this.pendingLogs.push({ jobId: state.job.id, attempt: state.job.attempt, stream, data: text });
  }

  private flushLogs(): Promise<void> {
    this.flushingLogs = this.flushingLogs.then(async () => {
      if (this.pendingLogs.length === 0 && this.pendingTruncated.size === 0) return;
      const entries = this.pendingLogs.splice(0);
      const truncated = this.pendingTruncated;
      this.pendingTruncated = new Set();
      try {
        await this.options.store.appendLogs(entries, truncated);
      } catch (err) {
        this.options.logger.error({ err, lines: entries.length }, 'could not persist job logs');
      }
    });
    return this.flushingLogs;
  }

  private abort(state: Active, reason: NonNullable<Active['abortReason']>): void {
    if (state.abortReason) return;
    state.abortReason = reason;
    state.controller.abort(new Error(reason));
  }

  private async heartbeat(): Promise<void> {
    const jobs = [...this.active.values()]
      .filter((a) => !a.abortReason && !a.finished)
      .map((a) => ({ id: a.job.id, attempt: a.job.attempt }));
    if (jobs.length === 0) return;
    try {
      const held = await this.options.store.heartbeat(this.id, jobs, this.options.leaseMs);
      for (const { id } of jobs) {
        const state = this.active.get(id);
        if (!state) continue;
        if (!held.has(id)) this.abort(state, 'lease-lost');
        else if (held.get(id)) this.abort(state, 'cancelled');
      }
    } catch (err) {
      this.options.logger.error({ err }, 'heartbeat failed; leases may expire');
    }
  }
}
