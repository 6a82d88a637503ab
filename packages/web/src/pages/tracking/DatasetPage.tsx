import type { GetDatasetResponse } from '@hangar/sdk';
import { api } from '../../api.js';
import { Card } from '../../components/Card.js';
import { CopyButton } from '../../components/CopyButton.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, formatJson, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { formatMetric, isoOf, runPath } from '../../tracking.js';

interface ColumnStats {
  name: string;
  type: string;
  count?: number;
  nulls?: number;
  distinct?: number;
  distinctCapped?: boolean;
  min?: number;
  max?: number;
  mean?: number;
}

/** The column statistics of a profile computed by the server, when it has that shape. */
function profileColumns(profile: unknown): ColumnStats[] | null {
  if (typeof profile !== 'object' || profile === null) return null;
  const cols = (profile as { columns?: unknown }).columns;
  if (!Array.isArray(cols)) return null;
  return cols.filter(
    (c): c is ColumnStats => typeof c === 'object' && c !== null && typeof (c as ColumnStats).name === 'string',
  );
}

type UsedBy = GetDatasetResponse['runs'][number];

/**
 * One dataset version (MLflow's dataset: a name and a content digest): where it comes from, its
 * schema and profile, and the runs that read it.
 */
export function DatasetPage({ datasetId }: { datasetId: string }) {
  const res = useResource((signal) => api().getDataset({ datasetId }, { signal }), [datasetId]);
  useDocumentTitle(res.data ? `Dataset ${res.data.dataset.name}` : 'Dataset');
  if (!res.data) {
    return (
      <>
        <PageHeader title="Dataset version" />
        {res.error !== null ? (
          <ErrorBanner error={res.error} title="Could not load this dataset version" onRetry={res.reload} />
        ) : (
          <LoadingBlock label="Loading the dataset…" />
        )}
      </>
    );
  }
  const { dataset: d, runs } = res.data;
  const columns = profileColumns(d.profile);
  const profile = d.profile as { numRows?: unknown; num_rows?: unknown } | null;
  const rows = profile?.numRows ?? profile?.num_rows;
  const statsColumns: Column<ColumnStats>[] = [
    { key: 'name', header: 'Column', mono: true, render: (c) => c.name },
    { key: 'type', header: 'Type', width: '7rem', render: (c) => c.type },
    { key: 'nulls', header: 'Nulls', width: '6rem', align: 'right', render: (c) => c.nulls ?? NONE },
    {
      key: 'distinct',
      header: 'Distinct',
      width: '6rem',
      align: 'right',
      render: (c) => (c.distinct === undefined ? NONE : `${c.distinct}${c.distinctCapped ? '+' : ''}`),
    },
    { key: 'min', header: 'Min', width: '7rem', align: 'right', render: (c) => formatMetric(c.min) },
    { key: 'max', header: 'Max', width: '7rem', align: 'right', render: (c) => formatMetric(c.max) },
    { key: 'mean', header: 'Mean', width: '7rem', align: 'right', render: (c) => formatMetric(c.mean) },
  ];
  const runColumns: Column<UsedBy>[] = [
    {
      key: 'run',
      header: 'Run',
      render: (r) => (
        <Link to={runPath(r.experimentId, r.runId, 'reproducibility')} className="job-link">
          {r.runName || r.runId}
        </Link>
      ),
    },
    { key: 'context', header: 'Used as', width: '10rem', render: (r) => r.context ?? NONE },
    { key: 'experiment', header: 'Experiment', width: '8rem', mono: true, render: (r) => r.experimentId },
  ];
  return (
    <>
      <Link to="/experiments" className="text-link back-link">
        ← Experiments
      </Link>
      <PageHeader
        title={<span data-testid="dataset-name">{d.name}</span>}
        subtitle={
          <>
            Dataset version <span className="mono">{d.digest}</span> <CopyButton value={d.digest} label="Copy digest" />
          </>
        }
      />
      <Card title="Version">
        <dl className="kv" data-testid="dataset-info">
          <dt>Digest</dt>
          <dd className="mono">{d.digest}</dd>
          <dt>Source type</dt>
          <dd>{d.sourceType || NONE}</dd>
          <dt>Source</dt>
          <dd className="mono">{d.source}</dd>
          <dt>Rows</dt>
          <dd>{typeof rows === 'number' ? rows.toLocaleString() : NONE}</dd>
          <dt>Registered</dt>
          <dd>
            {formatDateTime(isoOf(d.createdAt))} by {d.createdBy || NONE}
          </dd>
          <dt>ID</dt>
          <dd className="mono">{d.datasetId}</dd>
        </dl>
      </Card>
      {columns ? (
        <Card title={`Columns (${columns.length})`} flush>
          <Table caption="Column profile" columns={statsColumns} rows={columns} rowKey={(c) => c.name} />
        </Card>
      ) : (
        d.schema !== null && (
          <Card title="Schema">
            <pre className="code">{formatJson(d.schema)}</pre>
          </Card>
        )
      )}
      <Card title={`Runs that read it (${runs.length})`} flush>
        <Table
          caption="Runs that read this dataset version"
          columns={runColumns}
          rows={runs}
          rowKey={(r) => `${r.runId}:${r.context ?? ''}`}
          empty="No run has recorded this version as an input."
        />
      </Card>
    </>
  );
}
