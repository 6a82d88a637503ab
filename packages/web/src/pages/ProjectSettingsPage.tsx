import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Banner } from '../components/Banner.js';
import { Card } from '../components/Card.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { PageHeader } from '../components/PageHeader.js';
import { LoadingBlock } from '../components/Spinner.js';
import { formatDateTime, NONE } from '../format.js';
import { useDocumentTitle, useResource } from '../hooks.js';
import { useProjects } from '../project.js';
import { atLeast } from '../roles.js';
import { Link } from '../router.js';
import { webhooksPath } from '../webhooks.js';
import { ProjectActivityCard } from './ProjectActivityCard.js';
import { ProjectMembersCard } from './ProjectMembersCard.js';

/**
 * A project's settings for the people in it: what it is, who is in it, and (for project admins)
 * granting, changing and removing roles; maintainers and admins also see its recent audit events
 * and the way to its webhooks.
 * Opening it makes the project the current one.
 */
export function ProjectSettingsPage({ name }: { name: string }) {
  useDocumentTitle(`${name} settings`);
  const { projects, current, select, reload: reloadProjects } = useProjects();
  const project = useResource((signal) => api().getProject({ project: name }, { signal }), [name]);
  // Bumped by every membership change, so the activity below shows it.
  const [changes, setChanges] = useState(0);

  const known = projects?.some((p) => p.name === name) ?? false;
  useEffect(() => {
    if (known && current?.name !== name) select(name);
  }, [known, current?.name, name, select]);

  if (project.error !== null && !project.data) {
    return (
      <>
        <PageHeader title="Project settings" />
        <ErrorBanner error={project.error} title={`Could not load project ${name}`} onRetry={project.reload} />
      </>
    );
  }
  const p = project.data;
  if (!p) return <LoadingBlock label="Loading the project…" />;
  const canManage = atLeast(p.role, 'admin');
  return (
    <>
      <PageHeader
        title="Project settings"
        subtitle={
          <>
            {p.displayName || p.name} · your role <Badge tone="info">{p.role}</Badge>
          </>
        }
      />
      <Card title="Project">
        <dl className="kv" data-testid="project-info">
          <dt>Name</dt>
          <dd className="mono">{p.name}</dd>
          <dt>Display name</dt>
          <dd>{p.displayName || NONE}</dd>
          <dt>Team</dt>
          <dd className="mono">{p.team}</dd>
          <dt>Description</dt>
          <dd>{p.description || NONE}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(p.createdAt)}</dd>
        </dl>
      </Card>
      {!canManage && (
        <Banner tone="info">
          <p>Only project admins (and leads of the owning team) can change who is in this project.</p>
        </Banner>
      )}
      <ProjectMembersCard
        project={p.name}
        canManage={canManage}
        onChanged={() => {
          project.reload();
          reloadProjects();
          setChanges((n) => n + 1);
        }}
      />
      {atLeast(p.role, 'maintainer') && (
        <Card
          title="Webhooks"
          actions={
            <Link to={webhooksPath(p.name)} className="text-link">
              Manage webhooks
            </Link>
          }
        >
          <p className="muted small">
            Signed POSTs to your URLs when versions are registered, gates pass or fail, approvals are decided and
            releases are promoted or rolled back; each with its delivery log.
          </p>
        </Card>
      )}
      {atLeast(p.role, 'maintainer') && <ProjectActivityCard project={p.name} version={changes} />}
    </>
  );
}
