import { HangarApiError, type Job } from '@hangar/sdk';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.js';
import { PageHeader } from '../components/PageHeader.js';
import { Badge, JobStateBadge } from '../components/Badge.js';
import { Button } from '../components/Button.js';
import { Card } from '../components/Card.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LogView, type LogChunk } from '../components/LogView.js';
import { LoadingBlock, Spinner } from '../components/Spinner.js';
import {
  formatBytes,
  formatCpuSeconds,
  formatDateTime,
  formatDuration,
  formatJson,
  isActive,
  jobDurationSeconds,
  NONE,
} from '../format.js';
import { sleep, useDocumentTitle, useNow } from '../hooks.js';
import { Link } from '../router.js';

/** How often the job's fields are re-read while it is queued or running. */
const JOB_POLL_MS = 2000;
/** The server holds a log request open this long waiting for output (its maximum is 25 s). */
const LOG_WAIT_MS = 20_000;
/** After a failed log request, wait before trying again so an outage is not hammered. */
const LOG_RETRY_MS = 3000;

/** Errors after which asking again cannot help. */
function isFinal(err: unknown): boolean {
  return err instanceof HangarApiError && (err.status === 401 || err.status === 403 || err.status === 404);
}

/**
 * Follows a job's log: long-polls `getJobLogs` with `waitMs`, so new output shows within a moment
 * without busy polling, until the server says the log is complete (the job has finished and every
 * chunk was read). `onState` hears the job state each answer carries, so the page can refresh the
 * job as soon as it changes.
 */
function useJobLog(id: string, onState: (state: Job['state']) => void) {
  const [chunks, setChunks] = useState<LogChunk[]>([]);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onStateRef = useRef(onState);
  useEffect(() => {
    onStateRef.current = onState;
  }, [onState]);

  useEffect(() => {
    const ac = new AbortController();
    setChunks([]);
    setComplete(false);
    setError(null);
    const follow = async () => {
      let after = 0;
      while (!ac.signal.aborted) {
        try {
          const res = await api().getJobLogs(
            { id, after, waitMs: LOG_WAIT_MS },
            // The call must outlive the server's wait.
            { signal: ac.signal, timeoutMs: LOG_WAIT_MS + 15_000 },
          );
          if (ac.signal.aborted) return;
          setError(null);
          if (res.chunks.length) setChunks((c) => [...c, ...res.chunks]);
          after = res.next;
          onStateRef.current(res.state);
          if (res.complete) {
            setComplete(true);
            return;
          }
        } catch (err) {
          if (ac.signal.aborted) return;
          setError(err);
          if (isFinal(err)) return;
          await sleep(LOG_RETRY_MS, ac.signal);
        }
      }
    };
    void follow();
    return () => ac.abort();
  }, [id]);

  return { chunks, complete, error };
}

