import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { hashPassword } from './passwords.js';
import type { IdentityStore } from './store.js';
import { tokenRow } from './tokens-service.js';
import { DEFAULT_PROJECT, DEFAULT_TEAM } from './users-service.js';

export interface BootstrapResult {
  /** Present only when the password was generated now; print it once and never store it. */
  generatedPassword: string | null;
}

/**
 * On an empty store: the first platform admin `admin` (password and API token from the
 * configuration when given, else a generated password), the default team (admin leads it) and the
 * default project, in one transaction, so every later user can start at once.
 */
export async function bootstrapStore(
  store: IdentityStore,
  clock: Clock,
  options: { adminPassword?: string; adminToken?: string },
): Promise<BootstrapResult> {
  if ((await store.countUsers()) > 0) return { generatedPassword: null };
  const generated = options.adminPassword ? null : randomBytes(12).toString('base64url');
  const now = clock.now();
  const user = {
    id: newId(now),
    username: 'admin',
    display_name: 'Administrator',
    email: null,
    password_hash: await hashPassword(options.adminPassword ?? generated!),
    is_admin: 1,
    disabled: 0,
    created_at: now,
    updated_at: now,
  };
  const token = options.adminToken
    ? tokenRow(user.id, 'bootstrap', options.adminToken, { now, expiresAt: null, projectId: null })
    : null;
  const created = await store.insertFirstAdmin({
    user,
    token,
    team: {
      id: newId(now),
      name: DEFAULT_TEAM,
      display_name: 'Default team',
      description: 'Everyone joins this team when their account is created.',
      created_at: now,
      updated_at: now,
    },
    project: {
      id: newId(now),
      name: DEFAULT_PROJECT,
      display_name: 'Default project',
      description: 'A place to start; members of the default team develop here.',
      created_at: now,
    },
  });
  return { generatedPassword: created ? generated : null };
}
