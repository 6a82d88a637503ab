import { Type, type Static } from '@sinclair/typebox';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InputError,
  NotFoundError,
  RangeNotSatisfiableError,
  UnauthenticatedError,
  TooManyRequestsError,
  UnavailableError,
} from './errors.js';

/** The one error shape every route answers with (documented in the OpenAPI spec as 4XX/5XX). */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable machine-readable code, e.g. invalid_input, not_found' }),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'Error', title: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

const STATUS: [new (...args: never[]) => DomainError, number][] = [
  // Before InputError, which it extends.
  [RangeNotSatisfiableError, 416],
  [InputError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [TooManyRequestsError, 429],
  [UnavailableError, 503],
];

/** Fastify's own client errors, by code, with the wording we want users to see. */
const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_input'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_input'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_VALIDATION: [400, 'invalid_input'],
};

interface FastifyishError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[];
  validationContext?: string;
}

/** Names the field a schema validation error is about, e.g. `body.name` or `querystring.limit`. */
function validationField(err: FastifyishError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const missing = first.params?.missingProperty ?? first.params?.additionalProperty;
  const pathPart = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const parts = [err.validationContext, pathPart, typeof missing === 'string' ? missing : ''].filter(Boolean);
  return parts.length ? parts.join('.') : undefined;
}

/**
 * Maps any thrown value to an HTTP status and a JSON body. Domain errors and Fastify's client errors
 * keep their message; anything else is an internal error whose message is hidden (the request id lets
 * an operator find the stack in the logs).
 */
export function toHttpError(err: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) {
    const status = STATUS.find(([cls]) => err instanceof cls)?.[1] ?? 400;
    const details = Object.keys(err.details).length ? err.details : undefined;
    return { status, body: { error: { code: err.code, message: err.message, requestId, details } } };
  }
  const e = err as FastifyishError;
  const known = e?.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (known || e?.validation) {
    const [status, code] = known ?? [400, 'invalid_input'];
    const field = validationField(e);
    let message = e.message;
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e instanceof SyntaxError && e.message.includes('JSON'))) {
      message = `request body is not valid JSON: ${e.message}`;
    }
    return { status, body: { error: { code, message, requestId, details: field ? { field } : undefined } } };
  }
  // Other 4xx produced by Fastify or plugins (e.g. unsupported encodings) are safe to echo.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      body: { error: { code: (e.code ?? 'bad_request').toLowerCase(), message: e.message, requestId } },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: `internal error; quote request id ${requestId}`, requestId } },
  };
}
