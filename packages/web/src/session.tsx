// Who is logged in, shared with every page (the top bar, Overview, admin-only controls). The
// session itself (cookie, CSRF token) stays in api.ts; this only hands its user down the tree.
import type { User } from '@hangar/sdk';
import { createContext, useContext, type ReactNode } from 'react';

const MeContext = createContext<User | null>(null);

/** The logged-in user; only valid below `SessionProvider`. */
export function useMe(): User {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe() outside <SessionProvider>');
  return me;
}

/** Provides the session's user to the pages below it. */
export function SessionProvider({ user, children }: { user: User; children: ReactNode }) {
  return <MeContext.Provider value={user}>{children}</MeContext.Provider>;
}
