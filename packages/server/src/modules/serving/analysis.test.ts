// The canary's statistics against values scipy computes (scipy.stats.chi2_contingency without
// continuity correction, scipy.stats.ks_2samp asymptotic, scipy.special.gammaincc, and the normal
// CDF 0.5 * erfc(-z / sqrt 2) for the one-sided z-tests of live metrics).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  analyzeStep,
  chiSquarePValue,
  gammaQ,
  ksPValue,
  ksStatistic,
  meanWorsePValue,
  normalCdf,
  proportionWorsePValue,
  totalVariation,
} from './analysis.js';
import type { PredictionSample } from './store.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('gammaQ matches scipy.special.gammaincc', () => {
  close(gammaQ(0.5, 1.9207), 0.05, 1e-4); // chi2(1) at its 95th percentile 3.8415 / 2
  close(gammaQ(1, 2), Math.exp(-2), 1e-8);
  close(gammaQ(2.5, 10), 0.0012497306, 1e-8);
  assert.equal(gammaQ(3, 0), 1);
});

test('chi-square p-value of two label samples', () => {
  // [[30, 10], [10, 30]]: chi2 = 20, dof 1 -> p = 7.744e-6.
  const a = [...Array(30).fill('1'), ...Array(10).fill('0')];
  const b = [...Array(10).fill('1'), ...Array(30).fill('0')];
  close(chiSquarePValue(a, b), 7.744216e-6, 1e-9);
  close(totalVariation(a, b), 0.5);
  assert.equal(chiSquarePValue(['x', 'x'], ['x']), 1);
});

