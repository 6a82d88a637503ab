import type { FastifyRequest } from 'fastify';
import type { Caller } from './auth.js';

/** The service-layer view of a request: who calls, and the request id and address the audit log records. */
export function callerOf(req: FastifyRequest): Caller {
  return { auth: req.auth, requestId: req.id, ip: req.ip };
}
