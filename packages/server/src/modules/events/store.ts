import type { Insertable, Kysely, Selectable } from 'kysely';
import type { DB, EventsTable, WebhookDeliveriesTable } from '../../db/schema.js';

export type EventRow = Selectable<EventsTable>;

export interface EventFilter {
  projectId: string;
  type?: string;
  /** Only events older than this sequence number (the cursor). */
  beforeSeq?: number;
  limit: number;
}

/** SQL of the domain event log and of the webhook deliveries its events cause. */
export class EventStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): EventStore {
    return new EventStore(tx);
  }

  async insert(row: Insertable<EventsTable>): Promise<void> {
    await this.db.insertInto('events').values(row).execute();
  }

  /** The project's active webhooks with the event types each is subscribed to (JSON). */
  activeWebhooks(projectId: string): Promise<{ id: string; events: string }[]> {
    return this.db
      .selectFrom('webhooks')
      .select(['id', 'events'])
      .where('project_id', '=', projectId)
      .where('active', '=', 1)
      .execute();
  }

  async insertDeliveries(rows: Insertable<WebhookDeliveriesTable>[]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('webhook_deliveries').values(rows).execute();
  }

  get(id: string): Promise<EventRow | undefined> {
    return this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  list(f: EventFilter): Promise<EventRow[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .where('project_id', '=', f.projectId)
      .orderBy('seq', 'desc')
      .limit(f.limit);
    if (f.type) q = q.where('type', '=', f.type);
    if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq);
    return q.execute();
  }
}
