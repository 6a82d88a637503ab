import type { Release } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { timeColumn } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Textarea } from '../../components/Input.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { serverFieldError } from '../../forms.js';
import { useAction, useDocumentTitle } from '../../hooks.js';
import {
  approvalBlocker,
  modelPath,
  modelTabPath,
  releaseStatusLabel,
  versionPath,
  type ReleaseDetail,
} from '../../models.js';
import { useProjects } from '../../project.js';
import { Link } from '../../router.js';
import { useMe } from '../../session.js';
import { ModelsTabs } from './ModelsTabs.js';
import { usePaged } from './paged.js';

const QUEUE_PAGE = 50;

type Decision = { release: Release; decision: 'approve' | 'reject' };

/**
 * The current project's releases waiting for approval (critical models going to production).
 * Maintainers approve or reject them (a rejection needs a reason); the requester cannot decide
 * their own request, and the page says so instead of offering a button that would be refused.
 */
export function ApprovalsPage() {
  useDocumentTitle('Approval queue');
  const me = useMe();
  const { current, error: projectsError } = useProjects();
  const project = current?.name ?? null;
  const queue = usePaged(JSON.stringify([project]), async (cursor, signal) => {
    if (!project) return { items: [], nextPageToken: null };
    const page = await api().listReleases({ project, status: 'approval', limit: QUEUE_PAGE, cursor }, { signal });
    return { items: page.items, nextPageToken: page.nextCursor };
  });
  const [deciding, setDeciding] = useState<Decision | null>(null);
  const [done, setDone] = useState<ReleaseDetail | null>(null);

  const columns: Column<Release>[] = [
    {
      key: 'model',
      header: 'Model',
      render: (r) => (
        <Link to={modelPath(project ?? '', r.model)} className="job-link">
          {r.model}
        </Link>
      ),
    },
    {
      key: 'version',
      header: 'Version',
      width: '9rem',
      render: (r) => (
        <Link to={versionPath(project ?? '', r.model, r.version)} title="Gate results beside the champion's">
          v{r.version} · gate results
        </Link>
      ),
    },
    { key: 'environment', header: 'Environment', width: '7.5rem', render: (r) => r.environment },
    { key: 'requestedBy', header: 'Requested by', width: '8rem', render: (r) => r.requestedBy },
    {
      key: 'note',
      header: 'Note',
      render: (r) => (r.note ? <span title={r.note}>{r.note}</span> : <span className="muted">{NONE}</span>),
    },
    timeColumn('created', 'Requested', (r) => r.createdAt, '10.5rem'),
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      width: '17rem',
      actions: true,
      render: (r) => {
        const blocker = approvalBlocker(r, me, current?.role);
        if (blocker) {
          return (
            <span className="muted small approval-blocker" data-testid="approval-blocked">
              {blocker}
            </span>
          );
        }
        return (
          <span className="row-actions">
            <Button size="sm" variant="primary" onClick={() => setDeciding({ release: r, decision: 'approve' })}>
              Approve
            </Button>
            <Button size="sm" variant="danger" onClick={() => setDeciding({ release: r, decision: 'reject' })}>
              Reject
            </Button>
          </span>
        );
      },
    },
  ];

  return (
    <>
      <PageHeader
        title="Approval queue"
        subtitle={
          current ? (
            <>
              Releases of <strong>{current.displayName || current.name}</strong>'s critical models waiting for a
              maintainer's approval before they go to production.
            </>
          ) : undefined
        }
        actions={<Button onClick={queue.reload}>Refresh</Button>}
      />
      <ModelsTabs active="approvals" />
      {done && (
        <Banner
          tone={done.status === 'approved' ? 'success' : 'warning'}
          title={`${done.model} v${done.version} → ${done.environment}: ${releaseStatusLabel(done.status)}`}
          data-testid="decision-result"
          actions={
            <Button size="sm" variant="ghost" onClick={() => setDone(null)} aria-label="Dismiss">
              Dismiss
            </Button>
          }
        >
          <p>
            <Link to={modelTabPath(project ?? '', done.model, 'releases')} className="text-link">
              See the release history of {done.model}
            </Link>
          </p>
        </Banner>
      )}
      <Card flush>
        <div data-testid="approval-queue">
          <LoadedTable
            rows={queue.rows}
            error={queue.error ?? (project ? null : projectsError)}
            errorTitle="Could not load the approval queue"
            onRetry={queue.reload}
            loadingLabel="Loading the approval queue…"
            caption="Releases waiting for approval"
            columns={columns}
            rowKey={(r) => r.id}
            rowAttributes={(r) => ({ 'data-release': r.id, 'data-model': r.model, 'data-version': String(r.version) })}
            empty={
              <EmptyState title="Nothing waiting">
                <p>Production releases of critical models appear here once their evaluation gate is cleared.</p>
              </EmptyState>
            }
          >
            {queue.moreError !== null && (
              <div className="card-pad">
                <ErrorBanner error={queue.moreError} title="Could not load more releases" onRetry={queue.loadMore} />
              </div>
            )}
            {queue.hasMore && <LoadMore loading={queue.loadingMore} onLoadMore={queue.loadMore} />}
          </LoadedTable>
        </div>
      </Card>
      {deciding && project && (
        <DecisionDialog
          project={project}
          {...deciding}
          onClose={() => setDeciding(null)}
          onDone={(d) => {
            setDeciding(null);
            setDone(d);
            queue.reload();
          }}
        />
      )}
    </>
  );
}

/** Approve (an optional comment) or reject (a reason is required) one release. */
function DecisionDialog({
  project,
  release: r,
  decision,
  onClose,
  onDone,
}: Decision & { project: string; onClose: () => void; onDone: (d: ReleaseDetail) => void }) {
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const action = useAction();
  const approving = decision === 'approve';
  const submit = () => {
    const text = reason.trim();
    if (!approving && !text) {
      setReasonError('Say why it is rejected: the requester reads it.');
      return;
    }
    setReasonError(undefined);
    void action.run(async () => {
      const d = approving
        ? await api().approveRelease({ project, id: r.id, body: text ? { reason: text } : {} })
        : await api().rejectRelease({ project, id: r.id, body: { reason: text } });
      onDone(d);
    });
  };
  return (
    <FormDialog
      title={`${approving ? 'Approve' : 'Reject'} ${r.model} v${r.version} → ${r.environment}`}
      submitLabel={approving ? 'Approve release' : 'Reject release'}
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['reason']}
      errorTitle={approving ? 'Not approved' : 'Not rejected'}
      data-testid="decision-dialog"
    >
      <p className="dialog-text">
        Requested by <strong>{r.requestedBy}</strong>
        {r.note ? (
          <>
            : <em>{r.note}</em>
          </>
        ) : (
          '.'
        )}{' '}
        <Link to={versionPath(project, r.model, r.version)} className="text-link">
          Check the gate results
        </Link>{' '}
        first.
      </p>
      <Field
        label={approving ? 'Comment' : 'Reason'}
        hint={approving ? 'Optional; kept with the decision in the audit log.' : 'Required; kept in the audit log.'}
        error={reasonError ?? serverFieldError(action.error, 'reason')}
      >
        {(p) => <Textarea {...p} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
