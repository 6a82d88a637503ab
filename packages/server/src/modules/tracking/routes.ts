import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import { LIMITS } from './limits.js';
import type { TrackingSearchService } from './search-service.js';
import { RUN_STATUSES, type Run, type TrackingService } from './service.js';

const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });
// JSON has no NaN or infinities: they travel as the strings MLflow uses.
const MetricValue = Type.Union([Type.Number(), literalUnion(['NaN', 'Infinity', '-Infinity'] as const)]);
const ExperimentSchema = Type.Object(
  {
    experimentId: Type.String(),
    projectId: Type.String(),
    name: Type.String(),
    artifactLocation: Type.String(),
    lifecycleStage: literalUnion(['active', 'deleted'] as const),
    creationTime: Type.Integer({ description: 'epoch milliseconds' }),
    lastUpdateTime: Type.Integer(),
    tags: Type.Array(KeyValue),
  },
  { $id: 'Experiment' },
);
const MetricSchema = Type.Object(
  { key: Type.String(), value: MetricValue, timestamp: Type.Integer(), step: Type.Integer() },
  { $id: 'Metric' },
);
const RunSchema = Type.Object(
  {
    info: Type.Object({
      runId: Type.String(),
      runName: Type.String(),
      experimentId: Type.String(),
      userId: Type.String(),
      status: literalUnion(RUN_STATUSES),
      startTime: Type.Integer(),
      endTime: Type.Union([Type.Integer(), Type.Null()]),
      artifactUri: Type.String(),
      lifecycleStage: literalUnion(['active', 'deleted'] as const),
    }),
    data: Type.Object({
      metrics: Type.Array(MetricSchema),
      params: Type.Array(KeyValue),
      tags: Type.Array(KeyValue),
    }),
  },
  { $id: 'Run' },
);
const ExperimentId = Type.String({ pattern: '^\\d{1,15}$' });
const RunId = Type.String({ pattern: '^[0-9a-f]{32}$' });
const MetricKey = Type.String({ minLength: 1, maxLength: LIMITS.keyLength });
const tags = ['tracking'];

/*
 * Request schemas state MLflow's limits (limits.ts) so that they are documented in the spec and
 * the SDK; the service checks them again (with the key character rules), since the MLflow adapter
 * has no schemas and both doors must refuse the same things.
 */
const Key = Type.String({ minLength: 1, maxLength: LIMITS.keyLength });
const KeyValueIn = (maxValueLength: number) =>
  Type.Object({ key: Key, value: Type.String({ maxLength: maxValueLength }) }, { additionalProperties: false });
const RunTagsIn = Type.Array(KeyValueIn(LIMITS.tagValueLength), { maxItems: LIMITS.paramsTagsPerBatch });
const RunName = Type.String({ maxLength: LIMITS.runNameLength });
const ExperimentName = Type.String({ minLength: 1, maxLength: LIMITS.experimentNameLength });
const EpochMs = Type.Integer({ minimum: 0, description: 'epoch milliseconds' });
const ExperimentParams = Type.Object({ id: ExperimentId });
const RunParams = Type.Object({ id: RunId });

const wireValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
const wireMetric = <M extends { value: number }>(m: M) => ({ ...m, value: wireValue(m.value) });
const wireRun = (run: Run) => ({ ...run, data: { ...run.data, metrics: run.data.metrics.map(wireMetric) } });

