import type { GetModelVersionGateResponse, RegisteredModel } from '@hangar/sdk';
import { useEffect, useState } from 'react';
import { api } from '../../api.js';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Textarea } from '../../components/Input.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDateTime, NONE } from '../../format.js';
import { serverFieldError } from '../../forms.js';
import { useAction, useResource } from '../../hooks.js';
import { formatDelta, gateRows, versionPath, type GateRow } from '../../models.js';
import { useProjects } from '../../project.js';
import { Link } from '../../router.js';
import { useMe } from '../../session.js';
import { datasetPath, formatMetric } from '../../tracking.js';

/** How often an unsettled gate (pending, running) is asked about again. */
const POLL_MS = 2000;

type GateStatus = NonNullable<GetModelVersionGateResponse['gate']>['status'];

const GATE_TONES: Record<GateStatus, BadgeTone> = {
  pending: 'neutral',
  running: 'info',
  passed: 'success',
  failed: 'danger',
  skipped: 'neutral',
};

/** A gate's status, with "overridden" said in words beside a failure an admin cleared. */
export function GateStatusBadge({ status, overridden }: { status: GateStatus; overridden: boolean }) {
  return (
    <Badge tone={overridden ? 'warning' : GATE_TONES[status]}>
      {(status === 'running' || status === 'pending') && <span className="badge-dot" aria-hidden="true" />}
      <span data-gate-status={status}>{status}</span>
      {overridden && <span className="badge-note">· overridden</span>}
    </Badge>
  );
}

const threshold = (t: GateRow['threshold']) => (t ? `${t.op === '>=' ? '≥' : '≤'} ${formatMetric(t.threshold)}` : NONE);

/**
 * A version's evaluation gate beside the champion's: each metric's value, its threshold and
 * whether it passed, the champion's value and the difference; the champion rule when it applied;
 * and, for a failed gate, the admin override (a reason is required). An unsettled gate is polled
 * until it settles; `onSettled` then lets the page refresh what the gate moved (releases).
 */
