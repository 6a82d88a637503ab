import type { ListPredictionsResponse } from '@hangar/sdk';
import { useState } from 'react';
import { Badge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { Table, type Column } from '../../components/Table.js';
import { formatJson } from '../../format.js';
import { formatMs } from './deployments.js';

type Prediction = ListPredictionsResponse['predictions'][number];
interface Row extends Prediction {
  /** Unique within the list: clients may send the same request id twice. */
  key: string;
}

/** Rows with unique keys, newest first as the server sends them. */
function keyed(predictions: readonly Prediction[]): Row[] {
  const seen = new Map<string, number>();
  return predictions.map((p) => {
    const base = `${p.requestId}|${p.version}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return { ...p, key: n === 0 ? base : `${base}#${n}` };
  });
}

/**
 * The newest entries of the prediction log: request id (to join labels later), the version that
 * answered and by which route (stable, candidate or pinned), outcome and latency, and the shadow
 * version's answer where the request was shadowed. A row's inputs and outputs open on demand; an
 * open row stays open as the list refreshes.
 */
export function PredictionsCard({ predictions }: { predictions: readonly Prediction[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (key: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  const columns: Column<Row>[] = [
    {
      key: 'requestId',
      header: 'Request id',
      mono: true,
      render: (p) => <span title={p.requestId}>{p.requestId}</span>,
    },
    { key: 'version', header: 'Version', width: '5rem', render: (p) => `v${p.version}` },
    { key: 'route', header: 'Route', width: '6.5rem', render: (p) => <span data-route={p.route}>{p.route}</span> },
    {
      key: 'outcome',
      header: 'Outcome',
      width: '6rem',
      render: (p) => (
        <Badge tone={p.outcome === 'ok' ? 'success' : 'danger'} title={p.error ?? undefined}>
          <span data-outcome={p.outcome}>{p.outcome}</span>
        </Badge>
      ),
    },
    { key: 'latency', header: 'Latency', width: '6.5rem', align: 'right', render: (p) => formatMs(p.latencyMs) },
    {
      key: 'shadow',
      header: 'Shadow',
      width: '9rem',
      render: (p) =>
        p.shadow ? (
          <span data-shadow-outcome={p.shadow.outcome} title={p.shadow.error ?? undefined}>
            v{p.shadow.version} {p.shadow.outcome} · {formatMs(p.shadow.latencyMs)}
          </span>
        ) : (
          <span className="muted">—</span>
        ),
    },
    { key: 'at', header: 'Time', width: '9.5rem', render: (p) => <ShortDateTime iso={p.at} /> },
    {
      key: 'data',
      header: 'Inputs / outputs',
      width: '22rem',
      render: (p) => (
        <div className="prediction-cell">
          <Button
            size="sm"
            variant="ghost"
            aria-expanded={open.has(p.key)}
            onClick={() => toggle(p.key)}
            data-testid="toggle-prediction"
          >
            {open.has(p.key) ? 'Hide' : 'Show'}
          </Button>
          {open.has(p.key) && (
            <div className="prediction-data" data-testid="prediction-data">
              {p.error && <p className="gate-fail-reason small">{p.error}</p>}
              <p className="small muted">Inputs</p>
              <pre className="code prediction-json" data-testid="prediction-inputs">
                {formatJson(p.inputs)}
              </pre>
              <p className="small muted">Outputs</p>
              <pre className="code prediction-json" data-testid="prediction-outputs">
                {formatJson(p.outputs)}
              </pre>
              {p.shadow && (
                <>
                  <p className="small muted">Shadow v{p.shadow.version} outputs</p>
                  {p.shadow.error && <p className="gate-fail-reason small">{p.shadow.error}</p>}
                  <pre className="code prediction-json" data-testid="prediction-shadow-outputs">
                    {formatJson(p.shadow.outputs)}
                  </pre>
                </>
              )}
            </div>
          )}
        </div>
      ),
    },
  ];
  return (
    <Card title="Recent predictions" flush>
      <div data-testid="predictions">
        <Table
          columns={columns}
          rows={keyed(predictions)}
          rowKey={(p) => p.key}
          rowAttributes={(p) => ({ 'data-request-id': p.requestId, 'data-route': p.route })}
          caption="Recent predictions"
          empty="No predictions yet. Requests to the inference API show up here within a second."
        />
      </div>
    </Card>
  );
}
