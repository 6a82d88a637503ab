import { useEffect, useRef, type ReactNode } from 'react';
import { Link, useLocation } from '../router.js';
import { SECTIONS, sectionOf } from '../sections.js';
import { useProjects } from '../project.js';
import { atLeast } from '../roles.js';
import { ProjectSwitcher } from './ProjectSwitcher.js';
import { UserMenu } from './UserMenu.js';

export interface AppShellProps {
  user: { username: string; displayName: string; isAdmin: boolean };
  onLogOut: () => void;
  children: ReactNode;
}

/**
 * The frame around every logged-in page: top bar (product, account menu), left nav, and the main
 * area. After a client-side navigation focus moves to the main area, as a full page load would,
 * so keyboard and screen-reader users start at the new content.
 */
export function AppShell({ user, onLogOut, children }: AppShellProps) {
  const { pathname } = useLocation();
  const current = sectionOf(pathname);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Hangar home">
          <span className="brand-mark" aria-hidden="true">
            H
          </span>
          <span className="brand-name">Hangar</span>
        </Link>
        <ProjectSwitcher />
        <div className="topbar-spacer" />
        <UserMenu username={user.username} displayName={user.displayName} isAdmin={user.isAdmin} onLogOut={onLogOut} />
      </header>
      <nav className="sidenav" aria-label="Sections">
        <ul>
          {SECTIONS.filter((s) => !s.adminOnly || user.isAdmin).map((s) => {
            const active = current?.path === s.path;
            return (
              <li key={s.path}>
                <Link
                  to={s.path}
                  className={['nav-link', active ? 'active' : '', s.ready ? '' : 'soon'].filter(Boolean).join(' ')}
                  aria-current={active ? 'page' : undefined}
                >
                  <span>{s.label}</span>
                  {!s.ready && <span className="nav-soon">coming soon</span>}
                </Link>
              </li>
            );
          })}
        </ul>
        <ProjectNav pathname={pathname} />
      </nav>
      <main className="main" id="main" ref={mainRef} tabIndex={-1}>
        <div className="main-inner">{children}</div>
      </main>
    </div>
  );
}

/**
 * The current project's own pages, under the sections. Webhooks are listed for the roles the
 * server lets read them (maintainers and admins) only.
 */
function ProjectNav({ pathname }: { pathname: string }) {
  const { current } = useProjects();
  if (!current) return null;
  const base = `/projects/${encodeURIComponent(current.name)}`;
  const items = [
    { to: `${base}/settings`, label: 'Project settings' },
    ...(atLeast(current.role, 'maintainer') ? [{ to: `${base}/webhooks`, label: 'Webhooks' }] : []),
  ];
  return (
    <div className="sidenav-group">
      <p className="sidenav-heading" title={current.name}>
        {current.displayName || current.name}
      </p>
      <ul>
        {items.map((it) => {
          const active = pathname === it.to || pathname.startsWith(`${it.to}/`);
          return (
            <li key={it.to}>
              <Link
                to={it.to}
                className={active ? 'nav-link active' : 'nav-link'}
                aria-current={active ? 'page' : undefined}
              >
                <span>{it.label}</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
