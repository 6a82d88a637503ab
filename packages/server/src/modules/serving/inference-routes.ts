import '../../core/fastify-types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/auth.js';
import { callerOf } from '../../core/request.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../../core/errors.js';
import type { AccessService } from '../projects/access.js';
import { AnswerGate } from './answer-gate.js';
import { binaryOutputSelection, encodeInferResponse, InferInputError, parseInferRequest } from './oip/codec.js';
import { columnsToTensors, parseRecords, tensorsToPredictions } from './oip/records.js';
import {
  DeploymentNotFoundError,
  DeploymentUnavailableError,
  ModelFailedError,
  type InferOutcome,
  type LiveDeployment,
  type ServingPlane,
} from './plane.js';
import { RuntimeInputError, RuntimeUnavailableError } from './runtime.js';
import { elementCount, type Tensor } from './tensors.js';

export interface InferenceLimits {
  /** Elements across a request's input tensors. */
  maxElements: number;
  /** Rows (first dimension) of one request. */
  maxBatch: number;
}

export const DEFAULT_INFERENCE_LIMITS: InferenceLimits = { maxElements: 4_000_000, maxBatch: 10_000 };

interface ModelParams {
  model: string;
  version?: string;
}

/**
 * The inference data plane over HTTP: the Open Inference Protocol v2 REST API (JSON tensors and the
 * binary tensor data extension) and an MLflow-style records endpoint. Model names are deployment
 * names; `/versions/{v}` pins a registered version of the deployment, bypassing its split. Errors
 * are `{"error": "..."}` as the protocol asks: 400 for input the model cannot take (naming the
 * input), 404 for unknown models and versions, 503 while loading, 500 when the model fails.
 * Authorization: any member (viewer and above) of the deployment's project may infer.
 */
