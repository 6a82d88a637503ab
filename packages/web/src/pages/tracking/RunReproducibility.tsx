import type { GetRunReproducibilityResponse, Run } from '@hangar/sdk';
import { api } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Card } from '../../components/Card.js';
import { CopyButton } from '../../components/CopyButton.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Link } from '../../router.js';
import { datasetPath, experimentPath, gitWebUrl, loggedModelPath, runPath, tagOf } from '../../tracking.js';

type ReproRecord = GetRunReproducibilityResponse;
type DatasetInput = ReproRecord['datasets'][number];
type ModelLink = ReproRecord['models'][number];

/**
 * What it takes to run this again: the code (source, git commit and remote, entry point), the
 * environment (Python and requirements, from the logged model's files), the exact dataset versions
 * it read, the models it used and produced, its params, and its place among nested runs. The
 * server assembles the record; the whole of it can be copied as JSON.
 */
export function RunReproducibility({ run }: { run: Run }) {
  const record = useResource(
    (signal) => api().getRunReproducibility({ runId: run.info.runId }, { signal }),
    [run.info.runId],
  );
  if (record.error !== null && !record.data) {
    return (
      <ErrorBanner error={record.error} title="Could not load the reproducibility record" onRetry={record.reload} />
    );
  }
  const r = record.data;
  if (!r) return <LoadingBlock label="Assembling the record…" />;
  const repo = r.code.gitRepoUrl;
  const commitUrl = gitWebUrl(repo, r.code.gitCommit);
  const repoUrl = gitWebUrl(repo);
  const missing = [
    !r.code.gitCommit && 'a git commit',
    r.datasets.length === 0 && 'dataset versions',
    !r.environment.python && r.environment.requirements.length === 0 && 'an environment',
  ].filter(Boolean);

  return (
    <>
      {missing.length > 0 && (
        <p className="muted small" data-testid="repro-missing">
          This run did not record {missing.join(', ')}: a rerun may not match it exactly.
        </p>
      )}
      <div className="grid-2">
        <Card title="Code" actions={<CopyButton value={JSON.stringify(r, null, 2)} label="Copy record as JSON" />}>
          <dl className="kv" data-testid="repro-code">
            <dt>Source</dt>
            <dd className="mono">
              {r.code.entryPoint ?? NONE} {r.code.sourceType && <Badge>{r.code.sourceType.toLowerCase()}</Badge>}
            </dd>
            <dt>Git commit</dt>
            <dd className="mono" data-testid="repro-commit">
              {r.code.gitCommit ? (
                commitUrl ? (
                  <a href={commitUrl} target="_blank" rel="noreferrer noopener">
                    {r.code.gitCommit}
                  </a>
                ) : (
                  r.code.gitCommit
                )
              ) : (
                NONE
              )}
            </dd>
            <dt>Repository</dt>
            <dd className="mono">
              {repo ? (
                repoUrl ? (
                  <a href={repoUrl} target="_blank" rel="noreferrer noopener">
                    {repo}
                  </a>
                ) : (
                  repo
                )
              ) : (
                NONE
              )}
            </dd>
            <dt>Branch</dt>
            <dd className="mono">{r.code.gitBranch ?? NONE}</dd>
            <dt>User</dt>
            <dd>{r.user || NONE}</dd>
            <dt>Parent run</dt>
            <dd className="mono">
              {r.parentRunId ? <Link to={runPath(r.experimentId, r.parentRunId)}>{r.parentRunId}</Link> : NONE}
            </dd>
          </dl>
        </Card>
        <Card title="Environment">
          <dl className="kv" data-testid="repro-environment">
            <dt>Python</dt>
            <dd className="mono">{r.environment.python ?? NONE}</dd>
            <dt>From</dt>
            <dd className="mono">
              {r.environment.source === 'run' ? (
                <span>this run's environment/ artifacts</span>
              ) : r.environment.fromModelId ? (
                <Link to={loggedModelPath(r.experimentId, r.environment.fromModelId)}>{r.environment.fromModelId}</Link>
              ) : (
                (tagOf(run, 'mlflow.log-model.history') && 'an MLflow 2 model (see Artifacts)') || NONE
              )}
            </dd>
          </dl>
          {r.environment.requirements.length > 0 && (
            <>
              <p className="field-label repro-subhead">Requirements</p>
              <pre className="code" data-testid="repro-requirements">
                {r.environment.requirements.join('\n')}
              </pre>
            </>
          )}
        </Card>
      </div>
      <DatasetsCard datasets={r.datasets} />
      <ModelsCard models={r.models} experimentId={r.experimentId} />
      <p className="muted small">
        {r.params.length} params are part of this record (see the{' '}
        <Link to={runPath(r.experimentId, r.runId)}>overview</Link>); the run belongs to experiment{' '}
        <Link to={experimentPath(r.experimentId)}>{r.experimentId}</Link>.
      </p>
    </>
  );
}

function DatasetsCard({ datasets }: { datasets: readonly DatasetInput[] }) {
  const columns: Column<DatasetInput>[] = [
    {
      key: 'name',
      header: 'Dataset',
      render: (d) => (
        <Link to={datasetPath(d.datasetId)} className="job-link" title={d.name}>
          {d.name}
        </Link>
      ),
    },
    { key: 'digest', header: 'Version (digest)', width: '10rem', mono: true, render: (d) => d.digest },
    { key: 'context', header: 'Used as', width: '8rem', render: (d) => d.context ?? NONE },
    { key: 'source', header: 'Source', mono: true, render: (d) => <span title={d.source}>{d.source}</span> },
  ];
  return (
    <Card title={`Inputs: dataset versions (${datasets.length})`} flush>
      <div data-testid="repro-datasets">
        <Table
          caption="Dataset versions the run read"
          columns={columns}
          rows={datasets}
          rowKey={(d) => `${d.datasetId}:${d.context ?? ''}`}
          rowAttributes={(d) => ({ 'data-dataset': d.name })}
          empty="No dataset versions recorded. MLflow clients record them with mlflow.log_input()."
        />
      </div>
    </Card>
  );
}

function ModelsCard({ models, experimentId }: { models: readonly ModelLink[]; experimentId: string }) {
  const columns: Column<ModelLink>[] = [
    {
      key: 'name',
      header: 'Logged model',
      render: (m) => (
        <Link to={loggedModelPath(experimentId, m.modelId)} className="job-link">
          {m.name}
        </Link>
      ),
    },
    {
      key: 'direction',
      header: 'Role',
      width: '7rem',
      render: (m) => <Badge tone={m.direction === 'output' ? 'info' : 'neutral'}>{m.direction}</Badge>,
    },
    { key: 'step', header: 'Step', width: '5rem', align: 'right', render: (m) => m.step },
    { key: 'id', header: 'Model ID', mono: true, render: (m) => m.modelId },
  ];
  return (
    <Card title={`Logged models (${models.length})`} flush>
      <div data-testid="repro-models">
        <Table
          caption="Models the run used and produced"
          columns={columns}
          rows={models}
          rowKey={(m) => `${m.modelId}:${m.direction}`}
          empty="No logged models (MLflow 3) are linked to this run."
        />
      </div>
    </Card>
  );
}
