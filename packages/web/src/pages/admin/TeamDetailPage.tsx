import type { TeamMember } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { formatDateTime, NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { TEAM_ROLES, type TeamRole } from '../../roles.js';
import { Link, useOneTimeFlag } from '../../router.js';
import { MembersCard, type MemberRoles } from '../MembersCard.js';

const TEAM_ROLE_ABOUT: Record<TeamRole, string> = {
  member: "developer in the team's projects",
  lead: "admin of the team's projects; can create projects for the team",
};

const ROLES: MemberRoles<TeamRole> = {
  all: TEAM_ROLES,
  about: TEAM_ROLE_ABOUT,
  initial: 'member',
  top: 'lead',
  columnWidth: '7rem',
};

/** One team: what it is and its members, who can be added, given another role or removed. */
export function TeamDetailPage({ name }: { name: string }) {
  useDocumentTitle(`Team ${name}`);
  const team = useResource((signal) => api().getTeam({ team: name }, { signal }), [name]);
  const justCreated = useOneTimeFlag('created');
  const [notice, setNotice] = useState<string | null>(justCreated ? `Created team ${name}.` : null);

  const done = (message: string) => {
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
      <MembersCard<TeamRole, TeamMember>
        members={t.members}
        error={team.error}
        errorTitle="Could not refresh the team"
        onRetry={team.reload}
        caption={`Members of team ${t.name}`}
        empty="No members yet."
        roles={ROLES}
        detailColumns={[timeColumn('added', 'Added', (m) => m.addedAt)]}
        canManage
        addTitle={`Add a member to ${t.name}`}
        roleEdit={(m) => ({ label: 'Change role', title: 'Change role', initial: m.role })}
        removeQuestion={(m) => (
          <>
            Remove <strong className="mono">{m.username}</strong> from <strong>{t.name}</strong>? They lose the roles
            the team gives them in its projects (direct project roles stay).
          </>
        )}
        setRole={async (username, role) => {
          await api().setTeamMember({ team: t.name, username, body: { role } });
          done(`${username} is now ${role} of ${t.name}.`);
        }}
        remove={async (m) => {
          await api().removeTeamMember({ team: t.name, username: m.username });
          done(`Removed ${m.username} from ${t.name}.`);
        }}
      />
    </>
  );
}