test('KS statistic and asymptotic p-value', () => {
  const a = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const b = Float64Array.from([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  close(ksStatistic(a, b), 0.5);
  // Numerical Recipes' probks with the effective-n correction.
  close(ksPValue(0.5, 10, 10), 0.11084, 1e-4);
  close(ksPValue(0, 10, 10), 1);
});

const sample = (version: number, label: string, latency = 1, outcome: 'ok' | 'error' = 'ok'): PredictionSample => ({
  version,
  outcome,
  latency_ms: latency,
  output_label: label,
  output_value: null,
  truth_label: null,
  truth_value: null,
});

test('normal CDF and the one-sided z-tests of live metrics', () => {
  close(normalCdf(1.96), 0.9750021048517795, 1e-8);
  close(normalCdf(-1), 0.15865525393145707, 1e-8);
  close(normalCdf(0), 0.5, 1e-8);
  // Candidate 60/100 right against stable's 80/100.
  close(proportionWorsePValue(80, 100, 60, 100), 0.0010141155742260388, 1e-8);
  close(proportionWorsePValue(60, 100, 80, 100), 1 - 0.0010141155742260388, 1e-8);
  close(
    meanWorsePValue([0.1, 0.2, 0.15, 0.3, 0.25, 0.1, 0.2], [0.3, 0.4, 0.35, 0.5, 0.45, 0.3, 0.6, 0.2]),
    7.449597779391495e-5,
    1e-8,
  );
});

test('live accuracy: compared once enough labels arrived; a significant drop past the threshold fails', () => {
  const t = {
    minRequests: 20,
    maxErrorRate: 0.05,
    maxP99Ms: null,
    maxP99Ratio: null,
    maxDistributionShift: 0.2,
    minLabels: 30,
    maxAccuracyDrop: 0.05,
  };
  // Both versions predict the same label mix (no prediction shift); the truth decides who is right.
  const labelled = (version: number, n: number, right: number): PredictionSample[] =>
    Array.from({ length: n }, (_, i) => {
      const out = i % 2 === 0 ? 'yes' : 'no';
      const truth = i < right ? out : out === 'yes' ? 'no' : 'yes';
      return { ...sample(version, out), truth_label: truth };
    });
  const stable = labelled(1, 100, 90);
  const worse = analyzeStep([...stable, ...labelled(2, 100, 60)], 1, 2, t);
  assert.equal(worse.decision, 'fail');
  assert.match(worse.reason, /live accuracy 0.3 > 0.05/);
  assert.equal(worse.live?.metric, 'accuracy');
  assert.deepEqual([worse.live?.stable.value, worse.live?.candidate.value], [0.9, 0.6]);
  // The same drop seen on too few labels is not judged yet; the step passes on its other checks.
  const early = analyzeStep(
    [...stable, ...labelled(2, 20, 12), ...Array.from({ length: 40 }, (_, i) => sample(2, i % 2 === 0 ? 'yes' : 'no'))],
    1,
    2,
    t,
  );
  assert.equal(early.decision, 'pass');
  assert.equal(early.live?.candidate.labeled, 20);
  assert.ok(!early.checks.some((c) => c.name === 'live_accuracy'));
  // A small drop within the threshold passes; so does a large one that is noise (checked by p-value).
  assert.equal(analyzeStep([...stable, ...labelled(2, 100, 87)], 1, 2, t).decision, 'pass');
  const noisy = analyzeStep([...labelled(1, 30, 18), ...labelled(2, 30, 15)], 1, 2, { ...t, minRequests: 1 });
  assert.equal(noisy.decision, 'pass', noisy.reason);
  assert.ok(noisy.live!.pValue! > 0.05);
});

test('live MAE of a regressor: a significant rise past the threshold fails', () => {
  const t = {
    minRequests: 20,
    maxErrorRate: null,
    maxP99Ms: null,
    maxP99Ratio: null,
    maxDistributionShift: null,
    minLabels: 30,
    maxMaeIncrease: 0.2,
  };
  const regress = (version: number, n: number, err: number): PredictionSample[] =>
    Array.from({ length: n }, (_, i) => ({
      ...sample(version, ''),
      output_label: null,
      output_value: i,
      truth_value: i + (i % 2 === 0 ? err : -err) * (1 + (i % 3) / 10),
    }));
  const r = analyzeStep([...regress(1, 60, 1), ...regress(2, 60, 2)], 1, 2, t);
  assert.equal(r.live?.metric, 'mae');
  assert.equal(r.decision, 'fail');
  assert.match(r.reason, /live mae 1 > 0.2/);
  assert.equal(analyzeStep([...regress(1, 60, 1), ...regress(2, 60, 1.1)], 1, 2, t).decision, 'pass');
});

test('a step waits for enough requests, fails on a large significant shift and passes otherwise', () => {
  const t = { minRequests: 20, maxErrorRate: 0.05, maxP99Ms: null, maxP99Ratio: null, maxDistributionShift: 0.2 };
  const stable = Array.from({ length: 100 }, (_, i) => sample(1, i % 10 < 7 ? 'yes' : 'no'));
  const few = [...stable, ...Array.from({ length: 5 }, () => sample(2, 'no'))];
  assert.equal(analyzeStep(few, 1, 2, t).decision, 'wait');
  const skewed = [...stable, ...Array.from({ length: 40 }, (_, i) => sample(2, i % 10 < 2 ? 'yes' : 'no'))];
  const fail = analyzeStep(skewed, 1, 2, t);
  assert.equal(fail.decision, 'fail');
  assert.match(fail.reason, /distribution shift/);
  const same = [...stable, ...Array.from({ length: 40 }, (_, i) => sample(2, i % 10 < 7 ? 'yes' : 'no'))];
  assert.equal(analyzeStep(same, 1, 2, t).decision, 'pass');
  // A large but insignificant difference (tiny samples) passes.
  const tiny = [...stable.slice(0, 10), sample(2, 'no'), sample(2, 'no')];
  assert.equal(analyzeStep(tiny, 1, 2, { ...t, minRequests: 2 }).decision, 'pass');
  const errors = [...stable, ...Array.from({ length: 40 }, (_, i) => sample(2, 'yes', 1, i < 5 ? 'error' : 'ok'))];
  const e = analyzeStep(errors, 1, 2, { ...t, maxDistributionShift: null });
  assert.equal(e.decision, 'fail');
  assert.match(e.reason, /error rate 0.125 > 0.05/);
});
