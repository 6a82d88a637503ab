import type {} from '@fastify/swagger';
import type { AuthContext } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null on public routes called without credentials. */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** Reachable without credentials. */
    public?: boolean;
    /** The body is an uploaded file streamed raw (documented as binary, never validated). */
    rawUpload?: boolean;
  }
}
