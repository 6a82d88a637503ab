// Project and team roles as the server defines them (packages/server/src/modules/projects/roles.ts),
// for choosing one in a form and deciding which controls to offer. The server decides; the portal
// only avoids offering what would be refused.
import type { Project, TeamMember } from '@hangar/sdk';

export type ProjectRole = Project['role'];
export type TeamRole = TeamMember['role'];

/** Weakest first. */
export const PROJECT_ROLES: readonly ProjectRole[] = ['viewer', 'developer', 'maintainer', 'admin'];
export const TEAM_ROLES: readonly TeamRole[] = ['member', 'lead'];

export const PROJECT_ROLE_ABOUT: Record<ProjectRole, string> = {
  viewer: 'reads the project',
  developer: 'also works in it: runs, experiments, models',
  maintainer: 'also manages its secrets and reads its audit log',
  admin: 'also manages its members and settings',
};

export function atLeast(role: ProjectRole | null | undefined, min: ProjectRole): boolean {
  return role != null && PROJECT_ROLES.indexOf(role) >= PROJECT_ROLES.indexOf(min);
}
