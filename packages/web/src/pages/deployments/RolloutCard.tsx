import type { Rollout } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../../api.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ShortDateTime } from '../../components/DateTime.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Table, type Column } from '../../components/Table.js';
import { formatDuration, NONE } from '../../format.js';
import { useAction } from '../../hooks.js';
import { DecisionBadge, RolloutStatusBadge } from './DeploymentBadges.js';
import {
  canaryProgress,
  checkLabel,
  formatCheck,
  formatLive,
  formatMs,
  formatNumber,
  formatRate,
  isLive,
  type StepAnalysis,
} from './deployments.js';

type Action = 'promote' | 'pause' | 'resume' | 'abort';

/**
 * The deployment's current (or last) rollout: for a canary, which step it is on and each finished
 * step's analysis (the stable and candidate versions' requests, error rates and p99 latencies,
 * the distribution shift and every check with its verdict); for a shadow rollout, its share of
 * traffic. Maintainers get promote, pause/resume and abort; promote and abort ask first.
 */
export function RolloutCard({
  project,
  deployment,
  rollout: r,
  canAct,
  onChanged,
}: {
  project: string;
  deployment: string;
  rollout: Rollout;
  canAct: boolean;
  /** After an action: the page reloads what it moved. */
  onChanged: (message: string) => void;
}) {
  const [confirm, setConfirm] = useState<'promote' | 'abort' | null>(null);
  const quick = useAction();
  const progress = canaryProgress(r);
  const live = isLive(r);

  const act = async (action: Action) => {
    const after = await api().rolloutAction({ project, name: deployment, action, body: {} });
    onChanged(`Rollout of v${after.candidateVersion}: ${after.status}.`);
  };

  const title = (
    <span className="title-with-badge">
      <span>
        {r.strategy === 'canary' ? 'Canary' : 'Shadow'} rollout of v{r.candidateVersion}
      </span>
      <RolloutStatusBadge status={r.status} />
    </span>
  );
  const actions =
    canAct && live ? (
      <span className="row-actions" data-testid="rollout-actions">
        <Button size="sm" variant="primary" onClick={() => setConfirm('promote')}>
          Promote
        </Button>
        {/* A shadow rollout never moves traffic in steps: there is nothing to hold. */}
        {r.strategy === 'shadow' ? null : r.status === 'running' ? (
          <Button size="sm" loading={quick.busy} onClick={() => void quick.run(() => act('pause'))}>
            Pause
          </Button>
        ) : (
          <Button size="sm" loading={quick.busy} onClick={() => void quick.run(() => act('resume'))}>
            Resume
          </Button>
        )}
        <Button size="sm" variant="danger" onClick={() => setConfirm('abort')}>
          Abort
        </Button>
      </span>
    ) : undefined;

  return (
    <Card title={title} actions={actions}>
      <div data-testid="rollout" data-strategy={r.strategy} data-status={r.status}>
        {quick.error !== null && <ErrorBanner error={quick.error} title="That did not work" />}
        <dl className="kv kv-wide">
          <dt>Candidate / stable</dt>
          <dd>
            v{r.candidateVersion} against v{r.stableVersion}
          </dd>
          {r.strategy === 'shadow' && (
            <>
              <dt>Mirrored</dt>
              <dd>
                {typeof r.config.percent === 'number' ? `${r.config.percent}%` : NONE} of requests, answers logged and
                never returned
              </dd>
            </>
          )}
          <dt>Started</dt>
          <dd>
            <ShortDateTime iso={r.createdAt} /> by {r.createdBy}
          </dd>
          {r.finishedAt && (
            <>
              <dt>Finished</dt>
              <dd>
                <ShortDateTime iso={r.finishedAt} />
              </dd>
            </>
          )}
          {r.reason && (
            <>
              <dt>Reason</dt>
              <dd data-testid="rollout-reason">{r.reason}</dd>
            </>
          )}
        </dl>
        {progress && (
          <div className="canary-progress" data-testid="canary-progress">
            <p>
              <strong data-testid="canary-step">
                Step {progress.step} of {progress.of}
              </strong>{' '}
              · <span data-testid="canary-percent">{progress.percent}%</span> of traffic to v{r.candidateVersion}
              {r.status === 'paused' && <strong> · paused</strong>}
              <span className="muted small">
                {' '}
                · since <ShortDateTime iso={progress.startedAt} />
                {progress.stepSeconds !== null && <>; each step lasts {formatDuration(progress.stepSeconds)}</>}
              </span>
            </p>
            <ol className="step-track" aria-label="Canary steps">
              {progress.steps.map((percent, i) => {
                const state = i + 1 < progress.step ? 'done' : i + 1 === progress.step ? 'current' : 'todo';
                return (
                  <li key={percent} className={`step step-${state}`} data-step-state={state}>
                    {percent}%
                  </li>
                );
              })}
            </ol>
          </div>
        )}
        {r.strategy === 'canary' &&
          (r.analyses.length > 0 ? (
            <AnalysisTable analyses={r.analyses} candidate={r.candidateVersion} stable={r.stableVersion} />
          ) : (
            <p className="muted small" data-testid="no-analysis">
              No step analysed yet: a step is judged once it has lasted its time and the candidate has served enough
              requests.
            </p>
          ))}
      </div>
      {confirm && (
        <ConfirmDialog
          title={confirm === 'promote' ? `Promote v${r.candidateVersion}?` : 'Abort the rollout?'}
          confirmLabel={confirm === 'promote' ? 'Promote now' : 'Abort rollout'}
          danger={confirm === 'abort'}
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await act(confirm);
            setConfirm(null);
          }}
        >
          {confirm === 'promote' ? (
            <p>
              All traffic goes to v{r.candidateVersion} now, without the remaining steps, and it becomes the stable
              version.
            </p>
          ) : (
            <p>The rollout ends and all traffic returns to v{r.stableVersion}.</p>
          )}
        </ConfirmDialog>
      )}
    </Card>
  );
}

