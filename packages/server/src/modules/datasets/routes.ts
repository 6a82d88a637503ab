import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import type { Dataset, DatasetsService } from './service.js';

export const DatasetSchema = Type.Object(
  {
    datasetId: Type.String(),
    projectId: Type.String(),
    name: Type.String(),
    digest: Type.String(),
    sourceType: Type.String(),
    source: Type.String({ description: 'JSON text, e.g. {"uri": "..."}' }),
    schema: Type.Unknown({ description: 'parsed JSON (MLflow colspec), or null' }),
    profile: Type.Unknown({ description: 'parsed JSON: num_rows, num_bytes, columns with stats; or null' }),
    createdBy: Type.String(),
    createdAt: Type.Integer(),
  },
  { $id: 'Dataset' },
);
const DatasetId = Type.String({ pattern: '^d-[0-9a-f]{32}$' });
const tags = ['datasets'];

/** Stored JSON texts come back parsed; a text that is not JSON (clients may send any) stays a string. */
function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
export const datasetWire = (d: Dataset) => ({ ...d, schema: parsed(d.schema), profile: parsed(d.profile) });

/** The native API of dataset versions and run inputs. */
export function datasetRoutes(service: DatasetsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/datasets',
      {
        schema: {
          operationId: 'listDatasets',
          tags,
          summary: "A project's dataset versions, by name then newest first (viewers)",
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            { name: Type.Optional(Type.String({ maxLength: 500 })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(DatasetSchema) }) },
        },
      },
      async (req) => ({
        items: (await service.list(callerOf(req), req.params.project, req.query.name)).map(datasetWire),
      }),
    );
    app.post(
      '/api/v1/projects/:project/datasets',
      {
        schema: {
          operationId: 'registerDataset',
          tags,
          summary:
            'Registers a dataset version from artifacts (digest, schema and profile computed) or an external URI with its digest; identical content returns the existing version (developers)',
          params: Type.Object({ project: Slug }),
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 500 }),
              artifactUri: Type.Optional(
                Type.String({ maxLength: 2000, description: 'mlflow-artifacts:/<experiment>/<run>/artifacts/<path>' }),
              ),
              uri: Type.Optional(Type.String({ maxLength: 2000 })),
              digest: Type.Optional(Type.String({ maxLength: 128 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ dataset: DatasetSchema, created: Type.Boolean() }),
            201: Type.Object({ dataset: DatasetSchema, created: Type.Boolean() }),
          },
        },
      },
      async (req, reply) => {
        const r = await service.register(callerOf(req), req.params.project, req.body);
        return reply.code(r.created ? 201 : 200).send({ dataset: datasetWire(r.dataset), created: r.created });
      },
    );
    app.get(
      '/api/v1/datasets/:datasetId',
      {
        schema: {
          operationId: 'getDataset',
          tags,
          summary: 'A dataset version and the runs that used it (viewers)',
          params: Type.Object({ datasetId: DatasetId }),
          response: {
            200: Type.Object({
              dataset: DatasetSchema,
              runs: Type.Array(
                Type.Object({
                  runId: Type.String(),
                  runName: Type.String(),
                  experimentId: Type.String(),
                  context: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const r = await service.get(callerOf(req), req.params.datasetId);
        return { dataset: datasetWire(r.dataset), runs: r.runs };
      },
    );
    app.post(
      '/api/v1/runs/:runId/inputs',
      {
        schema: {
          operationId: 'addRunInput',
          tags,
          summary: "Records that a run used a dataset version of its project, e.g. as 'training' (developers)",
          params: Type.Object({ runId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
          body: Type.Object(
            { datasetId: DatasetId, context: Type.Optional(Type.String({ maxLength: 500 })) },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.linkToRun(callerOf(req), req.params.runId, req.body.datasetId, req.body.context ?? null);
        return reply.code(204).send(null);
      },
    );
  };
}
