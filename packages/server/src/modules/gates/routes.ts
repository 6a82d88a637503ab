import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Slug } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion, Nullable } from '../../core/schema.js';
import { REGISTRY_LIMITS } from '../registry/limits.js';
import type { ChampionScore, GateView, GatesService, SpecView } from './service.js';
import { SPEC_LIMITS, TASKS } from './spec.js';

const Op = literalUnion(['>=', '<='] as const);
const Metrics = Type.Record(Type.String(), Nullable(Type.Number()), {
  description: 'metric name -> value (null when it could not be computed, e.g. ROC AUC without probabilities)',
});
const SpecBody = {
  datasetId: Type.String({ minLength: 1, maxLength: 64, description: "a dataset version of the model's project" }),
  task: literalUnion(TASKS),
  labelColumn: Type.String({ minLength: 1, maxLength: SPEC_LIMITS.labelColumn }),
  thresholds: Type.Array(
    Type.Object(
      {
        metric: Type.String({
          maxLength: 50,
          description:
            'binary/multiclass: accuracy, precision, recall, f1, rocAuc, logLoss, brier, ece; regression: mae, rmse, r2, mape',
        }),
        op: Op,
        threshold: Type.Number(),
      },
      { additionalProperties: false },
    ),
    { maxItems: SPEC_LIMITS.thresholds },
  ),
  championRule: Nullable(
    Type.Object(
      {
        metric: Type.String({ maxLength: 50 }),
        maxDegradation: Type.Number({
          minimum: 0,
          description: 'how much worse than the champion, in the metric’s units',
        }),
      },
      { additionalProperties: false },
    ),
  ),
};
const SpecSchema = Type.Object(
  { ...SpecBody, updatedBy: Type.String(), updatedAt: Type.String({ format: 'date-time' }) },
  { $id: 'EvaluationSpec' },
);
const Check = Type.Object({
  kind: literalUnion(['threshold', 'champion'] as const),
  metric: Type.String(),
  op: Op,
  threshold: Type.Number(),
  value: Nullable(Type.Number()),
  passed: Type.Boolean(),
});
const GateSchema = Type.Object(
  {
    id: Type.String(),
    version: Type.Integer(),
    status: literalUnion(['pending', 'running', 'passed', 'failed', 'skipped'] as const),
    overridden: Type.Boolean(),
    override: Nullable(
      Type.Object({ by: Type.String(), reason: Type.String(), at: Type.String({ format: 'date-time' }) }),
    ),
    spec: Nullable(Type.Object(SpecBody)),
    scorer: Nullable(Type.String({ description: 'onnx (in-process) or pyfunc (managed Python environment)' })),
    rows: Nullable(Type.Integer()),
    metrics: Nullable(Metrics),
    checks: Nullable(Type.Array(Check)),
    championVersion: Nullable(Type.Integer()),
    championMetrics: Nullable(Metrics),
    reason: Nullable(Type.String()),
    jobId: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Nullable(Type.String({ format: 'date-time' })),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'one evaluation of a model version' },
);
const GateResultSchema = Type.Object(
  {
    gate: Nullable(GateSchema),
    champion: Nullable(
      Type.Object({
        version: Type.Integer(),
        metrics: Nullable(Metrics),
        gateId: Nullable(Type.String()),
      }),
    ),
    history: Type.Array(GateSchema),
  },
  { $id: 'ModelVersionGateResult' },
);

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const specWire = (s: SpecView) => ({ ...s, updatedAt: iso(s.updatedAt) });
export const gateWire = (g: GateView) => ({
  id: g.id,
  version: g.version,
  status: g.status,
  overridden: g.overridden,
  override: g.override ? { ...g.override, at: iso(g.override.at) } : null,
  spec: g.spec,
  scorer: g.scorer,
  rows: g.rows,
  metrics: g.metrics,
  checks: g.checks,
  championVersion: g.championVersion,
  championMetrics: g.championMetrics,
  reason: g.reason,
  jobId: g.jobId,
  createdAt: iso(g.createdAt),
  startedAt: isoOrNull(g.startedAt),
  finishedAt: isoOrNull(g.finishedAt),
});
const championWire = (c: ChampionScore | null) => c;

const ModelName = Type.String({ minLength: 1, maxLength: REGISTRY_LIMITS.nameLength });
const ModelParams = Type.Object({ project: Slug, name: ModelName });
const VersionParams = Type.Object({ project: Slug, name: ModelName, version: Type.Integer({ minimum: 1 }) });
const tags = ['registry'];

/** The evaluation gate's native API: a model's evaluation spec, and each version's gate. */
export function gateRoutes(service: GatesService): FastifyPluginAsyncTypebox {
  return async (app) => {
    const spec = '/api/v1/projects/:project/models/:name/evaluation-spec';
    app.get(
      spec,
      {
        schema: {
          operationId: 'getEvaluationSpec',
          tags,
          summary: "A registered model's evaluation spec; 404 when it has none (viewers)",
          params: ModelParams,
          response: { 200: SpecSchema },
        },
      },
      async (req) => specWire(await service.getSpec(callerOf(req), req.params.project, req.params.name)),
    );
    app.put(
      spec,
      {
        schema: {
          operationId: 'putEvaluationSpec',
          tags,
          summary:
            'Set the evaluation spec: held-out dataset version, task, label column, metric thresholds and the champion rule; applies to gates that start from now on (maintainers)',
          params: ModelParams,
          body: Type.Object(SpecBody, { additionalProperties: false }),
          response: { 200: SpecSchema },
        },
      },
      async (req) => specWire(await service.putSpec(callerOf(req), req.params.project, req.params.name, req.body)),
    );
    app.delete(
      spec,
      {
        schema: {
          operationId: 'deleteEvaluationSpec',
          tags,
          summary: "Remove the evaluation spec; new versions' gates are then skipped (maintainers)",
          params: ModelParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.deleteSpec(callerOf(req), req.params.project, req.params.name);
        return reply.code(204).send(null);
      },
    );
    const gate = '/api/v1/projects/:project/models/:name/versions/:version/gate';
    app.get(
      gate,
      {
        schema: {
          operationId: 'getModelVersionGate',
          tags,
          summary:
            "A version's gate result (its newest evaluation), the champion's metrics beside it, and its gate history (viewers)",
          params: VersionParams,
          response: { 200: GateResultSchema },
        },
      },
      async (req) => {
        const r = await service.getGate(callerOf(req), req.params.project, req.params.name, req.params.version);
        return {
          gate: r.gate && gateWire(r.gate),
          champion: championWire(r.champion),
          history: r.history.map(gateWire),
        };
      },
    );
    app.post(
      gate,
      {
        schema: {
          operationId: 'rerunModelVersionGate',
          tags,
          summary: 'Evaluate the version again with the current spec; the new gate becomes its result (maintainers)',
          params: VersionParams,
          response: { 202: GateSchema },
        },
      },
      async (req, reply) =>
        reply
          .code(202)
          .send(gateWire(await service.rerun(callerOf(req), req.params.project, req.params.name, req.params.version))),
    );
    app.post(
      `${gate}/override`,
      {
        schema: {
          operationId: 'overrideModelVersionGate',
          tags,
          summary: 'Clear a failed gate by decision, with a reason; audited (project admins)',
          params: VersionParams,
          body: Type.Object(
            { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
            { additionalProperties: false },
          ),
          response: { 200: GateSchema },
        },
      },
      async (req) =>
        gateWire(
          await service.override(
            callerOf(req),
            req.params.project,
            req.params.name,
            req.params.version,
            req.body.reason,
          ),
        ),
    );
  };
}
