import { randomBytes } from 'node:crypto';
import type { Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.js';
import type { EndedWithoutAttempt } from '../../jobs/job-handler.js';
import { newId } from '../../core/ids.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { AuditLog } from '../audit/log.js';
import { EVENT_TYPES } from '../events/types.js';
import type { AccessService } from '../projects/access.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { WEBHOOK_LIMITS } from './limits.js';
import { sendWebhook, type SendResult } from './sender.js';
import type { DeliveryLogRow, DeliveryRow, WebhookRow, WebhookStore } from './store.js';
import { checkWebhookUrl, type Resolver } from './url-guard.js';

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  description: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryRow['status'];
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  durationMs: number | null;
  createdAt: string;
  updatedAt: string;
  /** The body POSTed for the event; null for pings (not kept) and events the log no longer holds. */
  payload: EventBody | null;
}

/** The JSON body every delivery of a domain event POSTs (the same on every attempt). */
export interface EventBody {
  id: string;
  type: string;
  createdAt: string;
  projectId: string;
  data: Record<string, unknown>;
}

export interface WebhookInput {
  url?: unknown;
  events?: unknown;
  secret?: unknown;
  description?: unknown;
  active?: unknown;
}

export interface WebhookOptions {
  /** The admin setting webhooksAllowPrivateTargets: loopback, private and link-local targets allowed. */
  allowPrivateTargets: boolean;
  /** Host name resolution (tests substitute one). */
  resolve?: Resolver;
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const context = (id: string) => `webhook:${id}`;
const notFound = (id: string) => new NotFoundError(`no webhook "${id}"`);

function eventsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InputError('events must be a non-empty list of event types (or ["*"] for all)', 'events');
  }
  const known = new Set<string>([...EVENT_TYPES, '*']);
  for (const e of value) {
    if (typeof e !== 'string' || !known.has(e)) {
      throw new InputError(
        `events: unknown event type ${JSON.stringify(e)}; known: ${EVENT_TYPES.join(', ')}, *`,
        'events',
      );
    }
  }
  return [...new Set(value as string[])];
}

function secretOf(value: unknown): string {
  if (typeof value !== 'string' || value.length < WEBHOOK_LIMITS.secretMinLength) {
    throw new InputError(`secret must be at least ${WEBHOOK_LIMITS.secretMinLength} characters`, 'secret');
  }
  if (value.length > WEBHOOK_LIMITS.secretMaxLength) {
    throw new InputError(`secret must be at most ${WEBHOOK_LIMITS.secretMaxLength} characters`, 'secret');
  }
  return value;
}

function descriptionOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > WEBHOOK_LIMITS.descriptionLength) {
    throw new InputError(
      `description must be text of at most ${WEBHOOK_LIMITS.descriptionLength} characters`,
      'description',
    );
  }
  return value;
}

/**
 * Webhooks of a project (maintainers): subscriptions of a URL to event types, signed with a
 * secret that is sealed at rest and shown once; their delivery log; and the delivery of one
 * attempt, run by the 'webhooks.deliver' job. URLs are checked when set and again before every
 * attempt (see url-guard.ts), and each attempt connects to the address that was checked.
 */
