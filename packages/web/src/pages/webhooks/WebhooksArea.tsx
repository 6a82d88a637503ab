// A project's webhooks: the list and one webhook's delivery log. The server lets only the
// project's maintainers and admins (platform admins included) read or change them, so everyone
// else gets a plain "not allowed" page here rather than a page of refused calls.
import { useEffect } from 'react';
import { api } from '../../api.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { useResource } from '../../hooks.js';
import { useProjects } from '../../project.js';
import { atLeast } from '../../roles.js';
import { NotAllowedPage } from '../NotAllowedPage.js';
import { WebhookPage } from './WebhookPage.js';
import { WebhooksPage } from './WebhooksPage.js';

/** `id` absent: the project's webhooks; present: that webhook. Opening either makes the project current. */
export function WebhooksArea({ project, id }: { project: string; id?: string }) {
  const { projects, current, select } = useProjects();
  const p = useResource((signal) => api().getProject({ project }, { signal }), [project]);

  const known = projects?.some((x) => x.name === project) ?? false;
  useEffect(() => {
    if (known && current?.name !== project) select(project);
  }, [known, current?.name, project, select]);

  if (p.error !== null && !p.data) {
    return (
      <>
        <PageHeader title="Webhooks" />
        <ErrorBanner error={p.error} title={`Could not load project ${project}`} onRetry={p.reload} />
      </>
    );
  }
  if (!p.data) return <LoadingBlock label="Loading the project…" />;
  if (!atLeast(p.data.role, 'maintainer')) {
    return (
      <NotAllowedPage
        reason={`The webhooks of ${project} are managed by its maintainers and admins; your role is ${p.data.role}.`}
      />
    );
  }
  return id === undefined ? <WebhooksPage project={project} /> : <WebhookPage key={id} project={project} id={id} />;
}
