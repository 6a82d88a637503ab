import type { Team } from '@hangar/sdk';
import { useState, type FormEvent } from 'react';
import { api } from '../../api.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Input, Textarea } from '../../components/Input.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, formatShortDateTime, NONE } from '../../format.js';
import { isFieldError, serverFieldError, SLUG, SLUG_RULE } from '../../forms.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import { Link, navigate } from '../../router.js';

/** Teams own projects; their leads administer those projects and their members develop in them. */
export function TeamsPage() {
  useDocumentTitle('Teams');
  const teams = useResource((signal) => api().listTeams({ signal }), []);
  const [creating, setCreating] = useState(false);

  const columns: Column<Team>[] = [
    {
      key: 'name',
      header: 'Team',
      width: '14rem',
      mono: true,
      render: (t) => (
        <Link to={`/admin/teams/${encodeURIComponent(t.name)}`} className="job-link">
          {t.name}
        </Link>
      ),
    },
    { key: 'displayName', header: 'Display name', render: (t) => t.displayName || NONE },
    { key: 'description', header: 'Description', render: (t) => t.description || NONE },
    { key: 'members', header: 'Members', width: '6rem', align: 'right', render: (t) => t.memberCount },
    {
      key: 'created',
      header: 'Created',
      width: '11.5rem',
      render: (t) => (
        <time dateTime={t.createdAt} title={formatDateTime(t.createdAt)}>
          {formatShortDateTime(t.createdAt)}
        </time>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Teams"
        subtitle="Team leads administer the team's projects; members develop in them."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create team
          </Button>
        }
      />
      <Card flush>
        {teams.error !== null && (
          <div className="card-pad">
            <ErrorBanner error={teams.error} title="Could not load teams" onRetry={teams.reload} />
          </div>
        )}
        {teams.data ? (
          <Table
            caption="Teams"
            columns={columns}
            rows={teams.data.items}
            rowKey={(t) => t.id}
            rowAttributes={(t) => ({ 'data-team': t.name })}
            empty="No teams yet."
          />
        ) : (
          teams.error === null && <LoadingBlock label="Loading teams…" />
        )}
      </Card>
      {creating && (
        <CreateTeamDialog
          onClose={() => setCreating(false)}
          onCreated={(t) => navigate(`/admin/teams/${encodeURIComponent(t.name)}?created=1`)}
        />
      )}
    </>
  );
}

function CreateTeamDialog({ onCreated, onClose }: { onCreated: (t: Team) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    const problem = !n ? 'Enter a name.' : SLUG.test(n) ? undefined : `Use ${SLUG_RULE}.`;
    setNameError(problem);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      const t = await api().createTeam({
        body: { name: n, displayName: displayName.trim() || undefined, description: description.trim() || undefined },
      });
      onClose();
      onCreated(t);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Create a team"
      onClose={onClose}
      onSubmit={(e) => void submit(e)}
      dismissable={!busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={busy}>
            Create team
          </Button>
        </>
      }
    >
      {error !== null && !isFieldError(error, ['name', 'displayName', 'description']) && (
        <ErrorBanner error={error} title="Not created" />
      )}
      <Field
        label="Name"
        hint="Used in URLs and commands, e.g. fraud-ml."
        error={nameError ?? serverFieldError(error, 'name')}
      >
        {(p) => (
          <Input
            {...p}
            autoCapitalize="none"
            spellCheck={false}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      <Field label="Display name" hint="Optional." error={serverFieldError(error, 'displayName')}>
        {(p) => <Input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
      </Field>
      <Field label="Description" hint="Optional." error={serverFieldError(error, 'description')}>
        {(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </Dialog>
  );
}
