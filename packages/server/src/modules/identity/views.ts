import type { AuthContext } from '../../core/auth.js';
import type { TokenRow, UserRow } from './store.js';

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  /** Shown to platform admins and to the user; null for everyone else. */
  email: string | null;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: string;
}

export function userView(u: UserRow, viewer: AuthContext): UserView {
  const maySeeEmail = viewer.isAdmin || viewer.userId === u.id;
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    email: maySeeEmail ? u.email : null,
    isAdmin: u.is_admin === 1,
    disabled: u.disabled === 1,
    createdAt: iso(u.created_at)!,
  };
}

export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  /** The project the token is confined to; null: every project its owner may use. */
  project: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function tokenView(t: TokenRow, projectName: string | null): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    project: projectName,
    createdAt: iso(t.created_at)!,
    expiresAt: iso(t.expires_at),
    lastUsedAt: iso(t.last_used_at),
    revokedAt: iso(t.revoked_at),
  };
}
