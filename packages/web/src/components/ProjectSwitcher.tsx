import { useId } from 'react';
import { useProjects } from '../project.js';
import { Select } from './Input.js';

/**
 * The project the portal works in, in the top bar. The choice is remembered (see project.tsx);
 * the role in each project is shown so users know what they may do there.
 */
export function ProjectSwitcher() {
  const { projects, current, select, error } = useProjects();
  const id = useId();
  if (error !== null && !projects) {
    return <span className="project-switcher muted small">Projects unavailable</span>;
  }
  if (!projects) return <span className="project-switcher muted small">Loading projects…</span>;
  if (projects.length === 0) {
    return (
      <span className="project-switcher muted small" data-testid="no-projects">
        No projects yet
      </span>
    );
  }
  return (
    <div className="project-switcher">
      <label htmlFor={id} className="project-switcher-label">
        Project
      </label>
      <Select
        id={id}
        className="project-switcher-select"
        value={current?.name ?? ''}
        onChange={(e) => select(e.target.value)}
        data-testid="project-switcher"
      >
        {projects.map((p) => (
          <option key={p.id} value={p.name}>
            {p.displayName && p.displayName !== p.name ? `${p.displayName} (${p.name})` : p.name} · {p.role}
          </option>
        ))}
      </Select>
    </div>
  );
}
