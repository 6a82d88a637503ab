import type { FastifyInstance } from 'fastify';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InputError,
  InvalidStateError,
  NotFoundError,
  RangeNotSatisfiableError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnavailableError,
} from '../../core/errors.js';

export interface MlflowErrorBody {
  error_code: string;
  message: string;
}

/** MLflow's error codes and the statuses its server gives them (mlflow/protos/databricks.proto). */
const CODES: [new (...args: never[]) => DomainError, string, number][] = [
  [RangeNotSatisfiableError, 'INVALID_PARAMETER_VALUE', 416],
  [InputError, 'INVALID_PARAMETER_VALUE', 400],
  [NotFoundError, 'RESOURCE_DOES_NOT_EXIST', 404],
  // Before ConflictError, which it extends.
  [InvalidStateError, 'INVALID_STATE', 400],
  [ConflictError, 'RESOURCE_ALREADY_EXISTS', 400],
  [ForbiddenError, 'PERMISSION_DENIED', 403],
  [UnauthenticatedError, 'UNAUTHENTICATED', 401],
  [TooManyRequestsError, 'REQUEST_LIMIT_EXCEEDED', 429],
  // The one transient failure: the client retries 503, which is what a store outage calls for.
  [UnavailableError, 'TEMPORARILY_UNAVAILABLE', 503],
];

/** What MLflow clients make of an unknown endpoint: they fall back to older APIs on this code. */
export function endpointNotFound(method: string, url: string): MlflowErrorBody {
  return { error_code: 'ENDPOINT_NOT_FOUND', message: `No API found for '${method} ${url.split('?')[0]}'` };
}

/**
 * Maps any error to MLflow's `{error_code, message}`. Deterministic failures are always 4xx: the
 * MLflow client retries 5xx answers for minutes, so a 5xx must mean "try again" and nothing else.
 */
export function toMlflowError(
  err: unknown,
  requestId: string,
  bodyLimitBytes?: number,
): { status: number; body: MlflowErrorBody } {
  if (err instanceof DomainError) {
    const [, code, status] = CODES.find(([cls]) => err instanceof cls) ?? [DomainError, 'INVALID_PARAMETER_VALUE', 400];
    return { status, body: { error_code: code, message: err.message } };
  }
  const e = err as { statusCode?: number; message?: string; code?: string };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const message =
      e.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? `Malformed JSON in request body: ${e.message}`
        : e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && bodyLimitBytes
          ? `Request body is too large: this server accepts at most ${bodyLimitBytes} bytes`
          : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? `${e.message}; send the request body as application/json`
            : (e.message ?? 'bad request');
    return { status: e.statusCode === 413 ? 413 : 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message } };
  }
  return {
    status: 500,
    body: { error_code: 'INTERNAL_ERROR', message: `internal error; quote request id ${requestId}` },
  };
}

/**
 * The error handler of the MLflow routes: MLflow's shape and statuses, a Retry-After on 429 (the
 * client's retries honour it), and a log line for the 5xx that are Hangar's fault.
 */
export function mlflowErrorHandler(
  app: FastifyInstance,
  what: string,
): Parameters<FastifyInstance['setErrorHandler']>[0] {
  return (err, req, reply) => {
    const { status, body } = toMlflowError(err, req.id, app.initialConfig.bodyLimit);
    if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
    if (status >= 500) req.log.error({ err, reqId: req.id }, `${what} failed`);
    return reply.code(status).send(body);
  };
}
