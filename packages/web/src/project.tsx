// The project the user works in: chosen with the switcher in the top bar, remembered per user in
// localStorage (so a reload or a new tab comes back to it), and shared with every page.
import type { Project } from '@hangar/sdk';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from './api.js';
import { useResource } from './hooks.js';

export interface ProjectContextValue {
  /** The caller's projects (each with the caller's role); null until loaded. */
  projects: readonly Project[] | null;
  /** Why the list could not be loaded, if it could not. */
  error: unknown;
  /** The chosen project; null while loading or when the caller has none. */
  current: Project | null;
  select: (name: string) => void;
  /** Reloads the list (after creating a project or changing a membership). */
  reload: () => void;
}

const ProjectContext = createContext<ProjectContextValue | null>(null);

/** Only valid below `ProjectProvider`. */
export function useProjects(): ProjectContextValue {
  const value = useContext(ProjectContext);
  if (!value) throw new Error('useProjects() outside <ProjectProvider>');
  return value;
}

function storageKey(username: string): string {
  return `hangar.project.${username}`;
}

function readChoice(username: string): string | null {
  try {
    return localStorage.getItem(storageKey(username));
  } catch {
    // Storage can be unavailable (privacy modes); the switcher then forgets on reload.
    return null;
  }
}

function writeChoice(username: string, name: string): void {
  try {
    localStorage.setItem(storageKey(username), name);
  } catch {
    // See readChoice.
  }
}

/**
 * The remembered project if the user still has a role in it, else `default` (every new user's
 * team owns it), else the first one.
 */
function choose(projects: readonly Project[], wanted: string | null): Project | null {
  return projects.find((p) => p.name === wanted) ?? projects.find((p) => p.name === 'default') ?? projects[0] ?? null;
}

/** Loads the caller's projects and tracks the chosen one. */
export function ProjectProvider({ username, children }: { username: string; children: ReactNode }) {
  const list = useResource((signal) => api().listProjects({ signal }), []);
  const [wanted, setWanted] = useState(() => readChoice(username));

  const select = useCallback(
    (name: string) => {
      writeChoice(username, name);
      setWanted(name);
    },
    [username],
  );

  const projects = list.data?.items ?? null;
  const current = projects ? choose(projects, wanted) : null;

  // Remember the fallback too, so the choice is stable once the list is known.
  useEffect(() => {
    if (current && current.name !== wanted) writeChoice(username, current.name);
  }, [current, wanted, username]);

  const value = useMemo<ProjectContextValue>(
    () => ({ projects, error: list.error, current, select, reload: list.reload }),
    [projects, list.error, current, select, list.reload],
  );
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}
