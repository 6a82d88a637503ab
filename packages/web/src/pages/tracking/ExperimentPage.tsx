import { HangarApiError, type Experiment, type Run, type SearchRunsBody } from '@hangar/sdk';
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { api } from '../../api.js';
import { Badge, RunStatusBadge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Input, Select } from '../../components/Input.js';
import { LoadMore } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { WindowedTable, type TableSort, type WindowedColumn } from '../../components/WindowedTable.js';
import { formatDuration, NONE } from '../../format.js';
import { useDocumentTitle, useResource, useStoredState } from '../../hooks.js';
import { Link, navigate, useLocation } from '../../router.js';
import {
  comparePath,
  experimentPath,
  formatMetric,
  formatOrderBy,
  isoOf,
  keysOf,
  metricNumber,
  metricOf,
  NOTE_TAG,
  paramOf,
  parseOrderBy,
  runDurationSeconds,
  runPath,
  sameField,
  type RunField,
} from '../../tracking.js';
import { ColumnsDialog, type ChosenColumns } from './ColumnsDialog.js';
import { useFollowProject } from './project-sync.js';

/** Runs per request: a screenful or two; the next page loads as the reader scrolls. */
const PAGE_SIZE = 100;
/** Shown by default (before the reader picks columns): the first few keys of the first page. */
const DEFAULT_KEY_COLUMNS = 5;
/** The compare page overlays this many runs at most (beyond that the charts are unreadable). */
export const MAX_COMPARE = 20;

type ViewType = NonNullable<SearchRunsBody['viewType']>;
const VIEWS: Record<string, ViewType> = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };

interface Loaded {
  /** What the rows were loaded for; an answer for another query is dropped. */
  query: string;
  runs: Run[];
  next: string | null;
  /** The columns shown until the reader chooses: the first keys of the first page. */
  defaults: ChosenColumns;
}

/** The column key of a metric, param or attribute column (`m:acc`, `p:lr`, `a:start_time`). */
function columnKey(field: RunField): string {
  return `${field.kind[0]}:${field.key}`;
}

function fieldOfColumn(key: string): RunField | null {
  const rest = key.slice(2);
  if (key[1] !== ':' || !rest) return null;
  if (key[0] === 'm') return { kind: 'metric', key: rest };
  if (key[0] === 'p') return { kind: 'param', key: rest };
  if (key[0] === 'a') return parseOrderBy(`attributes.${rest}`)?.field ?? null;
  return null;
}

/**
 * One experiment's runs: filtered with MLflow's search grammar, sorted by any column (on the
 * server), with the params and metrics the reader picks as columns. Runs are paged from the server
 * as the table scrolls and only the rows in view are rendered, so an experiment of 100 000 runs
 * opens as fast as one of ten. Ticking runs and "Compare" opens them side by side.
 */
