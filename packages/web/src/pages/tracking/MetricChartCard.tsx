import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { ChartLegend, LineChart, type ChartSeries } from '../../components/LineChart.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { useSeen } from '../../hooks.js';
import { formatMetric } from '../../tracking.js';
import { MAX_HISTORY_POINTS, useMetricHistories } from './metric-history.js';

export interface ChartRun {
  runId: string;
  label: string;
  color: string;
}

/**
 * One metric over steps for one run or several overlaid, in a card. Its history is loaded when
 * the card comes into view, so a run with fifty metrics loads only what is looked at.
 */
export function MetricChartCard({ metricKey, runs }: { metricKey: string; runs: readonly ChartRun[] }) {
  const [ref, seen] = useSeen<HTMLDivElement>();
  const histories = useMetricHistories(
    runs.map((r) => r.runId),
    metricKey,
    seen,
  );
  const data = histories.data;
  const series: ChartSeries[] = data
    ? runs.map((r) => ({ id: r.runId, label: r.label, color: r.color, points: data.get(r.runId)?.points ?? [] }))
    : [];
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const nonFinite = data ? [...data.values()].reduce((n, h) => n + h.nonFinite, 0) : 0;
  const truncated = data ? [...data.values()].some((h) => h.truncated) : false;

  return (
    <div ref={ref} className="metric-chart-card" data-metric={metricKey}>
      <Card
        title={<span className="mono">{metricKey}</span>}
        actions={data && <span className="muted small">{points.toLocaleString()} points</span>}
      >
        {histories.error !== null ? (
          <ErrorBanner error={histories.error} title={`Could not load ${metricKey}`} onRetry={histories.reload} />
        ) : !data ? (
          <div className="chart-placeholder">
            <LoadingBlock label="Loading history…" />
          </div>
        ) : (
          <>
            <LineChart series={series} label={`${metricKey} over steps`} formatY={formatMetric} />
            {runs.length > 1 && <ChartLegend series={series} />}
            {(nonFinite > 0 || truncated) && (
              <p className="muted small">
                {nonFinite > 0 && `${nonFinite} NaN or infinite values are not drawn. `}
                {truncated && `Only the first ${MAX_HISTORY_POINTS.toLocaleString()} values of a run are drawn.`}
              </p>
            )}
          </>
        )}
      </Card>
    </div>
  );
}
