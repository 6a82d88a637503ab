import type { Run } from '@hangar/sdk';
import { useState, type ReactNode } from 'react';
import { api } from '../../api.js';
import { RunStatusBadge } from '../../components/Badge.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Checkbox, Input } from '../../components/Input.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, formatDuration, NONE } from '../../format.js';
import { useNow, useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import {
  experimentPath,
  formatMetric,
  isoOf,
  isSystemTag,
  metricNumber,
  NOTE_TAG,
  runDurationSeconds,
  runPath,
  tagEquals,
  tagOf,
  type MetricValue,
} from '../../tracking.js';

/** Child runs listed on the overview; the experiment's runs table has them all (filtered). */
const CHILD_RUNS = 50;
/** Above this many params or metrics, a search box narrows the table. */
const FIND_FROM = 12;

type KeyValue = { key: string; value: string };

/** The run's details, params, latest metrics, tags and child runs. */
export function RunOverview({ run }: { run: Run }) {
  const { info, data } = run;
  const now = useNow(info.status === 'RUNNING');
  const parent = tagOf(run, 'mlflow.parentRunId');
  const note = tagOf(run, NOTE_TAG);
  const source = tagOf(run, 'mlflow.source.name');
  const commit = tagOf(run, 'mlflow.source.git.commit');

  return (
    <>
      <Card title="Details">
        <div className="kv-columns" data-testid="run-details">
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <RunStatusBadge status={info.status} />
            </dd>
            <dt>Experiment</dt>
            <dd>
              <Link to={experimentPath(info.experimentId)} className="mono">
                {info.experimentId}
              </Link>
            </dd>
            <dt>User</dt>
            <dd>{info.userId || NONE}</dd>
            <dt>Parent run</dt>
            <dd data-testid="parent-run">
              {parent ? (
                <Link to={runPath(info.experimentId, parent)} className="mono">
                  {parent}
                </Link>
              ) : (
                NONE
              )}
            </dd>
          </dl>
          <dl className="kv">
            <dt>Started</dt>
            <dd>{formatDateTime(isoOf(info.startTime))}</dd>
            <dt>Ended</dt>
            <dd>{formatDateTime(isoOf(info.endTime))}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(runDurationSeconds(info, now))}</dd>
          </dl>
          <dl className="kv">
            <dt>Source</dt>
            <dd className="mono" title={source}>
              {source ?? NONE}
            </dd>
            <dt>Git commit</dt>
            <dd className="mono" title={commit}>
              {commit ? commit.slice(0, 12) : NONE}
            </dd>
            <dt>Artifacts</dt>
            <dd className="mono small">{info.artifactUri}</dd>
          </dl>
        </div>
        {note && (
          <div className="run-note">
            <p className="field-label">Description</p>
            <p data-testid="run-description">{note}</p>
          </div>
        )}
      </Card>
      <div className="grid-2">
        <KeyValueCard
          title="Parameters"
          items={data.params}
          noun="parameters"
          testId="run-params"
          empty="No parameters logged."
        />
        <MetricsCard run={run} />
      </div>
      <TagsCard tags={data.tags} />
      <ChildRuns run={run} />
    </>
  );
}

function KeyValueCard({
  title,
  items,
  noun,
  testId,
  empty,
  actions,
}: {
  title: string;
  items: readonly KeyValue[];
  noun: string;
  testId: string;
  empty: string;
  actions?: ReactNode;
}) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const rows = [...items]
    .sort((a, b) => a.key.localeCompare(b.key))
    .filter((i) => !q || i.key.toLowerCase().includes(q) || i.value.toLowerCase().includes(q));
  const columns: Column<KeyValue>[] = [
    { key: 'key', header: 'Key', width: '40%', mono: true, render: (i) => <span title={i.key}>{i.key}</span> },
    { key: 'value', header: 'Value', render: (i) => <span title={i.value}>{i.value}</span> },
  ];
  return (
    <Card title={`${title} (${items.length})`} flush actions={actions}>
      {items.length > FIND_FROM && (
        <div className="card-pad-tight">
          <Field label={`Find ${noun}`} className="field-inline field-grow">
            {(p) => <Input {...p} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}
          </Field>
        </div>
      )}
      <div data-testid={testId}>
        <Table
          caption={title}
          columns={columns}
          rows={rows}
          rowKey={(i) => i.key}
          rowAttributes={(i) => ({ 'data-key': i.key })}
          empty={q ? `No ${noun} match.` : empty}
        />
      </div>
    </Card>
  );
}

