import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug, TEXT_BLOCK_PATTERN } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { REGISTRY_LIMITS, RISK_TIERS, STAGES } from './limits.js';
import type { ModelVersion, RegisteredModel, RegistryService } from './service.js';

const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });

export const ModelVersionSchema = Type.Object(
  {
    modelName: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    source: Type.String({ description: 'as given at registration (runs:/, models:/ or mlflow-artifacts:/)' }),
    storageLocation: Type.String({ description: 'where the files are: mlflow-artifacts:/<path>' }),
    runId: Nullable(Type.String()),
    loggedModelId: Nullable(Type.String()),
    status: literalUnion(['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION'] as const),
    statusMessage: Nullable(Type.String()),
    stage: literalUnion(STAGES),
    description: Nullable(Type.String()),
    creator: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    signature: Nullable(
      Type.Object({
        inputs: Type.Unknown({ description: "MLflow's input schema (parsed JSON), or null" }),
        outputs: Type.Unknown(),
        params: Type.Unknown(),
      }),
    ),
    framework: Nullable(Type.String({ description: 'the MLmodel flavor, e.g. sklearn, onnx, pytorch' })),
    format: Nullable(Type.String({ description: 'serialization, e.g. skops, cloudpickle, onnx' })),
    sizeBytes: Nullable(Type.Integer()),
    fileCount: Nullable(Type.Integer()),
    checksum: Nullable(
      Type.String({
        description: 'sha256:<hex> over the sorted lines "<file sha256>  <relative path>\\n" of the files',
      }),
    ),
    tags: Type.Array(KeyValue),
    aliases: Type.Array(Type.String()),
    gate: Nullable(
      Type.Object(
        {
          status: literalUnion(['pending', 'running', 'passed', 'failed', 'skipped'] as const),
          overridden: Type.Boolean({ description: 'a failed gate an admin cleared, with a reason' }),
        },
        { description: "the version's evaluation gate result in brief (GET .../gate for the details)" },
      ),
    ),
  },
  { $id: 'ModelVersion' },
);

export const RegisteredModelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    ownerTeam: Type.String(),
    riskTier: literalUnion(RISK_TIERS),
    creator: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    tags: Type.Array(KeyValue),
    aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.Integer() })),
    latestVersions: Type.Array(ModelVersionSchema, { description: 'the newest version in each stage' }),
  },
  { $id: 'RegisteredModel' },
);

const iso = (ms: number) => new Date(ms).toISOString();
export const versionWire = (v: ModelVersion) => ({
  modelName: v.name,
  version: v.version,
  source: v.source,
  storageLocation: v.storageLocation,
  runId: v.runId,
  loggedModelId: v.loggedModelId,
  status: v.status,
  statusMessage: v.statusMessage,
  stage: v.stage,
  description: v.description,
  creator: v.creator,
  createdAt: iso(v.createdAt),
  updatedAt: iso(v.updatedAt),
  signature: v.signature,
  framework: v.framework,
  format: v.format,
  sizeBytes: v.sizeBytes,
  fileCount: v.fileCount,
  checksum: v.checksum,
  tags: v.tags,
  aliases: v.aliases,
  gate: v.gate,
});
export const modelWire = (m: RegisteredModel) => ({
  id: m.id,
  name: m.name,
  description: m.description,
  ownerTeam: m.ownerTeam,
  riskTier: m.riskTier,
  creator: m.creator,
  createdAt: iso(m.createdAt),
  updatedAt: iso(m.updatedAt),
  tags: m.tags,
  aliases: m.aliases,
  latestVersions: m.latestVersions.map(versionWire),
});

const ModelName = Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength });
const ModelParams = Type.Object({ project: Slug, name: ModelName });
const Description = Type.String({ maxLength: REGISTRY_LIMITS.descriptionLength, pattern: TEXT_BLOCK_PATTERN });
const PageToken = Type.Optional(Type.String({ maxLength: 2000 }));
const tags = ['registry'];

