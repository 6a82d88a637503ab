// The one place that creates the HangarClient and holds the credentials. Pages call `api()` and
// never see a token. Auth today: username + password buy an API token (Basic), which is kept in
// sessionStorage and sent as Bearer. A later issue swaps this for HttpOnly session cookies; only
// this module should have to change.
import { HangarClient, type FetchFunction } from '@hangar/sdk';

/** Same origin: the server serves the portal and the API side by side. */
const BASE_URL = '';
const STORAGE_KEY = 'hangar.session';
/** Shown in the user's token list, so they can tell portal logins from CLI tokens. */
const TOKEN_NAME = 'portal';
/**
 * A token left behind by a closed tab (no logout) should not live for ever. One day is the
 * shortest the API allows; an expired token sends the user back to the login page.
 */
const TOKEN_DAYS = 1;

interface Session {
  tokenId: string;
  token: string;
}

/**
 * How the last session ended: the login page explains an expiry, and after a logout the app does
 * not offer to return to the page the user left from.
 */
export type SessionEnd = 'expired' | 'logout' | null;

function readStoredSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    return typeof parsed.token === 'string' && typeof parsed.tokenId === 'string'
      ? { token: parsed.token, tokenId: parsed.tokenId }
      : null;
  } catch {
    // Storage can be unavailable (privacy modes) or hold garbage; both mean "not logged in".
    return null;
  }
}

function writeStoredSession(s: Session | null): void {
  try {
    if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Without storage the session still works until the page is reloaded.
  }
}

let session: Session | null = readStoredSession();
let sessionEnd: SessionEnd = null;
let client = createClient(session);
const listeners = new Set<() => void>();

function notify(): void {
  for (const l of listeners) l();
}

/**
 * A fetch that ends the session when the server says the token is no longer good (revoked,
 * expired, user disabled): every page then falls back to the login screen in one place instead of
 * each showing its own 401. Only the session the client was made for is ended, so a late answer
 * to an old session's request cannot log out a new one.
 */
function watchingFetch(owner: Session | null): FetchFunction {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (res.status === 401 && owner && session === owner) {
      setSession(null);
      sessionEnd = 'expired';
      notify();
    }
    return res;
  };
}

function createClient(s: Session | null): HangarClient {
  return new HangarClient({ baseUrl: BASE_URL, token: s?.token, fetch: watchingFetch(s) });
}

function setSession(s: Session | null): void {
  session = s;
  writeStoredSession(s);
  client = createClient(s);
}

/** The client for the current session (anonymous when logged out: public routes still work). */
export function api(): HangarClient {
  return client;
}

/** Whether a token is held; whether it is still valid is learnt from the next call. */
export function isLoggedIn(): boolean {
  return session !== null;
}

export function lastSessionEnd(): SessionEnd {
  return sessionEnd;
}

/** Subscribes to log-ins and log-outs (for React's useSyncExternalStore); returns the unsubscribe. */
export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Exchanges username + password for an API token and starts a session with it. Rejects with the
 * SDK's HangarApiError (e.g. 401 `unauthenticated` for a wrong password) and leaves the current
 * state untouched then.
 */
export async function logIn(username: string, password: string): Promise<void> {
  const basic = new HangarClient({ baseUrl: BASE_URL, username, password });
  const created = await basic.createToken({ body: { name: TOKEN_NAME, expiresInDays: TOKEN_DAYS } });
  setSession({ tokenId: created.id, token: created.token });
  sessionEnd = null;
  notify();
}

/**
 * Ends the session: forgets the token at once (the app shows the login page in the same render),
 * then revokes it on the server. Resolves when the revoke is done; a failed revoke is ignored
 * because the user asked to leave and the token expires within a day anyway.
 */
export async function logOut(): Promise<void> {
  const current = session;
  const revoker = client;
  setSession(null);
  sessionEnd = 'logout';
  notify();
  if (!current) return;
  try {
    await revoker.revokeToken({ id: current.tokenId });
  } catch {
    // Nothing the user could do about it; see above.
  }
}