export function inferenceRoutes(deps: {
  plane: ServingPlane;
  access: AccessService;
  version: string;
  limits?: InferenceLimits;
}) {
  const limits = deps.limits ?? DEFAULT_INFERENCE_LIMITS;
  const { plane } = deps;

  /**
   * Resolves the deployment and checks the caller may use it; outsiders get the same 404 as for no
   * deployment. A warm check is answered from the access cache without a promise: it runs on every
   * inference.
   */
  const authorize = (caller: Caller, name: string): LiveDeployment | Promise<LiveDeployment> => {
    const d = plane.get(name);
    if (d && deps.access.cachedAccess(caller, d.projectName, 'viewer')) return d;
    return authorizeFully(caller, name, d);
  };

  const authorizeFully = async (
    caller: Caller,
    name: string,
    d: LiveDeployment | undefined,
  ): Promise<LiveDeployment> => {
    if (!d) {
      // A deployment still loading (or failed) has no entry yet, so no project to check: it answers
      // 503 to any signed-in caller (the route hook refused anonymous ones), unknown names 404.
      plane.metadata(name, null);
      throw new DeploymentNotFoundError(`no deployment "${name}"`);
    }
    try {
      await deps.access.requireProject(caller, d.projectName, 'viewer', null);
    } catch (err) {
      if (err instanceof NotFoundError) throw new DeploymentNotFoundError(`no deployment "${name}"`);
      throw err;
    }
    return d;
  };

  // Answers of one event-loop turn are written together (see answer-gate.ts).
  const gate = new AnswerGate();
  const gated = async (run: Promise<InferOutcome>): Promise<InferOutcome> => {
    gate.begin();
    try {
      return await run;
    } finally {
      // An error answer waits like any other.
      const held = gate.end();
      if (held) await held;
    }
  };

  const pinnedVersion = (p: ModelParams): number | null => {
    if (p.version === undefined) return null;
    const v = Number(p.version);
    if (!Number.isInteger(v) || v < 1 || String(v) !== p.version) {
      throw new DeploymentNotFoundError(`no version "${p.version}" of deployment "${p.model}"`);
    }
    return v;
  };

  const modelMetadata = async (req: FastifyRequest<{ Params: ModelParams }>) => {
    const d = await authorize(callerOf(req), req.params.model);
    const pinned = pinnedVersion(req.params);
    const { version, metadata } = plane.metadata(d.name, pinned);
    return {
      name: d.name,
      versions: [...d.versions.keys()].sort((a, b) => a - b).map(String),
      platform: metadata.platform,
      inputs: metadata.inputs,
      outputs: metadata.outputs,
      parameters: { served_version: String(version), model: d.modelName, project: d.projectName },
    };
  };

  const modelReady = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const d = await authorize(callerOf(req), req.params.model);
    const pinned = pinnedVersion(req.params);
    const ready = pinned === null ? plane.ready(d.name) : d.versions.get(pinned)?.runtime.ready() === true;
    if (pinned !== null && !d.versions.has(pinned)) {
      throw new DeploymentNotFoundError(`deployment "${d.name}" does not serve version ${pinned}`);
    }
    return reply.code(ready ? 200 : 503).send({ name: d.name, ready });
  };

  const infer = async (req: FastifyRequest<{ Params: ModelParams; Body: Buffer }>, reply: FastifyReply) => {
    const d = await authorize(callerOf(req), req.params.model);
    const pinned = pinnedVersion(req.params);
    const header = req.headers['inference-header-content-length'];
    let headerLength: number | undefined;
    if (header !== undefined) {
      headerLength = Number(header);
      if (!Number.isInteger(headerLength) || headerLength < 0) {
        throw new InferInputError('Inference-Header-Content-Length must be a non-negative integer');
      }
    }
    const parsed = parseInferRequest(bodyOf(req), headerLength, { maxElements: limits.maxElements });
    // Names, datatypes and shapes are the runtime's to check (it knows its model); the batch bound is ours.
    for (const t of parsed.inputs) {
      if ((t.shape[0] ?? 0) > limits.maxBatch) {
        throw new InferInputError(`input "${t.name}": ${t.shape[0]} rows; at most ${limits.maxBatch} per request`);
      }
    }
    const requestId = parsed.id ?? req.id;
    const outcome = await gated(
      plane.infer(
        d.name,
        pinned,
        requestId,
        parsed.inputs,
        parsed.outputs?.map((o) => o.name),
        routingKeyOf(req, d, parsed.inputs, null),
      ),
    );
    const encoded = encodeInferResponse(
      { modelName: d.name, modelVersion: String(outcome.version), id: requestId, outputs: outcome.outputs },
      binaryOutputSelection(parsed),
    );
    reply.header('x-hangar-model-version', String(outcome.version));
    reply.header('x-request-id', requestId);
    if (encoded.headerLength !== undefined)
      reply.header('inference-header-content-length', String(encoded.headerLength));
    return reply.type(encoded.contentType).send(encoded.body);
  };

  const predict = async (req: FastifyRequest<{ Params: { name: string }; Body: Buffer }>, reply: FastifyReply) => {
    const d = await authorize(callerOf(req), req.params.name);
    let body: unknown;
    try {
      body = JSON.parse(bodyOf(req).toString('utf8'));
    } catch (err) {
      throw new InferInputError(`malformed JSON: ${(err as Error).message}`);
    }
    const { metadata, loaded } = plane.metadata(d.name, null);
    const cols = parseRecords(body, loaded.columns, { maxRows: limits.maxBatch });
    const inputs = columnsToTensors(cols, metadata.inputs, loaded.columns);
    let elements = 0;
    for (const t of inputs) elements += elementCount(t.shape);
    if (elements > limits.maxElements)
      throw new InferInputError(`the request has ${elements} values; at most ${limits.maxElements}`);
    const requestId = req.id;
    const outcome = await gated(
      plane.infer(d.name, null, requestId, inputs, undefined, routingKeyOf(req, d, null, cols)),
    );
    reply.header('x-hangar-model-version', String(outcome.version));
    // Spelled out: properties added after a spread take V8's slow path (see CONTRIBUTING.md).
    const { predictions } = tensorsToPredictions(outcome.outputs);
    return { predictions, id: requestId, model_version: String(outcome.version) };
  };

  return async (app: FastifyInstance): Promise<void> => {
    // Bodies arrive as bytes whatever their type: the binary extension is JSON followed by raw
    // tensors, and JSON is parsed once by the codec rather than by Fastify and again by us.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err, req, reply) => {
      const { status, message } = classify(err, req.id);
      if (status >= 500) req.log.error({ err, reqId: req.id }, 'inference failed');
      void reply.code(status).send({ error: message });
    });

    const tags = ['inference'];
    const open = (operationId: string, summary: string) => ({
      config: { public: true },
      schema: { operationId, summary, tags },
    });
    const doc = (operationId: string, summary: string) => ({ schema: { operationId, summary, tags } });
    app.get('/v2/health/live', open('oipServerLive', 'Open Inference Protocol: the server is live'), async () => ({
      live: true,
    }));
    app.get(
      '/v2/health/ready',
      open('oipServerReady', 'Open Inference Protocol: the data plane has loaded its deployment list'),
      async (_req, reply) => (plane.synced ? { ready: true } : reply.code(503).send({ ready: false })),
    );
    app.get(
      '/v2',
      open('oipServerMetadata', 'Open Inference Protocol: server name, version and extensions'),
      async () => ({
        name: 'hangar',
        version: deps.version,
        extensions: ['binary_tensor_data'],
      }),
    );
    for (const [prefix, suffix, what] of [
      ['/v2/models/:model', '', 'the deployment (routed by its traffic policy)'],
      ['/v2/models/:model/versions/:version', 'Version', 'one registered version of the deployment'],
    ] as const) {
      app.get<{ Params: ModelParams }>(
        prefix,
        doc(`oipModelMetadata${suffix}`, `Inputs, outputs and platform of ${what}`),
        modelMetadata,
      );
      app.get<{ Params: ModelParams }>(
        `${prefix}/ready`,
        doc(`oipModelReady${suffix}`, `Whether ${what} can answer`),
        modelReady,
      );
      app.post<{ Params: ModelParams; Body: Buffer }>(
        `${prefix}/infer`,
        doc(`oipInfer${suffix}`, `Inference on ${what}: JSON tensors or the binary tensor data extension`),
        infer,
      );
    }
    app.post<{ Params: { name: string }; Body: Buffer }>(
      '/v1/deployments/:name/predict',
      doc(
        'predictRecords',
        'Inference on records ({"instances"}, {"dataframe_split"}, {"dataframe_records"}), like MLflow\'s /invocations',
      ),
      predict,
    );
  };
}

