import { ForbiddenError, UnauthenticatedError } from './errors.js';

/** Who is calling. Every service method takes one and checks it on its first line. */
export interface AuthContext {
  userId: string;
  username: string;
  isAdmin: boolean;
  /** Set when the caller authenticated with an API token. */
  tokenId: string | null;
}

/** Context for work the platform does on its own behalf (bootstrap, background jobs). */
export const SYSTEM_AUTH: AuthContext = { userId: 'system', username: 'system', isAdmin: true, tokenId: null };

export function authenticationRequired(): UnauthenticatedError {
  return new UnauthenticatedError('authentication required: send Authorization: Bearer <token> or Basic');
}

export function requireAuth(auth: AuthContext | null): AuthContext {
  if (!auth) throw authenticationRequired();
  return auth;
}

export function requireAdmin(auth: AuthContext | null): AuthContext {
  const a = requireAuth(auth);
  if (!a.isAdmin) throw new ForbiddenError('this action needs a platform admin');
  return a;
}
