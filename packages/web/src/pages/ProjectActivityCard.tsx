// The latest audit events of one project, for its maintainers and admins (the server lets them
// read their projects' part of the log; the full log is in the admin area).
import type { AuditEvent } from '@hangar/sdk';
import { api } from '../api.js';
import { Badge, type BadgeTone } from '../components/Badge.js';
import { Card } from '../components/Card.js';
import { timeColumn } from '../components/DateTime.js';
import { LoadedTable } from '../components/LoadedTable.js';
import type { Column } from '../components/Table.js';
import { useResource } from '../hooks.js';

const LIMIT = 20;
const TONES: Record<AuditEvent['outcome'], BadgeTone> = { success: 'success', denied: 'warning', failure: 'danger' };

function summary(e: AuditEvent): string {
  const user = typeof e.details.user === 'string' ? e.details.user : null;
  const role = typeof e.details.role === 'string' ? e.details.role : null;
  if (user && role) return `${user} → ${role}`;
  if (user) return user;
  return `${e.targetType} ${e.target}`;
}

export function ProjectActivityCard({ project, version }: { project: string; version: number }) {
  const events = useResource(
    (signal) => api().listAuditEvents({ project, limit: LIMIT }, { signal }),
    [project, version],
  );
  const columns: Column<AuditEvent>[] = [
    timeColumn('at', 'Time', (e) => e.at),
    { key: 'actor', header: 'Actor', width: '10rem', mono: true, render: (e) => e.actor },
    { key: 'action', header: 'Action', width: '13rem', mono: true, render: (e) => e.action },
    { key: 'what', header: 'What', render: summary },
    {
      key: 'outcome',
      header: 'Outcome',
      width: '7rem',
      render: (e) => <Badge tone={TONES[e.outcome]}>{e.outcome}</Badge>,
    },
  ];
  return (
    <Card title="Recent activity" flush>
      <LoadedTable
        rows={events.data?.items ?? null}
        error={events.error}
        errorTitle="Could not load the project's audit events"
        onRetry={events.reload}
        loadingLabel="Loading activity…"
        caption={`Recent audit events of ${project}`}
        columns={columns}
        rowKey={(e) => e.id}
        rowAttributes={(e) => ({ 'data-action': e.action })}
        empty="Nothing has happened in this project yet."
      />
    </Card>
  );
}
