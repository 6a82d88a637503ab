import type { Deployment, Rollout } from '@hangar/sdk';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { formatTraffic, trafficSegments, type StepAnalysis, type TrafficSplit } from './deployments.js';

const STATUS_TONES: Record<Deployment['status'], BadgeTone> = {
  deploying: 'info',
  ready: 'success',
  failed: 'danger',
};

/** A deployment's status in words, coloured; loading pulses. */
export function DeploymentStatusBadge({ status }: { status: Deployment['status'] }) {
  return (
    <Badge tone={STATUS_TONES[status]}>
      {status === 'deploying' && <span className="badge-dot" aria-hidden="true" />}
      <span data-deployment-status={status}>{status}</span>
    </Badge>
  );
}

const ROLLOUT_TONES: Record<Rollout['status'], BadgeTone> = {
  running: 'info',
  paused: 'warning',
  promoted: 'success',
  aborted: 'danger',
  stopped: 'neutral',
};

/** A rollout's status; a running one pulses. */
export function RolloutStatusBadge({ status }: { status: Rollout['status'] }) {
  return (
    <Badge tone={ROLLOUT_TONES[status]}>
      {status === 'running' && <span className="badge-dot" aria-hidden="true" />}
      <span data-rollout-status={status}>{status}</span>
    </Badge>
  );
}

const DECISION_TONES: Record<StepAnalysis['decision'], BadgeTone> = {
  pass: 'success',
  fail: 'danger',
  wait: 'neutral',
};

/** A canary step's verdict. */
export function DecisionBadge({ decision }: { decision: StepAnalysis['decision'] }) {
  return (
    <Badge tone={DECISION_TONES[decision]}>
      <span data-decision={decision}>{decision}</span>
    </Badge>
  );
}

/**
 * The split as a bar, one segment per version sized by its weight, each labelled with the version
 * and its share (the words carry the meaning; colours only tell segments apart). `compact` is the
 * thin form for table cells.
 */
export function TrafficBar({ traffic, compact = false }: { traffic: readonly TrafficSplit[]; compact?: boolean }) {
  const segments = trafficSegments(traffic);
  return (
    <div
      className={compact ? 'traffic-bar traffic-bar-compact' : 'traffic-bar'}
      role="img"
      aria-label={`Traffic: ${formatTraffic(traffic)}`}
      data-testid="traffic-bar"
    >
      {segments.map((s) => (
        <div
          key={s.version}
          className={`traffic-seg traffic-seg-${s.version % 6}`}
          style={{ width: `${s.weight}%` }}
          data-version={s.version}
          data-weight={s.weight}
          title={`v${s.version}: ${s.weight}%`}
        >
          {!compact && (
            <span className="traffic-seg-label">
              v{s.version} {s.weight}%
            </span>
          )}
        </div>
      ))}
    </div>
  );
}
