import type { ModelVersion, RegisteredModel } from '@hangar/sdk';
import type { ReactNode } from 'react';
import { api } from '../../api.js';
import { Card } from '../../components/Card.js';
import { CopyButton } from '../../components/CopyButton.js';
import { timeColumn } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { TabNav } from '../../components/TabNav.js';
import type { Column } from '../../components/Table.js';
import { formatBytes, formatDateTime, NONE } from '../../format.js';
import { useDocumentTitle, useResource, type Resource } from '../../hooks.js';
import {
  frameworkLabel,
  MODELS_PATH,
  modelTabPath,
  shortChecksum,
  sourceRunPath,
  versionPath,
  type ModelTab,
} from '../../models.js';
import { Link } from '../../router.js';
import { isSystemTag } from '../../tracking.js';
import { AliasBadges, RiskBadge, StageBadge, TagChips } from './ModelBadges.js';
import { usePaged } from './paged.js';
import { useFollowProjectName } from './project-sync.js';
import { ReleaseHistory } from './ReleaseHistory.js';

/** Versions per request; the newest first, more on demand. */
const VERSIONS_PAGE = 100;

const TABS: readonly { tab: ModelTab; label: string }[] = [
  { tab: 'versions', label: 'Versions' },
  { tab: 'releases', label: 'Release history' },
];

/** Loads a registered model for its pages (the model page and its versions' pages). */
export function useModel(project: string, name: string): Resource<RegisteredModel> {
  return useResource((signal) => api().getRegisteredModel({ project, name }, { signal }), [project, name]);
}

/**
 * The header every page of a model shares: name, risk tier, owner, description and tags, or the
 * loading state / error in their place. `children` is shown once the model is loaded.
 */
export function ModelFrame({
  project,
  name,
  model,
  back,
  title,
  children,
}: {
  project: string;
  name: string;
  model: Resource<RegisteredModel>;
  back?: ReactNode;
  /** The page's own title (a version's page says which version); the model's name by default. */
  title?: ReactNode;
  children: (m: RegisteredModel) => ReactNode;
}) {
  useFollowProjectName(project);
  const backLink = back ?? (
    <Link to={MODELS_PATH} className="text-link back-link">
      ← Models
    </Link>
  );
  const m = model.data;
  if (!m) {
    return (
      <>
        {backLink}
        <PageHeader title={title ?? name} />
        {model.error !== null ? (
          <ErrorBanner error={model.error} title="Could not load this model" onRetry={model.reload} />
        ) : (
          <LoadingBlock label="Loading the model…" />
        )}
      </>
    );
  }
  return (
    <>
      {backLink}
      <PageHeader
        title={
          <span className="title-with-badge">
            <span data-testid="model-title">{title ?? m.name}</span>
            <RiskBadge tier={m.riskTier} />
          </span>
        }
        subtitle={
          <>
            Owned by <strong data-testid="model-owner">{m.ownerTeam || NONE}</strong> · project {project} · registered{' '}
            {formatDateTime(m.createdAt)} by {m.creator || NONE}
          </>
        }
      />
      {model.error !== null && (
        <ErrorBanner error={model.error} title="Could not refresh this model" onRetry={model.reload} />
      )}
      {children(m)}
    </>
  );
}

/** A registered model: its description and tags, then its versions or its release history. */
export function ModelPage({ project, name, tab }: { project: string; name: string; tab: ModelTab }) {
  const model = useModel(project, name);
  useDocumentTitle(name);
  return (
    <ModelFrame project={project} name={name} model={model}>
      {(m) => (
        <>
          <ModelAbout model={m} />
          <TabNav
            label="Model"
            items={TABS.map((t) => ({
              to: modelTabPath(project, name, t.tab),
              label: t.label,
              active: t.tab === tab,
            }))}
          />
          {tab === 'versions' && <VersionsTable project={project} model={m} />}
          {tab === 'releases' && <ReleaseHistory project={project} model={m.name} />}
        </>
      )}
    </ModelFrame>
  );
}

