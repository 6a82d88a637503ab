import type { Release } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime, timeColumn } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import { Spinner } from '../../components/Spinner.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { useResource } from '../../hooks.js';
import { releaseStatusLabel, versionPath, type ReleaseDetail } from '../../models.js';
import { Link } from '../../router.js';
import { usePaged } from './paged.js';

/** Releases per request; older ones load on demand. */
const RELEASES_PAGE = 50;

const STATUS_TONES: Record<Release['status'], BadgeTone> = {
  gate: 'info',
  approval: 'warning',
  approved: 'success',
  deploying: 'info',
  done: 'success',
  rejected: 'danger',
  blocked: 'danger',
  rolled_back: 'warning',
  cancelled: 'neutral',
};

/**
 * A release's status in words, coloured; the word is always shown. `live` (a release's current
 * status, not a step of its history) pulses while it waits on the system.
 */
export function ReleaseStatusBadge({ status, live = true }: { status: Release['status']; live?: boolean }) {
  return (
    <Badge tone={STATUS_TONES[status]}>
      {live && (status === 'gate' || status === 'deploying') && <span className="badge-dot" aria-hidden="true" />}
      <span data-release-status={status}>{releaseStatusLabel(status)}</span>
    </Badge>
  );
}

/** Who decided an approval, and why (auto-approvals are by "system"). */
export function DecisionCell({ release: r }: { release: Release }) {
  if (!r.decision) return <span className="muted">{NONE}</span>;
  const d = r.decision;
  return (
    <span title={d.reason ?? undefined}>
      {d.decision} by {d.by === 'system' ? <em>system (auto)</em> : <strong>{d.by}</strong>}
      {d.reason && <span className="muted small"> · {d.reason}</span>}
    </span>
  );
}

/**
 * A model's releases, newest first, paged. Each release's transitions are loaded when its row is
 * opened (one request per release the reader asks about, never one per row up front).
 */
export function ReleaseHistory({ project, model }: { project: string; model: string }) {
  const list = usePaged(JSON.stringify([project, model]), async (cursor, signal) => {
    const page = await api().listReleases({ project, model, limit: RELEASES_PAGE, cursor }, { signal });
    return { items: page.items, nextPageToken: page.nextCursor };
  });
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const columns = releaseColumns(project, { open, toggle });
  return (
    <Card title="Release history" flush actions={<Button onClick={list.reload}>Refresh</Button>}>
      <div data-testid="release-history">
        <LoadedTable
          rows={list.rows}
          error={list.error}
          errorTitle="Could not load the releases"
          onRetry={list.reload}
          loadingLabel="Loading releases…"
          caption={`Releases of ${model}`}
          columns={columns}
          rowKey={(r) => r.id}
          rowAttributes={(r) => ({ 'data-release': r.id, 'data-version': String(r.version) })}
          empty="No releases yet. Promote a version from its page."
        >
          {list.moreError !== null && (
            <div className="card-pad">
              <ErrorBanner error={list.moreError} title="Could not load more releases" onRetry={list.loadMore} />
            </div>
          )}
          {list.hasMore && <LoadMore loading={list.loadingMore} onLoadMore={list.loadMore} />}
        </LoadedTable>
      </div>
    </Card>
  );
}

/** The columns of a releases table; `history` adds the expandable transitions column. */
export function releaseColumns(
  project: string,
  history?: { open: ReadonlySet<string>; toggle: (id: string) => void },
): Column<Release>[] {
  const cols: Column<Release>[] = [
    {
      key: 'version',
      header: 'Version',
      width: '5.5rem',
      render: (r) => (
        <Link to={versionPath(project, r.model, r.version)} className="job-link">
          v{r.version}
        </Link>
      ),
    },
    { key: 'environment', header: 'Environment', width: '7.5rem', render: (r) => r.environment },
    {
      key: 'status',
      header: 'Status',
      width: '9rem',
      render: (r) => <ReleaseStatusBadge status={r.status} />,
    },
    { key: 'requestedBy', header: 'Requested by', width: '8rem', render: (r) => r.requestedBy },
    { key: 'decision', header: 'Decision', width: '14rem', render: (r) => <DecisionCell release={r} /> },
    timeColumn('created', 'Requested', (r) => r.createdAt, '10.5rem'),
  ];
  if (history) {
    cols.push({
      key: 'history',
      header: 'Transitions',
      width: '24rem',
      render: (r) => (
        <div className="release-history-cell">
          <Button
            size="sm"
            variant="ghost"
            aria-expanded={history.open.has(r.id)}
            aria-controls={`transitions-${r.id}`}
            onClick={() => history.toggle(r.id)}
          >
            {history.open.has(r.id) ? 'Hide' : 'Show'} transitions
          </Button>
          {history.open.has(r.id) && <Transitions project={project} id={r.id} />}
        </div>
      ),
    });
  }
  return cols;
}

/** One release's transitions (status entered, by whom, why, when), loaded on demand. */
function Transitions({ project, id }: { project: string; id: string }) {
  const res = useResource((signal) => api().getRelease({ project, id }, { signal }), [project, id]);
  return (
    <div id={`transitions-${id}`} className="transitions">
      {res.error !== null && <ErrorBanner error={res.error} title="Could not load this release" onRetry={res.reload} />}
      {res.data ? (
        <TransitionList detail={res.data} />
      ) : (
        res.error === null && <Spinner size="sm" label="Loading transitions…" />
      )}
    </div>
  );
}

/** The steps a release went through, oldest first. */
export function TransitionList({ detail }: { detail: ReleaseDetail }) {
  return (
    <ol className="transition-list" aria-label={`Transitions of release ${detail.id}`}>
      {detail.transitions.map((t) => (
        <li key={t.seq} data-transition={t.status}>
          <ReleaseStatusBadge status={t.status} live={false} /> <span className="small">by {t.actor}</span>{' '}
          <span className="muted small nowrap">
            <ShortDateTime iso={t.at} />
          </span>
          {t.reason && <div className="small muted transition-reason">{t.reason}</div>}
        </li>
      ))}
    </ol>
  );
}
