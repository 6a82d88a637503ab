// A deployment's page has only the deployment's name in its path (names are unique server-wide);
// the API wants its project too. This finds it among the user's projects and makes it the current
// one, so the switcher says where the page is.
import { HangarApiError } from '@hangar/sdk';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api.js';
import { useProjects } from '../../project.js';
import { navigate } from '../../router.js';
import { DEPLOYMENTS_PATH } from './deployments.js';

export type Located =
  | { status: 'locating' }
  | { status: 'found'; project: string }
  | { status: 'missing' }
  | { status: 'error'; error: unknown; retry: () => void };

/** Not there, or not for this user: look in the next project. */
const notHere = (err: unknown) => err instanceof HangarApiError && (err.status === 404 || err.status === 403);

/**
 * Finds the project of deployment `name`: the current project first (the usual case, one request),
 * then the user's other projects at once. Once found, that project becomes the current one;
 * choosing another project in the switcher afterwards leaves for that project's deployments list.
 */
export function useDeploymentProject(name: string): Located {
  const { projects, current, select, error: projectsError } = useProjects();
  const [found, setFound] = useState<{ name: string; project: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const ready = projects !== null && current !== null;
  // The current project when the search starts; later switches do not restart it.
  const first = useRef<string | null>(null);
  if (ready && first.current === null) first.current = current.name;

  useEffect(() => {
    if (!ready || !projects) return;
    const ac = new AbortController();
    setError(null);
    const look = async () => {
      const order = [first.current!, ...projects.map((p) => p.name).filter((p) => p !== first.current)];
      const probe = (project: string) =>
        api()
          .getDeployment({ project, name }, { signal: ac.signal })
          .then(
            () => project,
            (err: unknown) => {
              if (notHere(err)) return null;
              throw err;
            },
          );
      const here = await probe(order[0]!);
      if (here !== null) return here;
      const elsewhere = await Promise.all(order.slice(1).map(probe));
      return elsewhere.find((p) => p !== null) ?? null;
    };
    look().then(
      (project) => !ac.signal.aborted && setFound({ name, project }),
      (err: unknown) => !ac.signal.aborted && setError(err),
    );
    return () => ac.abort();
    // `projects` is read once it is there; a later reload of the list does not move the page.
  }, [name, ready, attempt]);

  // Which project the page switched to, and whether the switch has shown up yet.
  const synced = useRef<{ project: string; settled: boolean } | null>(null);
  const project = found?.name === name ? found.project : null;
  useEffect(() => {
    if (!project || !current || !projects?.some((p) => p.name === project)) return;
    if (synced.current?.project !== project) {
      synced.current = { project, settled: current.name === project };
      if (current.name !== project) select(project);
      return;
    }
    if (!synced.current.settled) {
      if (current.name === project) synced.current.settled = true;
      return;
    }
    if (current.name !== project) navigate(DEPLOYMENTS_PATH);
  }, [project, current, projects, select]);

  if (projectsError !== null && !projects) return { status: 'error', error: projectsError, retry };
  if (projects?.length === 0) return { status: 'missing' };
  if (error !== null) return { status: 'error', error, retry };
  if (found?.name !== name) return { status: 'locating' };
  return project ? { status: 'found', project } : { status: 'missing' };
}
