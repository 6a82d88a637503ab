import { HangarClient, type ClientOptions } from '@hangar/sdk';
import { NotLoggedInError, UsageError } from './cli-error.js';
import { readCredentials } from './credentials.js';

/** The connection flags every API command accepts. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
}

export interface Connection {
  url: string;
  client: HangarClient;
}

/**
 * Checks a server URL given by the user and returns it without trailing slashes. Throws a
 * UsageError (exit 2) for anything but an absolute http(s) URL.
 */
export function normalizeServerUrl(raw: string, flag = '--url'): string {
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} is not a URL; expected e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http:// or https:// URL, not ${parsed.protocol}`);
  }
  if (parsed.search || parsed.hash) throw new UsageError(`${flag} must not contain a query or fragment`);
  return parsed.href.replace(/\/+$/, '');
}

/**
 * Decides which server and token a command uses: `--url`/`--token` flags, then `HANGAR_URL`/
 * `HANGAR_TOKEN`, then the stored login. The stored token is only sent to the server it was
 * issued by, so `--url` pointing elsewhere never leaks it. Throws a NotLoggedInError (exit 3)
 * with the login command to run when no token applies. `clientOptions` (a fetch, a timeout) go to
 * the client as they are.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  clientOptions: Omit<ClientOptions, 'baseUrl' | 'token' | 'username' | 'password'> = {},
): Connection {
  const stored = readCredentials(env);
  const rawUrl = flags.url ?? (env.HANGAR_URL || undefined) ?? stored?.url;
  if (!rawUrl)
    throw new NotLoggedInError('not logged in; run hangar login --url URL --token TOKEN (or --username USER)');
  const url = normalizeServerUrl(
    rawUrl,
    flags.url !== undefined ? '--url' : env.HANGAR_URL ? 'HANGAR_URL' : 'the stored login URL',
  );
  let token = flags.token ?? (env.HANGAR_TOKEN || undefined);
  if (token === undefined && stored && normalizeServerUrl(stored.url) === url) token = stored.token;
  if (!token)
    throw new NotLoggedInError(
      `not logged in to ${url}; run hangar login --url ${url} --token TOKEN (or --username USER)`,
    );
  return { url, client: new HangarClient({ ...clientOptions, baseUrl: url, token }) };
}
