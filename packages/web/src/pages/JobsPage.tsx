import type { Job, ListJobsParams, ListJobsResponse } from '@hangar/sdk';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api.js';
import { PageHeader } from '../components/PageHeader.js';
import { Banner } from '../components/Banner.js';
import { Button } from '../components/Button.js';
import { Card } from '../components/Card.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Field } from '../components/Field.js';
import { Input, Select } from '../components/Input.js';
import { LoadedTable, LoadMore } from '../components/LoadedTable.js';
import { isActive } from '../format.js';
import { sleep, useDocumentTitle, useNow } from '../hooks.js';
import { jobColumns } from '../job-columns.js';
import { Link, navigate, useLocation } from '../router.js';

const STATES: readonly Job['state'][] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const PAGE_SIZE = 50;
/** Refresh quickly while something on screen is moving, slowly otherwise (new jobs still appear). */
const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 5000;
/** Older active jobs beyond the first page are refreshed one by one; bound that work. */
const MAX_TAIL_REFRESH = 20;

type Filters = Pick<ListJobsParams, 'state' | 'kind'>;

function parseState(v: string | null): Job['state'] | undefined {
  return STATES.find((s) => s === v);
}

/**
 * Folds a fresh first page into what is on screen without losing pages loaded with "Load more".
 * Job ids sort by creation time (newest first in the list), so everything newer than the last
 * fresh item is replaced by the fresh page (new jobs appear, finished ones change state, ones that
 * left the filter go), and older loaded items are kept as they were.
 */
function mergeFirstPage(prev: ListJobsResponse, fresh: ListJobsResponse): ListJobsResponse {
  if (fresh.nextCursor === null) return fresh;
  const oldest = fresh.items[fresh.items.length - 1];
  if (!oldest) return fresh;
  const freshIds = new Set(fresh.items.map((j) => j.id));
  const tail = prev.items.filter((j) => j.id < oldest.id && !freshIds.has(j.id));
  return { items: [...fresh.items, ...tail], nextCursor: tail.length ? prev.nextCursor : fresh.nextCursor };
}

