// Unit tests of the Deployments pages' pure helpers: paths, traffic in words and as bar segments,
// canary progress (and its absence for shadow and finished rollouts), the list's rollout summary,
// and the units of latencies, rates and checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rollout } from '@hangar/sdk';
import {
  canaryProgress,
  checkLabel,
  deploymentPath,
  formatCheck,
  formatLive,
  formatMs,
  formatMsDelta,
  formatNumber,
  formatRate,
  formatTraffic,
  isLive,
  rolloutSummary,
  trafficSegments,
} from './deployments.js';

const canary = (over: Partial<Rollout> = {}): Rollout => ({
  id: 'r1',
  strategy: 'canary',
  candidateVersion: 2,
  stableVersion: 1,
  status: 'running',
  step: { index: 1, percent: 10, startedAt: '2026-01-01T00:00:00.000Z' },
  config: { steps: [1, 10, 50, 100], stepSeconds: 60 },
  analyses: [],
  reason: null,
  createdBy: 'admin',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  ...over,
});

test('paths and traffic in words', () => {
  assert.equal(deploymentPath('churn-prod'), '/deployments/churn-prod');
  assert.equal(
    formatTraffic([
      { version: 1, weight: 90 },
      { version: 2, weight: 10 },
    ]),
    'v1 90% · v2 10%',
  );
  assert.equal(formatTraffic([]), '—');
});

test('traffic segments: version order, zero weights left out', () => {
  assert.deepEqual(
    trafficSegments([
      { version: 3, weight: 60 },
      { version: 1, weight: 40 },
      { version: 2, weight: 0 },
    ]),
    [
      { version: 1, weight: 40 },
      { version: 3, weight: 60 },
    ],
  );
});

test('canary progress: step n of m while live, nothing for shadow or finished rollouts', () => {
  assert.deepEqual(canaryProgress(canary()), {
    step: 2,
    of: 4,
    percent: 10,
    steps: [1, 10, 50, 100],
    startedAt: '2026-01-01T00:00:00.000Z',
    stepSeconds: 60,
  });
  assert.equal(canaryProgress(canary({ status: 'paused' }))?.step, 2);
  assert.equal(canaryProgress(canary({ status: 'aborted' })), null);
  assert.equal(canaryProgress(canary({ status: 'promoted' })), null);
  assert.equal(canaryProgress(canary({ strategy: 'shadow', step: null, config: { percent: 100 } })), null);
  // A config without steps (an older server) still says which step it is.
  assert.equal(canaryProgress(canary({ config: {} }))?.of, 2);
  assert.equal(isLive(null), false);
  assert.equal(isLive(canary({ status: 'stopped' })), false);
});

test('rollout summary for the list', () => {
  assert.equal(rolloutSummary(canary()), 'canary v2 · step 2 of 4 (10%)');
  assert.equal(rolloutSummary(canary({ status: 'paused' })), 'canary v2 · step 2 of 4 (10%) · paused');
  assert.equal(rolloutSummary(canary({ status: 'aborted' })), 'canary v2 · aborted');
  assert.equal(
    rolloutSummary(canary({ strategy: 'shadow', candidateVersion: 3, step: null, config: { percent: 100 } })),
    'shadow v3 · running',
  );
});

test('units: rates, latencies, deltas, small numbers', () => {
  assert.equal(formatRate(0.015), '1.5%');
  assert.equal(formatRate(0), '0.0%');
  assert.equal(formatRate(null), '—');
  assert.equal(formatMs(0.3812), '0.38 ms');
  assert.equal(formatMs(12.345), '12.3 ms');
  assert.equal(formatMs(1250.4), '1,250 ms');
  assert.equal(formatMs(null), '—');
  assert.equal(formatMsDelta(0.4), '+0.4 ms');
  assert.equal(formatMsDelta(-1.25), '−1.25 ms');
  assert.equal(formatMsDelta(0), '0 ms');
  assert.equal(formatNumber(0.012345), '0.0123');
  assert.equal(formatNumber(0), '0');
});

test('checks in words and in their own units', () => {
  assert.equal(checkLabel('error_rate'), 'Error rate');
  assert.equal(checkLabel('distribution_shift'), 'Distribution shift');
  assert.equal(checkLabel('brand_new_check'), 'brand new check');
  assert.equal(formatCheck({ name: 'error_rate', value: 0.02, threshold: 0.05, passed: true }), '2.0% ≤ 5.0%');
  assert.equal(formatCheck({ name: 'p99_ratio', value: 1.8, threshold: 3, passed: true }), '1.8× ≤ 3×');
  assert.equal(formatCheck({ name: 'p99_latency', value: null, threshold: 50, passed: true }), '— ≤ 50 ms');
  assert.equal(formatCheck({ name: 'distribution_shift', value: 0.31, threshold: 0.2, passed: false }), '0.31 ≤ 0.2');
  assert.equal(checkLabel('live_accuracy'), 'Live accuracy drop');
  assert.equal(formatCheck({ name: 'live_accuracy', value: 0.3, threshold: 0.05, passed: false }), '30.0% ≤ 5.0%');
  assert.equal(
    formatLive({
      metric: 'accuracy',
      stable: { labeled: 200, value: 0.92 },
      candidate: { labeled: 180, value: 0.61 },
      pValue: 0.001,
    }),
    'accuracy 92.0% / 61.0% (200 / 180 labelled)',
  );
  assert.equal(
    formatLive({
      metric: 'mae',
      stable: { labeled: 40, value: 1.25 },
      candidate: { labeled: 0, value: null },
      pValue: null,
    }),
    'MAE 1.25 / — (40 / 0 labelled)',
  );
  assert.equal(formatLive(null), null);
});