export function ExperimentPage({ experimentId }: { experimentId: string }) {
  const { search } = useLocation();
  const filter = search.get('filter') ?? '';
  const order = search.get('order') ?? '';
  const viewName = search.get('view') ?? 'active';
  const viewType = VIEWS[viewName] ?? 'ACTIVE_ONLY';

  const experiment = useResource((signal) => api().getExperiment({ id: experimentId }, { signal }), [experimentId]);
  const exp = experiment.data;
  useDocumentTitle(exp ? exp.name : `Experiment ${experimentId}`);
  useFollowProject(exp?.projectId);

  const [filterDraft, setFilterDraft] = useState(filter);
  const hintId = useId();
  useEffect(() => setFilterDraft(filter), [filter]);

  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const query = JSON.stringify([experimentId, filter, order, viewType]);
  const queryRef = useRef(query);
  const loadingRef = useRef(false);
  useEffect(() => {
    queryRef.current = query;
  }, [query]);

  useEffect(() => {
    const ac = new AbortController();
    setLoaded(null);
    setError(null);
    setMoreError(null);
    api()
      .searchRuns(
        {
          body: {
            experimentIds: [experimentId],
            filter: filter || undefined,
            orderBy: order ? [order] : undefined,
            maxResults: PAGE_SIZE,
            viewType,
          },
        },
        { signal: ac.signal },
      )
      .then(
        (page) =>
          !ac.signal.aborted &&
          setLoaded({
            query,
            runs: page.items,
            next: page.nextPageToken,
            defaults: {
              metrics: keysOf(page.items, (r) => r.data.metrics).slice(0, DEFAULT_KEY_COLUMNS),
              params: keysOf(page.items, (r) => r.data.params).slice(0, DEFAULT_KEY_COLUMNS),
            },
          }),
        (err: unknown) => !ac.signal.aborted && setError(err),
      );
    return () => ac.abort();
    // `query` stands for the four inputs.
  }, [query, attempt]);

  // `retry` after a failure; scrolling alone does not hammer a failing server.
  const loadMore = useCallback(
    async (retry = false) => {
      if (!loaded?.next || loadingRef.current || (moreError !== null && !retry)) return;
      loadingRef.current = true;
      setLoadingMore(true);
      setMoreError(null);
      const forQuery = loaded.query;
      try {
        const page = await api().searchRuns({
          body: {
            experimentIds: [experimentId],
            filter: filter || undefined,
            orderBy: order ? [order] : undefined,
            maxResults: PAGE_SIZE,
            viewType,
            pageToken: loaded.next,
          },
        });
        setLoaded((l) => {
          if (!l || l.query !== forQuery || queryRef.current !== forQuery) return l;
          const seen = new Set(l.runs.map((r) => r.info.runId));
          return {
            ...l,
            runs: [...l.runs, ...page.items.filter((r) => !seen.has(r.info.runId))],
            next: page.nextPageToken,
          };
        });
      } catch (err) {
        if (queryRef.current === forQuery) setMoreError(err);
      } finally {
        loadingRef.current = false;
        setLoadingMore(false);
      }
    },
    [loaded, moreError, experimentId, filter, order, viewType],
  );

  // Columns: the reader's choice for this experiment, or the first keys of the first page.
  const [chosen, setChosen] = useStoredState<ChosenColumns | null>(`hangar.runColumns.${experimentId}`, null);
  const [choosing, setChoosing] = useState(false);
  // Every key of every loaded run, for the chooser: only worked out while it is open.
  const available = useMemo(
    () =>
      choosing
        ? {
            metrics: keysOf(loaded?.runs ?? [], (r) => r.data.metrics),
            params: keysOf(loaded?.runs ?? [], (r) => r.data.params),
          }
        : { metrics: [], params: [] },
    [loaded, choosing],
  );
  const shown: ChosenColumns = chosen ?? loaded?.defaults ?? { metrics: [], params: [] };

  // Selection for compare, in the order ticked; kept across filters and sorts.
  const [selected, setSelected] = useState<string[]>([]);
  const toggle = (runId: string) =>
    setSelected((s) => (s.includes(runId) ? s.filter((id) => id !== runId) : [...s, runId]));

  const setQuery = (next: { filter?: string; order?: string; view?: string }) => {
    const qs = new URLSearchParams();
    const f = next.filter ?? filter;
    const o = next.order ?? order;
    const v = next.view ?? viewName;
    if (f) qs.set('filter', f);
    if (o) qs.set('order', o);
    if (v !== 'active') qs.set('view', v);
    const s = qs.toString();
    navigate(`${experimentPath(experimentId)}${s ? `?${s}` : ''}`, { replace: true });
  };

  const sortOrder = parseOrderBy(order);
  const sort: TableSort | null = sortOrder
    ? { column: columnKey(sortOrder.field), ascending: sortOrder.ascending }
    : null;
  const onSort = (key: string) => {
    const field = fieldOfColumn(key);
    if (!field) return;
    // The same column again flips the direction; a new one starts with the best first (highest
    // metric, newest run) except for text, which reads best A to Z.
    const ascending =
      sortOrder && sameField(sortOrder.field, field)
        ? !sortOrder.ascending
        : field.kind === 'param' ||
          (field.kind === 'attribute' && ['run_name', 'user_id', 'status'].includes(field.key));
    setQuery({ order: formatOrderBy({ field, ascending }) });
  };

  const columns = runColumns(shown, selected, toggle);
  const submitFilter = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ filter: filterDraft.trim() });
  };

  const badQuery =
    error instanceof HangarApiError &&
    error.status === 400 &&
    ['filter', 'order_by', 'body.filter', 'body.orderBy'].includes(String(error.details?.field ?? ''));

  if (experiment.error !== null && !exp) {
    return (
      <>
        <BackToExperiments />
        <PageHeader title={`Experiment ${experimentId}`} />
        <ErrorBanner error={experiment.error} title="Could not load this experiment" onRetry={experiment.reload} />
      </>
    );
  }

  return (
    <>
      <BackToExperiments />
      <PageHeader
        title={
          <span className="title-with-badge">
            <span data-testid="experiment-name">{exp?.name ?? `Experiment ${experimentId}`}</span>
            {exp?.lifecycleStage === 'deleted' && <Badge tone="warning">deleted</Badge>}
          </span>
        }
        subtitle={exp && <ExperimentSubtitle experiment={exp} />}
        actions={
          <Button
            variant="primary"
            disabled={selected.length < 2 || selected.length > MAX_COMPARE}
            title={
              selected.length < 2
                ? 'Tick two or more runs to compare them'
                : selected.length > MAX_COMPARE
                  ? `At most ${MAX_COMPARE} runs can be compared`
                  : undefined
            }
            onClick={() => navigate(comparePath(selected))}
            data-testid="compare-runs"
          >
            {selected.length >= 2 ? `Compare ${selected.length} runs` : 'Compare runs'}
          </Button>
        }
      />
      <Card flush>
        <form className="filter-bar filter-bar-wrap" role="search" aria-label="Filter runs" onSubmit={submitFilter}>
          <Field label="Filter" className="field-inline field-fill">
            {(p) => (
              <Input
                {...p}
                className="mono"
                spellCheck={false}
                autoCapitalize="none"
                placeholder="metrics.acc > 0.9 and params.optimizer = 'adam'"
                value={filterDraft}
                onChange={(e) => setFilterDraft(e.target.value)}
                aria-invalid={badQuery ? true : undefined}
                aria-describedby={hintId}
                data-testid="run-filter"
              />
            )}
          </Field>
          <Field label="Show" className="field-inline">
            {(p) => (
              <Select {...p} value={viewName} onChange={(e) => setQuery({ view: e.target.value })}>
                <option value="active">Active runs</option>
                <option value="deleted">Deleted runs</option>
                <option value="all">All runs</option>
              </Select>
            )}
          </Field>
          <div className="filter-actions">
            <Button type="submit">Search</Button>
            {(filter || order) && (
              <Button variant="ghost" onClick={() => setQuery({ filter: '', order: '' })}>
                Reset
              </Button>
            )}
            <Button onClick={() => setChoosing(true)} data-testid="choose-columns">
              Columns
            </Button>
          </div>
          <p className="filter-hint muted small" id={hintId}>
            MLflow's search syntax: <code>metrics.acc &gt; 0.9</code>, <code>params.lr = '0.01'</code>,{' '}
            <code>tags.team = 'growth'</code>, <code>attributes.status = 'FAILED'</code>, joined with <code>and</code>.
            Click a column's header to sort by it.
          </p>
        </form>
        <div className="card-pad-tight table-status">
          <span className="muted small" data-testid="runs-status">
            {loaded
              ? `${loaded.runs.length.toLocaleString()} run${loaded.runs.length === 1 ? '' : 's'} loaded${loaded.next ? ', more as you scroll' : ''}`
              : error === null
                ? 'Loading runs…'
                : ''}
            {order && sortOrder && ` · sorted by ${order}`}
          </span>
          {selected.length > 0 && (
            <span className="small">
              {selected.length} selected{' '}
              <Button size="sm" variant="ghost" onClick={() => setSelected([])}>
                Clear selection
              </Button>
            </span>
          )}
        </div>
        {error !== null && (
          <div className="card-pad">
            {badQuery ? (
              <div data-testid="filter-error">
                <ErrorBanner
                  error={error}
                  title={
                    String(error.details?.field ?? '').includes('order')
                      ? 'This sort cannot be used'
                      : 'This filter cannot be used'
                  }
                />
              </div>
            ) : (
              <ErrorBanner error={error} title="Could not load runs" onRetry={() => setAttempt((n) => n + 1)} />
            )}
          </div>
        )}
        {loaded ? (
          <>
            <WindowedTable
              caption="Runs"
              columns={columns}
              rows={loaded.runs}
              rowKey={(r) => r.info.runId}
              rowAttributes={(r) => ({ 'data-run-id': r.info.runId, 'data-run-name': r.info.runName })}
              sort={sort}
              onSort={onSort}
              onNearEnd={() => void loadMore()}
              empty={filter ? 'No runs match this filter.' : 'No runs in this experiment yet.'}
              data-testid="runs-table"
            />
            {moreError !== null && (
              <div className="card-pad">
                <ErrorBanner error={moreError} title="Could not load more runs" onRetry={() => void loadMore(true)} />
              </div>
            )}
            {loaded.next && moreError === null && <LoadMore loading={loadingMore} onLoadMore={() => void loadMore()} />}
          </>
        ) : (
          error === null && <LoadingBlock label="Loading runs…" />
        )}
      </Card>
      {choosing && (
        <ColumnsDialog
          available={available}
          shown={shown}
          onChange={setChosen}
          onReset={() => setChosen(null)}
          onClose={() => setChoosing(false)}
        />
      )}
    </>
  );
}

