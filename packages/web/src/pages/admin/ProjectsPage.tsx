import type { Project } from '@hangar/sdk';
import { useState, type FormEvent } from 'react';
import { api } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Input, Select, Textarea } from '../../components/Input.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, formatShortDateTime, NONE } from '../../format.js';
import { isFieldError, serverFieldError, SLUG, SLUG_RULE, valid, type FieldErrors } from '../../forms.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
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
    {
      key: 'created',
      header: 'Created',
      width: '11.5rem',
      render: (p) => (
        <time dateTime={p.createdAt} title={formatDateTime(p.createdAt)}>
          {formatShortDateTime(p.createdAt)}
        </time>
      ),
    },
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
        {error !== null && (
          <div className="card-pad">
            <ErrorBanner error={error} title="Could not load projects" onRetry={reload} />
          </div>
        )}
        {projects ? (
          <Table
            caption="Projects"
            columns={columns}
            rows={projects}
            rowKey={(p) => p.id}
            rowAttributes={(p) => ({ 'data-project': p.name })}
            empty="No projects yet."
          />
        ) : (
          error === null && <LoadingBlock label="Loading projects…" />
        )}
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    const found: FieldErrors<ProjectField> = {
      name: !n ? 'Enter a name.' : SLUG.test(n) ? undefined : `Use ${SLUG_RULE}.`,
      team: team ? undefined : 'Choose the team that owns the project.',
    };
    setErrors(found);
    if (!valid(found)) return;
    setBusy(true);
    setError(null);
    try {
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
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const fieldError = (f: ProjectField) => errors[f] ?? serverFieldError(error, f);
  return (
    <Dialog
      title="Create a project"
      onClose={onClose}
      onSubmit={(e) => void submit(e)}
      dismissable={!busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={busy}>
            Create project
          </Button>
        </>
      }
    >
      {error !== null && !isFieldError(error, ['name', 'team', 'displayName', 'description']) && (
        <ErrorBanner error={error} title="Not created" />
      )}
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
    </Dialog>
  );
}
