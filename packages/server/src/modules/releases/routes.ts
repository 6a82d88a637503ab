import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preValidationHookHandler } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Slug, TEXT_BLOCK_PATTERN } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { REGISTRY_LIMITS } from '../registry/limits.js';
import { ENVIRONMENTS, RELEASE_LIMITS, RELEASE_STATUSES, type ReleasesService } from './service.js';

const Reason = Type.String({ maxLength: RELEASE_LIMITS.reasonLength, pattern: TEXT_BLOCK_PATTERN });
const Status = literalUnion(RELEASE_STATUSES);
const Environment = literalUnion(ENVIRONMENTS);

const releaseFields = {
  id: Type.String(),
  model: Type.String({ description: 'the registered model’s name' }),
  version: Type.Integer({ minimum: 1 }),
  environment: Environment,
  status: Status,
  requestedBy: Type.String(),
  note: Nullable(Type.String()),
  decision: Nullable(
    Type.Object({
      decision: literalUnion(['approved', 'rejected'] as const),
      by: Type.String({ description: 'the approver, or "system" for an auto-approval' }),
      reason: Nullable(Type.String()),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
};

export const ReleaseSchema = Type.Object(releaseFields, { $id: 'Release' });

export const ReleaseDetailSchema = Type.Object(
  {
    ...releaseFields,
    current: Type.Boolean({ description: 'the current production release of the model (its champion)' }),
    transitions: Type.Array(
      Type.Object({
        seq: Type.Integer(),
        status: Status,
        actor: Type.String(),
        reason: Nullable(Type.String()),
        at: Type.String({ format: 'date-time' }),
      }),
    ),
    gate: Nullable(
      Type.Object({
        id: Type.String(),
        status: literalUnion(['pending', 'running', 'passed', 'failed', 'skipped'] as const),
        reason: Nullable(Type.String()),
        metrics: Nullable(Type.Record(Type.String(), Type.Unknown())),
        checks: Nullable(Type.Array(Type.Unknown())),
        override: Nullable(
          Type.Object({ by: Type.String(), reason: Nullable(Type.String()), at: Type.String({ format: 'date-time' }) }),
        ),
        finishedAt: Nullable(Type.String({ format: 'date-time' })),
      }),
    ),
  },
  { $id: 'ReleaseDetail' },
);

/** The body of approve and cancel may be left out entirely (no reason given). */
const optionalBody: preValidationHookHandler = (req, _reply, done) => {
  if (req.body === undefined || req.body === null) req.body = {};
  done();
};

const ReleaseParams = Type.Object({ project: Slug, id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['releases'];

/** Releases and approvals: request, the approval queue, decisions, cancel and rollback. */
export function releaseRoutes(service: ReleasesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/projects/:project/models/:name/versions/:version/releases',
      {
        schema: {
          operationId: 'requestRelease',
          tags,
          summary:
            'Request the release of a version to staging or production: it waits for the gate, then for approval (critical model, production) or auto-approves (developers)',
          params: Type.Object({
            project: Slug,
            name: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength }),
            version: Type.Integer({ minimum: 1 }),
          }),
          body: Type.Object({ environment: Environment, note: Type.Optional(Reason) }, { additionalProperties: false }),
          response: { 201: ReleaseDetailSchema },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(
            await service.request(callerOf(req), req.params.project, req.params.name, req.params.version, req.body),
          ),
    );
    app.get(
      '/api/v1/projects/:project/releases',
      {
        schema: {
          operationId: 'listReleases',
          tags,
          summary: "A project's releases, newest first; status=approval is the approval queue (viewers)",
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            {
              status: Type.Optional(Status),
              model: Type.Optional(Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength })),
              environment: Type.Optional(Environment),
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: RELEASE_LIMITS.page.max })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(ReleaseSchema), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (req) => service.list(callerOf(req), req.params.project, req.query),
    );
    app.get(
      '/api/v1/projects/:project/releases/:id',
      {
        schema: {
          operationId: 'getRelease',
          tags,
          summary: 'A release with its history of transitions and its version’s gate result (viewers)',
          params: ReleaseParams,
          response: { 200: ReleaseDetailSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.project, req.params.id),
    );
    app.post(
      '/api/v1/projects/:project/releases/:id/approve',
      {
        schema: {
          operationId: 'approveRelease',
          tags,
          summary:
            'Approve a release waiting for approval; maintainers, never its requester (four-eyes); one decision wins a race, the others get 409',
          params: ReleaseParams,
          body: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
          response: { 200: ReleaseDetailSchema },
        },
        preValidation: optionalBody,
      },
      async (req) => service.approve(callerOf(req), req.params.project, req.params.id, req.body),
    );
    app.post(
      '/api/v1/projects/:project/releases/:id/reject',
      {
        schema: {
          operationId: 'rejectRelease',
          tags,
          summary: 'Reject a release waiting for approval, with a reason; maintainers, never its requester',
          params: ReleaseParams,
          body: Type.Object(
            {
              reason: Type.String({
                minLength: 1,
                maxLength: RELEASE_LIMITS.reasonLength,
                pattern: TEXT_BLOCK_PATTERN,
              }),
            },
            { additionalProperties: false },
          ),
          response: { 200: ReleaseDetailSchema },
        },
      },
      async (req) => service.reject(callerOf(req), req.params.project, req.params.id, req.body),
    );
    app.post(
      '/api/v1/projects/:project/releases/:id/cancel',
      {
        schema: {
          operationId: 'cancelRelease',
          tags,
          summary: 'Withdraw an open release (gate or approval): its requester or a maintainer',
          params: ReleaseParams,
          body: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
          response: { 200: ReleaseDetailSchema },
        },
        preValidation: optionalBody,
      },
      async (req) => service.cancel(callerOf(req), req.params.project, req.params.id, req.body),
    );
    app.post(
      '/api/v1/projects/:project/releases/:id/rollback',
      {
        schema: {
          operationId: 'rollbackRelease',
          tags,
          summary:
            'Roll back the current production release, with a reason: the previous approved production release becomes current again (maintainers)',
          params: ReleaseParams,
          body: Type.Object(
            {
              reason: Type.String({
                minLength: 1,
                maxLength: RELEASE_LIMITS.reasonLength,
                pattern: TEXT_BLOCK_PATTERN,
              }),
            },
            { additionalProperties: false },
          ),
          response: { 200: ReleaseDetailSchema },
        },
      },
      async (req) => service.rollback(callerOf(req), req.params.project, req.params.id, req.body),
    );
  };
}
