import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preValidationHookHandler } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { REGISTRY_LIMITS } from '../registry/limits.js';
import { ENVIRONMENTS } from '../releases/service.js';
import { BATCHING_LIMITS } from './batching.js';
import { sendArtifact } from '../artifacts/http.js';
import type { BundlesService } from './bundles.js';
import type { ConversionService } from './conversion.js';
import { RUNTIMES, SERVING_LIMITS, type ServingService } from './service.js';

const Split = Type.Object(
  { version: Type.Integer({ minimum: 1 }), weight: Type.Integer({ minimum: 0, maximum: 100 }) },
  { additionalProperties: false },
);
const Splits = Type.Array(Split, { minItems: 1, maxItems: 10 });
const Shadow = Type.Object({ version: Type.Integer(), percent: Type.Integer() });
const RoutingKey = Type.Object(
  {
    header: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9-]+$' })),
    field: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
const Batching = Type.Object(
  {
    maxBatchSize: Type.Integer({ minimum: 2, maximum: BATCHING_LIMITS.maxBatchSize }),
    maxDelayMs: Type.Number({ minimum: 0, maximum: BATCHING_LIMITS.maxDelayMs }),
  },
  { additionalProperties: false },
);
const External = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
const DateTime = Type.String({ format: 'date-time' });

const VersionStats = Type.Object({
  version: Type.Integer(),
  requests: Type.Integer(),
  errors: Type.Integer(),
  errorRate: Type.Number(),
  p50Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
});
const StepRecord = Type.Object({
  step: Type.Integer(),
  percent: Type.Integer(),
  at: DateTime,
  decision: literalUnion(['pass', 'fail', 'wait'] as const),
  stable: VersionStats,
  candidate: VersionStats,
  shift: Nullable(
    Type.Object({ method: literalUnion(['tvd', 'ks'] as const), value: Type.Number(), pValue: Type.Number() }),
  ),
  // Absent from steps judged before live metrics existed.
  live: Type.Optional(
    Nullable(
      Type.Object(
        {
          metric: literalUnion(['accuracy', 'mae'] as const),
          stable: Type.Object({ labeled: Type.Integer(), value: Nullable(Type.Number()) }),
          candidate: Type.Object({ labeled: Type.Integer(), value: Nullable(Type.Number()) }),
          pValue: Nullable(Type.Number()),
        },
        { description: "Live accuracy or mean absolute error of each version on the step's labelled requests" },
      ),
    ),
  ),
  checks: Type.Array(
    Type.Object({
      name: Type.String(),
      value: Nullable(Type.Number()),
      threshold: Type.Number(),
      passed: Type.Boolean(),
    }),
  ),
  reason: Type.String(),
});

export const RolloutSchema = Type.Object(
  {
    id: Type.String(),
    strategy: literalUnion(['canary', 'shadow'] as const),
    candidateVersion: Type.Integer(),
    stableVersion: Type.Integer(),
    status: literalUnion(['running', 'paused', 'promoted', 'aborted', 'stopped'] as const),
    step: Nullable(Type.Object({ index: Type.Integer(), percent: Type.Integer(), startedAt: DateTime })),
    config: Type.Record(Type.String(), Type.Unknown()),
    analyses: Type.Array(StepRecord),
    reason: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: DateTime,
    updatedAt: DateTime,
    finishedAt: Nullable(DateTime),
  },
  { $id: 'Rollout' },
);

export const DeploymentSchema = Type.Object(
  {
    name: Type.String(),
    project: Type.String(),
    model: Type.String(),
    environment: literalUnion(ENVIRONMENTS),
    status: literalUnion(['deploying', 'ready', 'failed'] as const),
    failure: Nullable(Type.String()),
    runtime: literalUnion(RUNTIMES),
    external: Nullable(External),
    traffic: Type.Array(Split),
    shadow: Nullable(Shadow),
    stableVersion: Type.Integer({ description: 'where a rollback sends all traffic' }),
    previousVersion: Nullable(Type.Integer({ description: 'the stable version before the last promotion' })),
    revision: Type.Integer(),
    routingKey: Nullable(RoutingKey),
    batching: Nullable(Batching),
    rollout: Nullable(RolloutSchema),
    createdBy: Type.String(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Deployment' },
);

const CreateBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      description: 'unique server-wide: the Open Inference Protocol model name',
    }),
    model: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength }),
    environment: literalUnion(ENVIRONMENTS),
    versions: Splits,
    runtime: Type.Optional(literalUnion(RUNTIMES)),
    external: Type.Optional(External),
    routingKey: Type.Optional(RoutingKey),
    batching: Type.Optional(Batching),
  },
  { additionalProperties: false },
);

