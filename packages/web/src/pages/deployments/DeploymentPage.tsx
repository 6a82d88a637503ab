import type {
  Deployment,
  GetDeploymentHistoryResponse,
  GetDeploymentStatsResponse,
  GetShadowReportResponse,
  ListPredictionsResponse,
} from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { timeColumn } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, NONE } from '../../format.js';
import { useDocumentTitle } from '../../hooks.js';
import { modelPath } from '../../models.js';
import { useProjects } from '../../project.js';
import { atLeast } from '../../roles.js';
import { Link } from '../../router.js';
import { useMe } from '../../session.js';
import { DeploymentStatusBadge, TrafficBar } from './DeploymentBadges.js';
import { useDeploymentProject } from './deployment-project.js';
import {
  DEPLOYMENTS_PATH,
  formatMs,
  formatMsDelta,
  formatNumber,
  formatRate,
  formatTraffic,
  isLive,
} from './deployments.js';
import { useLive } from './live.js';
import { PredictionsCard } from './PredictionsCard.js';
import { RolloutCard } from './RolloutCard.js';

/** Predictions the page shows (the newest). */
const PREDICTIONS = 50;
/** The stats window, in minutes. */
const STATS_MINUTES = 15;

interface Detail {
  deployment: Deployment;
  predictions: ListPredictionsResponse['predictions'];
  stats: GetDeploymentStatsResponse;
  history: GetDeploymentHistoryResponse['revisions'];
  /** Only while the latest rollout is a shadow rollout. */
  shadow: GetShadowReportResponse | null;
}

/** Everything the page shows, in one round of requests (the deployment first: it says what else to ask). */
async function loadDetail(project: string, name: string, signal: AbortSignal): Promise<Detail> {
  const deployment = await api().getDeployment({ project, name }, { signal });
  const [predictions, stats, history, shadow] = await Promise.all([
    api().listPredictions({ project, name, limit: PREDICTIONS }, { signal }),
    api().getDeploymentStats({ project, name, minutes: STATS_MINUTES }, { signal }),
    api().getDeploymentHistory({ project, name }, { signal }),
    deployment.rollout?.strategy === 'shadow' ? api().getShadowReport({ project, name }, { signal }) : null,
  ]);
  return { deployment, predictions: predictions.predictions, stats, history: history.revisions, shadow };
}

const backLink = (
  <Link to={DEPLOYMENTS_PATH} className="text-link back-link">
    ← Deployments
  </Link>
);

/** A deployment's page, once its project is known (see useDeploymentProject). */
export function DeploymentPage({ name }: { name: string }) {
  useDocumentTitle(name);
  const located = useDeploymentProject(name);
  if (located.status === 'found') return <DeploymentView project={located.project} name={name} />;
  return (
    <>
      {backLink}
      <PageHeader title={name} />
      {located.status === 'locating' && <LoadingBlock label="Loading the deployment…" />}
      {located.status === 'error' && (
        <ErrorBanner error={located.error} title="Could not load this deployment" onRetry={located.retry} />
      )}
      {located.status === 'missing' && (
        <Card>
          <EmptyState title="No such deployment">
            <p>
              There is no deployment <code>{name}</code> in your projects. It may have been deleted, or it belongs to a
              project you are not a member of.
            </p>
          </EmptyState>
        </Card>
      )}
    </>
  );
}

/**
 * Status, traffic split, the current rollout with its analyses, the shadow comparison, per-version
 * stats, recent predictions and the traffic history; refreshed every 2 s while visible.
 * Maintainers (and platform admins) get Rollback and the rollout's controls.
 */
