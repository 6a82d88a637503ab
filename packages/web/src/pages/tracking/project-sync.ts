// Tracking pages show things of one project; the project switcher should say which.
import { useEffect, useRef } from 'react';
import { useProjects } from '../../project.js';
import { navigate } from '../../router.js';

/**
 * Makes the project of what the page shows (an experiment, a run) the current one when the page
 * opens, as opening a project's settings does. Choosing another project in the switcher afterwards
 * leaves the page for that project's experiments.
 */
export function useFollowProject(projectId: string | undefined): void {
  const { projects, current, select } = useProjects();
  // Which project the page has switched to, and whether the switch has shown up yet (until it
  // has, the current project is still the old one, which is no reason to leave).
  const synced = useRef<{ id: string; settled: boolean } | null>(null);
  useEffect(() => {
    if (!projectId || !projects || !current) return;
    const own = projects.find((p) => p.id === projectId);
    // Platform admins can read projects they are not in: nothing to switch to then.
    if (!own) return;
    if (synced.current?.id !== projectId) {
      synced.current = { id: projectId, settled: current.id === projectId };
      if (current.id !== projectId) select(own.name);
      return;
    }
    if (!synced.current.settled) {
      if (current.id === projectId) synced.current.settled = true;
      return;
    }
    if (current.id !== projectId) navigate('/experiments');
  }, [projectId, projects, current, select]);
}
