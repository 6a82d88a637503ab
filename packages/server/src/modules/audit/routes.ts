import '../../core/fastify-types.js';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug, TEXT_PATTERN } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import type { AuditService } from './service.js';

const Outcome = literalUnion(['success', 'denied', 'failure'] as const);
const AuditEventSchema = Type.Object(
  {
    id: Type.String(),
    seq: Type.Union([Type.Integer(), Type.Null()], { description: 'Position in the hash chain; null until linked' }),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    actorId: Type.Union([Type.String(), Type.Null()]),
    action: Type.String(),
    targetType: Type.String(),
    target: Type.String(),
    projectId: Type.Union([Type.String(), Type.Null()]),
    outcome: Outcome,
    requestId: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    details: Type.Record(Type.String(), Type.Unknown()),
    hash: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'AuditEvent' },
);
const Filters = {
  actor: Type.Optional(Type.String({ maxLength: 200, pattern: TEXT_PATTERN, description: 'Username' })),
  target: Type.Optional(
    Type.String({ maxLength: 300, pattern: TEXT_PATTERN, description: 'Target name, e.g. a project or username' }),
  ),
  action: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z_.]*(\\.\\*)?$',
      maxLength: 100,
      description: 'e.g. project.create, or project.*',
    }),
  ),
  outcome: Type.Optional(Outcome),
  project: Type.Optional(Slug),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
};
const tags = ['audit'];

export function auditRoutes(service: AuditService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/audit',
      {
        schema: {
          operationId: 'listAuditEvents',
          tags,
          summary: 'Audit events, newest first (platform admins; project maintainers for their projects)',
          querystring: Type.Object(
            {
              ...Filters,
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(AuditEventSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async (req) => service.list(callerOf(req), req.query),
    );
    app.get(
      '/api/v1/audit/export',
      {
        schema: {
          operationId: 'exportAuditEvents',
          tags,
          summary: 'Every matching audit event as JSON lines (application/x-ndjson), newest first',
          querystring: Type.Object(Filters, { additionalProperties: false }),
          response: {
            200: {
              description: 'One AuditEvent JSON object per line',
              content: { 'application/x-ndjson': { schema: Type.String() } },
            },
          },
        },
      },
      async (req, reply) => {
        const events = await service.export(callerOf(req), req.query);
        const lines = Readable.from(
          (async function* () {
            for await (const e of events) yield `${JSON.stringify(e)}\n`;
          })(),
        );
        return (
          reply
            .type('application/x-ndjson; charset=utf-8')
            .header('content-disposition', 'attachment; filename="hangar-audit.jsonl"')
            // A stream is serialized as-is; the string schema above only documents the media type.
            .send(lines as never)
        );
      },
    );
    app.get(
      '/api/v1/audit/verify',
      {
        schema: {
          operationId: 'verifyAuditChain',
          tags,
          summary: 'Recompute the hash chain and report the first event that does not verify (platform admins)',
          response: {
            200: Type.Object(
              {
                ok: Type.Boolean(),
                checked: Type.Integer(),
                pending: Type.Integer(),
                headSeq: Type.Integer(),
                headHash: Type.String({ description: 'Hash of the last linked event; keep a copy elsewhere' }),
                problem: Type.Union([Type.Object({ seq: Type.Integer(), reason: Type.String() }), Type.Null()]),
              },
              { $id: 'AuditVerification' },
            ),
          },
        },
      },
      async (req) => service.verify(callerOf(req)),
    );
  };
}
