// A project's members and their roles, with grant / change / remove for those allowed to: used by
// the admin area's project page and by the project settings page.
import type { ProjectMember } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Button } from '../components/Button.js';
import { Card } from '../components/Card.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LoadingBlock } from '../components/Spinner.js';
import { Table, type Column } from '../components/Table.js';
import { NONE } from '../format.js';
import { useResource } from '../hooks.js';
import { PROJECT_ROLE_ABOUT, PROJECT_ROLES, type ProjectRole } from '../roles.js';
import { MemberDialog } from './MemberDialog.js';

type Editing = { kind: 'add' } | { kind: 'role'; member: ProjectMember } | { kind: 'remove'; member: ProjectMember };

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
  const [editing, setEditing] = useState<Editing | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const done = (message: string) => {
    setEditing(null);
    setNotice(message);
    members.reload();
    onChanged?.();
  };

  const columns: Column<ProjectMember>[] = [
    { key: 'username', header: 'User', width: '13rem', mono: true, render: (m) => m.username },
    { key: 'name', header: 'Name', render: (m) => m.displayName || NONE },
    {
      key: 'role',
      header: 'Role',
      width: '8rem',
      render: (m) => (
        <Badge tone={m.role === 'admin' ? 'info' : 'neutral'}>
          <span data-role={m.role}>{m.role}</span>
        </Badge>
      ),
    },
    {
      key: 'source',
      header: 'Granted by',
      width: '14rem',
      render: (m) =>
        [m.directRole ? `direct: ${m.directRole}` : null, m.teamRole ? `team ${m.teamRole}` : null]
          .filter(Boolean)
          .join(' · '),
    },
  ];
  if (canManage) {
    columns.push({
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '13rem',
      align: 'right',
      render: (m) => (
        <span className="row-actions">
          <Button size="sm" onClick={() => setEditing({ kind: 'role', member: m })}>
            {m.directRole ? 'Change role' : 'Grant role'}
          </Button>
          {m.directRole && (
            <Button size="sm" variant="ghost" onClick={() => setEditing({ kind: 'remove', member: m })}>
              Remove
            </Button>
          )}
        </span>
      ),
    });
  }

  return (
    <Card
      title="Members"
      flush
      actions={
        canManage && (
          <Button size="sm" variant="primary" onClick={() => setEditing({ kind: 'add' })}>
            Add member
          </Button>
        )
      }
    >
      {notice && (
        <div className="card-pad card-pad-tight" role="status">
          <span className="muted small">{notice}</span>
        </div>
      )}
      {members.error !== null && (
        <div className="card-pad">
          <ErrorBanner error={members.error} title="Could not load the members" onRetry={members.reload} />
        </div>
      )}
      {members.data ? (
        <Table
          caption={`Members of ${project}`}
          columns={columns}
          rows={members.data.items}
          rowKey={(m) => m.username}
          rowAttributes={(m) => ({ 'data-member': m.username })}
          empty="Nobody has a role in this project yet."
        />
      ) : (
        members.error === null && <LoadingBlock label="Loading members…" />
      )}
      {editing?.kind === 'add' && (
        <MemberDialog<ProjectRole>
          title={`Add a member to ${project}`}
          roles={PROJECT_ROLES}
          initialRole="developer"
          about={PROJECT_ROLE_ABOUT}
          submitLabel="Add member"
          onClose={() => setEditing(null)}
          onSubmit={async (username, role) => {
            await api().setProjectMember({ project, username, body: { role } });
            done(`${username} is now ${role} in ${project}.`);
          }}
        />
      )}
      {editing?.kind === 'role' && (
        <MemberDialog<ProjectRole>
          title={editing.member.directRole ? 'Change role' : 'Grant a role'}
          username={editing.member.username}
          roles={PROJECT_ROLES}
          initialRole={editing.member.directRole ?? editing.member.role}
          about={PROJECT_ROLE_ABOUT}
          submitLabel="Save role"
          onClose={() => setEditing(null)}
          onSubmit={async (username, role) => {
            await api().setProjectMember({ project, username, body: { role } });
            done(`${username} is now ${role} in ${project}.`);
          }}
        />
      )}
      {editing?.kind === 'remove' && (
        <ConfirmDialog
          title="Remove member"
          confirmLabel="Remove"
          danger
          onClose={() => setEditing(null)}
          onConfirm={async () => {
            await api().removeProjectMember({ project, username: editing.member.username });
            done(`Removed the direct role of ${editing.member.username}.`);
          }}
        >
          <p>
            Remove the direct role of <strong className="mono">{editing.member.username}</strong> in{' '}
            <strong>{project}</strong>?
            {editing.member.teamRole && ' They keep the role their team membership gives them.'}
          </p>
        </ConfirmDialog>
      )}
    </Card>
  );
}
