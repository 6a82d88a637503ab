import type { TSchema } from '@sinclair/typebox';
import type { JobRow, ResourceUsage } from './job-store.js';

/** How a job ended with no attempt to see it (see {@link JobHandler.onEndedWithoutAttempt}). */
export type EndedWithoutAttempt = 'cancelled' | 'lease-expired';

export interface JobContext<P = unknown> {
  job: JobRow;
  payload: P;
  attempt: number;
  /** Aborted when the job is cancelled, its lease is lost or the worker shuts down. */
  signal: AbortSignal;
  /** Appends to the job's log (bounded, batched, persisted before the outcome). */
  log(stream: 'stdout' | 'stderr' | 'system', text: string): void;
}

export interface JobResult {
  result?: unknown;
  /** Handlers that run processes report their tree's usage; others are charged wall time only. */
  usage?: Partial<ResourceUsage>;
}

/** Thrown by a handler for failures that retrying cannot fix (bad payload, missing input). */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/**
 * One kind of background work. Later modules (gates, conversions, pipeline steps, monitors) register
 * handlers; the queue and worker never change for them.
 */
export interface JobHandler<P = unknown> {
  kind: string;
  /** Validated when the job is enqueued, so a bad payload is a 400, not a failed job. */
  payloadSchema: TSchema;
  /** Only platform admins may enqueue this kind through the API (e.g. arbitrary commands). */
  adminOnly?: boolean;
  run(ctx: JobContext<P>): Promise<JobResult>;
  /**
   * Called when the queue ended the job without an attempt that saw the end: cancelled while
   * queued (before its first attempt, or between retries), or failed because the worker of its
   * last attempt died or stalled (the lease expired). The owner of what waits on the job can settle
   * it. Must be idempotent: on PostgreSQL two workers may both report the same job. Errors are
   * logged and never undo the job's end.
   */
  onEndedWithoutAttempt?(job: JobRow, why: EndedWithoutAttempt): Promise<void>;
}

export class JobHandlerRegistry {
  private readonly handlers = new Map<string, JobHandler>();

  register<P>(handler: JobHandler<P>): this {
    if (this.handlers.has(handler.kind)) throw new Error(`job kind ${handler.kind} registered twice`);
    this.handlers.set(handler.kind, handler as JobHandler);
    return this;
  }

  get(kind: string): JobHandler | undefined {
    return this.handlers.get(kind);
  }

  kinds(): string[] {
    return [...this.handlers.keys()];
  }
}
