import { api } from '../../api.js';
import { Badge, RunStatusBadge } from '../../components/Badge.js';
import { CopyButton } from '../../components/CopyButton.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { TabNav } from '../../components/TabNav.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link, Redirect } from '../../router.js';
import { experimentPath, runPath, type RunTab } from '../../tracking.js';
import { ArtifactBrowser } from './ArtifactBrowser.js';
import { useFollowProject } from './project-sync.js';
import { RunMetrics } from './RunMetrics.js';
import { RunOverview } from './RunOverview.js';
import { RunReproducibility } from './RunReproducibility.js';

const TABS: readonly { tab: RunTab; label: string }[] = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'metrics', label: 'Metric charts' },
  { tab: 'artifacts', label: 'Artifacts' },
  { tab: 'reproducibility', label: 'Reproducibility' },
];

/**
 * One run: an overview (details, params, latest metrics, tags, child runs), its metric charts,
 * its artifacts with previews, and its reproducibility record. Each tab has its own URL.
 */
export function RunPage({ experimentId, runId, tab }: { experimentId: string; runId: string; tab: RunTab }) {
  const run = useResource((signal) => api().getRun({ id: runId }, { signal }), [runId]);
  const r = run.data;
  const experiment = useResource(
    (signal) => api().getExperiment({ id: r?.info.experimentId ?? experimentId }, { signal }),
    [r?.info.experimentId ?? experimentId],
  );
  const exp = experiment.data;
  useFollowProject(exp?.projectId);
  useDocumentTitle(r ? `${r.info.runName || runId} · ${exp?.name ?? 'run'}` : `Run ${runId}`);

  const back = (
    <Link to={experimentPath(r?.info.experimentId ?? experimentId)} className="text-link back-link">
      ← {exp?.name ?? `Experiment ${experimentId}`}
    </Link>
  );
  if (!r) {
    return (
      <>
        {back}
        <PageHeader title={<span className="mono">{runId}</span>} />
        {run.error !== null ? (
          <ErrorBanner error={run.error} title="Could not load this run" onRetry={run.reload} />
        ) : (
          <LoadingBlock label="Loading run…" />
        )}
      </>
    );
  }
  // A link with the wrong experiment (hand-made, or the run was moved) goes to the right one.
  if (r.info.experimentId !== experimentId) {
    return <Redirect to={runPath(r.info.experimentId, runId, tab) + window.location.search} />;
  }

  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span data-testid="run-name">{r.info.runName || runId}</span>
            <span data-testid="run-status">
              <RunStatusBadge status={r.info.status} />
            </span>
            {r.info.lifecycleStage === 'deleted' && <Badge tone="warning">deleted</Badge>}
          </span>
        }
        subtitle={
          <span className="run-id-line">
            Run{' '}
            <span className="mono" data-testid="run-id">
              {runId}
            </span>{' '}
            <CopyButton value={runId} label="Copy ID" />
          </span>
        }
      />
      <TabNav
        label="Run"
        items={TABS.map((t) => ({
          to: runPath(experimentId, runId, t.tab),
          label: t.tab === 'metrics' ? `${t.label} (${r.data.metrics.length})` : t.label,
          active: t.tab === tab,
        }))}
      />
      {run.error !== null && <ErrorBanner error={run.error} title="Could not refresh this run" onRetry={run.reload} />}
      {tab === 'overview' && <RunOverview run={r} />}
      {tab === 'metrics' && <RunMetrics run={r} />}
      {tab === 'artifacts' && <ArtifactBrowser run={r} />}
      {tab === 'reproducibility' && <RunReproducibility run={r} />}
    </>
  );
}
