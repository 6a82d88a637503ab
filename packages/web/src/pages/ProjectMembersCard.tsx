// A project's members and their roles, with grant / change / remove for those allowed to: used by
// the admin area's project page and by the project settings page.
import type { ProjectMember } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../api.js';
import { useResource } from '../hooks.js';
import { PROJECT_ROLE_ABOUT, PROJECT_ROLES, type ProjectRole } from '../roles.js';
import { MembersCard, type MemberRoles } from './MembersCard.js';

const ROLES: MemberRoles<ProjectRole> = {
  all: PROJECT_ROLES,
  about: PROJECT_ROLE_ABOUT,
  initial: 'developer',
  top: 'admin',
  columnWidth: '8rem',
};

export interface ProjectMembersCardProps {
  project: string;
  /** Project admins and platform admins; others see the list only. */
  canManage: boolean;
  /** After any change (the caller's own role may have changed). */
  onChanged?: () => void;
}

/**
 * Everyone with a role in the project: direct grants and members of the owning team (team leads
 * are admins, members developers). A direct grant can raise a team role, never lower it, so only
 * direct grants can be changed or removed here; team roles are changed on the team.
 */
export function ProjectMembersCard({ project, canManage, onChanged }: ProjectMembersCardProps) {
  const members = useResource((signal) => api().listProjectMembers({ project }, { signal }), [project]);
  const [notice, setNotice] = useState<string | null>(null);

  const done = (message: string) => {
    setNotice(message);
    members.reload();
    onChanged?.();
  };

  return (
    <MembersCard<ProjectRole, ProjectMember>
      members={members.data?.items ?? null}
      error={members.error}
      errorTitle="Could not load the members"
      onRetry={members.reload}
      caption={`Members of ${project}`}
      empty="Nobody has a role in this project yet."
      roles={ROLES}
      detailColumns={[
        {
          key: 'source',
          header: 'Granted by',
          width: '14rem',
          render: (m) =>
            [m.directRole ? `direct: ${m.directRole}` : null, m.teamRole ? `team ${m.teamRole}` : null]
              .filter(Boolean)
              .join(' · '),
        },
      ]}
      canManage={canManage}
      addTitle={`Add a member to ${project}`}
      roleEdit={(m) =>
        m.directRole
          ? { label: 'Change role', title: 'Change role', initial: m.directRole }
          : { label: 'Grant role', title: 'Grant a role', initial: m.role }
      }
      canRemove={(m) => m.directRole !== null}
      removeQuestion={(m) => (
        <>
          Remove the direct role of <strong className="mono">{m.username}</strong> in <strong>{project}</strong>?
          {m.teamRole && ' They keep the role their team membership gives them.'}
        </>
      )}
      setRole={async (username, role) => {
        await api().setProjectMember({ project, username, body: { role } });
        done(`${username} is now ${role} in ${project}.`);
      }}
      remove={async (m) => {
        await api().removeProjectMember({ project, username: m.username });
        done(`Removed the direct role of ${m.username}.`);
      }}
    >
      {notice && (
        <div className="card-pad card-pad-tight" role="status">
          <span className="muted small">{notice}</span>
        </div>
      )}
    </MembersCard>
  );
}