function BackToExperiments() {
  return (
    <Link to="/experiments" className="text-link back-link">
      ← Experiments
    </Link>
  );
}

function ExperimentSubtitle({ experiment: e }: { experiment: Experiment }) {
  const note = e.tags.find((t) => t.key === NOTE_TAG)?.value;
  return (
    <>
      <span className="mono">ID {e.experimentId}</span> · created <ShortDateTime iso={isoOf(e.creationTime) ?? ''} />
      {note && <span className="experiment-note"> · {note}</span>}
    </>
  );
}

/** The runs table's columns: selection, the run's attributes, then the chosen metrics and params. */
function runColumns(
  shown: ChosenColumns,
  selected: readonly string[],
  toggle: (id: string) => void,
): WindowedColumn<Run>[] {
  const attribute = (key: Extract<RunField, { kind: 'attribute' }>['key']) => columnKey({ kind: 'attribute', key });
  const columns: WindowedColumn<Run>[] = [
    {
      key: 'select',
      header: <span className="visually-hidden">Select</span>,
      width: '2.75rem',
      actions: true,
      render: (r) => (
        <input
          type="checkbox"
          className="row-check"
          checked={selected.includes(r.info.runId)}
          onChange={() => toggle(r.info.runId)}
          aria-label={`Select run ${r.info.runName || r.info.runId}`}
        />
      ),
    },
    {
      key: attribute('run_name'),
      header: 'Run',
      width: '12rem',
      sortable: true,
      render: (r) => (
        <Link to={runPath(r.info.experimentId, r.info.runId)} className="job-link" title={r.info.runName}>
          {r.info.runName || r.info.runId}
        </Link>
      ),
    },
    {
      key: attribute('status'),
      header: 'Status',
      width: '7rem',
      sortable: true,
      render: (r) => <RunStatusBadge status={r.info.status} />,
    },
    {
      key: attribute('start_time'),
      header: 'Created',
      width: '10.5rem',
      sortable: true,
      render: (r) => <ShortDateTime iso={isoOf(r.info.startTime) ?? ''} />,
    },
    {
      key: 'duration',
      header: 'Duration',
      width: '6.5rem',
      align: 'right',
      render: (r) => formatDuration(runDurationSeconds(r.info)),
    },
    {
      key: attribute('user_id'),
      header: 'User',
      width: '7rem',
      sortable: true,
      render: (r) => <span title={r.info.userId}>{r.info.userId || NONE}</span>,
    },
  ];
  for (const key of shown.metrics) {
    columns.push({
      key: columnKey({ kind: 'metric', key }),
      header: key,
      title: `metric ${key}`,
      group: 'Metrics',
      width: '7.5rem',
      align: 'right',
      sortable: true,
      render: (r) => {
        const m = metricOf(r, key);
        if (!m) return <span className="muted">{NONE}</span>;
        return <span title={`${String(metricNumber(m.value))} at step ${m.step}`}>{formatMetric(m.value)}</span>;
      },
    });
  }
  for (const key of shown.params) {
    columns.push({
      key: columnKey({ kind: 'param', key }),
      header: key,
      title: `param ${key}`,
      group: 'Parameters',
      width: '7.5rem',
      sortable: true,
      render: (r) => {
        const v = paramOf(r, key);
        return v === undefined ? <span className="muted">{NONE}</span> : <span title={v}>{v}</span>;
      },
    });
  }
  return columns;
}
