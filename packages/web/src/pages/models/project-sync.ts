// Model pages name their project in the path; the project switcher should say which.
import { useEffect, useRef } from 'react';
import { useProjects } from '../../project.js';
import { navigate } from '../../router.js';
import { MODELS_PATH } from '../../models.js';

/**
 * Makes the project in the page's path the current one when the page opens (as the tracking pages
 * do for an experiment's project). Choosing another project in the switcher afterwards leaves the
 * page for that project's models list.
 */
export function useFollowProjectName(project: string): void {
  const { projects, current, select } = useProjects();
  // Which project the page has switched to, and whether the switch has shown up yet.
  const synced = useRef<{ name: string; settled: boolean } | null>(null);
  useEffect(() => {
    if (!projects || !current) return;
    // Platform admins can read projects they are not in: nothing to switch to then.
    if (!projects.some((p) => p.name === project)) return;
    if (synced.current?.name !== project) {
      synced.current = { name: project, settled: current.name === project };
      if (current.name !== project) select(project);
      return;
    }
    if (!synced.current.settled) {
      if (current.name === project) synced.current.settled = true;
      return;
    }
    if (current.name !== project) navigate(MODELS_PATH);
  }, [project, projects, current, select]);
}