/** Each judged step: the two versions side by side, the shift, live metrics where labels arrived, and every check with its verdict. */
function AnalysisTable({
  analyses,
  candidate,
  stable,
}: {
  analyses: readonly StepAnalysis[];
  candidate: number;
  stable: number;
}) {
  const columns: Column<StepAnalysis>[] = [
    { key: 'step', header: 'Step', width: '4rem', render: (a) => a.step + 1 },
    { key: 'percent', header: 'Traffic', width: '4.5rem', align: 'right', render: (a) => `${a.percent}%` },
    { key: 'decision', header: 'Decision', width: '6rem', render: (a) => <DecisionBadge decision={a.decision} /> },
    {
      key: 'requests',
      header: `Requests v${stable} / v${candidate}`,
      width: '7.5rem',
      align: 'right',
      render: (a) => `${a.stable.requests} / ${a.candidate.requests}`,
    },
    {
      key: 'errorRate',
      header: 'Error rate',
      width: '8rem',
      align: 'right',
      render: (a) => `${formatRate(a.stable.errorRate)} / ${formatRate(a.candidate.errorRate)}`,
    },
    {
      key: 'p99',
      header: 'p99',
      width: '9rem',
      align: 'right',
      render: (a) => `${formatMs(a.stable.p99Ms)} / ${formatMs(a.candidate.p99Ms)}`,
    },
    {
      key: 'shift',
      header: 'Shift',
      width: '7rem',
      render: (a) =>
        a.shift ? (
          <span title={`p-value ${formatNumber(a.shift.pValue)}`}>
            {a.shift.method.toUpperCase()} {formatNumber(a.shift.value)}
          </span>
        ) : (
          <span className="muted">{NONE}</span>
        ),
    },
    {
      key: 'live',
      header: 'Live metric',
      width: '11rem',
      render: (a) =>
        formatLive(a.live ?? null) ?? (
          <span className="muted" title="No labels had arrived for this step's requests">
            {NONE}
          </span>
        ),
    },
    {
      key: 'checks',
      header: 'Checks',
      render: (a) => (
        <div className="check-list" title={a.reason}>
          {a.checks.map((c) => (
            <span
              key={c.name}
              className={c.passed ? 'check-chip check-pass' : 'check-chip check-fail'}
              data-check={c.name}
              data-passed={String(c.passed)}
            >
              {c.passed ? '✓' : '✗'} {checkLabel(c.name)} <span className="muted">{formatCheck(c)}</span>
            </span>
          ))}
          {a.checks.length === 0 && <span className="muted">{a.reason}</span>}
        </div>
      ),
    },
    { key: 'at', header: 'Judged', width: '11.5rem', render: (a) => <ShortDateTime iso={a.at} /> },
  ];
  return (
    <div className="analysis-table" data-testid="analysis-table">
      <Table
        columns={columns}
        rows={analyses}
        rowKey={(a) => `${a.step}-${a.at}`}
        rowAttributes={(a) => ({ 'data-step': String(a.step + 1) })}
        caption="Canary step analyses"
      />
    </div>
  );
}