function ModelAbout({ model: m }: { model: RegisteredModel }) {
  const tags = m.tags.filter((t) => !isSystemTag(t.key));
  return (
    <Card title="About">
      <div className="kv-columns model-about" data-testid="model-about">
        <div className="model-description">
          {m.description ? (
            <p className="pre-wrap" data-testid="model-description">
              {m.description}
            </p>
          ) : (
            <p className="muted">No description.</p>
          )}
        </div>
        <dl className="kv">
          <dt>Risk tier</dt>
          <dd>
            <RiskBadge tier={m.riskTier} />
          </dd>
          <dt>Owner team</dt>
          <dd>{m.ownerTeam || NONE}</dd>
          <dt>Aliases</dt>
          <dd>
            {m.aliases.length === 0
              ? NONE
              : [...m.aliases]
                  .sort((a, b) => a.alias.localeCompare(b.alias))
                  .map((a) => `@${a.alias} → v${a.version}`)
                  .join(', ')}
          </dd>
        </dl>
        <dl className="kv">
          <dt>Tags</dt>
          <dd data-testid="model-tags">
            <TagChips tags={tags} max={20} />
          </dd>
          <dt>Updated</dt>
          <dd>{formatDateTime(m.updatedAt)}</dd>
        </dl>
      </div>
    </Card>
  );
}

/** The model's versions, newest first, paged. */
function VersionsTable({ project, model }: { project: string; model: RegisteredModel }) {
  const list = usePaged(JSON.stringify([project, model.name, model.updatedAt]), (pageToken, signal) =>
    api().listModelVersions({ project, name: model.name, maxResults: VERSIONS_PAGE, pageToken }, { signal }),
  );
  const columns: Column<ModelVersion>[] = [
    {
      key: 'version',
      header: 'Version',
      width: '5.5rem',
      render: (v) => (
        <Link to={versionPath(project, model.name, v.version)} className="job-link">
          v{v.version}
        </Link>
      ),
    },
    timeColumn('created', 'Created', (v) => v.createdAt, '10.5rem'),
    {
      key: 'run',
      header: 'Source run',
      width: '10rem',
      render: (v) => {
        const to = sourceRunPath(v);
        if (!v.runId) return <span className="muted">{NONE}</span>;
        return to ? (
          <Link to={to} className="mono small" title={v.runId}>
            {v.runId.slice(0, 12)}…
          </Link>
        ) : (
          <span className="mono small" title={v.runId}>
            {v.runId.slice(0, 12)}…
          </span>
        );
      },
    },
    { key: 'stage', header: 'Stage', width: '7.5rem', render: (v) => <StageBadge stage={v.stage} /> },
    { key: 'aliases', header: 'Aliases', width: '10rem', render: (v) => <AliasBadges aliases={v.aliases} /> },
    {
      key: 'checksum',
      header: 'Checksum',
      width: '11rem',
      render: (v) =>
        v.checksum ? (
          <span className="mono small" title={v.checksum} data-checksum={v.checksum}>
            {shortChecksum(v.checksum)}
          </span>
        ) : (
          <span className="muted">{NONE}</span>
        ),
    },
    {
      key: 'framework',
      header: 'Framework / format',
      width: '10rem',
      render: (v) => frameworkLabel(v) ?? <span className="muted">{NONE}</span>,
    },
    {
      key: 'size',
      header: 'Size',
      width: '6rem',
      align: 'right',
      render: (v) => (
        <span title={v.fileCount === null ? undefined : `${v.fileCount} files`}>{formatBytes(v.sizeBytes)}</span>
      ),
    },
  ];
  return (
    <Card title="Versions" flush>
      <div data-testid="versions-table">
        <LoadedTable
          rows={list.rows}
          error={list.error}
          errorTitle="Could not load the versions"
          onRetry={list.reload}
          loadingLabel="Loading versions…"
          caption={`Versions of ${model.name}`}
          columns={columns}
          rowKey={(v) => String(v.version)}
          rowAttributes={(v) => ({ 'data-version': String(v.version) })}
          empty="No versions yet. Register one from a run with the MLflow client or the CLI."
        >
          {list.moreError !== null && (
            <div className="card-pad">
              <ErrorBanner error={list.moreError} title="Could not load more versions" onRetry={list.loadMore} />
            </div>
          )}
          {list.hasMore && <LoadMore loading={list.loadingMore} onLoadMore={list.loadMore} />}
        </LoadedTable>
      </div>
    </Card>
  );
}

/** The checksum of a version in full, with a copy button (the version page's details). */
export function Checksum({ value }: { value: string | null }) {
  if (!value) return <>{NONE}</>;
  return (
    <span className="secret-row">
      <span className="mono small">{value}</span>
      <CopyButton value={value} label="Copy" />
    </span>
  );
}
