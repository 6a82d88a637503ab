// Helpers for the webhook pages: portal paths, the event types a webhook can subscribe to (the
// server's list, as the SDK types it), checks of a URL and a secret before the round trip, and
// reading a delivery for display. No DOM or React here, so the unit tests run them in Node.
import type { CreateWebhookBody, WebhookDelivery } from '@hangar/sdk';

export type WebhookEvent = CreateWebhookBody['events'][number];
export type EventType = Exclude<WebhookEvent, '*'>;
export type DeliveryStatus = WebhookDelivery['status'];

/**
 * Every event type, with what it reports. A Record over the SDK's union, so an event type the
 * server adds fails the portal's typecheck until it is described here.
 */
export const EVENT_ABOUT: Record<EventType, string> = {
  'model_version.created': 'a model version is registered',
  'gate.passed': 'a version passes its evaluation gate',
  'gate.failed': 'a version fails its evaluation gate',
  'approval.requested': 'a release waits for approval',
  'approval.granted': 'a release is approved',
  'approval.rejected': 'a release is rejected',
  'release.promoted': 'a version is promoted to an environment',
  'release.rolled_back': 'a release is rolled back',
};

/** In the server's order (registry first, then releases). */
export const EVENT_TYPES = Object.keys(EVENT_ABOUT) as EventType[];

/** The server's bounds on a signing secret it is given (WEBHOOK_LIMITS). */
export const SECRET_LENGTH = { min: 16, max: 256 } as const;
export const URL_MAX_LENGTH = 2000;

/** A project's webhooks. */
export function webhooksPath(project: string): string {
  return `/projects/${encodeURIComponent(project)}/webhooks`;
}

/** One webhook: its details and delivery log. */
export function webhookPath(project: string, id: string): string {
  return `${webhooksPath(project)}/${encodeURIComponent(id)}`;
}

/** The events of a webhook for people: "all events", or the types joined. */
export function eventsLabel(events: readonly string[]): string {
  return events.includes('*') ? 'all events' : events.join(', ');
}

/**
 * What is wrong with a webhook URL that the page can tell without the server: empty, not an
 * absolute http(s) URL, or with a user name or password. The server checks the rest (which
 * addresses the host resolves to), and its message is shown at the field.
 */
export function webhookUrlProblem(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Enter the URL the events are POSTed to.';
  if (v.length > URL_MAX_LENGTH) return `At most ${URL_MAX_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'Enter an absolute URL, e.g. https://hooks.example.com/hangar.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Only http and https URLs can receive events.';
  if (url.username || url.password) return 'Leave the user name and password out of the URL.';
  return undefined;
}

/** The problem with a secret of the user's own, if any (empty means: let the server generate one). */
export function secretProblem(value: string): string | undefined {
  if (value.length < SECRET_LENGTH.min) return `At least ${SECRET_LENGTH.min} characters.`;
  if (value.length > SECRET_LENGTH.max) return `At most ${SECRET_LENGTH.max} characters.`;
  return undefined;
}

/** The events to send for the choice in the form: every type as `*` (new types included), else the ticked ones. */
export function chosenEvents(all: boolean, ticked: readonly EventType[]): WebhookEvent[] {
  return all ? ['*'] : EVENT_TYPES.filter((t) => ticked.includes(t));
}

/** The last answer of a delivery in words: "HTTP 200", "HTTP 503", or none yet. */
export function responseLabel(d: Pick<WebhookDelivery, 'responseStatus'>): string | null {
  return d.responseStatus === null ? null : `HTTP ${d.responseStatus}`;
}

/** Whether a delivery log page still has deliveries in flight (the page keeps refreshing anyway). */
export function anyPending(deliveries: readonly Pick<WebhookDelivery, 'status'>[]): boolean {
  return deliveries.some((d) => d.status === 'pending');
}

/** Why a delivery shows no body: the server keeps no ping bodies, and events can leave the log. */
export function missingPayloadReason(d: Pick<WebhookDelivery, 'eventType' | 'payload'>): string | null {
  if (d.payload !== null) return null;
  return d.eventType === 'ping'
    ? "A test ping's body is not kept: it carries only the webhook's id, the project and who sent it."
    : 'The event is no longer in the event log, so its body cannot be shown.';
}
