import type { AuditEvent, ListAuditEventsParams, ListAuditEventsResponse, VerifyAuditChainResponse } from '@hangar/sdk';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../../api.js';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { Input, Select } from '../../components/Input.js';
import { LoadedTable } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { formatDateTime, formatJson, NONE } from '../../format.js';
import { useDocumentTitle } from '../../hooks.js';
import { useProjects } from '../../project.js';
import { navigate, useLocation } from '../../router.js';

const PAGE_SIZE = 50;
const OUTCOMES: readonly AuditEvent['outcome'][] = ['success', 'denied', 'failure'];
const OUTCOME_TONES: Record<AuditEvent['outcome'], BadgeTone> = {
  success: 'success',
  denied: 'warning',
  failure: 'danger',
};
const ACTION = /^[a-z][a-z.]*(\.\*)?$/;

type Filters = Pick<ListAuditEventsParams, 'actor' | 'action' | 'target' | 'outcome' | 'since' | 'until'>;
const FILTER_KEYS = ['actor', 'action', 'target', 'outcome', 'since', 'until'] as const;

function readFilters(search: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = search.get(k)?.trim();
    if (!v) continue;
    if (k === 'outcome') f.outcome = OUTCOMES.find((o) => o === v);
    else f[k] = v;
  }
  return f;
}

/** An ISO timestamp as a datetime-local value in the viewer's zone ("2026-03-04T14:05"). */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/**
 * The audit log: who did what to which target, with what outcome. Filters live in the URL (a
 * filtered view can be bookmarked and shared); pages go back and forth by cursor. "Verify chain"
 * recomputes the hash chain on the server; "Export" downloads every matching event as NDJSON.
 */
