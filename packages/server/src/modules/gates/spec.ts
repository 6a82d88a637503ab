import { InputError } from '../../core/errors.js';
import type { EvaluationTask } from '../../db/schema.js';

/** One threshold of a spec: the metric must be `op` the threshold (e.g. accuracy >= 0.85). */
export interface Threshold {
  metric: string;
  op: '>=' | '<=';
  threshold: number;
}

/** Not worse than the champion's value of `metric` by more than `maxDegradation` (absolute). */
export interface ChampionRule {
  metric: string;
  maxDegradation: number;
}

/** What a registered model's versions are judged by. */
export interface EvaluationSpec {
  datasetId: string;
  task: EvaluationTask;
  labelColumn: string;
  thresholds: Threshold[];
  championRule: ChampionRule | null;
}

export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export const CLASSIFICATION_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss', 'brier', 'ece'];
export const REGRESSION_METRICS = ['mae', 'rmse', 'r2', 'mape'];
/** Metrics where more is better; for the others (losses, errors) less is better. */
const HIGHER_IS_BETTER = new Set(['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'r2']);
export const SPEC_LIMITS = { thresholds: 20, labelColumn: 500 } as const;

export const metricsOf = (task: EvaluationTask) =>
  task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
export const higherIsBetter = (metric: string) => HIGHER_IS_BETTER.has(metric);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function metricName(v: unknown, task: EvaluationTask, field: string): string {
  const valid = metricsOf(task);
  if (typeof v !== 'string' || !valid.includes(v)) {
    throw new InputError(
      `${field}: ${JSON.stringify(v)} is not a ${task} metric; use one of ${valid.join(', ')}`,
      field,
    );
  }
  return v;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${field} must be a finite number`, field);
  return v;
}

/**
 * Checks a spec's shape and its metric names against the task (the dataset and label column are
 * checked against the store by the service). Errors name the offending field, e.g.
 * `thresholds[1].metric`.
 */
export function parseSpec(input: Record<string, unknown>): EvaluationSpec {
  const { datasetId, task, labelColumn, thresholds, championRule } = input;
  if (typeof datasetId !== 'string' || datasetId === '') throw new InputError('datasetId is required', 'datasetId');
  if (typeof task !== 'string' || !(TASKS as readonly string[]).includes(task)) {
    throw new InputError(`task must be one of ${TASKS.join(', ')}`, 'task');
  }
  const t = task as EvaluationTask;
  if (typeof labelColumn !== 'string' || labelColumn.trim() === '' || labelColumn.length > SPEC_LIMITS.labelColumn) {
    throw new InputError('labelColumn must be a non-empty column name', 'labelColumn');
  }
  if (!Array.isArray(thresholds) || thresholds.length > SPEC_LIMITS.thresholds) {
    throw new InputError(`thresholds must be a list of at most ${SPEC_LIMITS.thresholds}`, 'thresholds');
  }
  const parsed = thresholds.map((th, i): Threshold => {
    const f = `thresholds[${i}]`;
    if (!isObject(th)) throw new InputError(`${f} must be an object {metric, op, threshold}`, f);
    if (th.op !== '>=' && th.op !== '<=') throw new InputError(`${f}.op must be ">=" or "<="`, `${f}.op`);
    return {
      metric: metricName(th.metric, t, `${f}.metric`),
      op: th.op,
      threshold: finite(th.threshold, `${f}.threshold`),
    };
  });
  let rule: ChampionRule | null = null;
  if (championRule !== undefined && championRule !== null) {
    if (!isObject(championRule))
      throw new InputError('championRule must be {metric, maxDegradation} or null', 'championRule');
    const d = finite(championRule.maxDegradation, 'championRule.maxDegradation');
    if (d < 0) throw new InputError('championRule.maxDegradation must be at least 0', 'championRule.maxDegradation');
    rule = { metric: metricName(championRule.metric, t, 'championRule.metric'), maxDegradation: d };
  }
  return { datasetId, task: t, labelColumn: labelColumn.trim(), thresholds: parsed, championRule: rule };
}

/** The column names a dataset's recorded schema lists (MLflow's `mlflow_colspec`), or null when unknown. */
export function schemaColumns(schema: string | null): string[] | null {
  if (!schema) return null;
  try {
    const doc = JSON.parse(schema) as unknown;
    const cols = isObject(doc) ? doc.mlflow_colspec : undefined;
    if (!Array.isArray(cols)) return null;
    const names = cols.map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : null));
    return names.every((n) => n !== null) ? (names as string[]) : null;
  } catch {
    return null;
  }
}

/** One check of a gate: a threshold of the spec, or the champion rule. */
export interface GateCheck {
  kind: 'threshold' | 'champion';
  metric: string;
  op: '>=' | '<=';
  threshold: number;
  /** Null when the metric could not be computed (e.g. ROC AUC without probabilities): it fails. */
  value: number | null;
  passed: boolean;
}

const passes = (value: number | null, op: '>=' | '<=', threshold: number) =>
  value !== null && Number.isFinite(value) && (op === '>=' ? value >= threshold : value <= threshold);

/**
 * The checks of a gate: each threshold, then the champion rule when there is a champion with the
 * metric (the candidate may be worse than the champion by at most maxDegradation, in the metric's
 * own direction).
 */
export function checksOf(
  spec: EvaluationSpec,
  metrics: Record<string, number | null>,
  champion: Record<string, number | null> | null,
): GateCheck[] {
  const checks: GateCheck[] = spec.thresholds.map((t) => {
    const value = metrics[t.metric] ?? null;
    return { kind: 'threshold', ...t, value, passed: passes(value, t.op, t.threshold) };
  });
  const rule = spec.championRule;
  const base = rule && champion ? (champion[rule.metric] ?? null) : null;
  if (rule && base !== null) {
    const up = higherIsBetter(rule.metric);
    const op = up ? '>=' : '<=';
    const threshold = up ? base - rule.maxDegradation : base + rule.maxDegradation;
    const value = metrics[rule.metric] ?? null;
    checks.push({ kind: 'champion', metric: rule.metric, op, threshold, value, passed: passes(value, op, threshold) });
  }
  return checks;
}

/** The failed checks in words, e.g. `accuracy 0.81 is not >= 0.85`. */
export function failureReason(checks: GateCheck[]): string | null {
  const failed = checks.filter((c) => !c.passed);
  if (failed.length === 0) return null;
  return failed
    .map(
      (c) =>
        `${c.kind === 'champion' ? 'champion rule: ' : ''}${c.metric} ${c.value === null ? 'could not be computed' : `${c.value} is not ${c.op} ${c.threshold}`}`,
    )
    .join('; ');
}
