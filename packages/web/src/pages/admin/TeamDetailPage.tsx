import type { TeamMember } from '@hangar/sdk';
import { useEffect, useState } from 'react';
import { api } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, formatShortDateTime, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { TEAM_ROLES, type TeamRole } from '../../roles.js';
import { Link, navigate, useLocation } from '../../router.js';
import { MemberDialog } from '../MemberDialog.js';

const TEAM_ROLE_ABOUT: Record<TeamRole, string> = {
  member: "developer in the team's projects",
  lead: "admin of the team's projects; can create projects for the team",
};

type Editing = { kind: 'add' } | { kind: 'role'; member: TeamMember } | { kind: 'remove'; member: TeamMember };

/** One team: what it is and its members, who can be added, given another role or removed. */
export function TeamDetailPage({ name }: { name: string }) {
  useDocumentTitle(`Team ${name}`);
  const { search } = useLocation();
  const team = useResource((signal) => api().getTeam({ team: name }, { signal }), [name]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [notice, setNotice] = useState<string | null>(search.get('created') ? `Created team ${name}.` : null);
  // The flag only carries the notice here; a reload or a shared link should not repeat it.
  const created = search.get('created') !== null;
  useEffect(() => {
    if (created) navigate(`/admin/teams/${encodeURIComponent(name)}`, { replace: true });
  }, [created, name]);

  const done = (message: string) => {
    setEditing(null);
    setNotice(message);
    team.reload();
  };

  const back = (
    <Link to="/admin/teams" className="text-link back-link">
      ← All teams
    </Link>
  );
  if (team.error !== null && !team.data) {
    return (
      <>
        {back}
        <PageHeader title={`Team ${name}`} />
        <ErrorBanner error={team.error} title="Could not load the team" onRetry={team.reload} />
      </>
    );
  }
  const t = team.data;
  if (!t) return <LoadingBlock label="Loading the team…" />;

  const columns: Column<TeamMember>[] = [
    { key: 'username', header: 'User', width: '13rem', mono: true, render: (m) => m.username },
    { key: 'name', header: 'Name', render: (m) => m.displayName || NONE },
    {
      key: 'role',
      header: 'Role',
      width: '7rem',
      render: (m) => (
        <Badge tone={m.role === 'lead' ? 'info' : 'neutral'}>
          <span data-role={m.role}>{m.role}</span>
        </Badge>
      ),
    },
    {
      key: 'added',
      header: 'Added',
      width: '11.5rem',
      render: (m) => (
        <time dateTime={m.addedAt} title={formatDateTime(m.addedAt)}>
          {formatShortDateTime(m.addedAt)}
        </time>
      ),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '13rem',
      align: 'right',
      render: (m) => (
        <span className="row-actions">
          <Button size="sm" onClick={() => setEditing({ kind: 'role', member: m })}>
            Change role
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setEditing({ kind: 'remove', member: m })}>
            Remove
          </Button>
        </span>
      ),
    },
  ];

  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span className="mono">{t.name}</span>
          </span>
        }
        subtitle={t.displayName && t.displayName !== t.name ? t.displayName : undefined}
      />
      {notice && (
        <Banner tone="success">
          <p>{notice}</p>
        </Banner>
      )}
      <Card title="Team">
        <dl className="kv">
          <dt>Description</dt>
          <dd>{t.description || NONE}</dd>
          <dt>Members</dt>
          <dd>{t.memberCount}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(t.createdAt)}</dd>
        </dl>
      </Card>
      <Card
        title="Members"
        flush
        actions={
          <Button size="sm" variant="primary" onClick={() => setEditing({ kind: 'add' })}>
            Add member
          </Button>
        }
      >
        {team.error !== null && (
          <div className="card-pad">
            <ErrorBanner error={team.error} title="Could not refresh the team" onRetry={team.reload} />
          </div>
        )}
        <Table
          caption={`Members of team ${t.name}`}
          columns={columns}
          rows={t.members}
          rowKey={(m) => m.username}
          rowAttributes={(m) => ({ 'data-member': m.username })}
          empty="No members yet."
        />
      </Card>
      {editing?.kind === 'add' && (
        <MemberDialog<TeamRole>
          title={`Add a member to ${t.name}`}
          roles={TEAM_ROLES}
          initialRole="member"
          about={TEAM_ROLE_ABOUT}
          submitLabel="Add member"
          onClose={() => setEditing(null)}
          onSubmit={async (username, role) => {
            await api().setTeamMember({ team: t.name, username, body: { role } });
            done(`${username} is now ${role} of ${t.name}.`);
          }}
        />
      )}
      {editing?.kind === 'role' && (
        <MemberDialog<TeamRole>
          title="Change role"
          username={editing.member.username}
          roles={TEAM_ROLES}
          initialRole={editing.member.role}
          about={TEAM_ROLE_ABOUT}
          submitLabel="Save role"
          onClose={() => setEditing(null)}
          onSubmit={async (username, role) => {
            await api().setTeamMember({ team: t.name, username, body: { role } });
            done(`${username} is now ${role} of ${t.name}.`);
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
            await api().removeTeamMember({ team: t.name, username: editing.member.username });
            done(`Removed ${editing.member.username} from ${t.name}.`);
          }}
        >
          <p>
            Remove <strong className="mono">{editing.member.username}</strong> from <strong>{t.name}</strong>? They lose
            the roles the team gives them in its projects (direct project roles stay).
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