export class WebhooksService {
  private readonly resolve: Resolver | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly options: WebhookOptions,
  ) {
    this.resolve = options.resolve;
  }

  /** Registers a webhook; the answer carries the signing secret, which no later call returns. */
  async create(
    caller: Caller,
    project: string,
    input: WebhookInput,
  ): Promise<{ webhook: WebhookView; secret: string }> {
    const { auth, project: p } = await this.access.requireProject(caller, project, 'maintainer', 'webhook.create');
    if (typeof input.url !== 'string') throw new InputError('url is required', 'url');
    const events = eventsOf(input.events);
    const secret =
      input.secret === undefined ? `whsec_${randomBytes(32).toString('base64url')}` : secretOf(input.secret);
    const description = descriptionOf(input.description);
    if (input.active !== undefined && typeof input.active !== 'boolean') {
      throw new InputError('active must be true or false', 'active');
    }
    const active = input.active !== false;
    const { url } = await checkWebhookUrl(input.url, this.options.allowPrivateTargets, this.resolve);
    if ((await this.store.count(p.id)) >= WEBHOOK_LIMITS.perProject) {
      throw new ConflictError(`a project can have at most ${WEBHOOK_LIMITS.perProject} webhooks`);
    }
    const now = this.clock.now();
    const id = newId(now);
    const row: WebhookRow = {
      id,
      project_id: p.id,
      url: url.href,
      events: JSON.stringify(events),
      secret: this.box.seal(secret, context(id)),
      active: active ? 1 : 0,
      description,
      created_by: auth.username,
      created_at: now,
      updated_at: now,
    };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).insert(row);
      // The secret is never recorded.
      record('webhook.create', { type: 'webhook', name: id }, { projectId: p.id, details: { url: row.url, events } });
    });
    return { webhook: this.view(row), secret };
  }

  async list(caller: Caller, project: string): Promise<WebhookView[]> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', null);
    return (await this.store.list(p.id)).map((w) => this.view(w));
  }

  async get(caller: Caller, project: string, id: string): Promise<WebhookView> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', null);
    return this.view(await this.webhook(p.id, id));
  }

  /** Changes the URL (checked again), events, description, active flag or secret. */
  async update(caller: Caller, project: string, id: string, input: WebhookInput): Promise<WebhookView> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', 'webhook.update');
    const w = await this.webhook(p.id, id);
    const patch: Partial<WebhookRow> = {};
    if (input.url !== undefined) {
      if (typeof input.url !== 'string') throw new InputError('url must be a string', 'url');
      patch.url = (await checkWebhookUrl(input.url, this.options.allowPrivateTargets, this.resolve)).url.href;
    }
    if (input.events !== undefined) patch.events = JSON.stringify(eventsOf(input.events));
    if (input.description !== undefined) patch.description = descriptionOf(input.description);
    if (input.active !== undefined) {
      if (typeof input.active !== 'boolean') throw new InputError('active must be true or false', 'active');
      patch.active = input.active ? 1 : 0;
    }
    if (input.secret !== undefined) patch.secret = this.box.seal(secretOf(input.secret), context(w.id));
    const now = this.clock.now();
    const next = { ...w, ...patch, updated_at: now };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).update(w.id, { ...patch, updated_at: now });
      record(
        'webhook.update',
        { type: 'webhook', name: w.id },
        {
          projectId: p.id,
          details: { changed: Object.keys(patch).sort(), url: next.url },
        },
      );
    });
    return this.view(next);
  }

  /** Deletes a webhook with its delivery log; pending deliveries are dropped. */
  async delete(caller: Caller, project: string, id: string): Promise<void> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', 'webhook.delete');
    const w = await this.webhook(p.id, id);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).delete(w.id);
      record('webhook.delete', { type: 'webhook', name: w.id }, { projectId: p.id, details: { url: w.url } });
    });
  }

  /** The delivery log of a webhook, newest first. */
  async deliveries(
    caller: Caller,
    project: string,
    id: string,
    q: { cursor?: string; limit?: number },
  ): Promise<Page<DeliveryView>> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', null);
    const w = await this.webhook(p.id, id);
    const limit = q.limit ?? 50;
    const beforeId = q.cursor ? String(decodeCursor(q.cursor, ['id']).id) : undefined;
    const rows = await this.store.deliveries(w.id, beforeId, limit + 1);
    const items = rows.slice(0, limit).map((d) => deliveryView(d, logPayload(d, p.id)));
    return { items, nextCursor: rows.length > limit ? encodeCursor({ id: items[items.length - 1]!.id }) : null };
  }

  /**
   * Sends a `ping` to the webhook now, once (no retries), and answers with the delivery as logged.
   * Lets a maintainer check the URL, the network path and their signature verification.
   */
  async ping(caller: Caller, project: string, id: string): Promise<DeliveryView> {
    const { auth, project: p } = await this.access.requireProject(caller, project, 'maintainer', 'webhook.test');
    const w = await this.webhook(p.id, id);
    const now = this.clock.now();
    const deliveryId = newId(now);
    const eventId = newId(now);
    const body = JSON.stringify({
      id: eventId,
      type: 'ping',
      createdAt: iso(now),
      projectId: p.id,
      data: { webhookId: w.id, projectId: p.id, actor: auth.username },
    });
    const result = await this.attempt(w.url, this.box.open(w.secret, context(w.id)), 'ping', deliveryId, body);
    const row: DeliveryRow = {
      id: deliveryId,
      webhook_id: w.id,
      event_id: eventId,
      event_type: 'ping',
      status: result.ok ? 'delivered' : 'failed',
      attempts: 1,
      job_id: null,
      response_status: result.status,
      error: result.error,
      duration_ms: result.durationMs,
      created_at: now,
      updated_at: this.clock.now(),
    };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).insertDelivery(row);
      record(
        'webhook.test',
        { type: 'webhook', name: w.id },
        {
          projectId: p.id,
          details: { status: row.status, responseStatus: result.status },
        },
      );
    });
    return deliveryView(row, null);
  }

  /**
   * Ends a delivery whose job the queue ended with no attempt to record it: cancelled, or its last
   * attempt's worker lost. Without this the delivery log would show it pending forever.
   */
  async abandon(deliveryId: string, why: EndedWithoutAttempt): Promise<void> {
    const error =
      why === 'cancelled'
        ? 'the delivery job was cancelled'
        : 'the worker of the last attempt was lost before it recorded the outcome';
    await this.store.failPending(deliveryId, error, this.clock.now());
  }

  /**
   * One attempt of a delivery (the 'webhooks.deliver' job): checks the URL again, sends the event
   * and logs the outcome. Throws when the attempt failed, so the job queue retries it with backoff;
   * the last attempt marks the delivery failed. Deliveries that are gone or settled are skipped.
   */
  async deliver(deliveryId: string, attempt: number, maxAttempts: number, signal?: AbortSignal): Promise<unknown> {
    const d = await this.store.deliveryContext(deliveryId);
    if (!d) return { skipped: 'the delivery or its webhook was deleted' };
    if (d.status !== 'pending') return { skipped: `the delivery is ${d.status}` };
    const now = () => this.clock.now();
    if (d.active !== 1 || d.payload === null) {
      const error = d.active !== 1 ? 'the webhook is disabled' : 'the event no longer exists';
      await this.store.recordAttempt(d.id, {
        status: 'failed',
        response_status: null,
        error,
        duration_ms: null,
        updated_at: now(),
      });
      return { skipped: error };
    }
    const body = JSON.stringify(eventBody(d, d.project_id, d.payload));
    const result = await this.attempt(
      d.url,
      this.box.open(d.secret, context(d.webhook_id)),
      d.event_type,
      d.id,
      body,
      signal,
    );
    const last = attempt >= maxAttempts;
    await this.store.recordAttempt(d.id, {
      status: result.ok ? 'delivered' : last ? 'failed' : 'pending',
      response_status: result.status,
      error: result.error,
      duration_ms: result.durationMs,
      updated_at: now(),
    });
    if (!result.ok) throw new Error(`webhook delivery ${d.id}, attempt ${attempt} of ${maxAttempts}: ${result.error}`);
    return { status: result.status, durationMs: result.durationMs };
  }

  private async attempt(
    url: string,
    secret: string,
    event: string,
    deliveryId: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    let target;
    try {
      // Checked again at every attempt: the name may resolve elsewhere now (DNS rebinding).
      target = await checkWebhookUrl(url, this.options.allowPrivateTargets, this.resolve);
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message, durationMs: 0 };
    }
    return sendWebhook({
      target,
      secret,
      event,
      deliveryId,
      body,
      timestamp: Math.floor(this.clock.now() / 1000),
      signal,
    });
  }

  private async webhook(projectId: string, id: string): Promise<WebhookRow> {
    const w = await this.store.get(id);
    if (!w || w.project_id !== projectId) throw notFound(id);
    return w;
  }

  private view(w: WebhookRow): WebhookView {
    return {
      id: w.id,
      url: w.url,
      events: JSON.parse(w.events) as string[],
      active: w.active === 1,
      description: w.description,
      createdBy: w.created_by,
      createdAt: iso(w.created_at),
      updatedAt: iso(w.updated_at),
    };
  }
}

/** What a delivery of a domain event sends; the delivery log shows the same, so it is built here once. */
function eventBody(
  d: Pick<DeliveryRow, 'event_id' | 'event_type' | 'created_at'> & { event_created_at: number | null },
  projectId: string,
  payload: string,
): EventBody {
  return {
    id: d.event_id,
    type: d.event_type,
    createdAt: iso(d.event_created_at ?? d.created_at),
    projectId,
    data: JSON.parse(payload) as Record<string, unknown>,
  };
}

function logPayload(d: DeliveryLogRow, projectId: string): EventBody | null {
  return d.payload === null ? null : eventBody(d, projectId, d.payload);
}

function deliveryView(d: DeliveryRow, payload: EventBody | null): DeliveryView {
  return {
    id: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    status: d.status,
    attempts: Number(d.attempts),
    responseStatus: d.response_status,
    error: d.error,
    durationMs: d.duration_ms,
    createdAt: iso(d.created_at),
    updatedAt: iso(d.updated_at),
    payload,
  };
}
