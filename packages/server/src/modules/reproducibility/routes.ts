import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import type { ReproducibilityService } from './service.js';

const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });

/** A run's reproducibility record; also part of a model version's record (modules/lineage). */
export const reproducibilityRecordProperties = {
  runId: Type.String(),
  runName: Type.String(),
  experimentId: Type.String(),
  user: Type.String(),
  status: Type.String(),
  startTime: Type.Integer(),
  endTime: Type.Union([Type.Integer(), Type.Null()]),
  parentRunId: Nullable(Type.String()),
  code: Type.Object({
    sourceType: Nullable(Type.String()),
    entryPoint: Nullable(Type.String()),
    gitCommit: Nullable(Type.String()),
    gitRepoUrl: Nullable(Type.String()),
    gitBranch: Nullable(Type.String()),
  }),
  params: Type.Array(KeyValue),
  environment: Type.Object({
    source: Nullable(literalUnion(['run', 'model'] as const)),
    fromModelId: Nullable(Type.String()),
    python: Nullable(Type.String()),
    requirements: Type.Array(Type.String()),
  }),
  datasets: Type.Array(
    Type.Object({
      datasetId: Type.String(),
      name: Type.String(),
      digest: Type.String(),
      context: Nullable(Type.String()),
      source: Type.String(),
    }),
  ),
  models: Type.Array(
    Type.Object({
      modelId: Type.String(),
      name: Type.String(),
      direction: literalUnion(['input', 'output'] as const),
      step: Type.Integer(),
      artifactUri: Type.String(),
    }),
  ),
};

const RecordSchema = Type.Object(reproducibilityRecordProperties, { $id: 'ReproducibilityRecord' });

export function reproducibilityRoutes(service: ReproducibilityService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/runs/:runId/reproducibility',
      {
        schema: {
          operationId: 'getRunReproducibility',
          tags: ['tracking'],
          summary:
            'Everything needed to re-run a run: code version and entry point, params, environment, dataset versions, models (viewers)',
          params: Type.Object({ runId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
          response: { 200: RecordSchema },
        },
      },
      async (req) => service.record(callerOf(req), req.params.runId),
    );
  };
}
