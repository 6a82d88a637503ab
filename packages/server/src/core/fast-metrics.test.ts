import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
// Values on, between, below and beyond the bounds; on a bound counts in that bucket (le = "<=").
const VALUES = [0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.99, 1, 1.5, 42];

test('exports exactly what prom-client’s own histogram exports for the same observations', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram('h_seconds', 'latency', ['route', 'status'], BUCKETS, ours);
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'latency',
    labelNames: ['route', 'status'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const a = fast.with({ route: '/a', status: '200' });
  const b = fast.with({ route: '/b', status: '500' });
  for (const v of VALUES) {
    a.observe(v);
    reference.observe({ route: '/a', status: '200' }, v);
  }
  b.observe(0.02);
  reference.observe({ route: '/b', status: '500' }, 0.02);
  // The same label set asked for again is the same series.
  fast.with({ route: '/a', status: '200' }).observe(0.3);
  reference.observe({ route: '/a', status: '200' }, 0.3);
  assert.equal(await ours.metrics(), await theirs.metrics());

  ours.resetMetrics();
  theirs.resetMetrics();
  a.observe(0.002);
  reference.observe({ route: '/a', status: '200' }, 0.002);
  const kept = (await ours.metrics()).split('\n').filter((l) => l.includes('route="/a"'));
  assert.deepEqual(
    kept,
    (await theirs.metrics()).split('\n').filter((l) => l.includes('route="/a"')),
  );
});

test('a counter exports what prom-client’s own counter exports, labels in declared order', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastCounter('c_total', 'requests', ['deployment', 'outcome'], ours);
  const reference = new Counter({
    name: 'c_total',
    help: 'requests',
    labelNames: ['deployment', 'outcome'],
    registers: [theirs],
  });
  // Labels given in another order than declared are exported in the declared order.
  const ok = fast.with({ outcome: 'ok', deployment: 'churn' });
  ok.inc();
  ok.inc(2);
  fast.with({ deployment: 'churn', outcome: 'error' }).inc();
  reference.inc({ deployment: 'churn', outcome: 'ok' }, 3);
  reference.inc({ deployment: 'churn', outcome: 'error' });
  assert.equal(await ours.metrics(), await theirs.metrics());
});
