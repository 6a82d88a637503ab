import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import type { DB } from '../../db/schema.js';
import type { JobStore } from '../../jobs/job-store.js';
import { WEBHOOK_DELIVERY_JOB, WEBHOOK_LIMITS } from '../webhooks/limits.js';
import { EventStore } from './store.js';
import type { DomainEvent, EventSink } from './types.js';

/** Whether a webhook's subscription list (stored JSON) covers `type`. */
export function subscribes(events: string, type: string): boolean {
  try {
    const list = JSON.parse(events) as unknown;
    return Array.isArray(list) && (list.includes('*') || list.includes(type));
  } catch {
    return false;
  }
}

/**
 * The domain event log. `emit` stores the event and, for every active webhook of the project
 * subscribed to its type (or to "*"), a pending delivery and the job that sends it, all in the
 * caller's transaction: an event exists, and is delivered, exactly when the change it reports
 * committed. Delivery itself happens later, in the worker (modules/webhooks/delivery.ts).
 */
export class EventLog implements EventSink {
  private readonly store: EventStore;

  constructor(
    db: Kysely<DB>,
    private readonly jobs: Pick<JobStore, 'enqueueIn'>,
    private readonly clock: Clock,
    /** Called after emit returns; the caller's commit follows soon, and an idle worker polls again. */
    private readonly onEnqueued: () => void = () => {},
  ) {
    this.store = new EventStore(db);
  }

  async emit(tx: Kysely<DB>, event: DomainEvent): Promise<void> {
    const now = this.clock.now();
    const id = newId(now);
    const s = this.store.with(tx);
    await s.insert({
      id,
      project_id: event.projectId,
      type: event.type,
      payload: JSON.stringify(event.payload),
      created_at: now,
    });
    const hooks = (await s.activeWebhooks(event.projectId)).filter((w) => subscribes(w.events, event.type));
    if (hooks.length === 0) return;
    const deliveries = [];
    for (const hook of hooks) {
      const deliveryId = newId(now);
      const job = await this.jobs.enqueueIn(tx, {
        kind: WEBHOOK_DELIVERY_JOB,
        payload: { deliveryId },
        maxAttempts: WEBHOOK_LIMITS.maxAttempts,
      });
      deliveries.push({
        id: deliveryId,
        webhook_id: hook.id,
        event_id: id,
        event_type: event.type,
        status: 'pending' as const,
        attempts: 0,
        job_id: job.id,
        response_status: null,
        error: null,
        duration_ms: null,
        created_at: now,
        updated_at: now,
      });
    }
    await s.insertDeliveries(deliveries);
    this.onEnqueued();
  }
}
