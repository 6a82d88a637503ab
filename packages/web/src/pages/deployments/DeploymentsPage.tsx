import type { Deployment } from '@hangar/sdk';
import { api } from '../../api.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { useDocumentTitle } from '../../hooks.js';
import { modelPath } from '../../models.js';
import { useProjects } from '../../project.js';
import { Link } from '../../router.js';
import { DeploymentStatusBadge, RolloutStatusBadge, TrafficBar } from './DeploymentBadges.js';
import { deploymentPath, formatTraffic, isLive, rolloutSummary } from './deployments.js';
import { useLive } from './live.js';

/**
 * The current project's deployments: model, environment, status, the traffic split, shadow and
 * the current rollout, refreshed every 2 s while the tab is visible (canaries move on their own).
 */
export function DeploymentsPage() {
  useDocumentTitle('Deployments');
  const { current, projects, error: projectsError } = useProjects();
  const project = current?.name ?? null;
  const list = useLive(
    async (signal) => (project ? (await api().listDeployments({ project }, { signal })).deployments : null),
    [project],
  );

  const columns: Column<Deployment>[] = [
    {
      key: 'name',
      header: 'Deployment',
      width: '10rem',
      render: (d) => (
        <Link to={deploymentPath(d.name)} className="job-link">
          {d.name}
        </Link>
      ),
    },
    {
      key: 'model',
      header: 'Model',
      width: '7rem',
      render: (d) => (
        <Link to={modelPath(d.project, d.model)} className="text-link">
          {d.model}
        </Link>
      ),
    },
    { key: 'environment', header: 'Environment', width: '6.5rem', render: (d) => d.environment },
    { key: 'status', header: 'Status', width: '6.5rem', render: (d) => <DeploymentStatusBadge status={d.status} /> },
    {
      key: 'traffic',
      header: 'Traffic',
      width: '10rem',
      render: (d) => (
        <div className="traffic-cell">
          <span data-testid="traffic-text">{formatTraffic(d.traffic)}</span>
          <TrafficBar traffic={d.traffic} compact />
        </div>
      ),
    },
    {
      key: 'shadow',
      header: 'Shadow',
      width: '5.5rem',
      render: (d) =>
        d.shadow ? (
          <span title={`v${d.shadow.version} gets a copy of ${d.shadow.percent}% of requests`}>
            v{d.shadow.version} · {d.shadow.percent}%
          </span>
        ) : (
          <span className="muted">{NONE}</span>
        ),
    },
    {
      key: 'rollout',
      header: 'Rollout',
      render: (d) =>
        d.rollout && isLive(d.rollout) ? (
          <span className="badge-row traffic-cell">
            <RolloutStatusBadge status={d.rollout.status} />
            <span className="small">{rolloutSummary(d.rollout)}</span>
          </span>
        ) : d.rollout ? (
          <span className="muted small">last: {rolloutSummary(d.rollout)}</span>
        ) : (
          <span className="muted">{NONE}</span>
        ),
    },
    timeColumn('updated', 'Updated', (d) => d.updatedAt),
  ];

  if (projects && projects.length === 0) {
    return (
      <>
        <PageHeader title="Deployments" />
        <Card>
          <EmptyState title="No project yet">
            <p>Deployments live in projects. Ask a platform admin or a team lead to add you to one.</p>
          </EmptyState>
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Deployments"
        subtitle={
          current ? (
            <>
              Serving endpoints of <strong>{current.displayName || current.name}</strong>, their traffic and rollouts.
            </>
          ) : undefined
        }
      />
      <Card flush>
        <div data-testid="deployments-table">
          <LoadedTable
            rows={list.data}
            error={list.error ?? (project ? null : projectsError)}
            errorTitle="Could not load deployments"
            onRetry={list.reload}
            loadingLabel="Loading deployments…"
            caption="Deployments"
            columns={columns}
            rowKey={(d) => d.name}
            rowAttributes={(d) => ({ 'data-deployment': d.name })}
            empty={<NoDeployments />}
          />
        </div>
      </Card>
    </>
  );
}

/** How to start: deploy a registered version with the CLI or the API. */
function NoDeployments() {
  return (
    <EmptyState title="No deployments yet">
      <p>
        Deploy a registered model version with the CLI, e.g.{' '}
        <code className="code">hangar deploy churn --model churn --version 3 --wait</code>, or{' '}
        <code className="code">POST /api/v1/projects/&lt;project&gt;/deployments</code>. Maintainers of the project can
        deploy.
      </p>
    </EmptyState>
  );
}
