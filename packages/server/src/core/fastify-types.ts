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
  }
}
