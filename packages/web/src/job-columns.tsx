// The columns of a job list, shared by the Jobs page and the Overview's recent jobs.
import type { Job } from '@hangar/sdk';
import { JobStateBadge } from './components/Badge.js';
import { timeColumn } from './components/DateTime.js';
import type { Column } from './components/Table.js';
import { formatBytes, formatCpuSeconds, formatDuration, jobDurationSeconds } from './format.js';
import { Link } from './router.js';

export type JobColumnKey = 'id' | 'kind' | 'state' | 'attempt' | 'created' | 'duration' | 'cpu' | 'memory';

/** Columns for a table of jobs; `now` moves the duration of running jobs forward. */
export function jobColumns(now: number, keys?: readonly JobColumnKey[]): Column<Job>[] {
  const all: Record<JobColumnKey, Column<Job>> = {
    id: {
      key: 'id',
      header: 'Job',
      width: '14rem',
      mono: true,
      render: (j) => (
        <Link to={`/jobs/${encodeURIComponent(j.id)}`} className="job-link">
          {j.id}
        </Link>
      ),
    },
    kind: {
      key: 'kind',
      header: 'Kind',
      render: (j) => (
        <span className="kind" title={j.kind}>
          {j.kind}
        </span>
      ),
    },
    state: {
      key: 'state',
      header: 'State',
      width: '8.5rem',
      render: (j) => <JobStateBadge state={j.state} cancelRequested={j.cancelRequested} />,
    },
    attempt: {
      key: 'attempt',
      header: 'Attempt',
      width: '5rem',
      align: 'right',
      render: (j) => `${j.attempt} / ${j.maxAttempts}`,
    },
    created: timeColumn('created', 'Created', (j) => j.createdAt, '10.5rem'),
    duration: {
      key: 'duration',
      header: 'Duration',
      width: '5.5rem',
      align: 'right',
      render: (j) => formatDuration(jobDurationSeconds(j, now)),
    },
    cpu: {
      key: 'cpu',
      header: 'CPU s',
      width: '4.5rem',
      align: 'right',
      render: (j) => formatCpuSeconds(j.usage.cpuSeconds),
    },
    memory: {
      key: 'memory',
      header: 'Peak memory',
      width: '7.5rem',
      align: 'right',
      render: (j) => formatBytes(j.usage.peakRssBytes),
    },
  };
  return (keys ?? (Object.keys(all) as JobColumnKey[])).map((k) => all[k]);
}
