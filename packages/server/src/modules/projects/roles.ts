import type { ProjectRole, TeamRole } from '../../db/schema.js';

/** Project roles, weakest first; each includes every power of the ones before it. */
export const PROJECT_ROLES = ['viewer', 'developer', 'maintainer', 'admin'] as const satisfies readonly ProjectRole[];
export const TEAM_ROLES = ['member', 'lead'] as const satisfies readonly TeamRole[];

const RANK: Record<ProjectRole, number> = { viewer: 1, developer: 2, maintainer: 3, admin: 4 };

export function atLeast(role: ProjectRole | null, min: ProjectRole): boolean {
  return role !== null && RANK[role] >= RANK[min];
}

export function strongest(a: ProjectRole | null, b: ProjectRole | null): ProjectRole | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * What membership of the owning team grants on its projects: team leads administer them, members
 * develop in them. A direct grant on the project can raise this, never lower it.
 */
export function roleFromTeam(team: TeamRole | null): ProjectRole | null {
  if (team === 'lead') return 'admin';
  if (team === 'member') return 'developer';
  return null;
}