const RolloutBody = Type.Union([
  Type.Object(
    {
      strategy: Type.Literal('canary'),
      version: Type.Integer({ minimum: 1 }),
      steps: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 2, maxItems: SERVING_LIMITS.steps }),
      ),
      stepSeconds: Type.Optional(
        Type.Number({ minimum: SERVING_LIMITS.stepSeconds.min, maximum: SERVING_LIMITS.stepSeconds.max }),
      ),
      minRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      maxErrorRate: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
      maxP99Ms: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }))),
      maxP99Ratio: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }))),
      maxDistributionShift: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
      minLabels: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000 })),
      maxAccuracyDrop: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
      maxMaeIncrease: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }))),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      strategy: Type.Literal('shadow'),
      version: Type.Integer({ minimum: 1 }),
      percent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    },
    { additionalProperties: false },
  ),
]);

const Params = Type.Object({ project: Slug, name: Type.String({ minLength: 1, maxLength: 63 }) });
const tags = ['deployments'];

/** The body of rollout actions may be left out entirely. */
const optionalBody: preValidationHookHandler = (req, _reply, done) => {
  if (req.body === undefined || req.body === null) req.body = {};
  done();
};

/** Deployments and rollouts: the control plane of serving (native API). */
export function servingRoutes(
  service: ServingService,
  bundles: BundlesService,
  conversion: ConversionService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    const VersionParams = Type.Object({
      project: Slug,
      name: Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength }),
      version: Type.Integer({ minimum: 1 }),
    });
    const Bundle = Type.Object({
      location: Type.String(),
      manifest: Type.Object({
        format: Type.String(),
        model: Type.String(),
        version: Type.Integer(),
        source: Type.String(),
        runtime: literalUnion(['onnx', 'process'] as const),
        runtimeReason: Type.String(),
        signature: Type.Unknown(),
        requirements: Type.Array(Type.String()),
        files: Type.Array(Type.Object({ path: Type.String(), size: Type.Integer(), sha256: Type.String() })),
      }),
    });
    app.post(
      '/api/v1/projects/:project/models/:name/versions/:version/convert',
      {
        schema: {
          operationId: 'convertVersion',
          tags,
          summary:
            'Convert a scikit-learn, XGBoost, LightGBM or PyTorch version to ONNX in a background job; registered as a new version only when it matches the original on the held-out set (developers)',
          params: VersionParams,
          response: { 202: Type.Object({ jobId: Type.String(), flavor: Type.String() }) },
        },
      },
      async (req, reply) =>
        reply
          .code(202)
          .send(await conversion.request(callerOf(req), req.params.project, req.params.name, req.params.version)),
    );
    app.post(
      '/api/v1/projects/:project/models/:name/versions/:version/bundle',
      {
        schema: {
          operationId: 'buildBundle',
          tags,
          summary:
            'Package a version: model files with checksums, a manifest and an OCI build context (Dockerfile, MLServer settings), stored as artifacts (developers)',
          params: VersionParams,
          response: { 200: Bundle },
        },
      },
      async (req) => bundles.build(callerOf(req), req.params.project, req.params.name, req.params.version),
    );
    app.get(
      '/api/v1/projects/:project/models/:name/versions/:version/bundle',
      {
        schema: {
          operationId: 'getBundle',
          tags,
          summary: "A version's bundle manifest (viewers)",
          params: VersionParams,
          response: { 200: Bundle },
        },
      },
      async (req) => bundles.manifest(callerOf(req), req.params.project, req.params.name, req.params.version),
    );
    app.get(
      '/api/v1/projects/:project/models/:name/versions/:version/bundle/file',
      {
        schema: {
          operationId: 'downloadBundleFile',
          tags,
          summary: "One file of a version's bundle, e.g. path=Dockerfile or path=model/model.onnx (viewers)",
          params: VersionParams,
          querystring: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }) }),
          response: {
            200: {
              description: 'The file',
              content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
            },
          },
        },
      },
      async (req, reply) => {
        const f = await bundles.file(
          callerOf(req),
          req.params.project,
          req.params.name,
          req.params.version,
          req.query.path,
        );
        return sendArtifact(req, reply, f.path, f.open);
      },
    );
    app.post(
      '/api/v1/projects/:project/deployments',
      {
        schema: {
          operationId: 'createDeployment',
          tags,
          summary:
            'Deploy model versions behind an endpoint (maintainers); loading runs in the background: poll until status is ready',
          params: Type.Object({ project: Slug }),
          body: CreateBody,
          response: { 201: DeploymentSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(callerOf(req), req.params.project, req.body)),
    );
    app.get(
      '/api/v1/projects/:project/deployments',
      {
        schema: {
          operationId: 'listDeployments',
          tags,
          summary: "A project's deployments (viewers)",
          params: Type.Object({ project: Slug }),
          response: { 200: Type.Object({ deployments: Type.Array(DeploymentSchema) }) },
        },
      },
      async (req) => ({ deployments: await service.list(callerOf(req), req.params.project) }),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name',
      {
        schema: {
          operationId: 'getDeployment',
          tags,
          summary: 'A deployment (viewers)',
          params: Params,
          response: { 200: DeploymentSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.project, req.params.name),
    );
    app.delete(
      '/api/v1/projects/:project/deployments/:name',
      {
        schema: {
          operationId: 'deleteDeployment',
          tags,
          summary: 'Stop serving and delete a deployment with its history and prediction log (maintainers)',
          params: Params,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.remove(callerOf(req), req.params.project, req.params.name);
        return reply.code(204).send(null);
      },
    );
    app.put(
      '/api/v1/projects/:project/deployments/:name/traffic',
      {
        schema: {
          operationId: 'setDeploymentTraffic',
          tags,
          summary: 'Set the A/B split (weights summing to 100); refused while a rollout runs (maintainers)',
          params: Params,
          body: Type.Object({ versions: Splits }, { additionalProperties: false }),
          response: { 200: DeploymentSchema },
        },
      },
      async (req) => service.setTraffic(callerOf(req), req.params.project, req.params.name, req.body.versions),
    );
    app.post(
      '/api/v1/projects/:project/deployments/:name/rollback',
      {
        schema: {
          operationId: 'rollbackDeployment',
          tags,
          summary:
            'Return all traffic to the stable version (ending any rollout or split), or to the version before the last promotion (maintainers)',
          params: Params,
          response: { 200: DeploymentSchema },
        },
      },
      async (req) => service.rollback(callerOf(req), req.params.project, req.params.name),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name/history',
      {
        schema: {
          operationId: 'getDeploymentHistory',
          tags,
          summary: 'Every traffic change, newest first (viewers)',
          params: Params,
          response: {
            200: Type.Object({
              revisions: Type.Array(
                Type.Object({
                  revision: Type.Integer(),
                  traffic: Type.Array(Split),
                  shadow: Nullable(Shadow),
                  stableVersion: Type.Integer(),
                  reason: Type.String(),
                  actor: Type.String(),
                  at: DateTime,
                }),
              ),
            }),
          },
        },
      },
      async (req) => ({ revisions: await service.history(callerOf(req), req.params.project, req.params.name) }),
    );
    app.post(
      '/api/v1/projects/:project/deployments/:name/rollouts',
      {
        schema: {
          operationId: 'startRollout',
          tags,
          summary:
            'Start a canary (stepped, analysed, auto-promoted or aborted) or shadow rollout of a version (maintainers)',
          params: Params,
          body: RolloutBody,
          response: { 201: RolloutSchema },
        },
      },
      async (req, reply) =>
        reply.code(201).send(await service.startRollout(callerOf(req), req.params.project, req.params.name, req.body)),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name/rollout',
      {
        schema: {
          operationId: 'getRollout',
          tags,
          summary: "The deployment's current or last rollout with each step's analysis (viewers)",
          params: Params,
          response: { 200: RolloutSchema },
        },
      },
      async (req) => service.rollout(callerOf(req), req.params.project, req.params.name),
    );
    app.post(
      '/api/v1/projects/:project/deployments/:name/rollout/:action',
      {
        preValidation: optionalBody,
        schema: {
          operationId: 'rolloutAction',
          tags,
          summary:
            'Promote (all traffic to the candidate now), pause, resume or abort (traffic back to stable) the rollout (maintainers)',
          params: Type.Object({
            ...Params.properties,
            action: literalUnion(['promote', 'pause', 'resume', 'abort'] as const),
          }),
          body: Type.Object(
            { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
            { additionalProperties: false },
          ),
          response: { 200: RolloutSchema },
        },
      },
      async (req) =>
        service.rolloutAction(callerOf(req), req.params.project, req.params.name, req.params.action, req.body.reason),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name/predictions',
      {
        schema: {
          operationId: 'listPredictions',
          tags,
          summary: 'The newest entries of the prediction log (viewers)',
          params: Params,
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SERVING_LIMITS.predictionsPage })),
          }),
          response: {
            200: Type.Object({
              predictions: Type.Array(
                Type.Object({
                  requestId: Type.String(),
                  version: Type.Integer(),
                  route: literalUnion(['stable', 'candidate', 'pinned'] as const),
                  outcome: literalUnion(['ok', 'error'] as const),
                  error: Nullable(Type.String()),
                  latencyMs: Type.Number(),
                  inputs: Type.Unknown(),
                  outputs: Type.Unknown(),
                  at: DateTime,
                  shadow: Nullable(
                    Type.Object(
                      {
                        version: Type.Integer(),
                        outcome: literalUnion(['ok', 'error'] as const),
                        error: Nullable(Type.String()),
                        latencyMs: Type.Number(),
                        outputs: Type.Unknown(),
                      },
                      { description: "The shadow version's answer to the same request, when it was shadowed" },
                    ),
                  ),
                }),
              ),
            }),
          },
        },
      },
      async (req) => ({
        predictions: await service.predictions(
          callerOf(req),
          req.params.project,
          req.params.name,
          req.query.limit ?? 50,
        ),
      }),
    );
    app.post(
      '/api/v1/projects/:project/deployments/:name/labels',
      {
        schema: {
          operationId: 'addPredictionLabels',
          tags,
          summary: 'Send ground truth for logged predictions by request id (developers)',
          description:
            'Each label names the request id the inference API returned and either the true class (`label`, for classifiers) or the true number (`value`, for regressors). A label sent again for a request replaces the old one. Canary steps compare the live accuracy (or mean absolute error) of the versions on the requests whose labels have arrived.',
          params: Params,
          body: Type.Object(
            {
              labels: Type.Array(
                Type.Object(
                  {
                    requestId: Type.String({ minLength: 1, maxLength: 200 }),
                    label: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
                    value: Type.Optional(Nullable(Type.Number())),
                  },
                  { additionalProperties: false },
                ),
                { minItems: 1, maxItems: SERVING_LIMITS.labelsPerCall },
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              accepted: Type.Integer({ description: 'Labels stored (one per request id)' }),
              matched: Type.Integer({ description: 'Of those, requests already in the prediction log' }),
            }),
          },
        },
      },
      async (req) => service.addLabels(callerOf(req), req.params.project, req.params.name, req.body.labels),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name/stats',
      {
        schema: {
          operationId: 'getDeploymentStats',
          tags,
          summary: 'Requests, errors and latency per version over a recent window, from the prediction log (viewers)',
          params: Params,
          querystring: Type.Object({ minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })) }),
          response: {
            200: Type.Object({
              windowMinutes: Type.Integer(),
              versions: Type.Array(
                Type.Object({
                  version: Type.Integer(),
                  requests: Type.Integer(),
                  errors: Type.Integer(),
                  p50Ms: Nullable(Type.Number()),
                  p99Ms: Nullable(Type.Number()),
                }),
              ),
            }),
          },
        },
      },
      async (req) => service.stats(callerOf(req), req.params.project, req.params.name, req.query.minutes ?? 15),
    );
    app.get(
      '/api/v1/projects/:project/deployments/:name/shadow-report',
      {
        schema: {
          operationId: 'getShadowReport',
          tags,
          summary: "The shadow version's answers against the primary's on the same requests (viewers)",
          params: Params,
          response: {
            200: Type.Object({
              rollout: Nullable(RolloutSchema),
              requests: Type.Integer(),
              compared: Type.Integer(),
              shadowErrors: Type.Integer(),
              agreementRate: Nullable(Type.Number()),
              outputDelta: Nullable(
                Type.Object({ mean: Type.Number(), p99: Nullable(Type.Number()), max: Type.Number() }),
              ),
              latencyDeltaMs: Type.Object({ p50: Nullable(Type.Number()), p99: Nullable(Type.Number()) }),
            }),
          },
        },
      },
      async (req) => service.shadowReport(callerOf(req), req.params.project, req.params.name),
    );
  };
}
