import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IdentityService } from './service.js';

const Me = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    isAdmin: Type.Boolean(),
    tokenId: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Me' },
);
const TokenSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Token' },
);
const CreatedToken = Type.Intersect(
  [TokenSchema, Type.Object({ token: Type.String({ description: 'The secret; shown once' }) })],
  {
    $id: 'CreatedToken',
  },
);
const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export function identityRoutes(service: IdentityService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/me',
      { schema: { operationId: 'whoami', tags: ['identity'], summary: 'Who the caller is', response: { 200: Me } } },
      async (req) => service.whoami(req.auth),
    );
    app.get(
      '/api/v1/tokens',
      {
        schema: {
          operationId: 'listTokens',
          tags: ['identity'],
          summary: "The caller's API tokens",
          response: { 200: Type.Object({ items: Type.Array(TokenSchema) }) },
        },
      },
      async (req) => ({ items: await service.listTokens(req.auth) }),
    );
    app.post(
      '/api/v1/tokens',
      {
        schema: {
          operationId: 'createToken',
          tags: ['identity'],
          summary: 'Create an API token for the caller (the secret is returned once)',
          body: CreateTokenBody,
          response: { 201: CreatedToken },
        },
      },
      async (req, reply) => reply.code(201).send(await service.createToken(req.auth, req.body)),
    );
    app.delete(
      '/api/v1/tokens/:id',
      {
        schema: {
          operationId: 'revokeToken',
          tags: ['identity'],
          summary: 'Revoke an API token',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.revokeToken(req.auth, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