export function GateCard({
  project,
  model,
  version,
  onSettled,
}: {
  project: string;
  model: RegisteredModel;
  version: number;
  onSettled?: () => void;
}) {
  const me = useMe();
  const { current } = useProjects();
  const res = useResource(
    (signal) => api().getModelVersionGate({ project, name: model.name, version }, { signal }),
    [project, model.name, version],
  );
  const [overriding, setOverriding] = useState(false);
  const gate = res.data?.gate ?? null;
  const unsettled = gate?.status === 'pending' || gate?.status === 'running';
  const [wasUnsettled, setWasUnsettled] = useState(false);
  useEffect(() => {
    if (!unsettled) return;
    setWasUnsettled(true);
    const t = window.setTimeout(res.reload, POLL_MS);
    return () => window.clearTimeout(t);
  }, [unsettled, res.data, res.reload]);
  useEffect(() => {
    if (wasUnsettled && gate && !unsettled) {
      setWasUnsettled(false);
      onSettled?.();
    }
  }, [wasUnsettled, gate, unsettled, onSettled]);

  if (!res.data) {
    return (
      <Card title="Evaluation gate">
        {res.error !== null ? (
          <ErrorBanner error={res.error} title="Could not load the gate result" onRetry={res.reload} />
        ) : (
          <LoadingBlock label="Loading the gate result…" />
        )}
      </Card>
    );
  }

  const { champion } = res.data;
  const isChampion = champion?.version === version;
  // The champion as the gate saw it (stored with the gate), else as it stands now.
  const championVersion = gate?.championVersion ?? (isChampion ? null : (champion?.version ?? null));
  const championMetrics = gate?.championVersion != null ? gate.championMetrics : isChampion ? null : champion?.metrics;
  const rows = gate ? gateRows(gate.metrics, gate.checks, championMetrics ?? null) : [];
  const canOverride = gate?.status === 'failed' && !gate.overridden && (me.isAdmin || current?.role === 'admin');

  const columns: Column<GateRow>[] = [
    { key: 'metric', header: 'Metric', mono: true, render: (r) => r.metric },
    {
      key: 'value',
      header: `v${version}`,
      width: '7rem',
      align: 'right',
      render: (r) => (
        <span title={r.value === null ? 'not computed' : String(r.value)}>{formatMetric(r.value ?? undefined)}</span>
      ),
    },
    { key: 'threshold', header: 'Threshold', width: '7rem', align: 'right', render: (r) => threshold(r.threshold) },
    {
      key: 'championRule',
      header: 'Champion rule',
      width: '8rem',
      align: 'right',
      render: (r) => threshold(r.championRule),
    },
    {
      key: 'result',
      header: 'Result',
      width: '5.5rem',
      render: (r) =>
        r.passed === null ? (
          <span className="muted">{NONE}</span>
        ) : r.passed ? (
          <span className="gate-pass" data-result="pass">
            pass
          </span>
        ) : (
          <span className="gate-fail" data-result="fail">
            fail
          </span>
        ),
    },
    {
      key: 'champion',
      header: championVersion !== null ? `Champion v${championVersion}` : 'Champion',
      width: '8.5rem',
      align: 'right',
      render: (r) => formatMetric(r.champion ?? undefined),
    },
    {
      key: 'delta',
      header: 'Δ vs champion',
      width: '8rem',
      align: 'right',
      render: (r) => (
        <span
          className={r.better === null ? undefined : r.better ? 'delta-up' : 'delta-down'}
          title={r.better === null ? undefined : r.better ? 'better than the champion' : 'worse than the champion'}
        >
          {formatDelta(r.delta)}
        </span>
      ),
    },
  ];

  return (
    <Card
      title="Evaluation gate"
      flush
      actions={
        canOverride && (
          <Button variant="danger" onClick={() => setOverriding(true)} data-testid="override-gate">
            Override
          </Button>
        )
      }
    >
      <div className="card-pad" data-testid="gate">
        {res.error !== null && (
          <ErrorBanner error={res.error} title="Could not refresh the gate result" onRetry={res.reload} />
        )}
        {!gate ? (
          <EmptyState title="Not evaluated">
            <p>
              {model.name} has no evaluation spec, so its versions are not gated
              {model.riskTier === 'critical' ? '; a critical model cannot be released without one.' : '.'}
            </p>
          </EmptyState>
        ) : (
          <>
            <div className="gate-summary">
              <GateStatusBadge status={gate.status} overridden={gate.overridden} />
              {gate.spec && (
                <span className="small">
                  {gate.spec.task} on{' '}
                  <Link to={datasetPath(gate.spec.datasetId)} className="mono">
                    {gate.spec.datasetId}
                  </Link>{' '}
                  (label <code>{gate.spec.labelColumn}</code>
                  {gate.rows !== null && `, ${gate.rows.toLocaleString()} rows`}
                  {gate.scorer && `, ${gate.scorer} scorer`})
                </span>
              )}
              <span className="muted small">
                {gate.finishedAt ? (
                  <>
                    finished <ShortDateTime iso={gate.finishedAt} />
                  </>
                ) : (
                  <>
                    queued <ShortDateTime iso={gate.createdAt} />
                  </>
                )}
              </span>
              <span className="small" data-testid="gate-champion">
                {isChampion ? (
                  'This version is the champion.'
                ) : championVersion !== null ? (
                  <>
                    Champion: <Link to={versionPath(project, model.name, championVersion)}>v{championVersion}</Link>
                    {!championMetrics && <span className="muted"> (no metrics on this held-out set)</span>}
                  </>
                ) : (
                  <span className="muted">No champion yet.</span>
                )}
              </span>
            </div>
            {gate.reason && (
              <p
                className={gate.status === 'failed' ? 'gate-fail-reason small' : 'small muted'}
                data-testid="gate-reason"
              >
                {gate.reason}
              </p>
            )}
            {gate.override && (
              <p className="small" data-testid="gate-override">
                Overridden by <strong>{gate.override.by}</strong> on {formatDateTime(gate.override.at)}:{' '}
                <em>{gate.override.reason}</em>
              </p>
            )}
            {gate.status === 'failed' && !gate.overridden && !canOverride && (
              <p className="small muted">
                A failed gate blocks releases; a project admin can override it, with a reason.
              </p>
            )}
          </>
        )}
      </div>
      {gate && (gate.status === 'passed' || gate.status === 'failed') && rows.length > 0 && (
        <div data-testid="gate-table">
          <Table
            caption={`Gate metrics of v${version} beside the champion's`}
            columns={columns}
            rows={rows}
            rowKey={(r) => r.metric}
            rowAttributes={(r) => ({ 'data-metric': r.metric })}
          />
        </div>
      )}
      {overriding && gate && (
        <OverrideDialog
          project={project}
          name={model.name}
          version={version}
          onClose={() => setOverriding(false)}
          onDone={() => {
            setOverriding(false);
            res.reload();
            onSettled?.();
          }}
        />
      )}
    </Card>
  );
}

/** Clears a failed gate by decision; the reason is required and goes to the audit log. */
function OverrideDialog({
  project,
  name,
  version,
  onClose,
  onDone,
}: {
  project: string;
  name: string;
  version: number;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const action = useAction();
  const submit = () => {
    const text = reason.trim();
    if (!text) {
      setReasonError('Say why the failure is acceptable: it is kept in the audit log.');
      return;
    }
    setReasonError(undefined);
    void action.run(async () => {
      await api().overrideModelVersionGate({ project, name, version, body: { reason: text } });
      onDone();
    });
  };
  return (
    <FormDialog
      title={`Override the failed gate of ${name} v${version}`}
      submitLabel="Override gate"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['reason']}
      errorTitle="Not overridden"
      data-testid="override-dialog"
    >
      <p className="dialog-text">
        The version can then be released although it failed its checks. The gate stays "failed", marked as overridden by
        you.
      </p>
      <Field label="Reason" hint="Required; audited." error={reasonError ?? serverFieldError(action.error, 'reason')}>
        {(p) => <Textarea {...p} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
