import { ForbiddenError, UnauthenticatedError } from './errors.js';

/** Who is calling, as established by a credential. Cached per credential, so shared by requests. */
export interface AuthContext {
  userId: string;
  username: string;
  /** A platform admin; powers that also need an unscoped credential (see {@link requireAdmin}). */
  isAdmin: boolean;
  /** Set when the caller authenticated with an API token. */
  tokenId: string | null;
  /** Set when the credential is confined to one project (a project-scoped token). */
  projectId: string | null;
  /** Set for browser sessions (the sha256 of the cookie), which need CSRF protection. */
  sessionId: string | null;
}

/**
 * One call into a service: the credential plus where the call came from, which the audit log
 * records. Every service method takes one and checks it on its first line.
 */
export interface Caller {
  auth: AuthContext | null;
  requestId: string | null;
  ip: string | null;
}

/** Context for work the platform does on its own behalf (bootstrap, background jobs). */
export const SYSTEM_AUTH: AuthContext = {
  userId: 'system',
  username: 'system',
  isAdmin: true,
  tokenId: null,
  projectId: null,
  sessionId: null,
};
export const SYSTEM_CALLER: Caller = { auth: SYSTEM_AUTH, requestId: null, ip: null };

export function authenticationRequired(): UnauthenticatedError {
  return new UnauthenticatedError('authentication required: send Authorization: Bearer <token> or Basic, or log in');
}

export function requireAuth(caller: Caller): AuthContext {
  if (!caller.auth) throw authenticationRequired();
  return caller.auth;
}

/**
 * A platform admin acting with an unscoped credential: a token confined to one project never
 * carries platform-wide powers, even when its owner is an admin.
 */
export function requireAdmin(caller: Caller): AuthContext {
  const a = requireAuth(caller);
  if (!a.isAdmin) throw new ForbiddenError('this action needs a platform admin');
  if (a.projectId)
    throw new ForbiddenError('this token is scoped to one project; platform actions need an unscoped credential');
  return a;
}

export function isPlatformAdmin(a: AuthContext): boolean {
  return a.isAdmin && a.projectId === null;
}