export function AuditPage() {
  useDocumentTitle('Audit log');
  const { search } = useLocation();
  const filters = useMemo(() => readFilters(search), [search]);
  const filterKey = JSON.stringify(filters);
  const { projects } = useProjects();
  const projectNames = useMemo(() => new Map((projects ?? []).map((p) => [p.id, p.name])), [projects]);

  // cursors[i] opens page i; the first page has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [page, setPage] = useState<ListAuditEventsResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [shown, setShown] = useState<AuditEvent | null>(null);
  const [verify, setVerify] = useState<VerifyState>(null);

  // New filters start again at the first page.
  useEffect(() => {
    setCursors([undefined]);
    setPageIndex(0);
  }, [filterKey]);

  const cursor = cursors[pageIndex];
  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    setPage(null);
    api()
      .listAuditEvents({ ...filters, limit: PAGE_SIZE, cursor }, { signal: ac.signal })
      .then(setPage)
      .catch((err: unknown) => !ac.signal.aborted && setError(err));
    return () => ac.abort();
    // filters are captured through filterKey, which changes exactly when they do.
  }, [filterKey, cursor, attempt]);

  const older = () => {
    if (!page?.nextCursor) return;
    const next = page.nextCursor;
    setCursors((c) => [...c.slice(0, pageIndex + 1), next]);
    setPageIndex((i) => i + 1);
  };

  const columns: Column<AuditEvent>[] = [
    timeColumn('at', 'Time', (e) => e.at, '10rem'),
    { key: 'actor', header: 'Actor', width: '8rem', mono: true, render: (e) => e.actor },
    { key: 'action', header: 'Action', width: '11.5rem', mono: true, render: (e) => e.action },
    {
      key: 'target',
      header: 'Target',
      render: (e) => (
        <span title={`${e.targetType} ${e.target}`}>
          <span className="muted">{e.targetType}</span> <span className="mono">{e.target}</span>
        </span>
      ),
    },
    {
      key: 'outcome',
      header: 'Outcome',
      width: '6.5rem',
      render: (e) => <Badge tone={OUTCOME_TONES[e.outcome]}>{e.outcome}</Badge>,
    },
    {
      key: 'project',
      header: 'Project',
      width: '8rem',
      mono: true,
      render: (e) => (e.projectId ? (projectNames.get(e.projectId) ?? e.projectId) : NONE),
    },
    {
      key: 'more',
      header: <span className="visually-hidden">Details</span>,
      actions: true,
      width: '5.5rem',
      align: 'right',
      render: (e) => (
        <Button
          size="sm"
          variant="ghost"
          onClick={() => setShown(e)}
          aria-label={`Details of ${e.action} on ${e.target}`}
        >
          Details
        </Button>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change and every refusal, newest first. The log is append-only and hash-chained."
        actions={
          <>
            <VerifyButton onResult={setVerify} />
            <ExportButton filters={filters} />
          </>
        }
      />
      <VerifyResult state={verify} onDismiss={() => setVerify(null)} />
      <Card flush>
        <AuditFilters key={filterKey} filters={filters} />
        <LoadedTable
          rows={page?.items ?? null}
          error={error}
          errorTitle="Could not load the audit log"
          onRetry={() => setAttempt((n) => n + 1)}
          loadingLabel="Loading events…"
          caption="Audit events"
          columns={columns}
          rowKey={(e) => e.id}
          rowAttributes={(e) => ({ 'data-action': e.action, 'data-target': e.target, 'data-outcome': e.outcome })}
          empty={Object.keys(filters).length ? 'No events match these filters.' : 'No events yet.'}
        />
        <div className="table-footer table-footer-split">
          <Button size="sm" onClick={() => setPageIndex((i) => i - 1)} disabled={pageIndex === 0}>
            ← Newer
          </Button>
          <span className="muted small" data-testid="audit-page">
            Page {pageIndex + 1}
          </span>
          <Button size="sm" onClick={older} disabled={!page?.nextCursor}>
            Older →
          </Button>
        </div>
      </Card>
      {shown && (
        <EventDialog
          event={shown}
          projectName={projectNames.get(shown.projectId ?? '')}
          onClose={() => setShown(null)}
        />
      )}
    </>
  );
}

/** The filter form; its drafts start from the URL and are applied on submit (Enter or the button). */
function AuditFilters({ filters }: { filters: Filters }) {
  const [draft, setDraft] = useState({
    actor: filters.actor ?? '',
    action: filters.action ?? '',
    target: filters.target ?? '',
    outcome: filters.outcome ?? '',
    since: toLocalInput(filters.since),
    until: toLocalInput(filters.until),
  });
  const [actionError, setActionError] = useState<string | undefined>();
  const set = (k: keyof typeof draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const action = draft.action.trim();
    const problem = action && !ACTION.test(action) ? 'An action such as project.create, or project.*' : undefined;
    setActionError(problem);
    if (problem) return;
    const qs = new URLSearchParams();
    const put = (k: string, v: string | undefined) => v && qs.set(k, v);
    put('actor', draft.actor.trim());
    put('action', action);
    put('target', draft.target.trim());
    put('outcome', draft.outcome);
    put('since', fromLocalInput(draft.since));
    put('until', fromLocalInput(draft.until));
    const s = qs.toString();
    navigate(s ? `/admin/audit?${s}` : '/admin/audit', { replace: true });
  };
  const any = Object.values(filters).some(Boolean);

  return (
    <form className="filter-bar filter-bar-wrap" onSubmit={apply} role="search" aria-label="Filter audit events">
      <Field label="Actor" className="field-inline field-sm">
        {(p) => <Input {...p} placeholder="username" spellCheck={false} value={draft.actor} onChange={set('actor')} />}
      </Field>
      <Field label="Action" className="field-inline field-sm" error={actionError}>
        {(p) => (
          <Input {...p} placeholder="e.g. project.*" spellCheck={false} value={draft.action} onChange={set('action')} />
        )}
      </Field>
      <Field label="Target" className="field-inline field-sm">
        {(p) => <Input {...p} placeholder="name" spellCheck={false} value={draft.target} onChange={set('target')} />}
      </Field>
      <Field label="Outcome" className="field-inline field-xs">
        {(p) => (
          <Select {...p} value={draft.outcome} onChange={set('outcome')}>
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="From" className="field-inline field-time">
        {(p) => <Input {...p} type="datetime-local" value={draft.since} onChange={set('since')} />}
      </Field>
      <Field label="To" className="field-inline field-time">
        {(p) => <Input {...p} type="datetime-local" value={draft.until} onChange={set('until')} />}
      </Field>
      <div className="filter-actions">
        <Button type="submit">Filter</Button>
        {any && (
          <Button variant="ghost" onClick={() => navigate('/admin/audit', { replace: true })}>
            Clear
          </Button>
        )}
      </div>
    </form>
  );
}

type VerifyState = { result: VerifyAuditChainResponse } | { error: unknown } | null;

function VerifyButton({ onResult }: { onResult: (r: VerifyState) => void }) {
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    onResult(null);
    try {
      onResult({ result: await api().verifyAuditChain() });
    } catch (err) {
      onResult({ error: err });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Button onClick={() => void verify()} loading={busy}>
      Verify chain
    </Button>
  );
}

function VerifyResult({ state, onDismiss }: { state: VerifyState; onDismiss: () => void }) {
  if (!state) return null;
  if ('error' in state)
    return <ErrorBanner error={state.error} title="Could not verify the chain" onDismiss={onDismiss} />;
  const dismiss = (
    <Button size="sm" variant="ghost" onClick={onDismiss}>
      Dismiss
    </Button>
  );
  const r = state.result;
  if (r.ok) {
    return (
      <Banner tone="success" title="Chain verified" actions={dismiss} data-testid="verify-result">
        <p>
          {r.checked} event{r.checked === 1 ? '' : 's'} checked up to #{r.headSeq}; every hash matches.
          {r.pending > 0 && ` ${r.pending} newer event${r.pending === 1 ? ' is' : 's are'} not linked yet.`}
        </p>
      </Banner>
    );
  }
  return (
    <Banner tone="danger" title="Chain broken" actions={dismiss} data-testid="verify-result">
      <p>
        {r.problem ? `Event #${r.problem.seq} does not verify: ${r.problem.reason}.` : 'The chain does not verify.'}{' '}
        {r.checked} event{r.checked === 1 ? '' : 's'} checked. Events from there on may have been altered.
      </p>
    </Banner>
  );
}

/** Downloads the events matching the current filters as NDJSON (through the SDK, as a file). */
function ExportButton({ filters }: { filters: Filters }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const bytes = await api().exportAuditEvents(filters);
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/x-ndjson' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `hangar-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
      document.body.append(a);
      a.click();
      a.remove();
      // Give the browser the time to start the download before the URL goes.
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button onClick={() => void run()} loading={busy} title="Every event matching the filters, as JSON lines">
        Export NDJSON
      </Button>
      {error !== null && (
        <Dialog title="Export failed" onClose={() => setError(null)} size="sm">
          <ErrorBanner error={error} />
        </Dialog>
      )}
    </>
  );
}

function EventDialog({
  event: e,
  projectName,
  onClose,
}: {
  event: AuditEvent;
  projectName: string | undefined;
  onClose: () => void;
}) {
  return (
    <Dialog
      title={`${e.action} · ${e.target}`}
      onClose={onClose}
      size="lg"
      footer={
        <Button variant="primary" onClick={onClose}>
          Close
        </Button>
      }
    >
      <dl className="kv">
        <dt>Time</dt>
        <dd>{formatDateTime(e.at)}</dd>
        <dt>Actor</dt>
        <dd className="mono">{e.actor}</dd>
        <dt>Action</dt>
        <dd className="mono">{e.action}</dd>
        <dt>Target</dt>
        <dd>
          {e.targetType} <span className="mono">{e.target}</span>
        </dd>
        <dt>Outcome</dt>
        <dd>
          <Badge tone={OUTCOME_TONES[e.outcome]}>{e.outcome}</Badge>
        </dd>
        <dt>Project</dt>
        <dd className="mono">{e.projectId ? (projectName ?? e.projectId) : NONE}</dd>
        <dt>Request id</dt>
        <dd className="mono">{e.requestId ?? NONE}</dd>
        <dt>IP</dt>
        <dd className="mono">{e.ip ?? NONE}</dd>
        <dt>Chain</dt>
        <dd className="mono">{e.seq === null ? 'not linked yet' : `#${e.seq} · ${e.hash ?? NONE}`}</dd>
      </dl>
      <pre className="code">{formatJson(e.details)}</pre>
    </Dialog>
  );
}
