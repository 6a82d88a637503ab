import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import type { SecretsService } from './service.js';

const SecretName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$',
  description: 'like an environment variable name',
});
const SecretSchema = Type.Object(
  {
    name: Type.String(),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Secret' },
);
const SecretParams = Type.Object({ project: Slug, name: SecretName });
const tags = ['secrets'];

export function secretRoutes(service: SecretsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/secrets',
      {
        schema: {
          operationId: 'listSecrets',
          tags,
          summary: "A project's secrets: names and dates only, never values (developers)",
          params: Type.Object({ project: Slug }),
          response: { 200: Type.Object({ items: Type.Array(SecretSchema) }) },
        },
      },
      async (req) => ({ items: await service.list(callerOf(req), req.params.project) }),
    );
    app.put(
      '/api/v1/projects/:project/secrets/:name',
      {
        schema: {
          operationId: 'setSecret',
          tags,
          summary: 'Store a secret, encrypted at rest; it is never returned (maintainers)',
          params: SecretParams,
          body: Type.Object(
            { value: Type.String({ minLength: 1, maxLength: 65_536 }) },
            { additionalProperties: false },
          ),
          response: { 200: SecretSchema },
        },
      },
      async (req) => service.set(callerOf(req), req.params.project, req.params.name, req.body.value),
    );
    app.delete(
      '/api/v1/projects/:project/secrets/:name',
      {
        schema: {
          operationId: 'deleteSecret',
          tags,
          summary: 'Delete a secret (maintainers)',
          params: SecretParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.delete(callerOf(req), req.params.project, req.params.name);
        return reply.code(204).send(null);
      },
    );
  };
}