function DeploymentView({ project, name }: { project: string; name: string }) {
  const me = useMe();
  const { current } = useProjects();
  const role = current?.name === project ? current.role : null;
  const canAct = me.isAdmin || atLeast(role, 'maintainer');
  const live = useLive((signal) => loadDetail(project, name, signal), [project, name]);
  const [confirmRollback, setConfirmRollback] = useState(false);
  const [result, setResult] = useState<string | null>(null);

  const changed = (message: string) => {
    setResult(message);
    live.reload();
  };

  const detail = live.data;
  if (!detail) {
    return (
      <>
        {backLink}
        <PageHeader title={name} />
        {live.error !== null ? (
          <ErrorBanner error={live.error} title="Could not load this deployment" onRetry={live.reload} />
        ) : (
          <LoadingBlock label="Loading the deployment…" />
        )}
      </>
    );
  }
  const d = detail.deployment;
  const rollout = d.rollout;
  return (
    <>
      {backLink}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span data-testid="deployment-title">{d.name}</span>
            <DeploymentStatusBadge status={d.status} />
          </span>
        }
        subtitle={
          <>
            Model{' '}
            <Link to={modelPath(project, d.model)} className="text-link">
              {d.model}
            </Link>{' '}
            · {d.environment} · runtime {d.runtime} · project {project} · created {formatDateTime(d.createdAt)} by{' '}
            {d.createdBy}
          </>
        }
        actions={
          canAct && (
            <Button variant="danger" onClick={() => setConfirmRollback(true)} data-testid="rollback">
              Rollback
            </Button>
          )
        }
      />
      {live.error !== null && (
        <ErrorBanner error={live.error} title="Could not refresh this deployment" onRetry={live.reload} />
      )}
      {d.status === 'failed' && (
        <Banner tone="danger" title="This deployment failed to load" data-testid="deployment-failure">
          <p className="banner-message">{d.failure ?? 'No reason was given.'}</p>
          <p className="banner-message">Its traffic stays where it was.</p>
        </Banner>
      )}
      {result && (
        <Banner
          tone="success"
          data-testid="action-result"
          actions={
            <Button size="sm" variant="ghost" onClick={() => setResult(null)}>
              Dismiss
            </Button>
          }
        >
          <p className="banner-message">{result}</p>
        </Banner>
      )}
      <TrafficCard deployment={d} />
      {rollout && (
        <RolloutCard
          key={rollout.id}
          project={project}
          deployment={d.name}
          rollout={rollout}
          canAct={canAct}
          onChanged={changed}
        />
      )}
      {detail.shadow && rollout?.strategy === 'shadow' && (
        <ShadowCard report={detail.shadow} candidate={rollout.candidateVersion} />
      )}
      <StatsCard stats={detail.stats} />
      <PredictionsCard predictions={detail.predictions} />
      <HistoryCard revisions={detail.history} />
      {confirmRollback && (
        <ConfirmDialog
          title={`Roll back ${d.name}?`}
          confirmLabel="Roll back"
          danger
          onClose={() => setConfirmRollback(false)}
          onConfirm={async () => {
            const after = await api().rollbackDeployment({ project, name: d.name });
            setConfirmRollback(false);
            changed(`Rolled back: ${formatTraffic(after.traffic)}.`);
          }}
        >
          <RollbackExplain deployment={d} />
        </ConfirmDialog>
      )}
    </>
  );
}

/** What a rollback will do, in the server's terms (docs/serving.md, Rollback). */
function RollbackExplain({ deployment: d }: { deployment: Deployment }) {
  const onStable = d.traffic.length === 1 && d.traffic[0]!.version === d.stableVersion && d.traffic[0]!.weight === 100;
  const ending = [
    isLive(d.rollout) ? `the ${d.rollout!.strategy} rollout of v${d.rollout!.candidateVersion}` : null,
    !onStable ? `the split ${formatTraffic(d.traffic)}` : null,
    d.shadow && !isLive(d.rollout) ? `the shadow of v${d.shadow.version}` : null,
  ].filter(Boolean);
  if (ending.length === 0 && d.previousVersion !== null) {
    return (
      <p>
        All traffic is on the stable version v{d.stableVersion} already: it goes back to v{d.previousVersion}, the
        version before the last promotion, at once.
      </p>
    );
  }
  return (
    <p>
      All traffic goes back to the stable version <strong>v{d.stableVersion}</strong> at once
      {ending.length > 0 ? `, ending ${ending.join(' and ')}` : ''}. Requests already running finish on the version they
      started on.
    </p>
  );
}

function TrafficCard({ deployment: d }: { deployment: Deployment }) {
  return (
    <Card title="Traffic">
      <div data-testid="traffic">
        <p className="traffic-summary">
          <strong data-testid="traffic-split">{formatTraffic(d.traffic)}</strong>
        </p>
        <TrafficBar traffic={d.traffic} />
        <dl className="kv kv-wide traffic-kv">
          <dt>Stable version</dt>
          <dd data-testid="stable-version">v{d.stableVersion}</dd>
          <dt>Before the last promotion</dt>
          <dd>{d.previousVersion === null ? NONE : `v${d.previousVersion}`}</dd>
          <dt>Shadow</dt>
          <dd data-testid="shadow-policy">
            {d.shadow ? `v${d.shadow.version} gets a copy of ${d.shadow.percent}% of requests` : NONE}
          </dd>
          <dt>Revision</dt>
          <dd>{d.revision}</dd>
          <dt>Sticky routing</dt>
          <dd>
            {d.routingKey
              ? d.routingKey.header
                ? `header ${d.routingKey.header}`
                : `field ${d.routingKey.field ?? ''}`
              : 'off (requests are assigned at random)'}
          </dd>
          <dt>Batching</dt>
          <dd>
            {d.batching ? `up to ${d.batching.maxBatchSize} rows, waiting at most ${d.batching.maxDelayMs} ms` : 'off'}
          </dd>
          {d.external && (
            <>
              <dt>External server</dt>
              <dd className="mono small">{d.external.url}</dd>
            </>
          )}
        </dl>
      </div>
    </Card>
  );
}

