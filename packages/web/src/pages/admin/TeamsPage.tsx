import type { Team } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Input, Textarea } from '../../components/Input.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { serverFieldError, SLUG, SLUG_RULE } from '../../forms.js';
import { useAction, useDocumentTitle, useResource } from '../../hooks.js';
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
    timeColumn('created', 'Created', (t) => t.createdAt),
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
        <LoadedTable
          rows={teams.data?.items ?? null}
          error={teams.error}
          errorTitle="Could not load teams"
          onRetry={teams.reload}
          loadingLabel="Loading teams…"
          caption="Teams"
          columns={columns}
          rowKey={(t) => t.id}
          rowAttributes={(t) => ({ 'data-team': t.name })}
          empty="No teams yet."
        />
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
  const action = useAction();

  const submit = () => {
    const n = name.trim();
    const problem = !n ? 'Enter a name.' : SLUG.test(n) ? undefined : `Use ${SLUG_RULE}.`;
    setNameError(problem);
    if (problem) return;
    void action.run(async () => {
      const t = await api().createTeam({
        body: { name: n, displayName: displayName.trim() || undefined, description: description.trim() || undefined },
      });
      onClose();
      onCreated(t);
    });
  };

  return (
    <FormDialog
      title="Create a team"
      submitLabel="Create team"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['name', 'displayName', 'description']}
      errorTitle="Not created"
    >
      <Field
        label="Name"
        hint="Used in URLs and commands, e.g. fraud-ml."
        error={nameError ?? serverFieldError(action.error, 'name')}
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
      <Field label="Display name" hint="Optional." error={serverFieldError(action.error, 'displayName')}>
        {(p) => <Input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
      </Field>
      <Field label="Description" hint="Optional." error={serverFieldError(action.error, 'description')}>
        {(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
