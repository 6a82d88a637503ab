import type { WebhookDelivery } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { formatDateTime, NONE } from '../../format.js';
import { useAction, useDocumentTitle, useResource } from '../../hooks.js';
import { Link, navigate } from '../../router.js';
import { eventsLabel, responseLabel, webhooksPath } from '../../webhooks.js';
import { DeliveryLog } from './DeliveryLog.js';
import { DeleteWebhookDialog, EnabledBadge } from './parts.js';

function pingResult(d: WebhookDelivery): { tone: 'success' | 'danger'; text: string } {
  if (d.status === 'delivered')
    return { tone: 'success', text: `Test ping delivered (${responseLabel(d) ?? 'no status'}).` };
  return { tone: 'danger', text: `Test ping failed: ${d.error ?? responseLabel(d) ?? 'no answer'}.` };
}

/**
 * One webhook (maintainers and admins): what it sends where, a test ping, enable / disable,
 * delete, and its delivery log.
 */
export function WebhookPage({ project, id }: { project: string; id: string }) {
  useDocumentTitle('Webhook');
  const hook = useResource((signal) => api().getWebhook({ project, id }, { signal }), [project, id]);
  const [deleting, setDeleting] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'success' | 'danger'; text: string } | null>(null);
  // Bumped after a ping, so the log shows it at once rather than at its next refresh.
  const [changes, setChanges] = useState(0);
  const ping = useAction();
  const toggle = useAction();

  const back = (
    <Link to={webhooksPath(project)} className="text-link back-link">
      ← Webhooks of {project}
    </Link>
  );
  if (hook.error !== null && !hook.data) {
    return (
      <>
        {back}
        <PageHeader title="Webhook" />
        <ErrorBanner error={hook.error} title="Could not load the webhook" onRetry={hook.reload} />
      </>
    );
  }
  const w = hook.data;
  if (!w) return <LoadingBlock label="Loading the webhook…" />;

  const sendPing = () =>
    void ping.run(async () => {
      setNotice(null);
      const d = await api().testWebhook({ project, id });
      setNotice(pingResult(d));
      setChanges((n) => n + 1);
    });
  const setActive = (active: boolean) =>
    void toggle.run(async () => {
      setNotice(null);
      await api().updateWebhook({ project, id, body: { active } });
      setNotice({
        tone: 'success',
        text: active ? 'Enabled: new events are delivered.' : 'Disabled: new events are not delivered.',
      });
      hook.reload();
    });

  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span className="mono" data-testid="webhook-url">
              {w.url}
            </span>
            <EnabledBadge active={w.active} />
          </span>
        }
        subtitle={w.description || undefined}
        actions={
          <>
            <Button onClick={sendPing} loading={ping.busy} title="POST a signed ping to the URL now, once">
              Send test ping
            </Button>
            <Button onClick={() => setActive(!w.active)} loading={toggle.busy}>
              {w.active ? 'Disable' : 'Enable'}
            </Button>
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete
            </Button>
          </>
        }
      />
      {ping.error !== null && <ErrorBanner error={ping.error} title="Could not send the ping" />}
      {toggle.error !== null && <ErrorBanner error={toggle.error} title="Not changed" />}
      {notice && (
        <Banner tone={notice.tone} role="status" data-testid="webhook-notice">
          <p>{notice.text}</p>
        </Banner>
      )}
      <Card title="Webhook">
        <dl className="kv" data-testid="webhook-info">
          <dt>URL</dt>
          <dd className="mono">{w.url}</dd>
          <dt>Events</dt>
          <dd>{eventsLabel(w.events)}</dd>
          <dt>Description</dt>
          <dd>{w.description || NONE}</dd>
          <dt>Created</dt>
          <dd>
            {formatDateTime(w.createdAt)} by <span className="mono">{w.createdBy}</span>
          </dd>
          <dt>Changed</dt>
          <dd>{formatDateTime(w.updatedAt)}</dd>
          <dt>Id</dt>
          <dd className="mono">{w.id}</dd>
        </dl>
      </Card>
      <DeliveryLog project={project} id={id} version={changes} />
      {deleting && (
        <DeleteWebhookDialog
          project={project}
          webhook={w}
          onClose={() => setDeleting(false)}
          onDeleted={() => navigate(webhooksPath(project))}
        />
      )}
    </>
  );
}
