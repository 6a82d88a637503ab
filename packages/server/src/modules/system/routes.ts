import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import type { Database } from '../../db/database.js';

export interface SystemDeps {
  database: Database;
  metrics: Registry;
  version: string;
  roles: string[];
  /** Set once migrations have run and the roles have started. */
  isStarted: () => boolean;
  openapi: () => unknown;
}

const Health = Type.Object({ status: Type.String() });
const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) });
const Version = Type.Object({
  version: Type.String(),
  node: Type.String(),
  engine: Type.String(),
  roles: Type.Array(Type.String()),
});

/** Liveness, readiness, version, metrics and the API description; reachable without credentials. */
export function systemRoutes(deps: SystemDeps, metricsPublic: boolean): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        config: { public: true },
        schema: { operationId: 'health', tags: ['system'], summary: 'Liveness', response: { 200: Health } },
      },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/readyz',
      {
        config: { public: true },
        schema: {
          operationId: 'ready',
          tags: ['system'],
          summary: 'Readiness: store reachable, migrations done',
          response: { 200: Ready, 503: Ready },
        },
      },
      async (_req, reply) => {
        const checks: Record<string, string> = {};
        try {
          await deps.database.ping();
          checks.store = 'ok';
        } catch (err) {
          checks.store = (err as Error).message;
        }
        checks.started = deps.isStarted() ? 'ok' : 'starting';
        const ok = Object.values(checks).every((c) => c === 'ok');
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
      },
    );
    app.get(
      '/version',
      {
        config: { public: true },
        schema: { operationId: 'version', tags: ['system'], summary: 'Server version', response: { 200: Version } },
      },
      async () => ({ version: deps.version, node: process.version, engine: deps.database.engine, roles: deps.roles }),
    );
    app.get(
      '/metrics',
      {
        config: { public: metricsPublic },
        schema: {
          operationId: 'metrics',
          tags: ['system'],
          summary: 'Prometheus metrics (text exposition)',
          produces: ['text/plain'],
          response: { 200: { content: { 'text/plain': { schema: Type.String() } } } },
        },
      },
      async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
    );
    // Only /healthz, /readyz, /version (and /metrics when configured) are open; the API's own
    // description is for signed-in users like the API itself.
    app.get('/openapi.json', { schema: { hide: true } }, async () => deps.openapi());
  };
}
