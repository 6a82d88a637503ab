// What the webhook list and a webhook's page share: the enabled and delivery-status badges and the
// delete confirmation.
import type { Webhook } from '@hangar/sdk';
import { api } from '../../api.js';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import type { DeliveryStatus } from '../../webhooks.js';

export function EnabledBadge({ active }: { active: boolean }) {
  return (
    <Badge tone={active ? 'success' : 'neutral'}>
      <span data-enabled={String(active)}>{active ? 'enabled' : 'disabled'}</span>
    </Badge>
  );
}

const DELIVERY_TONES: Record<DeliveryStatus, BadgeTone> = {
  pending: 'info',
  delivered: 'success',
  failed: 'danger',
};

/** A delivery's status; a pending one (waiting for its next attempt) gets a pulsing dot. */
export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return (
    <Badge tone={DELIVERY_TONES[status]}>
      {status === 'pending' && <span className="badge-dot" aria-hidden="true" />}
      <span data-delivery-status={status}>{status}</span>
    </Badge>
  );
}

export function DeleteWebhookDialog({
  project,
  webhook,
  onClose,
  onDeleted,
}: {
  project: string;
  webhook: Webhook;
  onClose: () => void;
  onDeleted: () => void;
}) {
  return (
    <ConfirmDialog
      title="Delete webhook"
      confirmLabel="Delete webhook"
      danger
      onClose={onClose}
      onConfirm={async () => {
        await api().deleteWebhook({ project, id: webhook.id });
        onDeleted();
      }}
    >
      <p>
        Delete the webhook for <strong className="mono">{webhook.url}</strong>? It receives no more events, its pending
        deliveries are dropped and its delivery log is deleted. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
