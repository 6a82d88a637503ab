// The one place that creates the HangarClient and holds the session. Pages call `api()` and never
// see a credential. Auth is a browser session: `login` sets an HttpOnly, SameSite=Strict cookie
// the page cannot read, and answers with a CSRF token that is kept in memory only and sent as
// `x-csrf-token` on every call. A reload restores the session with `getSession` (the cookie
// survives it; the CSRF token is read again).
import { HangarApiError, HangarClient, type FetchFunction, type User } from '@hangar/sdk';

/** Same origin: the server serves the portal and the API side by side, so the cookie goes along. */
const BASE_URL = '';
const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  user: User;
  csrfToken: string;
}

/**
 * How the last session ended: the login page explains an expiry, and after a logout the app does
 * not offer to return to the page the user left from.
 */
export type SessionEnd = 'expired' | 'logout' | null;

/**
 * Where the portal stands. `restoring`: asking the server whether the cookie still holds a session
 * (first load); `unavailable`: that question got no answer (server down), so neither the login page
 * nor the app can be shown honestly.
 */
export type SessionState =
  | { status: 'restoring' }
  | { status: 'unavailable'; error: unknown }
  | { status: 'anonymous'; end: SessionEnd }
  | { status: 'active'; session: Session };

let state: SessionState = { status: 'restoring' };
let client = createClient(null);
let restoring: Promise<void> | null = null;
const listeners = new Set<() => void>();

function setState(next: SessionState): void {
  state = next;
  client = createClient(next.status === 'active' ? next.session : null);
  for (const l of listeners) l();
}

function isCsrfRefusal(res: Response, body: unknown): boolean {
  if (res.status !== 403 || typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: { message?: unknown } }).error;
  return typeof error?.message === 'string' && error.message.includes(CSRF_HEADER);
}

/**
 * A fetch that sends the session cookie and ends the session when the server says it is no longer
 * good (expired, revoked, logged out elsewhere, user disabled): every page then falls back to the
 * login screen in one place instead of each showing its own 401. Only the session the client was
 * made for is ended, so a late answer to an old session's request cannot log out a new one.
 *
 * A 403 for a wrong CSRF token means another tab logged in again (a new session, a new token):
 * the session is re-read so the next attempt carries the right token.
 */
function watchingFetch(owner: Session | null): FetchFunction {
  return async (input, init) => {
    const res = await fetch(input, { ...init, credentials: 'same-origin' });
    if (owner && state.status === 'active' && state.session === owner) {
      if (res.status === 401) {
        setState({ status: 'anonymous', end: 'expired' });
      } else if (res.status === 403) {
        const body: unknown = await res
          .clone()
          .json()
          .catch(() => null);
        if (isCsrfRefusal(res, body)) void refreshSession();
      }
    }
    return res;
  };
}

function createClient(s: Session | null): HangarClient {
  return new HangarClient({
    baseUrl: BASE_URL,
    headers: s ? { [CSRF_HEADER]: s.csrfToken } : undefined,
    fetch: watchingFetch(s),
  });
}

/** The client for the current session (anonymous when logged out: public routes still work). */
export function api(): HangarClient {
  return client;
}

/** The current state; the same object until something changes (for useSyncExternalStore). */
export function sessionState(): SessionState {
  return state;
}

/** Subscribes to session changes; returns the unsubscribe. */
export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function readSession(): Promise<SessionState> {
  try {
    const s = await createClient(null).getSession();
    return { status: 'active', session: { user: s.user, csrfToken: s.csrfToken } };
  } catch (err) {
    if (err instanceof HangarApiError && err.status === 401) return { status: 'anonymous', end: null };
    return { status: 'unavailable', error: err };
  }
}

/**
 * Asks the server whether the cookie holds a session (on first load, and on Retry after the
 * server could not be reached). Concurrent calls share one request.
 */
export function restoreSession(): Promise<void> {
  if (state.status !== 'restoring' && state.status !== 'unavailable') return Promise.resolve();
  if (!restoring) {
    if (state.status === 'unavailable') setState({ status: 'restoring' });
    restoring = readSession()
      .then((next) => {
        if (state.status === 'restoring') setState(next);
      })
      .finally(() => {
        restoring = null;
      });
  }
  return restoring;
}

/**
 * Re-reads the session (after the user's own account changed, or a CSRF refusal): the same user
 * keeps the session with fresh details, a different one (another tab logged in as someone else)
 * replaces it, and none ends it.
 */
export async function refreshSession(): Promise<void> {
  const before = state;
  if (before.status !== 'active') return;
  const next = await readSession();
  if (state !== before) return; // something else happened meanwhile (logout, login); it wins
  if (next.status === 'active') setState(next);
  else if (next.status === 'anonymous') setState({ status: 'anonymous', end: 'expired' });
}

/**
 * Logs in with username and password; the server sets the session cookie. Rejects with the SDK's
 * HangarApiError (401 `unauthenticated` for a wrong password, 429 `too_many_requests` after too
 * many failures) and leaves the current state untouched then.
 */
export async function logIn(username: string, password: string): Promise<void> {
  const s = await createClient(null).login({ body: { username, password } });
  setState({ status: 'active', session: { user: s.user, csrfToken: s.csrfToken } });
}

/**
 * Ends the session on the server first (so a reload right after cannot restore it), then locally.
 * A failed request still logs out locally: the user asked to leave.
 */
export async function logOut(): Promise<void> {
  if (state.status !== 'active') return;
  const current = state;
  try {
    await client.logout();
  } catch {
    // Nothing the user could do about it; the session expires on its own.
  }
  if (state === current) setState({ status: 'anonymous', end: 'logout' });
}

/**
 * The address of a run's artifact file for a plain download link. Everything else goes through
 * the SDK, which reads answers into memory; a link lets the browser stream a model of gigabytes
 * straight to disk instead. It is a GET on this origin, so the session cookie authenticates it and
 * no CSRF token is needed; the server sends artifacts with `nosniff` and a sandboxing CSP.
 */
export function artifactDownloadUrl(runId: string, path: string): string {
  return `${BASE_URL}/api/v1/runs/${encodeURIComponent(runId)}/artifacts/file?path=${encodeURIComponent(path)}`;
}