/** Jobs, newest first: filter by state and kind, page with "Load more", follow changes live. */
export function JobsPage() {
  useDocumentTitle('Jobs');
  const { search } = useLocation();
  // Filters live in the URL so a filtered view can be bookmarked and survives a reload.
  const state = parseState(search.get('state'));
  const kind = search.get('kind')?.trim() || undefined;

  const [page, setPage] = useState<ListJobsResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [kindDraft, setKindDraft] = useState(kind ?? '');
  const [enqueueing, setEnqueueing] = useState(false);
  const [enqueued, setEnqueued] = useState<Job | null>(null);
  const [enqueueError, setEnqueueError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  // The refresh loop reads the latest list (including pages added by "Load more") through this.
  const pageRef = useRef(page);
  useEffect(() => {
    pageRef.current = page;
  }, [page]);
  const loadedKey = useRef<string | null>(null);

  const anyActive = page?.items.some(isActive) ?? false;
  const now = useNow(anyActive);

  useEffect(() => setKindDraft(kind ?? ''), [kind]);

  // First load for these filters, then a refresh loop. One loop per filter set; `reload` restarts
  // it at once (after enqueueing a job, or on Retry).
  useEffect(() => {
    const ac = new AbortController();
    const filters: Filters = { state, kind };
    // A reload with the same filters (Retry, a new job) merges into the table instead of blanking it.
    const key = `${state ?? ''}|${kind ?? ''}`;
    let first = loadedKey.current !== key || pageRef.current === null;
    if (first) {
      setPage(null);
      pageRef.current = null;
    }
    const run = async () => {
      while (!ac.signal.aborted) {
        try {
          const fresh = await api().listJobs({ ...filters, limit: PAGE_SIZE }, { signal: ac.signal });
          if (ac.signal.aborted) return;
          const prev = first ? null : pageRef.current;
          let merged = prev ? mergeFirstPage(prev, fresh) : fresh;
          const staleTail = merged.items.slice(fresh.items.length).filter(isActive).slice(0, MAX_TAIL_REFRESH);
          if (staleTail.length) {
            const updated = await Promise.all(
              staleTail.map((j) =>
                api()
                  .getJob({ id: j.id }, { signal: ac.signal })
                  .catch(() => j),
              ),
            );
            const byId = new Map(updated.map((j) => [j.id, j]));
            merged = { ...merged, items: merged.items.map((j) => byId.get(j.id) ?? j) };
          }
          if (ac.signal.aborted) return;
          first = false;
          loadedKey.current = key;
          pageRef.current = merged;
          setPage(merged);
          setError(null);
        } catch (err) {
          if (ac.signal.aborted) return;
          // A failed background refresh keeps the table; only a failed first load replaces it.
          setError(err);
          if (first) return;
        }
        const fast = pageRef.current?.items.some(isActive) ?? false;
        // Hidden tabs refresh slowly: nobody is looking, and the server has other callers.
        await sleep(fast && !document.hidden ? FAST_POLL_MS : SLOW_POLL_MS, ac.signal);
      }
    };
    setError(null);
    void run();
    return () => ac.abort();
  }, [state, kind, reload]);

  const setFilters = (next: Filters) => {
    const qs = new URLSearchParams();
    if (next.state) qs.set('state', next.state);
    if (next.kind) qs.set('kind', next.kind);
    const s = qs.toString();
    navigate(s ? `/jobs?${s}` : '/jobs', { replace: true });
  };

  const onFilterSubmit = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ state, kind: kindDraft.trim() || undefined });
  };

  const loadMore = async () => {
    if (!page?.nextCursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const key = loadedKey.current;
      const more = await api().listJobs({ state, kind, limit: PAGE_SIZE, cursor: page.nextCursor });
      setPage((p) => {
        // The filters changed while this page was loading: it belongs to another list.
        if (!p || loadedKey.current !== key) return p;
        const seen = new Set(p.items.map((j) => j.id));
        return { items: [...p.items, ...more.items.filter((j) => !seen.has(j.id))], nextCursor: more.nextCursor };
      });
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  const runNoop = async () => {
    setEnqueueing(true);
    setEnqueueError(null);
    try {
      const job = await api().enqueueJob({ body: { kind: 'system.noop', payload: {} } });
      setEnqueued(job);
      setReload((n) => n + 1);
    } catch (err) {
      setEnqueueError(err);
    } finally {
      setEnqueueing(false);
    }
  };

  const retry = useCallback(() => setReload((n) => n + 1), []);

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Background work: pipeline steps, evaluations, conversions and scheduled tasks."
        actions={
          <Button onClick={() => void runNoop()} loading={enqueueing} data-testid="run-noop">
            Run a no-op job
          </Button>
        }
      />
      {enqueueError !== null && (
        <ErrorBanner error={enqueueError} title="Could not enqueue the job" onDismiss={() => setEnqueueError(null)} />
      )}
      {enqueued && (
        <Banner tone="success">
          <p>
            Queued job{' '}
            <Link to={`/jobs/${encodeURIComponent(enqueued.id)}`} className="mono">
              {enqueued.id}
            </Link>
            .
          </p>
        </Banner>
      )}
      <Card flush>
        <form className="filter-bar" onSubmit={onFilterSubmit} role="search" aria-label="Filter jobs">
          <Field label="State" className="field-inline">
            {(p) => (
              <Select
                {...p}
                value={state ?? ''}
                onChange={(e) => setFilters({ state: parseState(e.target.value), kind })}
              >
                <option value="">All states</option>
                {STATES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Kind" className="field-inline field-grow">
            {(p) => (
              <Input
                {...p}
                placeholder="e.g. system.exec"
                value={kindDraft}
                spellCheck={false}
                onChange={(e) => setKindDraft(e.target.value)}
              />
            )}
          </Field>
          <div className="filter-actions">
            <Button type="submit">Filter</Button>
            {(state || kind) && (
              <Button variant="ghost" onClick={() => setFilters({})}>
                Clear
              </Button>
            )}
          </div>
        </form>
        <LoadedTable
          rows={page?.items ?? null}
          error={error}
          errorTitle={page ? 'Could not refresh jobs' : 'Could not load jobs'}
          onRetry={retry}
          loadingLabel="Loading jobs…"
          caption="Jobs"
          columns={jobColumns(now)}
          rowKey={(j) => j.id}
          rowAttributes={(j) => ({ 'data-job-id': j.id })}
          empty={state || kind ? 'No jobs match these filters.' : 'No jobs yet. Run a no-op job to try it out.'}
        >
          {moreError !== null && (
            <div className="card-pad">
              <ErrorBanner error={moreError} title="Could not load more jobs" onRetry={() => void loadMore()} />
            </div>
          )}
          {page?.nextCursor && <LoadMore loading={loadingMore} onLoadMore={() => void loadMore()} />}
        </LoadedTable>
      </Card>
    </>
  );
}
