import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { formatDateTime, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { useProjects } from '../../project.js';
import { Link, useOneTimeFlag } from '../../router.js';
import { ProjectMembersCard } from '../ProjectMembersCard.js';

/** One project for a platform admin: what it is, and its members with their roles. */
export function ProjectDetailPage({ name }: { name: string }) {
  useDocumentTitle(`Project ${name}`);
  const { reload: reloadProjects } = useProjects();
  const project = useResource((signal) => api().getProject({ project: name }, { signal }), [name]);
  const justCreated = useOneTimeFlag('created');
  const [notice] = useState(justCreated ? `Created project ${name}.` : null);

  const back = (
    <Link to="/admin/projects" className="text-link back-link">
      ← All projects
    </Link>
  );
  if (project.error !== null && !project.data) {
    return (
      <>
        {back}
        <PageHeader title={`Project ${name}`} />
        <ErrorBanner error={project.error} title="Could not load the project" onRetry={project.reload} />
      </>
    );
  }
  const p = project.data;
  if (!p) return <LoadingBlock label="Loading the project…" />;
  return (
    <>
      {back}
      <PageHeader
        title={<span className="mono">{p.name}</span>}
        subtitle={p.displayName && p.displayName !== p.name ? p.displayName : undefined}
      />
      {notice && (
        <Banner tone="success">
          <p>{notice}</p>
        </Banner>
      )}
      <Card title="Project">
        <dl className="kv" data-testid="project-info">
          <dt>Owning team</dt>
          <dd>
            <Link to={`/admin/teams/${encodeURIComponent(p.team)}`} className="text-link mono">
              {p.team}
            </Link>
          </dd>
          <dt>Description</dt>
          <dd>{p.description || NONE}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(p.createdAt)}</dd>
        </dl>
      </Card>
      <ProjectMembersCard project={p.name} canManage onChanged={reloadProjects} />
    </>
  );
}
