// The Deployments section: the current project's deployments, and each deployment's traffic,
// rollouts, shadow report, stats, predictions and history.
import { matchRoute } from '../../router.js';
import { NotFoundPage } from '../NotFoundPage.js';
import { DeploymentPage } from './DeploymentPage.js';
import { DeploymentsPage } from './DeploymentsPage.js';

/** The page for a path under /deployments; keyed by the deployment, so each starts clean. */
export function DeploymentsArea({ pathname }: { pathname: string }) {
  if (matchRoute('/deployments', pathname)) return <DeploymentsPage />;
  const one = matchRoute('/deployments/:name', pathname);
  if (one?.name) return <DeploymentPage key={one.name} name={one.name} />;
  return <NotFoundPage pathname={pathname} />;
}
