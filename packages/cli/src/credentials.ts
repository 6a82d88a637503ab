import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { NotLoggedInError } from './cli-error.js';

/** What `hangar login` stores. Never a password: only the API token. */
export interface Credentials {
  url: string;
  token: string;
  username: string;
  /** Set when login minted the token (username/password login); logout then revokes it. */
  tokenId?: string;
}

/**
 * The directory holding the CLI's files: `$HANGAR_CONFIG_DIR`, else `$XDG_CONFIG_HOME/hangar`, else
 * `~/.config/hangar`.
 */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.HANGAR_CONFIG_DIR) return path.resolve(env.HANGAR_CONFIG_DIR);
  return path.join(env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(homedir(), '.config'), 'hangar');
}

/** Where the credentials live for this environment. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'credentials.json');
}

function isCredentials(v: unknown): v is Credentials {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.url === 'string' &&
    typeof c.token === 'string' &&
    typeof c.username === 'string' &&
    (c.tokenId === undefined || typeof c.tokenId === 'string')
  );
}

/**
 * Reads the stored login; null when there is none. Throws a NotLoggedInError (exit 3) naming the
 * file when it exists but is not a login we wrote, so the user knows what to delete.
 */
export function readCredentials(env: NodeJS.ProcessEnv): Credentials | null {
  const file = credentialsPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new NotLoggedInError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isCredentials(parsed))
    throw new NotLoggedInError(`${file} is not a valid login; run hangar logout, then hangar login`);
  return parsed;
}

/**
 * Stores the login with owner-only permissions: the directory is created 0700 and the file is
 * written 0600 under a temporary name, then renamed, so no reader ever sees a half-written or
 * world-readable token. Returns the file's path.
 */
export function writeCredentials(env: NodeJS.ProcessEnv, credentials: Credentials): string {
  const file = credentialsPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'w' });
    // The mode given at creation is filtered by the umask only if the file is new; make sure.
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return file;
}

/** Deletes the stored login; returns whether there was one. */
export function deleteCredentials(env: NodeJS.ProcessEnv): boolean {
  const file = credentialsPath(env);
  try {
    rmSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