function bodyOf(req: FastifyRequest): Buffer {
  const b = req.body;
  if (Buffer.isBuffer(b)) return b;
  throw new InferInputError('the request needs a body');
}

/** The sticky-routing key of a request, if the deployment has one configured and the request carries it. */
function routingKeyOf(
  req: FastifyRequest,
  d: LiveDeployment,
  inputs: readonly Tensor[] | null,
  cols: { names: string[]; columns: unknown[][] } | null,
): string | undefined {
  const rk = d.routingKey;
  if (!rk) return undefined;
  if (rk.header) {
    const v = req.headers[rk.header.toLowerCase()];
    if (typeof v === 'string' && v !== '') return v;
  }
  if (rk.field) {
    if (inputs) {
      const t = inputs.find((i) => i.name === rk.field);
      if (t && elementCount(t.shape) > 0) {
        const v = t.data[0]!;
        return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      }
    }
    if (cols) {
      const i = cols.names.indexOf(rk.field);
      if (i >= 0 && cols.columns[i]!.length > 0) return String(cols.columns[i]![0]);
    }
  }
  return undefined;
}

function classify(err: unknown, requestId: string): { status: number; message: string } {
  if (err instanceof InferInputError || err instanceof RuntimeInputError) return { status: 400, message: err.message };
  if (err instanceof DeploymentNotFoundError) return { status: 404, message: err.message };
  if (err instanceof DeploymentUnavailableError || err instanceof RuntimeUnavailableError) {
    return { status: 503, message: err.message };
  }
  if (err instanceof ModelFailedError) return { status: 500, message: err.message };
  if (err instanceof UnauthenticatedError) return { status: 401, message: err.message };
  if (err instanceof ForbiddenError) return { status: 403, message: err.message };
  const e = err as { statusCode?: number; message?: string; code?: string };
  // Fastify's own client errors (body too large, bad content length, ...).
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: e.message ?? 'bad request' };
  }
  return { status: 500, message: `internal error (request id ${requestId})` };
}
