import type { PredictionSample } from './store.js';

/** A canary's thresholds; null disables a check. */
export interface CanaryThresholds {
  /** Requests the candidate must have served in a step before it is judged. */
  minRequests: number;
  /** Highest acceptable candidate error rate (0–1). */
  maxErrorRate: number | null;
  /** Highest acceptable candidate p99 latency, in ms. */
  maxP99Ms: number | null;
  /** Highest acceptable candidate p99 as a multiple of the stable version's. */
  maxP99Ratio: number | null;
  /** Highest acceptable shift of the candidate's predictions from stable's (0–1; see `shift`). */
  maxDistributionShift: number | null;
  /** Labelled predictions each version needs in a step before their live metrics are compared. */
  minLabels?: number;
  /** Highest acceptable drop of the candidate's live accuracy below stable's, in points (0–1). */
  maxAccuracyDrop?: number | null;
  /** Highest acceptable rise of the candidate's live mean absolute error over stable's, as a fraction of it. */
  maxMaeIncrease?: number | null;
}

/** Used when a rollout's stored config predates the live-metric thresholds. */
export const DEFAULT_MIN_LABELS = 30;

export interface VersionStats {
  version: number;
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface Check {
  name: 'error_rate' | 'p99_latency' | 'p99_ratio' | 'distribution_shift' | 'live_accuracy' | 'live_mae';
  value: number | null;
  threshold: number;
  passed: boolean;
}

export interface StepAnalysis {
  /** pass: go on; fail: abort; wait: too few requests to judge yet. */
  decision: 'pass' | 'fail' | 'wait';
  stable: VersionStats;
  candidate: VersionStats;
  /**
   * How far the candidate's predictions are from stable's: total variation distance of the label
   * distributions for classifiers, the two-sample Kolmogorov–Smirnov statistic for numeric outputs
   * (both in 0–1), with the p-value of the matching test (chi-square of homogeneity; KS) that the
   * two samples come from one distribution. Null when either side has no answers to compare.
   */
  shift: { method: 'tvd' | 'ks'; value: number; pValue: number } | null;
  /** Live metrics on the step's predictions whose labels have arrived; null when none have. */
  live: LiveComparison | null;
  checks: Check[];
  reason: string;
}

/**
 * Accuracy (classifiers: the output label equals the label sent) or mean absolute error
 * (regressors) of each version over its labelled, answered requests, and the one-sided p-value
 * that the candidate is worse than stable: a two-proportion z-test for accuracy, a Welch z-test on
 * the absolute errors for MAE (both normal approximations, sound at the `minLabels` sizes).
 */
export interface LiveComparison {
  metric: 'accuracy' | 'mae';
  stable: { labeled: number; value: number | null };
  candidate: { labeled: number; value: number | null };
  pValue: number | null;
}

/** The p-value below which a prediction shift counts as real rather than sampling noise. */
export const SIGNIFICANCE = 0.05;

/** Per-version request, error and latency figures of a window's samples. */
export function versionStats(version: number, samples: readonly PredictionSample[]): VersionStats {
  const mine = samples.filter((s) => s.version === version);
  const errors = mine.filter((s) => s.outcome === 'error').length;
  const latencies = Float64Array.from(mine, (s) => s.latency_ms).sort();
  return {
    version,
    requests: mine.length,
    errors,
    errorRate: mine.length === 0 ? 0 : errors / mine.length,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Nearest-rank quantile of sorted values; null for none. */
export function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The candidate's prediction shift from stable's (see StepAnalysis.shift). */
export function predictionShift(
  stable: readonly PredictionSample[],
  candidate: readonly PredictionSample[],
): StepAnalysis['shift'] {
  const okS = stable.filter((s) => s.outcome === 'ok');
  const okC = candidate.filter((s) => s.outcome === 'ok');
  const labels = (xs: PredictionSample[]) => xs.map((s) => s.output_label).filter((l): l is string => l !== null);
  const ls = labels(okS);
  const lc = labels(okC);
  if (ls.length > 0 && lc.length > 0) {
    return { method: 'tvd', value: totalVariation(ls, lc), pValue: chiSquarePValue(ls, lc) };
  }
  const values = (xs: PredictionSample[]) =>
    Float64Array.from(xs.map((s) => s.output_value).filter((v): v is number => v !== null)).sort();
  const vs = values(okS);
  const vc = values(okC);
  if (vs.length > 0 && vc.length > 0) {
    const d = ksStatistic(vs, vc);
    return { method: 'ks', value: d, pValue: ksPValue(d, vs.length, vc.length) };
  }
  return null;
}

/** Half the L1 distance between two label frequency distributions. */
export function totalVariation(a: readonly string[], b: readonly string[]): number {
  const freq = new Map<string, [number, number]>();
  for (const x of a) (freq.get(x) ?? freq.set(x, [0, 0]).get(x)!)[0]++;
  for (const x of b) (freq.get(x) ?? freq.set(x, [0, 0]).get(x)!)[1]++;
  let sum = 0;
  for (const [ca, cb] of freq.values()) sum += Math.abs(ca / a.length - cb / b.length);
  return sum / 2;
}

/**
 * p-value of Pearson's chi-square test of homogeneity of two label samples (the test Evidently
 * applies to categorical columns). 1 when there is a single category.
 */
export function chiSquarePValue(a: readonly string[], b: readonly string[]): number {
  const freq = new Map<string, [number, number]>();
  for (const x of a) (freq.get(x) ?? freq.set(x, [0, 0]).get(x)!)[0]++;
  for (const x of b) (freq.get(x) ?? freq.set(x, [0, 0]).get(x)!)[1]++;
  if (freq.size < 2) return 1;
  const n = a.length + b.length;
  let chi2 = 0;
  for (const [ca, cb] of freq.values()) {
    const total = ca + cb;
    const ea = (total * a.length) / n;
    const eb = (total * b.length) / n;
    chi2 += (ca - ea) ** 2 / ea + (cb - eb) ** 2 / eb;
  }
  return gammaQ((freq.size - 1) / 2, chi2 / 2);
}

/** Asymptotic p-value of the two-sample KS statistic `d` (Numerical Recipes' probks). */
export function ksPValue(d: number, n1: number, n2: number): number {
  const ne = Math.sqrt((n1 * n2) / (n1 + n2));
  const lambda = (ne + 0.12 + 0.11 / ne) * d;
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let sign = 1;
  for (let j = 1; j <= 100; j++) {
    const term = sign * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-10) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** The regularized upper incomplete gamma function Q(s, x), by series or continued fraction. */
export function gammaQ(s: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + s * Math.log(x) - logGamma(s);
  if (x < s + 1) {
    let term = 1 / s;
    let sum = term;
    for (let k = 1; k < 500; k++) {
      term *= x / (s + k);
      sum += term;
      if (term < sum * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  // Lentz's continued fraction.
  let b = x + 1 - s;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

/** ln Γ(z) by the Lanczos approximation (g = 7). */
function logGamma(z: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Largest gap between the empirical CDFs of two sorted samples. */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/** See LiveComparison. */
export function liveComparison(
  stable: readonly PredictionSample[],
  candidate: readonly PredictionSample[],
): LiveComparison | null {
  const classified = (xs: readonly PredictionSample[]) =>
    xs.filter((s) => s.outcome === 'ok' && s.truth_label !== null && s.output_label !== null);
  const cs = classified(stable);
  const cc = classified(candidate);
  if (cs.length > 0 || cc.length > 0) {
    const hits = (xs: PredictionSample[]) => xs.filter((s) => s.output_label === s.truth_label).length;
    const [hs, hc] = [hits(cs), hits(cc)];
    return {
      metric: 'accuracy',
      stable: { labeled: cs.length, value: cs.length === 0 ? null : hs / cs.length },
      candidate: { labeled: cc.length, value: cc.length === 0 ? null : hc / cc.length },
      pValue: cs.length > 0 && cc.length > 0 ? proportionWorsePValue(hs, cs.length, hc, cc.length) : null,
    };
  }
  const errors = (xs: readonly PredictionSample[]) =>
    xs
      .filter((s) => s.outcome === 'ok' && s.truth_value !== null && s.output_value !== null)
      .map((s) => Math.abs(s.output_value! - s.truth_value!));
  const es = errors(stable);
  const ec = errors(candidate);
  if (es.length === 0 && ec.length === 0) return null;
  return {
    metric: 'mae',
    stable: { labeled: es.length, value: es.length === 0 ? null : mean(es) },
    candidate: { labeled: ec.length, value: ec.length === 0 ? null : mean(ec) },
    pValue: es.length > 1 && ec.length > 1 ? meanWorsePValue(es, ec) : null,
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One-sided p-value that the second proportion (hits b of nb) is below the first (a of na). */
export function proportionWorsePValue(a: number, na: number, b: number, nb: number): number {
  const pooled = (a + b) / (na + nb);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  if (se === 0) return a / na > b / nb ? 0 : 1;
  return normalCdf(-(a / na - b / nb) / se);
}

/** One-sided p-value that the mean of `worse` exceeds the mean of `base` (Welch's statistic, normal tail). */
export function meanWorsePValue(base: readonly number[], worse: readonly number[]): number {
  const variance = (xs: readonly number[], m: number) => xs.reduce((acc, x) => acc + (x - m) ** 2, 0) / (xs.length - 1);
  const [mb, mw] = [mean(base), mean(worse)];
  const se = Math.sqrt(variance(base, mb) / base.length + variance(worse, mw) / worse.length);
  if (se === 0) return mw > mb ? 0 : 1;
  return normalCdf(-(mw - mb) / se);
}

/** The standard normal CDF, through erfc(x) = Q(1/2, x²). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const tail = 0.5 * gammaQ(0.5, x * x);
  return z < 0 ? tail : 1 - tail;
}

/**
 * Judges one canary step from the requests of its window: waits until the candidate has served
 * `minRequests`, then fails on any threshold crossed (error rate, p99 latency, p99 against
 * stable's, prediction shift, and, once `minLabels` labels have arrived for each version, live
 * accuracy or error against stable's) and passes otherwise.
 */
export function analyzeStep(
  samples: readonly PredictionSample[],
  stableVersion: number,
  candidateVersion: number,
  t: CanaryThresholds,
): StepAnalysis {
  const stable = versionStats(stableVersion, samples);
  const candidate = versionStats(candidateVersion, samples);
  const shift = predictionShift(
    samples.filter((s) => s.version === stableVersion),
    samples.filter((s) => s.version === candidateVersion),
  );
  const live = liveComparison(
    samples.filter((s) => s.version === stableVersion),
    samples.filter((s) => s.version === candidateVersion),
  );
  const checks: Check[] = [];
  if (t.maxErrorRate !== null) {
    checks.push({
      name: 'error_rate',
      value: candidate.errorRate,
      threshold: t.maxErrorRate,
      passed: candidate.errorRate <= t.maxErrorRate,
    });
  }
  if (t.maxP99Ms !== null) {
    const v = candidate.p99Ms;
    checks.push({ name: 'p99_latency', value: v, threshold: t.maxP99Ms, passed: v === null || v <= t.maxP99Ms });
  }
  if (t.maxP99Ratio !== null && stable.p99Ms !== null && candidate.p99Ms !== null) {
    // Sub-millisecond p99s jitter by multiples: compare against a 1 ms floor.
    const ratio = candidate.p99Ms / Math.max(stable.p99Ms, 1);
    checks.push({ name: 'p99_ratio', value: ratio, threshold: t.maxP99Ratio, passed: ratio <= t.maxP99Ratio });
  }
  if (t.maxDistributionShift !== null && shift) {
    // A shift fails only when it is both large and significant: small steps see few requests, and
    // two small samples of one distribution differ by chance.
    checks.push({
      name: 'distribution_shift',
      value: shift.value,
      threshold: t.maxDistributionShift,
      passed: shift.value <= t.maxDistributionShift || shift.pValue >= SIGNIFICANCE,
    });
  }
  const minLabels = t.minLabels ?? DEFAULT_MIN_LABELS;
  if (live && live.stable.labeled >= minLabels && live.candidate.labeled >= minLabels && live.pValue !== null) {
    // Like the shift: worse by more than the threshold, and significantly so.
    const significant = live.pValue < SIGNIFICANCE;
    const [vs, vc] = [live.stable.value!, live.candidate.value!];
    const limit = live.metric === 'accuracy' ? t.maxAccuracyDrop : t.maxMaeIncrease;
    if (limit !== null && limit !== undefined) {
      const value = live.metric === 'accuracy' ? vs - vc : (vc - vs) / Math.max(vs, 1e-12);
      checks.push({
        name: live.metric === 'accuracy' ? 'live_accuracy' : 'live_mae',
        value,
        threshold: limit,
        passed: value <= limit || !significant,
      });
    }
  }
  if (candidate.requests < t.minRequests) {
    return {
      decision: 'wait',
      stable,
      candidate,
      shift,
      live,
      checks,
      reason: `the candidate served ${candidate.requests} of the ${t.minRequests} requests a step needs`,
    };
  }
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    const what = failed.map((c) => `${c.name.replace('_', ' ')} ${fmt(c.value)} > ${fmt(c.threshold)}`).join('; ');
    return { decision: 'fail', stable, candidate, shift, live, checks, reason: what };
  }
  return { decision: 'pass', stable, candidate, shift, live, checks, reason: 'every check passed' };
}

const fmt = (v: number | null) => (v === null ? 'n/a' : Number(v.toPrecision(4)).toString());
