// The admin area: platform admins only. Everyone else gets a plain "not allowed" page for every
// /admin URL (the nav hides the area from them, but a typed or bookmarked URL must not show the
// admin UI; the server refuses its calls anyway).
import { TabNav } from '../../components/TabNav.js';
import { matchRoute, Redirect } from '../../router.js';
import { useMe } from '../../session.js';
import { NotAllowedPage } from '../NotAllowedPage.js';
import { NotFoundPage } from '../NotFoundPage.js';
import { TokensPage } from '../TokensPage.js';
import { AuditPage } from './AuditPage.js';
import { ProjectDetailPage } from './ProjectDetailPage.js';
import { ProjectsPage } from './ProjectsPage.js';
import { TeamDetailPage } from './TeamDetailPage.js';
import { TeamsPage } from './TeamsPage.js';
import { UsersPage } from './UsersPage.js';

const TABS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/teams', label: 'Teams' },
  { to: '/admin/projects', label: 'Projects' },
  { to: '/admin/tokens', label: 'Tokens' },
  { to: '/admin/audit', label: 'Audit log' },
] as const;

export function AdminArea({ pathname }: { pathname: string }) {
  const me = useMe();
  if (!me.isAdmin) return <NotAllowedPage reason="The admin area is for platform admins." />;
  if (pathname === '/admin' || pathname === '/admin/') return <Redirect to="/admin/users" />;
  return (
    <>
      <TabNav
        label="Admin"
        items={TABS.map((t) => ({
          ...t,
          active: pathname === t.to || pathname.startsWith(`${t.to}/`),
        }))}
      />
      <AdminPage pathname={pathname} />
    </>
  );
}

function AdminPage({ pathname }: { pathname: string }) {
  if (matchRoute('/admin/users', pathname)) return <UsersPage />;
  if (matchRoute('/admin/teams', pathname)) return <TeamsPage />;
  const team = matchRoute('/admin/teams/:team', pathname);
  if (team?.team) return <TeamDetailPage key={team.team} name={team.team} />;
  if (matchRoute('/admin/projects', pathname)) return <ProjectsPage />;
  const project = matchRoute('/admin/projects/:project', pathname);
  if (project?.project) return <ProjectDetailPage key={project.project} name={project.project} />;
  if (matchRoute('/admin/tokens', pathname)) return <TokensPage inAdmin />;
  if (matchRoute('/admin/audit', pathname)) return <AuditPage />;
  return <NotFoundPage pathname={pathname} />;
}