function MetricsCard({ run }: { run: Run }) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const metrics = [...run.data.metrics]
    .sort((a, b) => a.key.localeCompare(b.key))
    .filter((m) => !q || m.key.toLowerCase().includes(q));
  type M = (typeof metrics)[number];
  const columns: Column<M>[] = [
    { key: 'key', header: 'Metric', width: '40%', mono: true, render: (m) => <span title={m.key}>{m.key}</span> },
    {
      key: 'value',
      header: 'Latest',
      align: 'right',
      render: (m) => <span title={String(metricNumber(m.value as MetricValue))}>{formatMetric(m.value)}</span>,
    },
    { key: 'step', header: 'Step', width: '5rem', align: 'right', render: (m) => m.step },
  ];
  return (
    <Card
      title={`Metrics (${run.data.metrics.length})`}
      flush
      actions={
        run.data.metrics.length > 0 && (
          <Link to={runPath(run.info.experimentId, run.info.runId, 'metrics')} className="text-link small">
            Charts →
          </Link>
        )
      }
    >
      {run.data.metrics.length > FIND_FROM && (
        <div className="card-pad-tight">
          <Field label="Find metrics" className="field-inline field-grow">
            {(p) => <Input {...p} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}
          </Field>
        </div>
      )}
      <div data-testid="run-metrics">
        <Table
          caption="Latest metric values"
          columns={columns}
          rows={metrics}
          rowKey={(m) => m.key}
          rowAttributes={(m) => ({ 'data-key': m.key })}
          empty={q ? 'No metrics match.' : 'No metrics logged.'}
        />
      </div>
    </Card>
  );
}

/** The user's tags, and on request the ones MLflow keeps for itself (`mlflow.*`). */
function TagsCard({ tags }: { tags: readonly KeyValue[] }) {
  const [system, setSystem] = useState(false);
  const systemCount = tags.filter((t) => isSystemTag(t.key)).length;
  const shown = tags.filter((t) => system || !isSystemTag(t.key));
  return (
    <KeyValueCard
      title="Tags"
      items={shown}
      noun="tags"
      testId="run-tags"
      empty={systemCount ? 'No tags of your own; MLflow keeps some for itself.' : 'No tags.'}
      actions={
        systemCount > 0 && (
          <Checkbox
            label={`Show MLflow's own tags (${systemCount})`}
            checked={system}
            onChange={(e) => setSystem(e.target.checked)}
          />
        )
      }
    />
  );
}

/** Runs started under this one (MLflow's nested runs: their `mlflow.parentRunId` tag names it). */
function ChildRuns({ run }: { run: Run }) {
  const children = useResource(
    (signal) =>
      api().searchRuns(
        {
          body: {
            experimentIds: [run.info.experimentId],
            filter: tagEquals('mlflow.parentRunId', run.info.runId),
            orderBy: ['attributes.start_time ASC'],
            maxResults: CHILD_RUNS,
          },
        },
        { signal },
      ),
    [run.info.runId, run.info.experimentId],
  );
  if (children.error !== null) {
    return <ErrorBanner error={children.error} title="Could not load the child runs" onRetry={children.reload} />;
  }
  if (!children.data) return <LoadingBlock label="Looking for child runs…" />;
  const items = children.data.items;
  if (items.length === 0) return null;
  const columns: Column<Run>[] = [
    {
      key: 'name',
      header: 'Run',
      render: (c) => (
        <Link to={runPath(c.info.experimentId, c.info.runId)} className="job-link">
          {c.info.runName || c.info.runId}
        </Link>
      ),
    },
    { key: 'status', header: 'Status', width: '8rem', render: (c) => <RunStatusBadge status={c.info.status} /> },
    {
      key: 'created',
      header: 'Created',
      width: '10rem',
      render: (c) => <ShortDateTime iso={isoOf(c.info.startTime) ?? ''} />,
    },
    {
      key: 'duration',
      header: 'Duration',
      width: '6rem',
      align: 'right',
      render: (c) => formatDuration(runDurationSeconds(c.info)),
    },
  ];
  return (
    <Card title={`Child runs (${items.length}${children.data.nextPageToken ? '+' : ''})`} flush>
      <div data-testid="child-runs">
        <Table
          caption="Child runs"
          columns={columns}
          rows={items}
          rowKey={(c) => c.info.runId}
          rowAttributes={(c) => ({ 'data-run-id': c.info.runId })}
        />
      </div>
    </Card>
  );
}
