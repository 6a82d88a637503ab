import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../core/request.js';
import type { JobService } from './service.js';
import {
  EnqueueJobBody,
  JobIdParams,
  JobLogsQuery,
  JobLogsSchema,
  JobPageSchema,
  JobSchema,
  ListJobsQuery,
} from './schemas.js';

export function jobRoutes(service: JobService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/jobs',
      {
        schema: {
          operationId: 'enqueueJob',
          tags: ['jobs'],
          summary: 'Enqueue a background job',
          body: EnqueueJobBody,
          response: { 201: JobSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await service.enqueue(callerOf(req), req.body)),
    );
    app.get(
      '/api/v1/jobs',
      {
        schema: {
          operationId: 'listJobs',
          tags: ['jobs'],
          summary: 'List jobs, newest first',
          querystring: ListJobsQuery,
          response: { 200: JobPageSchema },
        },
      },
      async (req) => service.list(callerOf(req), req.query),
    );
    app.get(
      '/api/v1/jobs/:id',
      {
        schema: {
          operationId: 'getJob',
          tags: ['jobs'],
          summary: 'Get one job',
          params: JobIdParams,
          response: { 200: JobSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.id),
    );
    app.post(
      '/api/v1/jobs/:id/cancel',
      {
        schema: {
          operationId: 'cancelJob',
          tags: ['jobs'],
          summary: 'Cancel a job (queued: at once; running: its process tree is killed)',
          params: JobIdParams,
          response: { 200: JobSchema },
        },
      },
      async (req) => service.cancel(callerOf(req), req.params.id),
    );
    app.get(
      '/api/v1/jobs/:id/logs',
      {
        schema: {
          operationId: 'getJobLogs',
          tags: ['jobs'],
          summary: 'Read (and with waitMs, follow) a job log',
          params: JobIdParams,
          querystring: JobLogsQuery,
          response: { 200: JobLogsSchema },
        },
      },
      async (req, reply) => {
        // Stop waiting when the client goes away (the response stream closes early).
        const ac = new AbortController();
        reply.raw.once('close', () => ac.abort());
        return service.logs(callerOf(req), req.params.id, req.query, ac.signal);
      },
    );
  };
}
