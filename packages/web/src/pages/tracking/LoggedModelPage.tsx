import type { LoggedModel } from '@hangar/sdk';
import { api } from '../../api.js';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { experimentPath, formatMetric, isoOf, runPath } from '../../tracking.js';

const STATUS_TONES: Record<LoggedModel['status'], BadgeTone> = {
  PENDING: 'neutral',
  READY: 'success',
  FAILED: 'danger',
};

type KeyValue = { key: string; value: string };
type ModelMetric = LoggedModel['metrics'][number];

/** An MLflow 3 logged model: its status, source run, params, metrics and tags. */
export function LoggedModelPage({ experimentId, modelId }: { experimentId: string; modelId: string }) {
  const res = useResource((signal) => api().getLoggedModel({ modelId }, { signal }), [modelId]);
  const m = res.data;
  useDocumentTitle(m ? `Model ${m.name}` : 'Logged model');
  const back = (
    <Link to={experimentPath(m?.experimentId ?? experimentId)} className="text-link back-link">
      ← Experiment {m?.experimentId ?? experimentId}
    </Link>
  );
  if (!m) {
    return (
      <>
        {back}
        <PageHeader title={<span className="mono">{modelId}</span>} />
        {res.error !== null ? (
          <ErrorBanner error={res.error} title="Could not load this logged model" onRetry={res.reload} />
        ) : (
          <LoadingBlock label="Loading the model…" />
        )}
      </>
    );
  }
  const kv: Column<KeyValue>[] = [
    { key: 'key', header: 'Key', width: '40%', mono: true, render: (p) => p.key },
    { key: 'value', header: 'Value', render: (p) => <span title={p.value}>{p.value}</span> },
  ];
  const metricColumns: Column<ModelMetric>[] = [
    { key: 'key', header: 'Metric', mono: true, render: (x) => x.key },
    { key: 'value', header: 'Value', width: '8rem', align: 'right', render: (x) => formatMetric(x.value) },
    { key: 'step', header: 'Step', width: '5rem', align: 'right', render: (x) => x.step },
    { key: 'dataset', header: 'Dataset', width: '10rem', render: (x) => x.datasetName ?? NONE },
  ];
  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span data-testid="model-name">{m.name}</span>
            <Badge tone={STATUS_TONES[m.status]}>{m.status.toLowerCase()}</Badge>
          </span>
        }
        subtitle={<span className="mono">{m.modelId}</span>}
      />
      <Card title="Details">
        <dl className="kv">
          <dt>Source run</dt>
          <dd className="mono">
            {m.sourceRunId ? <Link to={runPath(m.experimentId, m.sourceRunId)}>{m.sourceRunId}</Link> : NONE}
          </dd>
          <dt>Type</dt>
          <dd>{m.modelType ?? NONE}</dd>
          <dt>Created</dt>
          <dd>
            {formatDateTime(isoOf(m.creationTimestamp))} by {m.creator || NONE}
          </dd>
          <dt>Artifacts</dt>
          <dd className="mono small">{m.artifactUri}</dd>
          {m.statusMessage && (
            <>
              <dt>Status message</dt>
              <dd>{m.statusMessage}</dd>
            </>
          )}
        </dl>
      </Card>
      <div className="grid-2">
        <Card title={`Parameters (${m.params.length})`} flush>
          <Table caption="Parameters" columns={kv} rows={m.params} rowKey={(p) => p.key} empty="No parameters." />
        </Card>
        <Card title={`Tags (${m.tags.length})`} flush>
          <Table caption="Tags" columns={kv} rows={m.tags} rowKey={(p) => p.key} empty="No tags." />
        </Card>
      </div>
      <Card title={`Metrics (${m.metrics.length})`} flush>
        <Table
          caption="Metrics"
          columns={metricColumns}
          rows={m.metrics}
          rowKey={(x) => `${x.key}:${x.step}:${x.datasetDigest ?? ''}:${x.runId ?? ''}`}
          empty="No metrics."
        />
      </Card>
    </>
  );
}