/** The native tracking API (the MLflow adapter in modules/mlflow serves the same service). */
export function trackingRoutes(service: TrackingService, search: TrackingSearchService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/experiments',
      {
        schema: {
          operationId: 'listExperiments',
          tags,
          summary: "A project's experiments (viewers)",
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            { view: Type.Optional(literalUnion(['active', 'deleted', 'all'] as const)) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(ExperimentSchema) }) },
        },
      },
      async (req) => ({ items: await service.listExperiments(callerOf(req), req.params.project, req.query.view) }),
    );
    app.post(
      '/api/v1/projects/:project/experiments',
      {
        schema: {
          operationId: 'createExperiment',
          tags,
          summary: 'Create an experiment (developers)',
          params: Type.Object({ project: Slug }),
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 500 }),
              tags: Type.Optional(Type.Array(KeyValue, { maxItems: 100 })),
            },
            { additionalProperties: false },
          ),
          response: { 201: ExperimentSchema },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        const project = await service.projectIdOf(caller, req.params.project);
        const id = await service.createExperiment(caller, {
          projectId: project,
          name: req.body.name,
          tags: req.body.tags,
        });
        return reply.code(201).send(await service.getExperiment(caller, id));
      },
    );
    app.get(
      '/api/v1/experiments/:id',
      {
        schema: {
          operationId: 'getExperiment',
          tags,
          summary: 'One experiment',
          params: ExperimentParams,
          response: { 200: ExperimentSchema },
        },
      },
      async (req) => service.getExperiment(callerOf(req), req.params.id),
    );
    app.post(
      '/api/v1/runs/search',
      {
        schema: {
          operationId: 'searchRuns',
          tags,
          summary: "Search runs with MLflow's filter grammar, order_by and page tokens (viewers of each experiment)",
          body: Type.Object(
            {
              experimentIds: Type.Array(ExperimentId, { minItems: 1, maxItems: 100 }),
              filter: Type.Optional(Type.String({ maxLength: 10_000 })),
              orderBy: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 20 })),
              maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000 })),
              pageToken: Type.Optional(Type.String({ maxLength: 2000 })),
              viewType: Type.Optional(literalUnion(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const)),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(RunSchema), nextPageToken: Type.Union([Type.String(), Type.Null()]) }),
          },
        },
      },
      async (req) => {
        const r = await search.searchRuns(callerOf(req), req.body);
        return {
          items: r.runs.map(wireRun),
          nextPageToken: r.nextPageToken,
        };
      },
    );
    app.get(
      '/api/v1/runs/:id',
      {
        schema: {
          operationId: 'getRun',
          tags,
          summary: 'One run with its params, tags and latest metrics',
          params: RunParams,
          response: { 200: RunSchema },
        },
      },
      async (req) => wireRun(await service.getRun(callerOf(req), req.params.id)),
    );
    app.get(
      '/api/v1/runs/:id/metrics/:key/history',
      {
        schema: {
          operationId: 'getMetricHistory',
          tags,
          summary: "A metric's full history in step order, paged",
          params: Type.Object({ id: RunId, key: MetricKey }),
          querystring: Type.Object(
            {
              maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 25_000 })),
              pageToken: Type.Optional(Type.String({ maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(MetricSchema),
              nextPageToken: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async (req) => {
        const r = await service.metricHistory(callerOf(req), req.params.id, req.params.key, req.query);
        return { items: r.metrics.map(wireMetric), nextPageToken: r.nextPageToken };
      },
    );
    // Writes. Each route is one call into the same TrackingService methods the MLflow adapter
    // uses, so permissions, limits, audit and messages are shared; only the JSON shapes differ.
    app.patch(
      '/api/v1/experiments/:id',
      {
        schema: {
          operationId: 'updateExperiment',
          tags,
          summary: 'Rename an experiment (developers; audited)',
          params: ExperimentParams,
          body: Type.Object({ name: ExperimentName }, { additionalProperties: false }),
          response: { 200: ExperimentSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await service.renameExperiment(caller, req.params.id, req.body.name);
        return service.getExperiment(caller, req.params.id);
      },
    );
    app.delete(
      '/api/v1/experiments/:id',
      {
        schema: {
          operationId: 'deleteExperiment',
          tags,
          summary: 'Soft-delete an experiment: its lifecycle stage becomes deleted; restorable (developers; audited)',
          params: ExperimentParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.setExperimentLifecycle(callerOf(req), req.params.id, 'deleted');
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api/v1/experiments/:id/restore',
      {
        schema: {
          operationId: 'restoreExperiment',
          tags,
          summary: 'Restore a deleted experiment (developers; audited)',
          params: ExperimentParams,
          response: { 200: ExperimentSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await service.setExperimentLifecycle(caller, req.params.id, 'active');
        return service.getExperiment(caller, req.params.id);
      },
    );
    app.put(
      '/api/v1/experiments/:id/tags/:key',
      {
        schema: {
          operationId: 'setExperimentTag',
          tags,
          summary: 'Set (or replace) an experiment tag (developers)',
          params: Type.Object({ id: ExperimentId, key: Key }),
          body: Type.Object(
            { value: Type.String({ maxLength: LIMITS.experimentTagValueLength }) },
            { additionalProperties: false },
          ),
          response: { 200: ExperimentSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await service.setExperimentTag(caller, req.params.id, req.params.key, req.body.value);
        return service.getExperiment(caller, req.params.id);
      },
    );
    app.delete(
      '/api/v1/experiments/:id/tags/:key',
      {
        schema: {
          operationId: 'deleteExperimentTag',
          tags,
          summary: 'Remove an experiment tag; 404 when it is not set (developers)',
          params: Type.Object({ id: ExperimentId, key: Key }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.deleteExperimentTag(callerOf(req), req.params.id, req.params.key);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api/v1/experiments/:id/runs',
      {
        schema: {
          operationId: 'createRun',
          tags,
          summary: 'Start a run (status RUNNING) in an active experiment (developers; audited)',
          params: ExperimentParams,
          body: Type.Object(
            {
              runName: Type.Optional(RunName),
              startTime: Type.Optional(EpochMs),
              tags: Type.Optional(RunTagsIn),
              parentRunId: Type.Optional(
                Type.String({ pattern: '^[0-9a-f]{32}$', description: "sets MLflow's mlflow.parentRunId tag" }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 201: RunSchema },
        },
      },
      async (req, reply) => {
        const run = await service.createRun(callerOf(req), { experimentId: req.params.id, ...req.body });
        return reply.code(201).send(wireRun(run));
      },
    );
    app.patch(
      '/api/v1/runs/:id',
      {
        schema: {
          operationId: 'updateRun',
          tags,
          summary: 'Change a run: status (e.g. FINISHED), end time, name (developers)',
          params: RunParams,
          body: Type.Object(
            {
              status: Type.Optional(literalUnion(RUN_STATUSES)),
              endTime: Type.Optional(EpochMs),
              runName: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.runNameLength })),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: RunSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await service.updateRun(caller, req.params.id, req.body);
        return wireRun(await service.getRun(caller, req.params.id));
      },
    );
    app.delete(
      '/api/v1/runs/:id',
      {
        schema: {
          operationId: 'deleteRun',
          tags,
          summary: 'Soft-delete a run: its lifecycle stage becomes deleted; restorable (developers; audited)',
          params: RunParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.setRunLifecycle(callerOf(req), req.params.id, 'deleted');
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api/v1/runs/:id/restore',
      {
        schema: {
          operationId: 'restoreRun',
          tags,
          summary: 'Restore a deleted run (developers; audited)',
          params: RunParams,
          response: { 200: RunSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await service.setRunLifecycle(caller, req.params.id, 'active');
        return wireRun(await service.getRun(caller, req.params.id));
      },
    );
    app.post(
      '/api/v1/runs/:id/log-batch',
      {
        schema: {
          operationId: 'logRunBatch',
          tags,
          summary:
            "Log metrics, params and tags to an active run in one atomic batch, by MLflow's rules: at most 1000 metrics, 100 params, 100 tags, 1000 items in all; a refused batch writes nothing; a param cannot change value (developers)",
          params: RunParams,
          body: Type.Object(
            {
              metrics: Type.Optional(
                Type.Array(
                  Type.Object(
                    {
                      key: MetricKey,
                      value: MetricValue,
                      step: Type.Optional(Type.Integer({ description: 'default 0' })),
                      timestamp: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms; default now' })),
                    },
                    { additionalProperties: false },
                  ),
                  { maxItems: LIMITS.metricsPerBatch },
                ),
              ),
              params: Type.Optional(
                Type.Array(KeyValueIn(LIMITS.paramValueLength), { maxItems: LIMITS.paramsTagsPerBatch }),
              ),
              tags: Type.Optional(RunTagsIn),
            },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.logBatch(callerOf(req), req.params.id, req.body);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/api/v1/runs/:id/tags/:key',
      {
        schema: {
          operationId: 'deleteRunTag',
          tags,
          summary: 'Remove a run tag; 404 when it is not set (developers)',
          params: Type.Object({ id: RunId, key: Key }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.deleteTag(callerOf(req), req.params.id, req.params.key);
        return reply.code(204).send(null);
      },
    );
  };
}