/** The native API of the model registry (the MLflow adapter in modules/mlflow serves the same service). */
export function registryRoutes(service: RegistryService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects/:project/models',
      {
        schema: {
          operationId: 'listRegisteredModels',
          tags,
          summary:
            "A project's registered models, by name; MLflow's filter and order_by grammar, plus owner team and stage (viewers)",
          params: Type.Object({ project: Slug }),
          querystring: Type.Object(
            {
              filter: Type.Optional(Type.String({ maxLength: 10_000, description: "e.g. name LIKE 'fraud%'" })),
              ownerTeam: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: 200,
                  description: "models this team owns (one without an owner team is its project team's)",
                }),
              ),
              // Models with a version in this stage.
              stage: Type.Optional(literalUnion(STAGES)),
              orderBy: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 20 })),
              maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
              pageToken: PageToken,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(RegisteredModelSchema),
              nextPageToken: Nullable(Type.String()),
            }),
          },
        },
      },
      async (req) => {
        const r = await service.searchModels(callerOf(req), { name: req.params.project }, req.query);
        return { items: r.models.map(modelWire), nextPageToken: r.nextPageToken };
      },
    );
    app.post(
      '/api/v1/projects/:project/models',
      {
        schema: {
          operationId: 'createRegisteredModel',
          tags,
          summary: 'Create a registered model; the owner team defaults to the project’s (developers)',
          params: Type.Object({ project: Slug }),
          body: Type.Object(
            {
              name: ModelName,
              description: Type.Optional(Description),
              riskTier: Type.Optional(literalUnion(RISK_TIERS)),
              ownerTeam: Type.Optional(Slug),
              tags: Type.Optional(Type.Array(KeyValue, { maxItems: REGISTRY_LIMITS.tagsPerRequest })),
            },
            { additionalProperties: false },
          ),
          response: { 201: RegisteredModelSchema },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(modelWire(await service.createModel(callerOf(req), { name: req.params.project }, req.body))),
    );
    app.get(
      '/api/v1/projects/:project/models/:name',
      {
        schema: {
          operationId: 'getRegisteredModel',
          tags,
          summary: 'A registered model with its tags, aliases and newest version per stage (viewers)',
          params: ModelParams,
          response: { 200: RegisteredModelSchema },
        },
      },
      async (req) => modelWire(await service.getModel(callerOf(req), { name: req.params.project }, req.params.name)),
    );
    app.patch(
      '/api/v1/projects/:project/models/:name',
      {
        schema: {
          operationId: 'updateRegisteredModel',
          tags,
          summary: 'Change the description (developers), the risk tier or the owner team (maintainers)',
          params: ModelParams,
          body: Type.Object(
            {
              description: Type.Optional(Nullable(Description)),
              riskTier: Type.Optional(literalUnion(RISK_TIERS)),
              ownerTeam: Type.Optional(Nullable(Slug)),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: RegisteredModelSchema },
        },
      },
      async (req) =>
        modelWire(await service.updateModel(callerOf(req), { name: req.params.project }, req.params.name, req.body)),
    );
    app.get(
      '/api/v1/projects/:project/models/:name/versions',
      {
        schema: {
          operationId: 'listModelVersions',
          tags,
          summary: "A registered model's versions, newest first (viewers)",
          params: ModelParams,
          querystring: Type.Object(
            { maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), pageToken: PageToken },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(ModelVersionSchema), nextPageToken: Nullable(Type.String()) }),
          },
        },
      },
      async (req) => {
        const r = await service.searchVersions(
          callerOf(req),
          { name: req.params.project },
          {
            model: req.params.name,
            orderBy: ['version_number DESC'],
            maxResults: req.query.maxResults ?? 100,
            pageToken: req.query.pageToken,
          },
        );
        return { items: r.versions.map(versionWire), nextPageToken: r.nextPageToken };
      },
    );
    app.post(
      '/api/v1/projects/:project/models/:name/versions',
      {
        schema: {
          operationId: 'createModelVersion',
          tags,
          summary:
            'Register a version from a run, a logged model or artifacts of the same project; size, checksum, signature, framework and format are read from its files (developers)',
          params: ModelParams,
          body: Type.Object(
            {
              source: Type.String({
                minLength: 1,
                maxLength: REGISTRY_LIMITS.sourceLength,
                description:
                  'runs:/<run id>/<path>, models:/<logged model id>, models:/<name>/<version> or mlflow-artifacts:/<path>',
              }),
              runId: Type.Optional(Type.String({ maxLength: 64 })),
              description: Type.Optional(Description),
              tags: Type.Optional(Type.Array(KeyValue, { maxItems: REGISTRY_LIMITS.tagsPerRequest })),
            },
            { additionalProperties: false },
          ),
          response: { 201: ModelVersionSchema },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(
            versionWire(
              await service.createVersion(callerOf(req), { name: req.params.project }, req.params.name, req.body),
            ),
          ),
    );
    app.get(
      '/api/v1/projects/:project/models/:name/versions/:version',
      {
        schema: {
          operationId: 'getModelVersion',
          tags,
          summary: 'One model version with its signature, checksum, stage, tags and aliases (viewers)',
          params: Type.Object({ project: Slug, name: ModelName, version: Type.Integer({ minimum: 1 }) }),
          response: { 200: ModelVersionSchema },
        },
      },
      async (req) =>
        versionWire(
          await service.getVersion(callerOf(req), { name: req.params.project }, req.params.name, req.params.version),
        ),
    );
    app.put(
      '/api/v1/projects/:project/models/:name/aliases/:alias',
      {
        schema: {
          operationId: 'setModelAlias',
          tags,
          summary: 'Point an alias (e.g. champion) at a version, moving it if it pointed elsewhere (developers)',
          params: Type.Object({
            project: Slug,
            name: ModelName,
            alias: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.aliasLength }),
          }),
          body: Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
          response: { 200: RegisteredModelSchema },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const ref = { name: req.params.project };
        await service.setAlias(caller, ref, req.params.name, req.params.alias, req.body.version);
        return modelWire(await service.getModel(caller, ref, req.params.name));
      },
    );
    app.delete(
      '/api/v1/projects/:project/models/:name/aliases/:alias',
      {
        schema: {
          operationId: 'deleteModelAlias',
          tags,
          summary: 'Remove an alias; removing one that does not exist is no error (developers)',
          params: Type.Object({
            project: Slug,
            name: ModelName,
            alias: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.aliasLength }),
          }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.deleteAlias(callerOf(req), { name: req.params.project }, req.params.name, req.params.alias);
        return reply.code(204).send(null);
      },
    );
  };
}
