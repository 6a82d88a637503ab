import { useSyncExternalStore } from 'react';
import { isLoggedIn, lastSessionEnd, logOut, subscribeSession } from './api.js';
import { AppShell } from './components/AppShell.js';
import { ComingSoonPage } from './pages/ComingSoonPage.js';
import { JobDetailPage } from './pages/JobDetailPage.js';
import { JobsPage } from './pages/JobsPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { OverviewPage } from './pages/OverviewPage.js';
import { matchRoute, Redirect, safeLocalPath, useLocation } from './router.js';
import { SECTIONS } from './sections.js';
import { SessionProvider, useMe } from './session.js';

/**
 * The route table: logged-out visitors see the login page (remembering where they were going in
 * `?next=`), logged-in users the shell with the page for the path.
 */
export function App() {
  const loggedIn = useSyncExternalStore(subscribeSession, isLoggedIn);
  const { pathname, search, href } = useLocation();

  if (!loggedIn) {
    // After a deliberate logout, start fresh; otherwise (deep link, expired token) come back here.
    const next = href === '/' || lastSessionEnd() === 'logout' ? '' : `?next=${encodeURIComponent(href)}`;
    // The login page renders at once, in the same place in the tree, while the URL catches up.
    return (
      <>
        {pathname !== '/login' && <Redirect to={`/login${next}`} />}
        <LoginPage />
      </>
    );
  }
  if (pathname === '/login') return <Redirect to={safeLocalPath(search.get('next'))} />;
  return (
    <SessionProvider>
      <Shell pathname={pathname} />
    </SessionProvider>
  );
}

function Shell({ pathname }: { pathname: string }) {
  const me = useMe();
  const onLogOut = () => void logOut();
  return (
    <AppShell user={me} onLogOut={onLogOut}>
      <Page pathname={pathname} />
    </AppShell>
  );
}

function Page({ pathname }: { pathname: string }) {
  if (pathname === '/') return <OverviewPage />;
  if (matchRoute('/jobs', pathname)) return <JobsPage />;
  const job = matchRoute('/jobs/:id', pathname);
  // Keyed by id so moving from one job to another starts from a clean page.
  if (job?.id) return <JobDetailPage key={job.id} id={job.id} />;
  const section = SECTIONS.find((s) => !s.ready && matchRoute(s.path, pathname));
  if (section) return <ComingSoonPage section={section} />;
  return <NotFoundPage pathname={pathname} />;
}
