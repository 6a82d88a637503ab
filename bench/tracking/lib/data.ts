/*
 * The benchmark's data, generated deterministically so that Hangar's store and MLflow's store are
 * loaded with exactly the same runs, params, tags and metric points (same run ids too, so search
 * results can be compared run for run).
 */

export interface Scale {
  /** Printed and part of the cache key. */
  label: string;
  /** Runs in the search experiment. */
  runs: number;
  /** Metric keys per run; each has `steps` points, so a run holds keys × steps metric rows. */
  keys: readonly string[];
  steps: number;
  /** Points of the one long metric read by the history case. */
  historyPoints: number;
}

const METRIC_KEYS = [
  'loss',
  'val_loss',
  'accuracy',
  'val_accuracy',
  'precision',
  'recall',
  'f1',
  'learning_rate',
] as const;

/** 20k runs × 8 keys × 50 steps = 8M metric rows, plus a 100k-point metric: the scale. */
export const FULL: Scale = { label: 'full', runs: 20_000, keys: METRIC_KEYS, steps: 50, historyPoints: 100_000 };
/** A smoke-run scale (HANGAR_BENCH_QUICK=1 or --quick): 2k runs, 800k metric rows, 10k points. */
export const QUICK: Scale = { label: 'quick', runs: 2_000, keys: METRIC_KEYS, steps: 50, historyPoints: 10_000 };

/** Experiment ids given to the loaded experiments in both stores (0 is each one's Default). */
export const SEARCH_EXPERIMENT = 1;
export const HISTORY_EXPERIMENT = 2;
export const SEARCH_EXPERIMENT_NAME = 'bench-search';
export const HISTORY_EXPERIMENT_NAME = 'bench-history';
export const HISTORY_KEY = 'loss';
export const USER = 'bench';

const T0 = 1_700_000_000_000;

export interface KeyValue {
  key: string;
  value: string;
}

export interface GeneratedRun {
  id: string;
  name: string;
  experimentId: number;
  startTime: number;
  endTime: number;
  params: KeyValue[];
  tags: KeyValue[];
  /** `values[k * steps + s]` is key k at step s; the last step is the run's latest value. */
  values: Float64Array;
  keys: readonly string[];
  steps: number;
  /** Timestamp of key k at step s. */
  timestamp(k: number, s: number): number;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hexId(rnd: () => number): string {
  let s = '';
  for (let i = 0; i < 4; i++)
    s += Math.floor(rnd() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return s;
}

const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adamw'];
const LRS = ['0.1', '0.01', '0.001', '0.0001'];

/**
 * Run `i` of the search experiment. Final values are drawn independently per key, so a filter on
 * one metric and an order on another neither correlate nor tie; the history of each key moves from
 * a noisy start towards its final value.
 */
export function searchRun(scale: Scale, i: number): GeneratedRun {
  const rnd = prng(i * 7919 + 17);
  const id = hexId(rnd);
  const startTime = T0 + i * 60_000;
  const { keys, steps } = scale;
  const values = new Float64Array(keys.length * steps);
  keys.forEach((key, k) => {
    const final =
      key === 'val_accuracy' || key === 'accuracy'
        ? 0.5 + 0.5 * rnd()
        : key === 'learning_rate'
          ? 0.001 * (1 + rnd())
          : key.endsWith('loss')
            ? 0.05 + 1.45 * rnd()
            : rnd();
    const start = final + (rnd() - 0.5);
    for (let s = 0; s < steps; s++) {
      const f = steps === 1 ? 1 : s / (steps - 1);
      values[k * steps + s] = s === steps - 1 ? final : start + (final - start) * f + 0.01 * (rnd() - 0.5);
    }
  });
  const name = `run-${i}`;
  return {
    id,
    name,
    experimentId: SEARCH_EXPERIMENT,
    startTime,
    endTime: startTime + steps * 1000 + 500,
    params: [
      { key: 'batch_size', value: String(32 << (i % 4)) },
      { key: 'layers', value: String(2 + (i % 8)) },
      { key: 'lr', value: LRS[i % LRS.length]! },
      { key: 'optimizer', value: OPTIMIZERS[Math.floor(i / 4) % OPTIMIZERS.length]! },
      { key: 'seed', value: String(i) },
    ],
    tags: [
      { key: 'mlflow.runName', value: name },
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'mlflow.user', value: USER },
    ],
    values,
    keys,
    steps,
    // Steps one second apart, keys a millisecond apart: every (key, timestamp, step) is distinct.
    timestamp: (k, s) => startTime + s * 1000 + k,
  };
}

/** The run of the history experiment: one key with `historyPoints` points. */
export function historyRun(scale: Scale): GeneratedRun {
  const rnd = prng(424242);
  const id = hexId(rnd);
  const n = scale.historyPoints;
  const values = new Float64Array(n);
  for (let s = 0; s < n; s++) values[s] = 2 / (1 + s / 1000) + 0.05 * rnd();
  const startTime = T0 - 86_400_000;
  return {
    id,
    name: 'long-training',
    experimentId: HISTORY_EXPERIMENT,
    startTime,
    endTime: startTime + n * 10 + 500,
    params: [{ key: 'epochs', value: String(n) }],
    tags: [
      { key: 'mlflow.runName', value: 'long-training' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'mlflow.user', value: USER },
    ],
    values,
    keys: [HISTORY_KEY],
    steps: n,
    timestamp: (_k, s) => startTime + s * 10,
  };
}

/** Every run to load, search runs first. */
export function* allRuns(scale: Scale): Generator<GeneratedRun> {
  for (let i = 0; i < scale.runs; i++) yield searchRun(scale, i);
  yield historyRun(scale);
}

/** Metric rows of a scale, for printing. */
export const metricRows = (scale: Scale) => scale.runs * scale.keys.length * scale.steps + scale.historyPoints;
