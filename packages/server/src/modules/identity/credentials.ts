import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'hgr_';
export const SESSION_COOKIE = 'hangar_session';

/**
 * API tokens and session cookies are 32 random bytes, so a single sha256 is enough to store them
 * safely: unlike passwords they cannot be guessed from a dictionary, and a fast hash keeps
 * verification cheap (see docs/adr/0004-credential-hashing.md).
 */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The value of one cookie in a Cookie header, without a parser dependency on the hot path. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // SameSite=Strict: no other site can make the browser send it; CSRF tokens guard the rest.
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
