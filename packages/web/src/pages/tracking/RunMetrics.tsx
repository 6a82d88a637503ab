import type { Run } from '@hangar/sdk';
import { useState } from 'react';
import { Card } from '../../components/Card.js';
import { EmptyState } from '../../components/EmptyState.js';
import { Field } from '../../components/Field.js';
import { Input } from '../../components/Input.js';
import { seriesColor } from '../../components/LineChart.js';
import { MetricChartCard } from './MetricChartCard.js';

/** Above this many metrics, a search box narrows the charts. */
const FIND_FROM = 6;

/** A chart per metric of the run, over steps; each loads its history when scrolled to. */
export function RunMetrics({ run }: { run: Run }) {
  const [query, setQuery] = useState('');
  const keys = run.data.metrics.map((m) => m.key).sort((a, b) => a.localeCompare(b));
  const q = query.trim().toLowerCase();
  const shown = keys.filter((k) => !q || k.toLowerCase().includes(q));
  if (keys.length === 0) {
    return (
      <Card>
        <EmptyState title="No metrics">
          <p>This run has not logged any metrics.</p>
        </EmptyState>
      </Card>
    );
  }
  const runs = [{ runId: run.info.runId, label: run.info.runName || run.info.runId, color: seriesColor(0) }];
  return (
    <>
      {keys.length > FIND_FROM && (
        <Field label="Find metrics" className="field-inline field-grow">
          {(p) => <Input {...p} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}
        </Field>
      )}
      <div className="chart-grid" data-testid="metric-charts">
        {shown.map((k) => (
          <MetricChartCard key={k} metricKey={k} runs={runs} />
        ))}
      </div>
      {shown.length === 0 && <p className="muted">No metric matches.</p>}
    </>
  );
}
