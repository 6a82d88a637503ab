import { useEffect, useSyncExternalStore } from 'react';
import { logOut, restoreSession, sessionState, subscribeSession } from './api.js';
import { AppShell } from './components/AppShell.js';
import { ErrorBanner } from './components/ErrorBanner.js';
import { LoadingBlock } from './components/Spinner.js';
import { AdminArea } from './pages/admin/AdminArea.js';
import { ComingSoonPage } from './pages/ComingSoonPage.js';
import { DeploymentsArea } from './pages/deployments/DeploymentsArea.js';
import { JobDetailPage } from './pages/JobDetailPage.js';
import { JobsPage } from './pages/JobsPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { ModelsArea } from './pages/models/ModelsArea.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { OverviewPage } from './pages/OverviewPage.js';
import { ProjectSettingsPage } from './pages/ProjectSettingsPage.js';
import { TokensPage } from './pages/TokensPage.js';
import { TrackingArea } from './pages/tracking/TrackingArea.js';
import { WebhooksArea } from './pages/webhooks/WebhooksArea.js';
import { ProjectProvider } from './project.js';
import { portalPathForMlflowHash } from './mlflow-links.js';
import { matchRoute, Redirect, safeLocalPath, useHashLinks, useLocation } from './router.js';
import { SECTIONS } from './sections.js';
import { SessionProvider, useMe } from './session.js';

/**
 * The route table. On first load the session is restored from the cookie (a reload keeps the user
 * logged in); logged-out visitors see the login page (remembering where they were going in
 * `?next=`), logged-in users the shell with the page for the path.
 */
export function App() {
  const state = useSyncExternalStore(subscribeSession, sessionState);
  const { pathname, search, href } = useLocation();
  // Links into MLflow's UI (`/#/experiments/1/runs/<id>`), which MLflow clients print, land on the
  // portal's pages (main.tsx follows one the page was opened with, before the first render).
  useHashLinks(portalPathForMlflowHash);

  useEffect(() => {
    void restoreSession();
  }, []);

  if (state.status === 'restoring') {
    return (
      <div className="center-page">
        <LoadingBlock label="Loading…" />
      </div>
    );
  }
  if (state.status === 'unavailable') {
    return (
      <div className="center-page">
        <div className="center-page-box">
          <ErrorBanner
            error={state.error}
            title="Could not reach the Hangar server"
            onRetry={() => void restoreSession()}
          />
        </div>
      </div>
    );
  }
  if (state.status === 'anonymous') {
    // After a deliberate logout, start fresh; otherwise (deep link, expired session) come back here.
    const next = href === '/' || state.end === 'logout' ? '' : `?next=${encodeURIComponent(href)}`;
    // The login page renders at once, in the same place in the tree, while the URL catches up.
    return (
      <>
        {pathname !== '/login' && <Redirect to={`/login${next}`} />}
        <LoginPage end={state.end} />
      </>
    );
  }
  if (pathname === '/login') return <Redirect to={safeLocalPath(search.get('next'))} />;
  const { user } = state.session;
  return (
    <SessionProvider user={user}>
      {/* Keyed by user: another account in this tab starts with its own projects. */}
      <ProjectProvider key={user.username} username={user.username}>
        <Shell pathname={pathname} />
      </ProjectProvider>
    </SessionProvider>
  );
}

function Shell({ pathname }: { pathname: string }) {
  const me = useMe();
  return (
    <AppShell user={me} onLogOut={() => void logOut()}>
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
  if (matchRoute('/tokens', pathname)) return <TokensPage />;
  const project = matchRoute('/projects/:project/settings', pathname);
  if (project?.project) return <ProjectSettingsPage key={project.project} name={project.project} />;
  const hooks = matchRoute('/projects/:project/webhooks', pathname);
  if (hooks?.project) return <WebhooksArea key={hooks.project} project={hooks.project} />;
  const hook = matchRoute('/projects/:project/webhooks/:id', pathname);
  if (hook?.project && hook.id) return <WebhooksArea key={hook.project} project={hook.project} id={hook.id} />;
  if (pathname === '/admin' || pathname.startsWith('/admin/')) return <AdminArea pathname={pathname} />;
  if (pathname === '/experiments' || pathname.startsWith('/experiments/')) return <TrackingArea pathname={pathname} />;
  if (pathname === '/models' || pathname.startsWith('/models/')) return <ModelsArea pathname={pathname} />;
  if (pathname === '/deployments' || pathname.startsWith('/deployments/'))
    return <DeploymentsArea pathname={pathname} />;
  const section = SECTIONS.find((s) => !s.ready && matchRoute(s.path, pathname));
  if (section) return <ComingSoonPage section={section} />;
  return <NotFoundPage pathname={pathname} />;
}
