import type { Run } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { RunStatusBadge } from '../../components/Badge.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Checkbox } from '../../components/Input.js';
import { seriesColor } from '../../components/LineChart.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { formatDuration, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link, useLocation } from '../../router.js';
import {
  experimentPath,
  formatMetric,
  keysOf,
  metricNumber,
  metricOf,
  paramOf,
  RUN_ID,
  runDurationSeconds,
  runPath,
  isoOf,
} from '../../tracking.js';
import { MAX_COMPARE } from './ExperimentPage.js';
import { MetricChartCard, type ChartRun } from './MetricChartCard.js';

/**
 * Several runs side by side (`/experiments/compare?runs=a,b`): every metric as one chart with a
 * line per run, and a table of params with the rows whose values differ marked (or shown alone).
 */
export function ComparePage() {
  useDocumentTitle('Compare runs');
  const { search } = useLocation();
  const ids = [...new Set((search.get('runs') ?? '').split(',').filter((id) => RUN_ID.test(id)))].slice(0, MAX_COMPARE);
  const runs = useResource((signal) => Promise.all(ids.map((id) => api().getRun({ id }, { signal }))), [ids.join(',')]);
  const [onlyDiff, setOnlyDiff] = useState(false);

  const header = <PageHeader title="Compare runs" subtitle={`${ids.length} runs`} />;
  if (ids.length < 2) {
    return (
      <>
        {header}
        <Card>
          <EmptyState title="Pick runs to compare" action={<Link to="/experiments">Experiments</Link>}>
            <p>Tick two or more runs in an experiment's runs table, then choose Compare.</p>
          </EmptyState>
        </Card>
      </>
    );
  }
  if (runs.error !== null && !runs.data) {
    return (
      <>
        {header}
        <ErrorBanner error={runs.error} title="Could not load these runs" onRetry={runs.reload} />
      </>
    );
  }
  if (!runs.data) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading runs…" />
      </>
    );
  }
  const list = runs.data;
  const chartRuns: ChartRun[] = list.map((r, i) => ({
    runId: r.info.runId,
    label: r.info.runName || r.info.runId,
    color: seriesColor(i),
  }));
  const metricKeys = keysOf(list, (r) => r.data.metrics);
  const paramKeys = keysOf(list, (r) => r.data.params);
  const differs = (values: readonly (string | undefined)[]) => new Set(values).size > 1;
  const paramRows = paramKeys.map((key) => {
    const values = list.map((r) => paramOf(r, key));
    return { key, values, differs: differs(values) };
  });
  const diffCount = paramRows.filter((p) => p.differs).length;
  const shownParams = onlyDiff ? paramRows.filter((p) => p.differs) : paramRows;
  const experiments = [...new Set(list.map((r) => r.info.experimentId))];

  return (
    <>
      {experiments.length === 1 && (
        <Link to={experimentPath(experiments[0]!)} className="text-link back-link">
          ← Experiment {experiments[0]}
        </Link>
      )}
      <PageHeader
        title="Compare runs"
        subtitle={`${list.length} runs${experiments.length > 1 ? ` from ${experiments.length} experiments` : ''}`}
      />
      <Card title="Runs" flush>
        <div className="table-wrap">
          <table className="table compare-table" data-testid="compare-runs">
            <caption className="visually-hidden">The runs compared</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Experiment</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r, i) => (
                <tr key={r.info.runId} data-run-id={r.info.runId}>
                  <td>
                    <span className="chart-swatch" style={{ background: seriesColor(i) }} aria-hidden="true" />{' '}
                    <Link to={runPath(r.info.experimentId, r.info.runId)} className="job-link">
                      {r.info.runName || r.info.runId}
                    </Link>
                  </td>
                  <td>
                    <RunStatusBadge status={r.info.status} />
                  </td>
                  <td>
                    <ShortDateTime iso={isoOf(r.info.startTime) ?? ''} />
                  </td>
                  <td className="num">{formatDuration(runDurationSeconds(r.info))}</td>
                  <td className="mono">
                    <Link to={experimentPath(r.info.experimentId)}>{r.info.experimentId}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>

      <Card
        title={`Parameters (${paramKeys.length}; ${diffCount} differ)`}
        flush
        actions={
          <Checkbox label="Only differences" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} />
        }
      >
        <ValuesTable
          caption="Parameters of each run"
          runs={list}
          rows={shownParams.map((p) => ({ key: p.key, differs: p.differs, cells: p.values.map((v) => v ?? NONE) }))}
          empty={onlyDiff ? 'All parameters are the same.' : 'No parameters logged.'}
          testId="compare-params"
        />
      </Card>

      <Card title={`Metrics (${metricKeys.length}): latest values`} flush>
        <ValuesTable
          caption="Latest metric values of each run"
          runs={list}
          rows={metricKeys.map((key) => {
            const values = list.map((r) => metricOf(r, key));
            return {
              key,
              differs: differs(values.map((m) => (m ? String(metricNumber(m.value)) : undefined))),
              cells: values.map((m) => (m ? formatMetric(m.value) : NONE)),
              numeric: true,
            };
          })}
          empty="No metrics logged."
          testId="compare-metrics"
        />
      </Card>

      {metricKeys.length > 0 && (
        <div className="chart-grid" data-testid="compare-charts">
          {metricKeys.map((k) => (
            <MetricChartCard
              key={k}
              metricKey={k}
              runs={chartRuns.filter((c) => list.find((r) => r.info.runId === c.runId && metricOf(r, k)))}
            />
          ))}
        </div>
      )}
    </>
  );
}

interface ValueRow {
  key: string;
  differs: boolean;
  cells: string[];
  numeric?: boolean;
}

/** Keys down, runs across; rows whose values differ between runs are marked. */
function ValuesTable({
  caption,
  runs,
  rows,
  empty,
  testId,
}: {
  caption: string;
  runs: readonly Run[];
  rows: readonly ValueRow[];
  empty: string;
  testId: string;
}) {
  return (
    <div className="table-wrap">
      <table className="table compare-table" data-testid={testId} style={{ minWidth: `${12 + runs.length * 10}rem` }}>
        <caption className="visually-hidden">{caption}</caption>
        <colgroup>
          <col style={{ width: '12rem' }} />
          {runs.map((r) => (
            <col key={r.info.runId} />
          ))}
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Key</th>
            {runs.map((r, i) => (
              <th
                key={r.info.runId}
                scope="col"
                title={r.info.runName}
                className={rows[0]?.numeric ? 'num' : undefined}
              >
                <span className="chart-swatch" style={{ background: seriesColor(i) }} aria-hidden="true" />{' '}
                {r.info.runName || r.info.runId}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td className="table-empty" colSpan={runs.length + 1}>
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr
                key={row.key}
                data-key={row.key}
                data-differs={row.differs ? 'true' : 'false'}
                className={row.differs ? 'row-differs' : undefined}
              >
                <th scope="row" className="mono compare-key" title={row.key}>
                  {row.key}
                  {row.differs && <span className="visually-hidden"> (differs)</span>}
                </th>
                {row.cells.map((c, i) => (
                  <td key={i} className={row.numeric ? 'num mono' : 'mono'} title={c}>
                    {c}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
