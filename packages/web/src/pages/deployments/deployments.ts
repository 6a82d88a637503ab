// Helpers for the Deployments pages: portal paths and reading deployments, rollouts and their
// analyses for display. No DOM or React here, so the unit tests run them in Node.
import type { Deployment, Rollout } from '@hangar/sdk';

export type TrafficSplit = Deployment['traffic'][number];
export type StepAnalysis = Rollout['analyses'][number];
export type Check = StepAnalysis['checks'][number];

const NONE = '—';

/** The deployments list (of the current project). */
export const DEPLOYMENTS_PATH = '/deployments';

/**
 * A deployment's page. Deployment names are unique server-wide (they are the inference API's
 * model names) and hold only `[a-z0-9-]`, so the name alone is the path; the page finds its project.
 */
export function deploymentPath(name: string): string {
  return `${DEPLOYMENTS_PATH}/${encodeURIComponent(name)}`;
}

/** A split for people: `v1 90% · v2 10%`, in the order the server keeps it. */
export function formatTraffic(traffic: readonly TrafficSplit[]): string {
  return traffic.length === 0 ? NONE : traffic.map((t) => `v${t.version} ${t.weight}%`).join(' · ');
}

/** Whether a rollout still acts on traffic (and so may be promoted, paused, resumed or aborted). */
export function isLive(r: Pick<Rollout, 'status'> | null | undefined): boolean {
  return r?.status === 'running' || r?.status === 'paused';
}

export interface CanaryProgress {
  /** 1-based, for people. */
  step: number;
  of: number;
  /** The candidate's share of traffic in this step. */
  percent: number;
  steps: number[];
  startedAt: string;
  /** How long each step lasts, when the rollout says. */
  stepSeconds: number | null;
}

/**
 * Where a canary stands: step n of m and its percentage. Null for shadow rollouts and for
 * rollouts without a step (finished ones keep their last step, but it is no longer current).
 */
export function canaryProgress(r: Rollout): CanaryProgress | null {
  if (r.strategy !== 'canary' || !r.step || !isLive(r)) return null;
  const steps = Array.isArray(r.config.steps) ? (r.config.steps as unknown[]).filter(isNumber) : [];
  return {
    step: r.step.index + 1,
    of: steps.length || r.step.index + 1,
    percent: r.step.percent,
    steps,
    startedAt: r.step.startedAt,
    stepSeconds: isNumber(r.config.stepSeconds) ? r.config.stepSeconds : null,
  };
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** One line about a rollout for the list: `canary v2 · step 2 of 4 (10%)`, `shadow v3 · running`. */
export function rolloutSummary(r: Rollout): string {
  const progress = canaryProgress(r);
  if (progress) {
    const paused = r.status === 'paused' ? ' · paused' : '';
    return `${r.strategy} v${r.candidateVersion} · step ${progress.step} of ${progress.of} (${progress.percent}%)${paused}`;
  }
  return `${r.strategy} v${r.candidateVersion} · ${r.status}`;
}

/** A rate from 0 to 1 as a percentage with one decimal: `1.5%`; `—` when not known. */
export function formatRate(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? NONE : `${(x * 100).toFixed(1)}%`;
}

/** A latency in milliseconds: `0.38 ms`, `12.3 ms`, `1,250 ms`; `—` when not known. */
export function formatMs(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NONE;
  if (x < 10) return `${Number(x.toFixed(2))} ms`;
  if (x < 1000) return `${Number(x.toFixed(1))} ms`;
  return `${Math.round(x).toLocaleString('en-US')} ms`;
}

/** A signed latency difference: `+0.4 ms`, `−1.2 ms`. */
export function formatMsDelta(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NONE;
  const s = formatMs(Math.abs(x));
  return x > 0 ? `+${s}` : x < 0 ? `−${s}` : s;
}

/** A small number to 3 significant digits (output deltas, distribution shift). */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NONE;
  if (x === 0) return '0';
  return String(Number(x.toPrecision(3)));
}

const CHECK_LABELS: Record<string, string> = {
  error_rate: 'Error rate',
  p99_latency: 'p99 latency',
  p99_ratio: 'p99 vs stable',
  distribution_shift: 'Distribution shift',
  live_accuracy: 'Live accuracy drop',
  live_mae: 'Live MAE rise',
};

/** A check's name in words; unknown names (a newer server) are shown as they come. */
export function checkLabel(name: string): string {
  return CHECK_LABELS[name] ?? name.replace(/_/g, ' ');
}

/** A check's measured value and limit in the check's own unit: `2.0% ≤ 5.0%`, `1.8× ≤ 3×`. */
export function formatCheck(c: Check): string {
  const value = (v: number | null) => {
    if (v === null) return NONE;
    if (c.name === 'error_rate') return formatRate(v);
    if (c.name === 'p99_latency') return formatMs(v);
    if (c.name === 'p99_ratio') return `${formatNumber(v)}×`;
    if (c.name === 'live_accuracy' || c.name === 'live_mae') return formatRate(v);
    return formatNumber(v);
  };
  return `${value(c.value)} ≤ ${value(c.threshold)}`;
}

/**
 * A step's live metric, stable / candidate, with the labels each was computed on:
 * `accuracy 92.0% / 61.0% (200 / 180 labelled)`. Null when no labels had arrived.
 */
export function formatLive(live: StepAnalysis['live']): string | null {
  if (!live) return null;
  const value = (v: number | null) =>
    v === null ? NONE : live.metric === 'accuracy' ? formatRate(v) : formatNumber(v);
  return `${live.metric === 'accuracy' ? 'accuracy' : 'MAE'} ${value(live.stable.value)} / ${value(live.candidate.value)} (${live.stable.labeled} / ${live.candidate.labeled} labelled)`;
}

/**
 * The segments of a traffic bar: each version's share of the primary traffic, widths summing to
 * 100, in version order so colours stay with versions as weights change. Versions at 0 % are
 * left out (they take no traffic).
 */
export function trafficSegments(traffic: readonly TrafficSplit[]): { version: number; weight: number }[] {
  return [...traffic].filter((t) => t.weight > 0).sort((a, b) => a.version - b.version);
}
