// Who is logged in, loaded once per session and shared with every page (the top bar, Overview,
// admin-only controls). Credentials themselves stay in api.ts.
import type { WhoamiResponse } from '@hangar/sdk';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, logOut } from './api.js';
import { Button } from './components/Button.js';
import { ErrorBanner } from './components/ErrorBanner.js';
import { LoadingBlock } from './components/Spinner.js';

const MeContext = createContext<WhoamiResponse | null>(null);

/** The logged-in user; only valid below `SessionProvider`. */
export function useMe(): WhoamiResponse {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe() outside <SessionProvider>');
  return me;
}

/**
 * Loads the current user and renders its children once it is known. A 401 here ends the session
 * (api.ts notices and the app shows the login page); other failures offer a retry.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<WhoamiResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    api()
      .whoami({ signal: ac.signal })
      .then(setMe)
      .catch((err: unknown) => {
        if (!ac.signal.aborted) setError(err);
      });
    return () => ac.abort();
  }, [attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  if (error) {
    return (
      <div className="center-page">
        <div className="center-page-box">
          <ErrorBanner error={error} title="Could not load your account" onRetry={retry} />
          <Button variant="ghost" onClick={() => void logOut()}>
            Log out
          </Button>
        </div>
      </div>
    );
  }
  if (!me) {
    return (
      <div className="center-page">
        <LoadingBlock label="Loading your account…" />
      </div>
    );
  }
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}
