import type { Webhook } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { eventsLabel, webhookPath } from '../../webhooks.js';
import { CreateWebhookDialog } from './CreateWebhookDialog.js';
import { DeleteWebhookDialog, EnabledBadge } from './parts.js';

/**
 * A project's webhooks (its maintainers and admins): each URL with the events it is subscribed to
 * and whether it is enabled; create one (its signing secret is shown once) or delete one. A
 * webhook's own page has its delivery log.
 */
export function WebhooksPage({ project }: { project: string }) {
  useDocumentTitle(`${project} webhooks`);
  const hooks = useResource((signal) => api().listWebhooks({ project }, { signal }), [project]);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const columns: Column<Webhook>[] = [
    {
      key: 'url',
      header: 'URL',
      mono: true,
      render: (w) => (
        <Link to={webhookPath(project, w.id)} className="job-link" title={w.url}>
          {w.url}
        </Link>
      ),
    },
    {
      key: 'events',
      header: 'Events',
      width: '16rem',
      render: (w) => <span title={eventsLabel(w.events)}>{eventsLabel(w.events)}</span>,
    },
    { key: 'enabled', header: 'Enabled', width: '6.5rem', render: (w) => <EnabledBadge active={w.active} /> },
    {
      key: 'description',
      header: 'Description',
      width: '12rem',
      render: (w) => <span title={w.description ?? undefined}>{w.description || NONE}</span>,
    },
    timeColumn('created', 'Created', (w) => w.createdAt),
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '6rem',
      align: 'right',
      render: (w) => (
        <Button size="sm" variant="ghost" onClick={() => setDeleting(w)} aria-label={`Delete webhook ${w.url}`}>
          Delete
        </Button>
      ),
    },
  ];

  return (
    <>
      <Link to={`/projects/${encodeURIComponent(project)}/settings`} className="text-link back-link">
        ← Project settings
      </Link>
      <PageHeader
        title="Webhooks"
        subtitle={
          <>
            <span className="mono">{project}</span> · signed POSTs to your URLs when models and releases change
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create webhook
          </Button>
        }
      />
      {notice && (
        <Banner tone="success" role="status">
          <p>{notice}</p>
        </Banner>
      )}
      <Card flush>
        <LoadedTable
          rows={hooks.data?.items ?? null}
          error={hooks.error}
          errorTitle="Could not load the webhooks"
          onRetry={hooks.reload}
          loadingLabel="Loading webhooks…"
          caption={`Webhooks of ${project}`}
          columns={columns}
          rowKey={(w) => w.id}
          rowAttributes={(w) => ({ 'data-webhook': w.id })}
          empty="No webhooks yet. Create one to hear about new versions, gates, approvals and releases."
        />
      </Card>
      {creating && (
        <CreateWebhookDialog
          project={project}
          onCreated={(w) => {
            setNotice(`Created a webhook for ${w.url}.`);
            hooks.reload();
          }}
          onClose={() => setCreating(false)}
        />
      )}
      {deleting && (
        <DeleteWebhookDialog
          project={project}
          webhook={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            setNotice(`Deleted the webhook for ${deleting.url}.`);
            hooks.reload();
          }}
        />
      )}
    </>
  );
}
