// The canary's statistics against values scipy computes (scipy.stats.chi2_contingency without
// continuity correction, scipy.stats.ks_2samp asymptotic, scipy.special.gammaincc).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeStep, chiSquarePValue, gammaQ, ksPValue, ksStatistic, totalVariation } from './analysis.js';
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
