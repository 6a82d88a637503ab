import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import { LIMITS } from '../tracking/limits.js';
import { LOGGED_MODEL_STATUSES, SEARCH_MAX, type LoggedModel, type LoggedModelsService } from './service.js';

const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });
const MetricValue = Type.Union([Type.Number(), literalUnion(['NaN', 'Infinity', '-Infinity'] as const)]);
export const LoggedModelSchema = Type.Object(
  {
    modelId: Type.String(),
    experimentId: Type.String(),
    name: Type.String(),
    artifactUri: Type.String(),
    status: literalUnion(LOGGED_MODEL_STATUSES),
    statusMessage: Type.Union([Type.String(), Type.Null()]),
    modelType: Type.Union([Type.String(), Type.Null()]),
    sourceRunId: Type.Union([Type.String(), Type.Null()]),
    creator: Type.String(),
    creationTimestamp: Type.Integer(),
    lastUpdatedTimestamp: Type.Integer(),
    lifecycleStage: literalUnion(['active', 'deleted'] as const),
    tags: Type.Array(KeyValue),
    params: Type.Array(KeyValue),
    metrics: Type.Array(
      Type.Object({
        key: Type.String(),
        value: MetricValue,
        timestamp: Type.Integer(),
        step: Type.Integer(),
        runId: Type.Union([Type.String(), Type.Null()]),
        datasetName: Type.Union([Type.String(), Type.Null()]),
        datasetDigest: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  },
  { $id: 'LoggedModel' },
);
const tags = ['logged models'];
const ModelId = Type.String({ pattern: '^m-[0-9a-f]{32}$' });
const KeyValueIn = (maxValueLength: number) =>
  Type.Object(
    {
      key: Type.String({ minLength: 1, maxLength: LIMITS.keyLength }),
      value: Type.String({ maxLength: maxValueLength }),
    },
    { additionalProperties: false },
  );

const wire = (v: number): number | 'NaN' | 'Infinity' | '-Infinity' =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
/** JSON has no NaN or infinities: they travel as the strings MLflow uses. */
export const loggedModelWire = (m: LoggedModel) => ({
  ...m,
  metrics: m.metrics.map((x) => ({ ...x, value: wire(x.value) })),
});

/** The native API of MLflow 3 logged models (the MLflow adapter serves the same service). */
export function loggedModelRoutes(service: LoggedModelsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/logged-models/:modelId',
      {
        schema: {
          operationId: 'getLoggedModel',
          tags,
          summary: 'A logged model with its params, tags and metrics (viewers)',
          params: Type.Object({ modelId: ModelId }),
          response: { 200: LoggedModelSchema },
        },
      },
      async (req) => loggedModelWire(await service.get(callerOf(req), req.params.modelId)),
    );
    app.post(
      '/api/v1/logged-models/search',
      {
        schema: {
          operationId: 'searchLoggedModels',
          tags,
          summary: "Search logged models with MLflow's filter grammar (viewers of each experiment)",
          body: Type.Object(
            {
              experimentIds: Type.Array(Type.String({ pattern: '^\\d{1,15}$' }), { minItems: 1, maxItems: 100 }),
              filter: Type.Optional(Type.String({ maxLength: 10_000 })),
              orderBy: Type.Optional(
                Type.Array(
                  Type.Object(
                    {
                      fieldName: Type.String({ maxLength: 300 }),
                      ascending: Type.Optional(Type.Boolean()),
                      datasetName: Type.Optional(Type.String({ maxLength: 500 })),
                      datasetDigest: Type.Optional(Type.String({ maxLength: 100 })),
                    },
                    { additionalProperties: false },
                  ),
                  { maxItems: 10 },
                ),
              ),
              maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_MAX })),
              pageToken: Type.Optional(Type.String({ maxLength: 4000 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(LoggedModelSchema),
              nextPageToken: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async (req) => {
        const r = await service.search(callerOf(req), req.body);
        return { items: r.models.map(loggedModelWire), nextPageToken: r.nextPageToken };
      },
    );
    // Writes, over the service methods the MLflow adapter's logged-models routes call.
    app.post(
      '/api/v1/experiments/:id/logged-models',
      {
        schema: {
          operationId: 'createLoggedModel',
          tags,
          summary:
            'Create a logged model (status PENDING) in an active experiment; upload its files, then finalize it (developers; audited)',
          params: Type.Object({ id: Type.String({ pattern: '^\\d{1,15}$' }) }),
          body: Type.Object(
            {
              name: Type.Optional(
                Type.String({ maxLength: LIMITS.runNameLength, description: 'default model-<id prefix>' }),
              ),
              modelType: Type.Optional(Type.String({ maxLength: 500 })),
              sourceRunId: Type.Optional(
                Type.String({ pattern: '^[0-9a-f]{32}$', description: 'a run of the same experiment' }),
              ),
              params: Type.Optional(
                Type.Array(KeyValueIn(LIMITS.paramValueLength), { maxItems: LIMITS.paramsTagsPerBatch }),
              ),
              tags: Type.Optional(
                Type.Array(KeyValueIn(LIMITS.tagValueLength), { maxItems: LIMITS.paramsTagsPerBatch }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 201: LoggedModelSchema },
        },
      },
      async (req, reply) => {
        const model = await service.create(callerOf(req), { experimentId: req.params.id, ...req.body });
        return reply.code(201).send(loggedModelWire(model));
      },
    );
    app.patch(
      '/api/v1/logged-models/:modelId',
      {
        schema: {
          operationId: 'finalizeLoggedModel',
          tags,
          summary: "Set a logged model's status: READY once its files are uploaded, or FAILED (developers)",
          params: Type.Object({ modelId: ModelId }),
          body: Type.Object({ status: literalUnion(LOGGED_MODEL_STATUSES) }, { additionalProperties: false }),
          response: { 200: LoggedModelSchema },
        },
      },
      async (req) => loggedModelWire(await service.finalize(callerOf(req), req.params.modelId, req.body.status)),
    );
    app.post(
      '/api/v1/logged-models/:modelId/params',
      {
        schema: {
          operationId: 'logLoggedModelParams',
          tags,
          summary: "Log a logged model's params; a param, once set, keeps its value (developers)",
          params: Type.Object({ modelId: ModelId }),
          body: Type.Object(
            { params: Type.Array(KeyValueIn(LIMITS.paramValueLength), { maxItems: LIMITS.paramsTagsPerBatch }) },
            { additionalProperties: false },
          ),
          response: { 200: LoggedModelSchema },
        },
      },
      async (req) => {
        await service.logParams(callerOf(req), req.params.modelId, req.body.params);
        return loggedModelWire(await service.get(callerOf(req), req.params.modelId));
      },
    );
    app.post(
      '/api/v1/logged-models/:modelId/tags',
      {
        schema: {
          operationId: 'setLoggedModelTags',
          tags,
          summary: "Set a logged model's tags; the last value of a key wins (developers)",
          params: Type.Object({ modelId: ModelId }),
          body: Type.Object(
            { tags: Type.Array(KeyValueIn(LIMITS.tagValueLength), { maxItems: LIMITS.paramsTagsPerBatch }) },
            { additionalProperties: false },
          ),
          response: { 200: LoggedModelSchema },
        },
      },
      async (req) => {
        await service.setTags(callerOf(req), req.params.modelId, req.body.tags);
        return loggedModelWire(await service.get(callerOf(req), req.params.modelId));
      },
    );
    app.delete(
      '/api/v1/logged-models/:modelId/tags/:key',
      {
        schema: {
          operationId: 'deleteLoggedModelTag',
          tags,
          summary: 'Remove a logged model tag; 404 when it is not set (developers)',
          params: Type.Object({ modelId: ModelId, key: Type.String({ minLength: 1, maxLength: LIMITS.keyLength }) }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.deleteTag(callerOf(req), req.params.modelId, req.params.key);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/api/v1/logged-models/:modelId',
      {
        schema: {
          operationId: 'deleteLoggedModel',
          tags,
          summary: 'Delete a logged model: hidden from search and get, its files kept (developers; audited)',
          params: Type.Object({ modelId: ModelId }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.delete(callerOf(req), req.params.modelId);
        return reply.code(204).send(null);
      },
    );
  };
}
