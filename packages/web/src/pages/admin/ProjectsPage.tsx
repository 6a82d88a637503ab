import type { Project } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Input, Select, Textarea } from '../../components/Input.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { serverFieldError, SLUG, SLUG_RULE, valid, type FieldErrors } from '../../forms.js';
import { useAction, useDocumentTitle, useResource } from '../../hooks.js';
import { useProjects } from '../../project.js';
import { Link, navigate } from '../../router.js';

/** Every project, with its owning team; create one for a team. */
export function ProjectsPage() {
  useDocumentTitle('Projects');
  const { projects, error, reload } = useProjects();
  const [creating, setCreating] = useState(false);

  const columns: Column<Project>[] = [
    {
      key: 'name',
      header: 'Project',
      width: '14rem',
      mono: true,
      render: (p) => (
        <Link to={`/admin/projects/${encodeURIComponent(p.name)}`} className="job-link">
          {p.name}
        </Link>
      ),
    },
    { key: 'displayName', header: 'Display name', render: (p) => p.displayName || NONE },
    { key: 'team', header: 'Team', width: '12rem', mono: true, render: (p) => p.team },
    { key: 'role', header: 'Your role', width: '7rem', render: (p) => <Badge>{p.role}</Badge> },
    timeColumn('created', 'Created', (p) => p.createdAt),
  ];

  return (
    <>
      <PageHeader
        title="Projects"
        subtitle="Experiments, models, deployments and pipelines live in projects. Each belongs to a team."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create project
          </Button>
        }
      />
      <Card flush>
        <LoadedTable
          rows={projects}
          error={error}
          errorTitle="Could not load projects"
          onRetry={reload}
          loadingLabel="Loading projects…"
          caption="Projects"
          columns={columns}
          rowKey={(p) => p.id}
          rowAttributes={(p) => ({ 'data-project': p.name })}
          empty="No projects yet."
        />
      </Card>
      {creating && (
        <CreateProjectDialog
          onClose={() => setCreating(false)}
          onCreated={(p) => {
            reload();
            navigate(`/admin/projects/${encodeURIComponent(p.name)}?created=1`);
          }}
        />
      )}
    </>
  );
}

type ProjectField = 'name' | 'team' | 'displayName' | 'description';

function CreateProjectDialog({ onCreated, onClose }: { onCreated: (p: Project) => void; onClose: () => void }) {
  const teams = useResource((signal) => api().listTeams({ signal }), []);
  const [name, setName] = useState('');
  const [team, setTeam] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<FieldErrors<ProjectField>>({});
  const action = useAction();

  const submit = () => {
    const n = name.trim();
    const found: FieldErrors<ProjectField> = {
      name: !n ? 'Enter a name.' : SLUG.test(n) ? undefined : `Use ${SLUG_RULE}.`,
      team: team ? undefined : 'Choose the team that owns the project.',
    };
    setErrors(found);
    if (!valid(found)) return;
    void action.run(async () => {
      const p = await api().createProject({
        body: {
          name: n,
          team,
          displayName: displayName.trim() || undefined,
          description: description.trim() || undefined,
        },
      });
      onClose();
      onCreated(p);
    });
  };

  const fieldError = (f: ProjectField) => errors[f] ?? serverFieldError(action.error, f);
  return (
    <FormDialog
      title="Create a project"
      submitLabel="Create project"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['name', 'team', 'displayName', 'description']}
      errorTitle="Not created"
    >
      {teams.error !== null && <ErrorBanner error={teams.error} title="Could not load teams" onRetry={teams.reload} />}
      <Field label="Name" hint="Used in URLs and commands, e.g. churn-model." error={fieldError('name')}>
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
      <Field
        label="Owning team"
        hint="Its leads become admins of the project, its members developers."
        error={fieldError('team')}
      >
        {(p) => (
          <Select {...p} value={team} onChange={(e) => setTeam(e.target.value)} disabled={!teams.data}>
            <option value="">{teams.data ? 'Choose a team…' : 'Loading teams…'}</option>
            {(teams.data?.items ?? []).map((t) => (
              <option key={t.id} value={t.name}>
                {t.displayName && t.displayName !== t.name ? `${t.name} (${t.displayName})` : t.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="Display name" hint="Optional." error={fieldError('displayName')}>
        {(p) => <Input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
      </Field>
      <Field label="Description" hint="Optional." error={fieldError('description')}>
        {(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
