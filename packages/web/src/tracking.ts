// Helpers for the tracking pages (experiments, runs, compare): portal paths, MLflow's search
// grammar for the runs table's order_by, and reading runs' values for display. No DOM or React
// here, so the unit tests run them in Node.
import type { Metric, Run } from '@hangar/sdk';

export type MetricValue = Metric['value'];

/** The portal page of an experiment (its runs). */
export function experimentPath(experimentId: string): string {
  return `/experiments/${encodeURIComponent(experimentId)}`;
}

export type RunTab = 'overview' | 'metrics' | 'artifacts' | 'reproducibility';

/** The portal page of a run, on one of its tabs; `artifact` opens that file in the artifact browser. */
export function runPath(experimentId: string, runId: string, tab: RunTab = 'overview', artifact?: string): string {
  const base = `${experimentPath(experimentId)}/runs/${encodeURIComponent(runId)}`;
  if (tab === 'overview') return base;
  const qs = artifact ? `?path=${encodeURIComponent(artifact)}` : '';
  return `${base}/${tab}${qs}`;
}

/** The compare page of several runs (of any experiments the caller can read). */
export function comparePath(runIds: readonly string[]): string {
  return `/experiments/compare?runs=${runIds.map(encodeURIComponent).join(',')}`;
}

export function datasetPath(datasetId: string): string {
  return `/experiments/datasets/${encodeURIComponent(datasetId)}`;
}

export function loggedModelPath(experimentId: string, modelId: string): string {
  return `${experimentPath(experimentId)}/models/${encodeURIComponent(modelId)}`;
}

/** Run ids as the server writes them (32 hex digits); anything else in a URL is not a run. */
export const RUN_ID = /^[0-9a-f]{32}$/;
export const EXPERIMENT_ID = /^\d{1,15}$/;

// ---------- The search grammar ----------

/** A sortable column of the runs table: a metric, a param, or a run attribute. */
export type RunField =
  | { kind: 'metric'; key: string }
  | { kind: 'param'; key: string }
  | { kind: 'tag'; key: string }
  | { kind: 'attribute'; key: 'run_name' | 'start_time' | 'end_time' | 'status' | 'user_id' };

export interface RunOrder {
  field: RunField;
  ascending: boolean;
}

const ENTITY: Record<RunField['kind'], string> = {
  metric: 'metrics',
  param: 'params',
  tag: 'tags',
  attribute: 'attributes',
};

const BARE_KEY = /^[\p{L}\p{N}_]+$/u;

/**
 * A key as the grammar reads it: bare when it is one word, otherwise in backticks (MLflow keys may
 * hold `/`, `.`, `-`, `:` and spaces, but never a backtick).
 */
export function quoteKey(key: string): string {
  return BARE_KEY.test(key) ? key : `\`${key}\``;
}

/** `metrics.acc`, ``params.`learning rate` ``, `attributes.start_time`. */
export function fieldIdentifier(field: RunField): string {
  return `${ENTITY[field.kind]}.${quoteKey(field.key)}`;
}

/** One order_by item: `metrics.acc DESC`. */
export function formatOrderBy(order: RunOrder): string {
  return `${fieldIdentifier(order.field)} ${order.ascending ? 'ASC' : 'DESC'}`;
}

const ENTITY_OF: Record<string, RunField['kind']> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};
const ATTRIBUTES = new Set(['run_name', 'start_time', 'end_time', 'status', 'user_id']);

/**
 * Reads back an order_by item this page wrote (or a user typed into the URL), so the table can
 * mark the sorted column. Null for anything it does not recognize; the server still decides.
 */
