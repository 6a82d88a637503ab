import type { Experiment } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { CopyButton } from '../../components/CopyButton.js';
import { timeColumn } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Input, Select } from '../../components/Input.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { serverFieldError } from '../../forms.js';
import { useAction, useDocumentTitle, useResource } from '../../hooks.js';
import { useProjects } from '../../project.js';
import { atLeast } from '../../roles.js';
import { Link, navigate, useLocation } from '../../router.js';
import { experimentPath, isoOf, NOTE_TAG } from '../../tracking.js';

type View = 'active' | 'deleted' | 'all';
const VIEWS: readonly View[] = ['active', 'deleted', 'all'];

/** The current project's experiments: find one by name, open its runs, create one (developers). */
export function ExperimentsPage() {
  useDocumentTitle('Experiments');
  const { current, error: projectsError, projects } = useProjects();
  const { search } = useLocation();
  const view = VIEWS.find((v) => v === search.get('view')) ?? 'active';
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const project = current?.name ?? null;
  const list = useResource(
    (signal) => (project ? api().listExperiments({ project, view }, { signal }) : Promise.resolve(null)),
    [project, view],
  );
  const canCreate = atLeast(current?.role, 'developer');

  const q = query.trim().toLowerCase();
  const rows = list.data?.items.filter((e) => !q || e.name.toLowerCase().includes(q) || e.experimentId === q) ?? null;

  const columns: Column<Experiment>[] = [
    {
      key: 'name',
      header: 'Experiment',
      render: (e) => (
        <Link to={experimentPath(e.experimentId)} className="job-link" title={e.name}>
          {e.name}
        </Link>
      ),
    },
    { key: 'id', header: 'ID', width: '5rem', mono: true, align: 'right', render: (e) => e.experimentId },
    {
      key: 'description',
      header: 'Description',
      render: (e) => {
        const note = e.tags.find((t) => t.key === NOTE_TAG)?.value;
        return note ? <span title={note}>{note}</span> : <span className="muted">{NONE}</span>;
      },
    },
    {
      key: 'state',
      header: 'State',
      width: '6.5rem',
      render: (e) =>
        e.lifecycleStage === 'deleted' ? <Badge tone="warning">deleted</Badge> : <Badge tone="success">active</Badge>,
    },
    timeColumn('created', 'Created', (e) => isoOf(e.creationTime) ?? ''),
    timeColumn('updated', 'Last updated', (e) => isoOf(e.lastUpdateTime) ?? ''),
  ];

  if (projects && projects.length === 0) {
    return (
      <>
        <PageHeader title="Experiments" />
        <Card>
          <EmptyState title="No project yet">
            <p>Experiments live in projects. Ask a platform admin or a team lead to add you to one.</p>
          </EmptyState>
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Experiments"
        subtitle={
          current ? (
            <>
              Tracked runs of <strong>{current.displayName || current.name}</strong>, logged with the MLflow client or
              the Hangar SDK.
            </>
          ) : undefined
        }
        actions={
          canCreate && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              Create experiment
            </Button>
          )
        }
      />
      <Card flush>
        <form className="filter-bar" role="search" aria-label="Find experiments" onSubmit={(e) => e.preventDefault()}>
          <Field label="Name" className="field-inline field-grow">
            {(p) => (
              <Input
                {...p}
                type="search"
                placeholder="Find by name or ID"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
              />
            )}
          </Field>
          <Field label="Show" className="field-inline">
            {(p) => (
              <Select
                {...p}
                value={view}
                onChange={(e) =>
                  navigate(e.target.value === 'active' ? '/experiments' : `/experiments?view=${e.target.value}`, {
                    replace: true,
                  })
                }
              >
                <option value="active">Active</option>
                <option value="deleted">Deleted</option>
                <option value="all">All</option>
              </Select>
            )}
          </Field>
        </form>
        <LoadedTable
          rows={rows}
          error={list.error ?? (project ? null : projectsError)}
          errorTitle="Could not load experiments"
          onRetry={list.reload}
          loadingLabel="Loading experiments…"
          caption="Experiments"
          columns={columns}
          rowKey={(e) => e.experimentId}
          rowAttributes={(e) => ({ 'data-experiment': e.name, 'data-experiment-id': e.experimentId })}
          empty={q ? 'No experiment matches this name.' : <NoExperiments />}
        />
      </Card>
      {creating && project && (
        <CreateExperimentDialog
          project={project}
          onClose={() => setCreating(false)}
          onCreated={(e) => navigate(experimentPath(e.experimentId))}
        />
      )}
    </>
  );
}

/** How to start: what to point the MLflow client at. */
function NoExperiments() {
  const uri = window.location.origin;
  return (
    <EmptyState title="No experiments yet">
      <p>Point an MLflow client at this server and log a run; its experiment appears here.</p>
      <div className="secret-row">
        <code className="code tracking-uri">
          MLFLOW_TRACKING_URI={uri} MLFLOW_TRACKING_TOKEN=&lt;your API token&gt;
        </code>
        <CopyButton value={`export MLFLOW_TRACKING_URI=${uri}`} label="Copy URI" />
      </div>
    </EmptyState>
  );
}

function CreateExperimentDialog({
  project,
  onClose,
  onCreated,
}: {
  project: string;
  onClose: () => void;
  onCreated: (e: Experiment) => void;
}) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const action = useAction();
  const submit = () => {
    const n = name.trim();
    setNameError(n ? undefined : 'Enter a name.');
    if (!n) return;
    void action.run(async () => {
      const d = description.trim();
      const e = await api().createExperiment({
        project,
        body: { name: n, tags: d ? [{ key: NOTE_TAG, value: d }] : undefined },
      });
      onClose();
      onCreated(e);
    });
  };
  return (
    <FormDialog
      title="Create an experiment"
      submitLabel="Create experiment"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['name']}
      errorTitle="Not created"
    >
      <Field
        label="Name"
        hint={`In project ${project}. MLflow clients find it by this name.`}
        error={nameError ?? serverFieldError(action.error, 'name')}
      >
        {(p) => <Input {...p} spellCheck={false} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Description" hint="Optional.">
        {(p) => <Input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
