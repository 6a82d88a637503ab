// The Experiments section: experiments, their runs, runs compared, and the dataset versions and
// logged models runs link to. Every page here only reads, so viewers see all of it.
import { matchRoute } from '../../router.js';
import { EXPERIMENT_ID, RUN_ID, type RunTab } from '../../tracking.js';
import { NotFoundPage } from '../NotFoundPage.js';
import { ComparePage } from './ComparePage.js';
import { DatasetPage } from './DatasetPage.js';
import { ExperimentPage } from './ExperimentPage.js';
import { ExperimentsPage } from './ExperimentsPage.js';
import { LoggedModelPage } from './LoggedModelPage.js';
import { RunPage } from './RunPage.js';

const RUN_TABS: readonly RunTab[] = ['metrics', 'artifacts', 'reproducibility'];

/** The page for a path under /experiments; keyed by what it shows, so each starts clean. */
export function TrackingArea({ pathname }: { pathname: string }) {
  if (matchRoute('/experiments', pathname)) return <ExperimentsPage />;
  if (matchRoute('/experiments/compare', pathname)) return <ComparePage />;
  const dataset = matchRoute('/experiments/datasets/:id', pathname);
  if (dataset?.id) return <DatasetPage key={dataset.id} datasetId={dataset.id} />;

  const exp = matchRoute('/experiments/:eid', pathname);
  if (exp?.eid && EXPERIMENT_ID.test(exp.eid)) return <ExperimentPage key={exp.eid} experimentId={exp.eid} />;

  const run =
    matchRoute('/experiments/:eid/runs/:rid', pathname) ?? matchRoute('/experiments/:eid/runs/:rid/:tab', pathname);
  if (run?.eid && run.rid && EXPERIMENT_ID.test(run.eid) && RUN_ID.test(run.rid)) {
    const tab = run.tab === undefined ? 'overview' : RUN_TABS.find((t) => t === run.tab);
    if (tab) return <RunPage key={run.rid} experimentId={run.eid} runId={run.rid} tab={tab} />;
  }

  const model = matchRoute('/experiments/:eid/models/:mid', pathname);
  if (model?.eid && model.mid && EXPERIMENT_ID.test(model.eid))
    return <LoggedModelPage key={model.mid} experimentId={model.eid} modelId={model.mid} />;

  return <NotFoundPage pathname={pathname} />;
}
