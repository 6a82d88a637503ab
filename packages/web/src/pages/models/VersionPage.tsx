import type { ModelVersion, RegisteredModel } from '@hangar/sdk';
import { useCallback, useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Select, Textarea } from '../../components/Input.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table } from '../../components/Table.js';
import { TabNav } from '../../components/TabNav.js';
import { formatBytes, formatDateTime, NONE } from '../../format.js';
import { serverFieldError } from '../../forms.js';
import { useAction, useDocumentTitle, useResource } from '../../hooks.js';
import {
  experimentIdOf,
  frameworkLabel,
  modelPath,
  modelTabPath,
  releaseStatusLabel,
  sourceRunPath,
  versionPath,
  type ReleaseDetail,
  type VersionTab,
} from '../../models.js';
import { useProjects } from '../../project.js';
import { atLeast } from '../../roles.js';
import { Link } from '../../router.js';
import { isSystemTag, loggedModelPath } from '../../tracking.js';
import { GateCard } from './GateCard.js';
import { LineageView } from './LineageView.js';
import { AliasBadges, StageBadge, TagChips } from './ModelBadges.js';
import { Checksum, ModelFrame, useModel } from './ModelPage.js';
import { releaseColumns, TransitionList } from './ReleaseHistory.js';

/** The model's newest releases searched for this version's (the API lists releases per model). */
const RELEASES_SCANNED = 100;

const TABS: readonly { tab: VersionTab; label: string }[] = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'lineage', label: 'Lineage' },
];

/**
 * One model version: where it came from and what its files hold, its evaluation gate beside the
 * champion's, its releases and the Promote action; or its lineage graph.
 */
export function VersionPage({
  project,
  name,
  version,
  tab,
}: {
  project: string;
  name: string;
  version: number;
  tab: VersionTab;
}) {
  const model = useModel(project, name);
  const v = useResource(
    (signal) => api().getModelVersion({ project, name, version }, { signal }),
    [project, name, version],
  );
  useDocumentTitle(`${name} v${version}`);
  const back = (
    <Link to={modelPath(project, name)} className="text-link back-link">
      ← {name}
    </Link>
  );
  return (
    <ModelFrame project={project} name={name} model={model} back={back} title={`${name} v${version}`}>
      {(m) => (
        <>
          <TabNav
            label="Version"
            items={TABS.map((t) => ({
              to: versionPath(project, name, version, t.tab),
              label: t.label,
              active: t.tab === tab,
            }))}
          />
          {v.error !== null && <ErrorBanner error={v.error} title="Could not load this version" onRetry={v.reload} />}
          {!v.data ? (
            v.error === null && <LoadingBlock label="Loading the version…" />
          ) : tab === 'overview' ? (
            <VersionOverview project={project} model={m} version={v.data} onChanged={v.reload} />
          ) : (
            <LineageView project={project} name={name} version={version} />
          )}
        </>
      )}
    </ModelFrame>
  );
}

function VersionOverview({
  project,
  model,
  version: v,
  onChanged,
}: {
  project: string;
  model: RegisteredModel;
  version: ModelVersion;
  onChanged: () => void;
}) {
  const { current } = useProjects();
  const canPromote = atLeast(current?.role, 'developer');
  const [promoting, setPromoting] = useState(false);
  const [promoted, setPromoted] = useState<ReleaseDetail | null>(null);
  const [releasesKey, setReleasesKey] = useState(0);
  // A gate that settles (or is overridden) moves the releases waiting on it.
  const refreshReleases = useCallback(() => setReleasesKey((k) => k + 1), []);
  const runTo = sourceRunPath(v);
  const exp = experimentIdOf(v.storageLocation);
  const tags = v.tags.filter((t) => !isSystemTag(t.key));
  return (
    <>
      <Card
        title="Version"
        actions={
          canPromote && (
            <Button variant="primary" onClick={() => setPromoting(true)} data-testid="promote">
              Promote
            </Button>
          )
        }
      >
        <div className="kv-columns" data-testid="version-details">
          <dl className="kv">
            <dt>Stage</dt>
            <dd>
              <StageBadge stage={v.stage} />
            </dd>
            <dt>Aliases</dt>
            <dd>
              <AliasBadges aliases={v.aliases} />
            </dd>
            <dt>Status</dt>
            <dd>{v.status === 'READY' ? 'ready' : (v.statusMessage ?? v.status)}</dd>
            <dt>Created</dt>
            <dd>
              {formatDateTime(v.createdAt)} by {v.creator || NONE}
            </dd>
          </dl>
          <dl className="kv">
            <dt>Source run</dt>
            <dd className="mono small" data-testid="source-run">
              {v.runId ? runTo ? <Link to={runTo}>{v.runId}</Link> : v.runId : NONE}
            </dd>
            <dt>Logged model</dt>
            <dd className="mono small">
              {v.loggedModelId ? (
                exp ? (
                  <Link to={loggedModelPath(exp, v.loggedModelId)}>{v.loggedModelId}</Link>
                ) : (
                  v.loggedModelId
                )
              ) : (
                NONE
              )}
            </dd>
            <dt>Source</dt>
            <dd className="mono small">{v.source}</dd>
          </dl>
          <dl className="kv">
            <dt>Framework</dt>
            <dd>{frameworkLabel(v) ?? NONE}</dd>
            <dt>Size</dt>
            <dd>
              {formatBytes(v.sizeBytes)}
              {v.fileCount !== null && <span className="muted"> in {v.fileCount} files</span>}
            </dd>
            <dt>Checksum</dt>
            <dd data-testid="version-checksum">
              <Checksum value={v.checksum} />
            </dd>
          </dl>
        </div>
        {(v.description || tags.length > 0) && (
          <dl className="kv version-extra">
            {v.description && (
              <>
                <dt>Description</dt>
                <dd className="pre-wrap">{v.description}</dd>
              </>
            )}
            {tags.length > 0 && (
              <>
                <dt>Tags</dt>
                <dd>
                  <TagChips tags={tags} max={20} />
                </dd>
              </>
            )}
          </dl>
        )}
      </Card>
      {promoted && (
        <Banner
          tone={promoted.status === 'blocked' || promoted.status === 'rejected' ? 'warning' : 'success'}
          title={`Release to ${promoted.environment} requested: ${releaseStatusLabel(promoted.status)}`}
          data-testid="promote-result"
        >
          <ReleaseNextStep release={promoted} critical={model.riskTier === 'critical'} />
          <TransitionList detail={promoted} />
        </Banner>
      )}
      <GateCard project={project} model={model} version={v.version} onSettled={refreshReleases} />
      <VersionReleases project={project} model={model.name} version={v.version} refreshKey={releasesKey} />
      {promoting && (
        <PromoteDialog
          project={project}
          model={model}
          version={v}
          onClose={() => setPromoting(false)}
          onPromoted={(r) => {
            setPromoting(false);
            setPromoted(r);
            setReleasesKey((k) => k + 1);
            onChanged();
          }}
        />
      )}
    </>
  );
}

