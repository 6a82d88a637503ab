import { HangarApiError, type RegisteredModel } from '@hangar/sdk';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { api } from '../../api.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Input, Select } from '../../components/Input.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { useDocumentTitle, useResource } from '../../hooks.js';
import {
  filtersFromSearch,
  filtersToPath,
  latestByStage,
  listQuery,
  modelPath,
  MODELS_PATH,
  STAGES,
  versionPath,
  type ModelFilters,
} from '../../models.js';
import { useProjects } from '../../project.js';
import { Link, navigate, useLocation } from '../../router.js';
import { RiskBadge, StageBadge, TagChips } from './ModelBadges.js';
import { ModelsTabs } from './ModelsTabs.js';

/** Models per request: the search API's default page; more load on demand. */
const PAGE_SIZE = 100;

interface Loaded {
  /** What the rows were loaded for; an answer for another query is dropped. */
  query: string;
  models: RegisteredModel[];
  next: string | null;
}

/**
 * The current project's registered models: risk tier, owner team, the newest version per stage,
 * aliases and tags. Every filter (MLflow's grammar for name and tags, the owner team, the stage)
 * is applied by the list API, so each page of 100 holds only matching models.
 */
export function ModelsPage() {
  useDocumentTitle('Models');
  const { current, projects, error: projectsError } = useProjects();
  const { search } = useLocation();
  const filters = filtersFromSearch(search);
  const project = current?.name ?? null;
  const remote = listQuery(filters);
  // Every team may own models here; the list of teams is small and any signed-in user reads it.
  const teams = useResource((signal) => api().listTeams({ signal }), []);

  const [draft, setDraft] = useState<ModelFilters>(filters);
  const filterKey = JSON.stringify(filters);
  // The fields follow the URL (Back, Reset, a shared link); `filterKey` stands for `filters`.
  useEffect(() => setDraft(filters), [filterKey]);

  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [moreLoading, setMoreLoading] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const query = JSON.stringify([project, remote]);
  const hintId = useId();

  useEffect(() => {
    if (!project) return;
    const ac = new AbortController();
    setLoaded(null);
    setError(null);
    setMoreError(null);
    api()
      .listRegisteredModels({ project, ...remote, maxResults: PAGE_SIZE }, { signal: ac.signal })
      .then(
        (page) => !ac.signal.aborted && setLoaded({ query, models: page.items, next: page.nextPageToken }),
        (err: unknown) => !ac.signal.aborted && setError(err),
      );
    return () => ac.abort();
    // `query` stands for project and filter.
  }, [query, attempt]);

  const loadMore = useCallback(() => {
    if (!loaded?.next || !project || moreLoading) return;
    const at = loaded;
    setMoreLoading(true);
    setMoreError(null);
    api()
      .listRegisteredModels({ project, ...remote, maxResults: PAGE_SIZE, pageToken: at.next ?? undefined })
      .then(
        (page) =>
          setLoaded((l) =>
            l && l.query === at.query ? { ...l, models: [...l.models, ...page.items], next: page.nextPageToken } : l,
          ),
        (err: unknown) => setMoreError(err),
      )
      .finally(() => setMoreLoading(false));
  }, [loaded, project, remote, moreLoading]);

  const apply = (next: ModelFilters) => navigate(filtersToPath(next), { replace: true });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply(draft);
  };

  const badFilter =
    error instanceof HangarApiError &&
    error.status === 400 &&
    ['filter', 'querystring.filter'].includes(String(error.details?.field ?? 'filter'));
  const rows = loaded && loaded.query === query ? loaded.models : null;
  const owners = [...new Set([...(teams.data?.items ?? []).map((t) => t.name), filters.owner].filter(Boolean))].sort();
  const anyFilter = Object.keys(remote).length > 0;

  const columns: Column<RegisteredModel>[] = [
    {
      key: 'name',
      header: 'Model',
      render: (m) => (
        <Link to={modelPath(project ?? '', m.name)} className="job-link" title={m.description ?? m.name}>
          {m.name}
        </Link>
      ),
    },
    { key: 'risk', header: 'Risk tier', width: '6.5rem', render: (m) => <RiskBadge tier={m.riskTier} /> },
    { key: 'owner', header: 'Owner team', width: '9rem', render: (m) => m.ownerTeam || NONE },
    {
      key: 'latest',
      header: 'Latest versions',
      width: '16rem',
      render: (m) => {
        const latest = latestByStage(m);
        if (latest.length === 0) return <span className="muted">no versions</span>;
        return (
          <span className="badge-row">
            {latest.map((l) => (
              <Link key={l.stage} to={versionPath(project ?? '', m.name, l.version)} className="badge-link">
                <StageBadge stage={l.stage} version={l.version} />
              </Link>
            ))}
          </span>
        );
      },
    },
    {
      key: 'aliases',
      header: 'Aliases',
      width: '11rem',
      render: (m) =>
        m.aliases.length === 0 ? (
          <span className="muted">{NONE}</span>
        ) : (
          <span className="badge-row">
            {[...m.aliases]
              .sort((a, b) => a.alias.localeCompare(b.alias))
              .map((a) => (
                <span key={a.alias} className="tag-chip" data-alias={a.alias}>
                  @{a.alias}
                  <span className="tag-chip-value"> v{a.version}</span>
                </span>
              ))}
          </span>
        ),
    },
    { key: 'tags', header: 'Tags', width: '14rem', render: (m) => <TagChips tags={m.tags} /> },
    timeColumn('updated', 'Updated', (m) => m.updatedAt),
  ];

  if (projects && projects.length === 0) {
    return (
      <>
        <PageHeader title="Models" />
        <Card>
          <EmptyState title="No project yet">
            <p>Models live in projects. Ask a platform admin or a team lead to add you to one.</p>
          </EmptyState>
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Models"
        subtitle={
          current ? (
            <>
              Registered models of <strong>{current.displayName || current.name}</strong>: their versions, gates and
              releases.
            </>
          ) : undefined
        }
      />
      <ModelsTabs active="models" />
      <Card flush>
        <form className="filter-bar filter-bar-wrap" role="search" aria-label="Filter models" onSubmit={submit}>
          <Field label="Filter" className="field-inline field-fill field-grow">
            {(p) => (
              <Input
                {...p}
                className="mono"
                spellCheck={false}
                autoCapitalize="none"
                placeholder="name LIKE 'fraud%'"
                value={draft.filter}
                onChange={(e) => setDraft({ ...draft, filter: e.target.value })}
                aria-invalid={badFilter ? true : undefined}
                aria-describedby={hintId}
                data-testid="model-filter"
              />
            )}
          </Field>
          <Field label="Tag" className="field-inline">
            {(p) => (
              <Input
                {...p}
                spellCheck={false}
                autoCapitalize="none"
                placeholder="team=fraud"
                value={draft.tag}
                onChange={(e) => setDraft({ ...draft, tag: e.target.value })}
                data-testid="tag-filter"
              />
            )}
          </Field>
          <Field label="Owner" className="field-inline">
            {(p) => (
              <Select
                {...p}
                value={filters.owner}
                onChange={(e) => apply({ ...draft, owner: e.target.value })}
                data-testid="owner-filter"
              >
                <option value="">Any team</option>
                {owners.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Stage" className="field-inline">
            {(p) => (
              <Select
                {...p}
                value={filters.stage}
                onChange={(e) => apply({ ...draft, stage: e.target.value as ModelFilters['stage'] })}
                data-testid="stage-filter"
              >
                <option value="">Any stage</option>
                {STAGES.map((s) => (
                  <option key={s} value={s}>
                    Has a version in {s}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <div className="filter-actions">
            <Button type="submit">Search</Button>
            {anyFilter && (
              <Button variant="ghost" onClick={() => navigate(MODELS_PATH, { replace: true })}>
                Reset
              </Button>
            )}
          </div>
          <p className="filter-hint muted small" id={hintId}>
            MLflow's search syntax: <code>name LIKE 'fraud%'</code>, <code>name IN ('a', 'b')</code>,{' '}
            <code>tags.team = 'risk'</code>, joined with <code>and</code>. Tag takes <code>key=value</code> or a key
            alone.
          </p>
        </form>
        {badFilter ? (
          <div className="card-pad" data-testid="filter-error">
            <ErrorBanner error={error} title="This filter cannot be used" />
          </div>
        ) : (
          <LoadedTable
            rows={rows}
            error={error ?? (project ? null : projectsError)}
            errorTitle="Could not load models"
            onRetry={() => setAttempt((n) => n + 1)}
            loadingLabel="Loading models…"
            caption="Registered models"
            columns={columns}
            rowKey={(m) => m.id}
            rowAttributes={(m) => ({ 'data-model': m.name })}
            empty={anyFilter ? 'No model matches these filters.' : <NoModels />}
          >
            {loaded?.next && (
              <>
                {moreError !== null && (
                  <div className="card-pad">
                    <ErrorBanner error={moreError} title="Could not load more models" onRetry={loadMore} />
                  </div>
                )}
                <LoadMore loading={moreLoading} onLoadMore={loadMore} />
              </>
            )}
          </LoadedTable>
        )}
      </Card>
    </>
  );
}

/** How to start: register a model from a run with the MLflow client. */
function NoModels() {
  return (
    <EmptyState title="No registered models yet">
      <p>
        Register a model from a run with the MLflow client, e.g.{' '}
        <code className="code">mlflow.register_model("runs:/&lt;run id&gt;/model", "fraud")</code>, or{' '}
        <code className="code">log_model(..., registered_model_name="fraud")</code>.
      </p>
    </EmptyState>
  );
}
