import type { WebhookDelivery } from '@hangar/sdk';
import { useEffect, useRef, useState } from 'react';
import { api } from '../../api.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime, timeColumn } from '../../components/DateTime.js';
import { Dialog } from '../../components/Dialog.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import type { Column } from '../../components/Table.js';
import { formatDateTime, formatJson, NONE } from '../../format.js';
import { missingPayloadReason, responseLabel } from '../../webhooks.js';
import { useLive } from '../deployments/live.js';
import { DeliveryStatusBadge } from './parts.js';

const PAGE = 50;
/** The API's largest page: the log shows at most this many; the CLI pages through the rest. */
const MAX_SHOWN = 500;

/**
 * A webhook's delivery log, newest first: per delivery the event, status, attempts, the last
 * answer or error, and when; Details shows the body that was POSTed. It refreshes every 2 s while
 * the tab is visible, so new deliveries and retries show up by themselves. "Load more" asks for a
 * longer newest-first page rather than the next cursor, so what is shown stays one consistent
 * window while new deliveries arrive at the top.
 */
export function DeliveryLog({ project, id, version }: { project: string; id: string; version: number }) {
  const [limit, setLimit] = useState(PAGE);
  const live = useLive((signal) => api().listWebhookDeliveries({ project, id, limit }, { signal }), [project, id]);
  const { reload } = live;
  // A longer page or a ping the page sent: load now (the first load needs no help).
  const asked = useRef({ limit, version });
  useEffect(() => {
    if (asked.current.limit === limit && asked.current.version === version) return;
    asked.current = { limit, version };
    reload();
  }, [limit, version, reload]);
  const [open, setOpen] = useState<WebhookDelivery | null>(null);

  const rows = live.data?.items ?? null;
  const more = live.data?.nextCursor != null;
  const columns: Column<WebhookDelivery>[] = [
    { key: 'event', header: 'Event', width: '12.5rem', mono: true, render: (d) => d.eventType },
    { key: 'status', header: 'Status', width: '8rem', render: (d) => <DeliveryStatusBadge status={d.status} /> },
    { key: 'attempts', header: 'Attempts', width: '6rem', align: 'right', render: (d) => d.attempts },
    { key: 'response', header: 'Response', width: '7rem', mono: true, render: (d) => responseLabel(d) ?? NONE },
    {
      key: 'error',
      header: 'Error',
      render: (d) => (d.error ? <span title={d.error}>{d.error}</span> : NONE),
    },
    {
      key: 'duration',
      header: 'Took',
      width: '5.5rem',
      align: 'right',
      render: (d) => (d.durationMs === null ? NONE : `${d.durationMs} ms`),
    },
    timeColumn('created', 'Created', (d) => d.createdAt, '10.5rem'),
    {
      key: 'updated',
      header: 'Last change',
      width: '10.5rem',
      render: (d) => <ShortDateTime iso={d.updatedAt} />,
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '6rem',
      align: 'right',
      render: (d) => (
        <Button size="sm" variant="ghost" onClick={() => setOpen(d)} aria-label={`Details of delivery ${d.id}`}>
          Details
        </Button>
      ),
    },
  ];

  return (
    <Card title="Delivery log" flush>
      <LoadedTable
        rows={rows}
        error={live.error}
        errorTitle="Could not load the delivery log"
        onRetry={reload}
        loadingLabel="Loading deliveries…"
        caption="Deliveries of this webhook, newest first"
        columns={columns}
        rowKey={(d) => d.id}
        rowAttributes={(d) => ({ 'data-delivery': d.id, 'data-event': d.eventType })}
        empty="No deliveries yet. They appear here when a subscribed event happens, or after a test ping."
      >
        {more &&
          (limit < MAX_SHOWN ? (
            <LoadMore loading={false} onLoadMore={() => setLimit((n) => Math.min(MAX_SHOWN, n + PAGE))} />
          ) : (
            <div className="table-footer muted small">
              The newest {MAX_SHOWN} are shown; older ones with <code>hangar webhooks deliveries {id} --all</code>.
            </div>
          ))}
      </LoadedTable>
      {open && <DeliveryDialog delivery={rows?.find((d) => d.id === open.id) ?? open} onClose={() => setOpen(null)} />}
    </Card>
  );
}

/** One delivery: its facts and the body POSTed (kept up to date while the log refreshes). */
function DeliveryDialog({ delivery: d, onClose }: { delivery: WebhookDelivery; onClose: () => void }) {
  const missing = missingPayloadReason(d);
  return (
    <Dialog
      title={`${d.eventType} delivery`}
      onClose={onClose}
      size="lg"
      data-testid="delivery-details"
      footer={
        <Button variant="primary" onClick={onClose}>
          Close
        </Button>
      }
    >
      <dl className="kv">
        <dt>Status</dt>
        <dd>
          <DeliveryStatusBadge status={d.status} />
        </dd>
        <dt>Attempts</dt>
        <dd>{d.attempts}</dd>
        <dt>Last answer</dt>
        <dd className="mono">{responseLabel(d) ?? NONE}</dd>
        <dt>Error</dt>
        <dd className="pre-wrap">{d.error ?? NONE}</dd>
        <dt>Took</dt>
        <dd>{d.durationMs === null ? NONE : `${d.durationMs} ms`}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(d.createdAt)}</dd>
        <dt>Last change</dt>
        <dd>{formatDateTime(d.updatedAt)}</dd>
        <dt>Delivery id</dt>
        <dd className="mono">{d.id}</dd>
        <dt>Event id</dt>
        <dd className="mono">{d.eventId}</dd>
      </dl>
      <h3 className="field-label">Body</h3>
      {missing ? (
        <p className="muted small">{missing}</p>
      ) : (
        <pre className="code" data-testid="delivery-payload">
          {formatJson(d.payload)}
        </pre>
      )}
    </Dialog>
  );
}
