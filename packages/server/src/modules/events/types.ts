import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/** The registry and release events webhooks can subscribe to. */
export const EVENT_TYPES = [
  'model_version.created',
  'gate.passed',
  'gate.failed',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'release.promoted',
  'release.rolled_back',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface DomainEvent {
  type: EventType;
  /** The project the event belongs to: only that project's webhooks receive it. */
  projectId: string;
  /** The event's subject and facts (model name, version, release id, gate status, actor, ...). */
  payload: Record<string, unknown>;
}

/**
 * Records a domain event inside the caller's transaction, so an event exists exactly when the change
 * it reports committed; the webhook deliveries it causes are enqueued in the same transaction.
 */
export interface EventSink {
  emit(tx: Kysely<DB>, event: DomainEvent): Promise<void>;
}
