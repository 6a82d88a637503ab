import type { ReactNode } from 'react';
import type { Job, Run } from '@hangar/sdk';

export type BadgeTone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

export function Badge({
  tone = 'neutral',
  children,
  title,
}: {
  tone?: BadgeTone;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const JOB_TONES: Record<Job['state'], BadgeTone> = {
  queued: 'neutral',
  running: 'info',
  succeeded: 'success',
  failed: 'danger',
  cancelled: 'warning',
};

/**
 * A job's state as a coloured badge. The word is always shown (colour alone does not carry
 * meaning); a running job gets a pulsing dot, and a requested cancel is spelled out.
 */
export function JobStateBadge({ state, cancelRequested = false }: { state: Job['state']; cancelRequested?: boolean }) {
  const cancelling = cancelRequested && (state === 'queued' || state === 'running');
  return (
    <Badge tone={JOB_TONES[state]} title={cancelling ? 'cancel requested' : undefined}>
      {state === 'running' && <span className="badge-dot" aria-hidden="true" />}
      <span data-job-state={state}>{state}</span>
      {cancelling && <span className="badge-note">· cancelling</span>}
    </Badge>
  );
}

const RUN_TONES: Record<Run['info']['status'], BadgeTone> = {
  SCHEDULED: 'neutral',
  RUNNING: 'info',
  FINISHED: 'success',
  FAILED: 'danger',
  KILLED: 'warning',
};

/** A tracked run's status (MLflow's words, in lower case), with a pulsing dot while it runs. */
export function RunStatusBadge({ status }: { status: Run['info']['status'] }) {
  return (
    <Badge tone={RUN_TONES[status]}>
      {status === 'RUNNING' && <span className="badge-dot" aria-hidden="true" />}
      <span data-run-status={status}>{status.toLowerCase()}</span>
    </Badge>
  );
}
