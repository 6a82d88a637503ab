// MLflow's clients print links into MLflow's own UI, which routes on the URL fragment:
// `http://host/#/experiments/1/runs/<id>` ("View run ... at: ..."), `/#/experiments/1`, and
// `/#/compare-runs?runs=[...]`. Hangar serves the portal where MLflow serves its UI, so those links
// arrive here; this module maps them onto the portal's own pages.
import { comparePath, EXPERIMENT_ID, experimentPath, loggedModelPath, RUN_ID, runPath } from './tracking.js';

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** A JSON list of strings as MLflow writes them in its compare links, or a comma-separated one. */
function idList(raw: string | null): string[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) return parsed.filter((v): v is string => typeof v === 'string');
  } catch {
    // Not JSON: a plain list.
  }
  return raw.split(',').map((s) => s.trim());
}

/**
 * The portal path for an MLflow UI fragment (`#/experiments/1/runs/<id>`), or null when the
 * fragment is not an MLflow route (the portal's own `#main` skip link, say). Unknown MLflow routes
 * land on the experiments list rather than on a "not found" page.
 */
export function portalPathForMlflowHash(hash: string): string | null {
  if (!hash.startsWith('#/')) return null;
  const [rawPath = '', rawQuery = ''] = hash.slice(1).split('?', 2);
  const query = new URLSearchParams(rawQuery);
  const parts = rawPath
    .split('/')
    .filter(Boolean)
    .map((p) => decode(p));
  if (parts.some((p) => p === null)) return '/experiments';
  const [a, b, c, d, e, ...rest] = parts as string[];

  if (a === 'experiments' && b && EXPERIMENT_ID.test(b)) {
    if ((c === 'runs' || c === 'runs-detail') && d && RUN_ID.test(d)) {
      // `.../runs/<id>/artifactPath/model/MLmodel` (MLflow 2) opens that artifact.
      if (e === 'artifactPath' || e === 'artifacts') {
        const path = rest.join('/');
        return runPath(b, d, 'artifacts', path || undefined);
      }
      if (e === 'model-metrics' || e === 'metrics') return runPath(b, d, 'metrics');
      return runPath(b, d);
    }
    if (c === 'models' && d && /^m-[0-9a-f]{32}$/.test(d)) return loggedModelPath(b, d);
    const filter = query.get('searchFilter');
    return filter ? `${experimentPath(b)}?filter=${encodeURIComponent(filter)}` : experimentPath(b);
  }
  if (a === 'compare-runs' || a === 'compare-experiments' || a === 'metric') {
    const runs = idList(query.get('runs')).filter((id) => RUN_ID.test(id));
    if (runs.length === 1) {
      const exp = idList(query.get('experiments')).find((id) => EXPERIMENT_ID.test(id));
      if (exp) return runPath(exp, runs[0]!, 'metrics');
    }
    if (runs.length) return comparePath(runs);
  }
  if (a === 'models') return '/models';
  return '/experiments';
}