/** What happens next to a release just requested, in words. */
function ReleaseNextStep({ release: r, critical }: { release: ReleaseDetail; critical: boolean }) {
  if (r.status === 'approval')
    return (
      <p>
        It waits in the{' '}
        <Link to="/models/approvals" className="text-link">
          approval queue
        </Link>
        : a maintainer other than you must approve it.
      </p>
    );
  if (r.status === 'gate')
    return (
      <p>
        It waits for the evaluation gate
        {critical && r.environment === 'production' ? ', then for a maintainer’s approval' : ''}.
      </p>
    );
  if (r.status === 'approved') return <p>The gate is cleared and no approval is needed: it was approved at once.</p>;
  return null;
}

/** This version's releases (found among the model's newest), with their transitions on demand. */
function VersionReleases({
  project,
  model,
  version,
  refreshKey,
}: {
  project: string;
  model: string;
  version: number;
  refreshKey: number;
}) {
  const list = useResource(
    (signal) => api().listReleases({ project, model, limit: RELEASES_SCANNED }, { signal }),
    [project, model, refreshKey],
  );
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const rows = list.data?.items.filter((r) => r.version === version) ?? null;
  return (
    <Card
      title="Releases of this version"
      flush
      actions={
        <Link to={modelTabPath(project, model, 'releases')} className="text-link">
          All releases of {model}
        </Link>
      }
    >
      <div data-testid="version-releases">
        {list.error !== null && (
          <div className="card-pad">
            <ErrorBanner error={list.error} title="Could not load the releases" onRetry={list.reload} />
          </div>
        )}
        {rows ? (
          <Table
            caption={`Releases of ${model} v${version}`}
            columns={releaseColumns(project, { open, toggle }).filter((c) => c.key !== 'version')}
            rows={rows}
            rowKey={(r) => r.id}
            rowAttributes={(r) => ({ 'data-release': r.id, 'data-environment': r.environment })}
            empty="Not released yet."
          />
        ) : (
          list.error === null && <LoadingBlock label="Loading releases…" />
        )}
      </div>
    </Card>
  );
}

function PromoteDialog({
  project,
  model,
  version: v,
  onClose,
  onPromoted,
}: {
  project: string;
  model: RegisteredModel;
  version: ModelVersion;
  onClose: () => void;
  onPromoted: (r: ReleaseDetail) => void;
}) {
  const [environment, setEnvironment] = useState<'staging' | 'production'>('production');
  const [note, setNote] = useState('');
  const action = useAction();
  const needsApproval = model.riskTier === 'critical' && environment === 'production';
  const submit = () =>
    void action.run(async () => {
      const n = note.trim();
      const r = await api().requestRelease({
        project,
        name: model.name,
        version: v.version,
        body: { environment, ...(n ? { note: n } : {}) },
      });
      onPromoted(r);
    });
  return (
    <FormDialog
      title={`Promote ${model.name} v${v.version}`}
      submitLabel={`Request ${environment} release`}
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['environment', 'note']}
      errorTitle="Not promoted"
      data-testid="promote-dialog"
    >
      <Field label="Environment" error={serverFieldError(action.error, 'environment')}>
        {(p) => (
          <Select
            {...p}
            value={environment}
            onChange={(e) => setEnvironment(e.target.value === 'staging' ? 'staging' : 'production')}
          >
            <option value="production">production</option>
            <option value="staging">staging</option>
          </Select>
        )}
      </Field>
      <Field
        label="Note"
        hint="Optional: why this version, for the approver."
        error={serverFieldError(action.error, 'note')}
      >
        {(p) => <Textarea {...p} rows={3} value={note} onChange={(e) => setNote(e.target.value)} />}
      </Field>
      <p className="dialog-text muted" data-testid="promote-explain">
        The release waits for the evaluation gate
        {needsApproval
          ? `; ${model.name} is critical, so a maintainer other than you must then approve it.`
          : ', then is approved at once.'}
      </p>
    </FormDialog>
  );
}
