import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug, TEXT_BLOCK_PATTERN } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { EVENT_TYPES } from '../events/types.js';
import { WEBHOOK_LIMITS } from './limits.js';
import type { WebhooksService } from './service.js';

const EventName = literalUnion([...EVENT_TYPES, '*'] as const);
const Events = Type.Array(EventName, { minItems: 1, maxItems: EVENT_TYPES.length + 1 });
const Url = Type.String({
  minLength: 1,
  maxLength: WEBHOOK_LIMITS.urlLength,
  description: 'http(s) URL the events are POSTed to',
});
const Secret = Type.String({
  minLength: WEBHOOK_LIMITS.secretMinLength,
  maxLength: WEBHOOK_LIMITS.secretMaxLength,
  description: 'HMAC-SHA256 key of the X-Hangar-Signature header',
});
const Description = Type.String({ maxLength: WEBHOOK_LIMITS.descriptionLength, pattern: TEXT_BLOCK_PATTERN });

export const WebhookSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    active: Type.Boolean(),
    description: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Webhook' },
);

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    status: literalUnion(['pending', 'delivered', 'failed'] as const),
    attempts: Type.Integer(),
    responseStatus: Nullable(Type.Integer()),
    error: Nullable(Type.String({ description: 'why the last attempt failed (with a short excerpt of the answer)' })),
    durationMs: Nullable(Type.Integer()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    payload: Nullable(
      Type.Object(
        {
          id: Type.String(),
          type: Type.String(),
          createdAt: Type.String({ format: 'date-time' }),
          projectId: Type.String(),
          data: Type.Record(Type.String(), Type.Unknown()),
        },
        {
          description:
            'the JSON body POSTed to the receiver; null for pings (their body is not kept) and for events no longer in the event log',
        },
      ),
    ),
  },
  { $id: 'WebhookDelivery' },
);

const ProjectParams = Type.Object({ project: Slug });
const WebhookParams = Type.Object({ project: Slug, id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['webhooks'];

/** Webhooks of a project and their delivery log (maintainers). */
export function webhookRoutes(service: WebhooksService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/projects/:project/webhooks',
      {
        schema: {
          operationId: 'createWebhook',
          tags,
          summary:
            'Subscribe a URL to events; the signing secret (generated unless given) is returned only here (maintainers)',
          params: ProjectParams,
          body: Type.Object(
            {
              url: Url,
              events: Events,
              secret: Type.Optional(Secret),
              description: Type.Optional(Description),
              active: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ webhook: WebhookSchema, secret: Type.String() }) },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(callerOf(req), req.params.project, req.body)),
    );
    app.get(
      '/api/v1/projects/:project/webhooks',
      {
        schema: {
          operationId: 'listWebhooks',
          tags,
          summary: "A project's webhooks (maintainers)",
          params: ProjectParams,
          response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }) },
        },
      },
      async (req) => ({ items: await service.list(callerOf(req), req.params.project) }),
    );
    app.get(
      '/api/v1/projects/:project/webhooks/:id',
      {
        schema: {
          operationId: 'getWebhook',
          tags,
          summary: 'One webhook (maintainers); its secret is never returned',
          params: WebhookParams,
          response: { 200: WebhookSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.project, req.params.id),
    );
    app.patch(
      '/api/v1/projects/:project/webhooks/:id',
      {
        schema: {
          operationId: 'updateWebhook',
          tags,
          summary: 'Change the URL, events, description, active flag or secret of a webhook (maintainers)',
          params: WebhookParams,
          body: Type.Object(
            {
              url: Type.Optional(Url),
              events: Type.Optional(Events),
              secret: Type.Optional(Secret),
              description: Type.Optional(Nullable(Description)),
              active: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: WebhookSchema },
        },
      },
      async (req) => service.update(callerOf(req), req.params.project, req.params.id, req.body),
    );
    app.delete(
      '/api/v1/projects/:project/webhooks/:id',
      {
        schema: {
          operationId: 'deleteWebhook',
          tags,
          summary: 'Delete a webhook and its delivery log (maintainers)',
          params: WebhookParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.delete(callerOf(req), req.params.project, req.params.id);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/api/v1/projects/:project/webhooks/:id/deliveries',
      {
        schema: {
          operationId: 'listWebhookDeliveries',
          tags,
          summary:
            'The delivery log of a webhook, newest first: status, attempts, response, error, duration (maintainers)',
          params: WebhookParams,
          querystring: Type.Object(
            {
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(WebhookDeliverySchema), nextCursor: Nullable(Type.String()) }),
          },
        },
      },
      async (req) => service.deliveries(callerOf(req), req.params.project, req.params.id, req.query),
    );
    app.post(
      '/api/v1/projects/:project/webhooks/:id/test',
      {
        schema: {
          operationId: 'testWebhook',
          tags,
          summary:
            'Send a signed ping to the webhook now (once, no retries) and answer with the delivery (maintainers)',
          params: WebhookParams,
          response: { 200: WebhookDeliverySchema },
        },
      },
      async (req) => service.ping(callerOf(req), req.params.project, req.params.id),
    );
  };
}