export function parseOrderBy(item: string | null | undefined): RunOrder | null {
  if (!item) return null;
  const m = /^\s*([a-z]+)\.(?:`([^`]+)`|"([^"]+)"|([\p{L}\p{N}_]+))\s*(asc|desc)?\s*$/iu.exec(item);
  if (!m) return null;
  const kind = ENTITY_OF[m[1]!.toLowerCase()];
  const key = m[2] ?? m[3] ?? m[4]!;
  if (!kind) return null;
  const ascending = (m[5] ?? 'ASC').toUpperCase() === 'ASC';
  if (kind === 'attribute') {
    const attr = key === 'created' || key === 'Created' ? 'start_time' : key;
    if (!ATTRIBUTES.has(attr)) return null;
    return { field: { kind, key: attr as Extract<RunField, { kind: 'attribute' }>['key'] }, ascending };
  }
  return { field: { kind, key }, ascending };
}

/** Whether two fields name the same column. */
export function sameField(a: RunField, b: RunField): boolean {
  return a.kind === b.kind && a.key === b.key;
}

/** A filter comparing a tag to a value, with the value quoted for the grammar. */
export function tagEquals(key: string, value: string): string {
  return `tags.${quoteKey(key)} = '${value.replace(/'/g, "\\'")}'`;
}

// ---------- Values ----------

/** A metric value as a number: the server sends NaN and the infinities as strings. */
export function metricNumber(v: MetricValue): number {
  if (typeof v === 'number') return v;
  return v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : -Infinity;
}

/**
 * A metric value for a table cell: at most six significant digits (the full value goes in a
 * tooltip), integers as they are, and NaN and the infinities spelled out.
 */
export function formatMetric(v: MetricValue | number | undefined): string {
  if (v === undefined) return '—';
  const n = typeof v === 'number' ? v : metricNumber(v);
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return n.toExponential(4);
  return String(Number(n.toPrecision(6)));
}

export function tagOf(run: Pick<Run, 'data'>, key: string): string | undefined {
  return run.data.tags.find((t) => t.key === key)?.value;
}

export function paramOf(run: Pick<Run, 'data'>, key: string): string | undefined {
  return run.data.params.find((p) => p.key === key)?.value;
}

export function metricOf(run: Pick<Run, 'data'>, key: string): Metric | undefined {
  return run.data.metrics.find((m) => m.key === key);
}

/** Seconds from start to end, or to `now` while the run is still running. */
export function runDurationSeconds(info: Run['info'], now = Date.now()): number | null {
  if (!info.startTime) return null;
  const end = info.endTime ?? (info.status === 'RUNNING' ? now : null);
  return end === null ? null : Math.max(0, (end - info.startTime) / 1000);
}

/** Epoch milliseconds as the ISO string the date components take. */
export function isoOf(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  return new Date(ms).toISOString();
}

/** Tags MLflow and its clients set for their own bookkeeping (shown apart from the user's tags). */
export function isSystemTag(key: string): boolean {
  return key.startsWith('mlflow.');
}

/** The description MLflow's UI stores on experiments and runs. */
export const NOTE_TAG = 'mlflow.note.content';

/** The sorted union of the keys of `pick(run)` over `runs`. */
export function keysOf(runs: readonly Run[], pick: (r: Run) => readonly { key: string }[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const e of pick(r)) keys.add(e.key);
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/**
 * A web page for a git remote and commit, for the hosts whose URL layout is known (GitHub, GitLab,
 * Bitbucket, Gitea-style); `git@host:org/repo.git` and `https://host/org/repo.git` both work.
 * Null for anything else: the portal never invents a link it cannot stand behind.
 */
export function gitWebUrl(repo: string | null | undefined, commit?: string | null): string | null {
  if (!repo) return null;
  let url: URL;
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(repo);
  try {
    url = scp
      ? new URL(`https://${scp[1]}/${scp[2]}`)
      : new URL(repo.replace(/^git\+/, '').replace(/^ssh:\/\/git@/, 'https://'));
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const path = url.pathname.replace(/\.git$/, '').replace(/\/+$/, '');
  if (!/^\/[^/]+\/[^/]+/.test(path)) return null;
  const base = `https://${url.host}${path}`;
  if (!commit) return base;
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return base;
  if (url.host === 'bitbucket.org') return `${base}/commits/${commit}`;
  if (url.host.includes('gitlab')) return `${base}/-/commit/${commit}`;
  return `${base}/commit/${commit}`;
}
