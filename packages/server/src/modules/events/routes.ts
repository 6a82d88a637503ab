import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import { EVENT_PAGE, type EventsService } from './service.js';
import { EVENT_TYPES } from './types.js';

export const EventSchema = Type.Object(
  {
    id: Type.String(),
    seq: Type.Integer(),
    type: Type.String({ description: EVENT_TYPES.join(' | ') }),
    projectId: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: 'the facts: model, version, projectId, actor and the specifics of the type',
    }),
  },
  { $id: 'DomainEvent' },
);

/** The domain event log of a project (what webhooks receive). */
export function eventRoutes(service: EventsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/events',
      {
        schema: {
          operationId: 'listEvents',
          tags: ['events'],
          summary: "A project's domain events (versions, gates, approvals, releases), newest first (viewers)",
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            {
              type: Type.Optional(literalUnion(EVENT_TYPES)),
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENT_PAGE.max })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(EventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          },
        },
      },
      async (req) => service.list(callerOf(req), req.params.project, req.query),
    );
  };
}
