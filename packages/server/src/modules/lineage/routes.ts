import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { REGISTRY_LIMITS } from '../registry/limits.js';
import { reproducibilityRecordProperties } from '../reproducibility/routes.js';
import { DIRECTIONS, LINEAGE_LIMITS, NODE_KINDS, RELATIONS, type LineageService } from './service.js';
import { ENVIRONMENT_FILES, type VersionReproducibilityService } from './version-reproducibility.js';

const LineageNodeSchema = Type.Object(
  {
    id: Type.String({ description: 'kind:id, e.g. run:<run id> or model_version:<model name>/<version>' }),
    kind: literalUnion(NODE_KINDS),
    label: Type.String(),
    project: Type.String({ description: 'the project (name) the node belongs to' }),
    attributes: Type.Record(
      Type.String(),
      Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.String())]),
      {
        description:
          'a few facts by kind: dataset name/digest; run name/status/codeCommit/paramsCount; version source/checksum/stage/aliases/gateStatus; release environment/status; deployment environment/status/runtime/traffic',
      },
    ),
  },
  { $id: 'LineageNode' },
);

const LineageGraphSchema = Type.Object(
  {
    root: Type.String(),
    nodes: Type.Array(LineageNodeSchema),
    edges: Type.Array(
      Type.Object({
        from: Type.String(),
        to: Type.String(),
        relation: literalUnion(RELATIONS),
        context: Nullable(Type.String({ description: "a dataset's use by a run: training, validation, ..." })),
      }),
    ),
    truncated: Type.Boolean({ description: 'nodes were left out: the graph reached maxNodes' }),
  },
  { $id: 'LineageGraph' },
);

const RunRecordSchema = Type.Object(reproducibilityRecordProperties);

const VersionReproducibilitySchema = Type.Object(
  {
    version: Type.Object({
      modelName: Type.String(),
      version: Type.Integer(),
      source: Type.String(),
      storageLocation: Type.String(),
      runId: Nullable(Type.String()),
      loggedModelId: Nullable(Type.String()),
      checksum: Nullable(Type.String()),
      sizeBytes: Nullable(Type.Integer()),
      fileCount: Nullable(Type.Integer()),
      framework: Nullable(Type.String()),
      format: Nullable(Type.String()),
      signature: Nullable(Type.Object({ inputs: Type.Unknown(), outputs: Type.Unknown(), params: Type.Unknown() })),
      stage: Type.String(),
      creator: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
    }),
    environment: Type.Array(
      Type.Object({
        name: literalUnion(ENVIRONMENT_FILES),
        content: Type.String(),
        size: Type.Integer(),
        truncated: Type.Boolean({ description: 'content holds only the first 64 KiB' }),
      }),
      { description: "the environment files found in the version's model folder" },
    ),
    run: Nullable(RunRecordSchema),
    heldOutDataset: Nullable(
      Type.Object({
        datasetId: Type.String(),
        name: Nullable(Type.String()),
        digest: Nullable(Type.String()),
        task: Nullable(Type.String()),
        labelColumn: Nullable(Type.String()),
        from: literalUnion(['gate', 'spec'] as const),
      }),
    ),
  },
  { $id: 'ModelVersionReproducibility' },
);

/** The lineage graph and the reproducibility record of a model version. */
export function lineageRoutes(
  lineage: LineageService,
  reproducibility: VersionReproducibilityService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/lineage',
      {
        schema: {
          operationId: 'getLineage',
          tags: ['registry'],
          summary:
            'The lineage graph around a node: datasets -> runs -> logged models -> model versions -> releases, upstream, downstream or both (viewers)',
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            {
              node: Type.String({
                minLength: 1,
                maxLength: 1000,
                description:
                  'dataset:<id>, run:<id>, logged_model:<m-...>, model_version:<model name>/<version> or release:<id>',
              }),
              direction: Type.Optional(literalUnion(DIRECTIONS)),
              depth: Type.Optional(
                Type.Integer({ minimum: 0, maximum: LINEAGE_LIMITS.maxDepth, description: 'links deep (default 3)' }),
              ),
              maxNodes: Type.Optional(
                Type.Integer({
                  minimum: 1,
                  maximum: LINEAGE_LIMITS.maxNodes,
                  description: `at most this many nodes (default ${LINEAGE_LIMITS.maxNodes})`,
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: LineageGraphSchema },
        },
      },
      async (req) => lineage.graph(callerOf(req), req.params.project, req.query),
    );
    app.get(
      '/api/v1/projects/:project/models/:name/versions/:version/reproducibility',
      {
        schema: {
          operationId: 'getModelVersionReproducibility',
          tags: ['registry'],
          summary:
            "Everything needed to re-run a version's training: its files' identity, environment files, the source run's code, params and datasets, the held-out dataset (viewers)",
          params: Type.Object({
            project: Slug,
            name: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength }),
            version: Type.Integer({ minimum: 1 }),
          }),
          response: { 200: VersionReproducibilitySchema },
        },
      },
      async (req) => {
        const r = await reproducibility.record(callerOf(req), req.params.project, req.params.name, req.params.version);
        const { name, createdAt, ...rest } = r.version;
        return { ...r, version: { modelName: name, ...rest, createdAt: new Date(createdAt).toISOString() } };
      },
    );
  };
}