/** One job: its fields, result or error, live log, and a Cancel button while it can be cancelled. */
export function JobDetailPage({ id }: { id: string }) {
  useDocumentTitle(`Job ${id}`);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const active = job ? isActive(job) : false;
  const now = useNow(job?.state === 'running');

  // Re-read the job while it is active; a state change seen in the log answers re-reads at once.
  useEffect(() => {
    const ac = new AbortController();
    const load = async () => {
      while (!ac.signal.aborted) {
        try {
          const j = await api().getJob({ id }, { signal: ac.signal });
          if (ac.signal.aborted) return;
          setJob(j);
          setError(null);
          if (!isActive(j)) return;
        } catch (err) {
          if (ac.signal.aborted) return;
          setError(err);
          if (isFinal(err)) return;
        }
        await sleep(JOB_POLL_MS, ac.signal);
      }
    };
    void load();
    return () => ac.abort();
  }, [id, refresh]);

  const stateRef = useRef<Job['state'] | null>(null);
  useEffect(() => {
    stateRef.current = job?.state ?? null;
  }, [job?.state]);
  const onLogState = useCallback((s: Job['state']) => {
    if (stateRef.current !== null && s !== stateRef.current) setRefresh((n) => n + 1);
  }, []);
  const log = useJobLog(id, onLogState);

  const cancel = async () => {
    setCancelling(true);
    setCancelError(null);
    try {
      setJob(await api().cancelJob({ id }));
      // A running job stops when its worker notices; keep polling until it has.
      setRefresh((n) => n + 1);
    } catch (err) {
      setCancelError(err);
    } finally {
      setCancelling(false);
    }
  };

  const back = (
    <Link to="/jobs" className="text-link back-link">
      ← Jobs
    </Link>
  );

  if (!job) {
    return (
      <>
        {back}
        <PageHeader title={<span className="mono">{id}</span>} />
        {error !== null ? (
          <ErrorBanner error={error} title="Could not load this job" onRetry={() => setRefresh((n) => n + 1)} />
        ) : (
          <LoadingBlock label="Loading job…" />
        )}
      </>
    );
  }

  const duration = jobDurationSeconds(job, now);
  const hasResult = job.result !== null && job.result !== undefined;

  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span className="mono job-title-id" data-testid="job-id">
              {job.id}
            </span>
            <span data-testid="job-state">
              <JobStateBadge state={job.state} cancelRequested={job.cancelRequested} />
            </span>
          </span>
        }
        subtitle={<span className="kind">{job.kind}</span>}
        actions={
          active && (
            <Button
              variant="danger"
              onClick={() => void cancel()}
              loading={cancelling}
              disabled={job.cancelRequested}
              data-testid="cancel-job"
            >
              {job.cancelRequested ? 'Cancelling…' : 'Cancel job'}
            </Button>
          )
        }
      />
      {error !== null && (
        <ErrorBanner error={error} title="Could not refresh this job" onRetry={() => setRefresh((n) => n + 1)} />
      )}
      {cancelError !== null && (
        <ErrorBanner error={cancelError} title="Could not cancel the job" onDismiss={() => setCancelError(null)} />
      )}

      <Card title="Details">
        <div className="kv-columns">
          <dl className="kv">
            <dt>State</dt>
            <dd>
              <JobStateBadge state={job.state} cancelRequested={job.cancelRequested} />
            </dd>
            <dt>Kind</dt>
            <dd className="kind">{job.kind}</dd>
            <dt>Attempt</dt>
            <dd>
              {job.attempt} of {job.maxAttempts}
            </dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Created by</dt>
            <dd className="mono">{job.createdBy ?? NONE}</dd>
            <dt>Worker</dt>
            <dd className="mono">{job.worker ?? NONE}</dd>
          </dl>
          <dl className="kv">
            <dt>Created</dt>
            <dd>{formatDateTime(job.createdAt)}</dd>
            <dt>Run at</dt>
            <dd>{formatDateTime(job.runAt)}</dd>
            <dt>Started</dt>
            <dd>{formatDateTime(job.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatDateTime(job.finishedAt)}</dd>
          </dl>
          <dl className="kv">
            <dt>Duration</dt>
            <dd>{formatDuration(duration)}</dd>
            <dt>CPU</dt>
            <dd>{job.usage.cpuSeconds === null ? NONE : `${formatCpuSeconds(job.usage.cpuSeconds)} s`}</dd>
            <dt>Peak memory</dt>
            <dd>{formatBytes(job.usage.peakRssBytes)}</dd>
            <dt>Log size</dt>
            <dd>
              {formatBytes(job.logBytes)} {job.logsTruncated && <Badge tone="warning">truncated</Badge>}
            </dd>
          </dl>
        </div>
      </Card>

      {job.error && (
        // A cancel is the user's own doing, not a fault; an active job's error is from an attempt
        // that will be retried.
        <Card title={job.state === 'cancelled' ? 'Reason' : active ? 'Error of the last attempt' : 'Error'}>
          <pre className={job.state === 'cancelled' ? 'code' : 'code code-error'} data-testid="job-error">
            {job.error}
          </pre>
        </Card>
      )}
      {hasResult && (
        <Card title="Result">
          <pre className="code" data-testid="job-result">
            {formatJson(job.result)}
          </pre>
        </Card>
      )}

      <Card
        title="Log"
        flush
        actions={
          log.complete ? (
            <span className="muted small">complete</span>
          ) : (
            <span className="following small">
              <Spinner size="sm" label="" /> following
            </span>
          )
        }
      >
        {log.error !== null && (
          <div className="card-pad">
            <ErrorBanner error={log.error} title="Could not read the log" />
          </div>
        )}
        <LogView
          chunks={log.chunks}
          label={`Log of job ${job.id}`}
          empty={
            log.complete
              ? 'This job wrote no output.'
              : job.state === 'queued'
                ? 'Waiting for the job to start…'
                : 'Waiting for output…'
          }
        />
      </Card>

      <Card title="Payload">
        <pre className="code" data-testid="job-payload">
          {formatJson(job.payload)}
        </pre>
      </Card>
    </>
  );
}
