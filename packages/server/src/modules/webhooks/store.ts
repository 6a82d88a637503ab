import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { DB, WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.js';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A delivery with what sending it needs: its webhook and (for domain events) its event. */
export type DeliveryContext = DeliveryRow & {
  url: string;
  secret: string;
  active: number;
  project_id: string;
  payload: string | null;
  event_created_at: number | null;
};

/** A delivery as its log shows it: with its event's payload, while the event log still holds it. */
export type DeliveryLogRow = DeliveryRow & { payload: string | null; event_created_at: number | null };

/** SQL of webhooks and their delivery log. `with(tx)` binds it to a transaction. */
export class WebhookStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): WebhookStore {
    return new WebhookStore(tx);
  }

  async insert(row: WebhookRow): Promise<void> {
    await this.db.insertInto('webhooks').values(row).execute();
  }

  get(id: string): Promise<WebhookRow | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(projectId: string): Promise<WebhookRow[]> {
    return this.db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  }

  async count(projectId: string): Promise<number> {
    const r = await this.db
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async update(id: string, patch: Updateable<WebhooksTable>): Promise<void> {
    await this.db.updateTable('webhooks').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('webhooks').where('id', '=', id).execute();
  }

  async insertDelivery(row: Insertable<WebhookDeliveriesTable>): Promise<void> {
    await this.db.insertInto('webhook_deliveries').values(row).execute();
  }

  /** Newest first. */
  deliveries(webhookId: string, beforeId: string | undefined, limit: number): Promise<DeliveryLogRow[]> {
    let q = this.db
      .selectFrom('webhook_deliveries as d')
      .leftJoin('events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select(['e.payload as payload', 'e.created_at as event_created_at'])
      .where('d.webhook_id', '=', webhookId)
      .orderBy('d.id', 'desc')
      .limit(limit);
    if (beforeId) q = q.where('d.id', '<', beforeId);
    return q.execute();
  }

  delivery(id: string): Promise<DeliveryRow | undefined> {
    return this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  deliveryContext(id: string): Promise<DeliveryContext | undefined> {
    return this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .leftJoin('events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select([
        'w.url',
        'w.secret',
        'w.active',
        'w.project_id',
        'e.payload as payload',
        'e.created_at as event_created_at',
      ])
      .where('d.id', '=', id)
      .executeTakeFirst();
  }

  /** Records one attempt's outcome; only a pending delivery changes (a finished one stays as it is). */
  /** Fails a delivery still pending (its job ended with no attempt to record it). */
  async failPending(id: string, error: string, now: number): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', error, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async recordAttempt(
    id: string,
    patch: Pick<DeliveryRow, 'status' | 'response_status' | 'error' | 'duration_ms' | 'updated_at'>,
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ ...patch, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }
}