/** The shadow version's answers against the primary's, on the same requests. */
function ShadowCard({ report: s, candidate }: { report: GetShadowReportResponse; candidate: number }) {
  return (
    <Card title={`Shadow comparison: v${candidate} against the primary`}>
      <div className="kv-columns" data-testid="shadow-report">
        <div>
          <p className="stat-big" data-testid="agreement-rate">
            {formatRate(s.agreementRate)}
          </p>
          <p className="muted small">agreement on {s.compared} compared requests</p>
        </div>
        <dl className="kv">
          <dt>Mirrored requests</dt>
          <dd data-testid="shadow-requests">{s.requests}</dd>
          <dt>Compared</dt>
          <dd data-testid="shadow-compared">{s.compared}</dd>
          <dt>Shadow errors</dt>
          <dd>{s.shadowErrors}</dd>
        </dl>
        <dl className="kv">
          <dt>Output delta</dt>
          <dd data-testid="output-delta">
            {s.outputDelta
              ? `mean ${formatNumber(s.outputDelta.mean)} · p99 ${formatNumber(s.outputDelta.p99)} · max ${formatNumber(s.outputDelta.max)}`
              : `${NONE} (labels are compared)`}
          </dd>
          <dt>Latency delta</dt>
          <dd data-testid="latency-delta">
            p50 {formatMsDelta(s.latencyDeltaMs.p50)} · p99 {formatMsDelta(s.latencyDeltaMs.p99)}
          </dd>
        </dl>
      </div>
    </Card>
  );
}

type VersionStats = GetDeploymentStatsResponse['versions'][number];

function StatsCard({ stats }: { stats: GetDeploymentStatsResponse }) {
  const columns: Column<VersionStats>[] = [
    { key: 'version', header: 'Version', width: '6rem', render: (v) => `v${v.version}` },
    { key: 'requests', header: 'Requests', align: 'right', render: (v) => v.requests },
    { key: 'errors', header: 'Errors', align: 'right', render: (v) => v.errors },
    {
      key: 'errorRate',
      header: 'Error rate',
      align: 'right',
      render: (v) => formatRate(v.requests ? v.errors / v.requests : null),
    },
    { key: 'p50', header: 'p50', align: 'right', render: (v) => formatMs(v.p50Ms) },
    { key: 'p99', header: 'p99', align: 'right', render: (v) => formatMs(v.p99Ms) },
  ];
  return (
    <Card title={`Per version, last ${stats.windowMinutes} minutes`} flush>
      <div data-testid="stats">
        <Table
          columns={columns}
          rows={stats.versions}
          rowKey={(v) => String(v.version)}
          rowAttributes={(v) => ({ 'data-version': String(v.version) })}
          caption="Requests, errors and latency per version"
          empty="No requests in this window."
        />
      </div>
    </Card>
  );
}

type Revision = GetDeploymentHistoryResponse['revisions'][number];

function HistoryCard({ revisions }: { revisions: readonly Revision[] }) {
  const columns: Column<Revision>[] = [
    { key: 'revision', header: 'Revision', width: '6rem', render: (r) => r.revision },
    { key: 'traffic', header: 'Traffic', width: '13rem', render: (r) => formatTraffic(r.traffic) },
    {
      key: 'shadow',
      header: 'Shadow',
      width: '7rem',
      render: (r) => (r.shadow ? `v${r.shadow.version} · ${r.shadow.percent}%` : NONE),
    },
    { key: 'stable', header: 'Stable', width: '5rem', render: (r) => `v${r.stableVersion}` },
    {
      key: 'reason',
      header: 'Why',
      render: (r) => (
        <span className="release-history-cell" data-reason>
          {r.reason}
        </span>
      ),
    },
    { key: 'actor', header: 'By', width: '7rem', render: (r) => r.actor },
    timeColumn('at', 'When', (r) => r.at, '9.5rem'),
  ];
  return (
    <Card title="Traffic history" flush>
      <div data-testid="history">
        <Table
          columns={columns}
          rows={revisions}
          rowKey={(r) => String(r.revision)}
          rowAttributes={(r) => ({ 'data-revision': String(r.revision) })}
          caption="Traffic changes, newest first"
          empty="No changes yet."
        />
      </div>
    </Card>
  );
}
