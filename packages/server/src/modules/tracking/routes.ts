import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import type { TrackingSearchService } from './search-service.js';
import { RUN_STATUSES, type TrackingService } from './service.js';

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
const MetricKey = Type.String({ minLength: 1, maxLength: 250 });
const tags = ['tracking'];

const wireValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
const wireMetric = <M extends { value: number }>(m: M) => ({ ...m, value: wireValue(m.value) });

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
          params: Type.Object({ id: ExperimentId }),
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
          items: r.runs.map((run) => ({ ...run, data: { ...run.data, metrics: run.data.metrics.map(wireMetric) } })),
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
          params: Type.Object({ id: RunId }),
          response: { 200: RunSchema },
        },
      },
      async (req) => {
        const run = await service.getRun(callerOf(req), req.params.id);
        return { ...run, data: { ...run.data, metrics: run.data.metrics.map(wireMetric) } };
      },
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
  };
}
