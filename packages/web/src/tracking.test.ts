// Unit tests of the tracking pages' pure helpers: the search grammar the runs table writes, MLflow
// UI links, chart downsampling and ticks, and the CSV preview parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downsample, formatTick, nearestIndex, niceTicks, type Point } from './chart.js';
import { delimiterOf, parseDelimited } from './csv.js';
import { portalPathForMlflowHash } from './mlflow-links.js';
import { formatMetric, formatOrderBy, gitWebUrl, parseOrderBy, quoteKey, tagEquals } from './tracking.js';

const RUN = '0123456789abcdef0123456789abcdef';
const RUN2 = 'fedcba9876543210fedcba9876543210';

test('order_by items are written in the grammar and read back', () => {
  assert.equal(quoteKey('acc'), 'acc');
  assert.equal(quoteKey('train/loss'), '`train/loss`');
  assert.equal(quoteKey('learning rate'), '`learning rate`');
  assert.equal(formatOrderBy({ field: { kind: 'metric', key: 'acc' }, ascending: false }), 'metrics.acc DESC');
  assert.equal(formatOrderBy({ field: { kind: 'param', key: 'lr' }, ascending: true }), 'params.lr ASC');
  assert.equal(
    formatOrderBy({ field: { kind: 'attribute', key: 'start_time' }, ascending: false }),
    'attributes.start_time DESC',
  );
  assert.deepEqual(parseOrderBy('metrics.`val/acc` DESC'), {
    field: { kind: 'metric', key: 'val/acc' },
    ascending: false,
  });
  assert.deepEqual(parseOrderBy('params.lr'), { field: { kind: 'param', key: 'lr' }, ascending: true });
  assert.deepEqual(parseOrderBy('attributes.created asc'), {
    field: { kind: 'attribute', key: 'start_time' },
    ascending: true,
  });
  assert.equal(parseOrderBy('attributes.nope DESC'), null);
  assert.equal(parseOrderBy('metrics.acc sideways'), null);
  assert.equal(parseOrderBy(''), null);
  assert.equal(tagEquals('mlflow.parentRunId', "it's"), "tags.`mlflow.parentRunId` = 'it\\'s'");
});

test('metric values are short in cells and NaN or infinite values are spelled out', () => {
  assert.equal(formatMetric(0.123456789), '0.123457');
  assert.equal(formatMetric(42), '42');
  assert.equal(formatMetric('NaN'), 'NaN');
  assert.equal(formatMetric('-Infinity'), '−∞');
  assert.equal(formatMetric(1.5e-7), '1.5000e-7');
  assert.equal(formatMetric(undefined), '—');
});

test('git remotes become web links only for layouts the portal knows', () => {
  assert.equal(
    gitWebUrl('git@github.com:acme/churn.git', 'abc1234def'),
    'https://github.com/acme/churn/commit/abc1234def',
  );
  assert.equal(
    gitWebUrl('https://gitlab.example/acme/churn', 'abc1234'),
    'https://gitlab.example/acme/churn/-/commit/abc1234',
  );
  assert.equal(gitWebUrl('https://github.com/acme/churn.git'), 'https://github.com/acme/churn');
  assert.equal(gitWebUrl('/home/me/repo', 'abc1234'), null);
  assert.equal(gitWebUrl('javascript:alert(1)//x/y', 'abc1234'), null);
  assert.equal(gitWebUrl(null), null);
});

test("MLflow UI links map onto the portal's pages", () => {
  assert.equal(portalPathForMlflowHash(`#/experiments/1/runs/${RUN}`), `/experiments/1/runs/${RUN}`);
  assert.equal(portalPathForMlflowHash('#/experiments/12'), '/experiments/12');
  assert.equal(
    portalPathForMlflowHash('#/experiments/3?searchFilter=metrics.acc%3E1'),
    '/experiments/3?filter=metrics.acc%3E1',
  );
  assert.equal(
    portalPathForMlflowHash(`#/experiments/1/runs/${RUN}/artifactPath/model/MLmodel`),
    `/experiments/1/runs/${RUN}/artifacts?path=model%2FMLmodel`,
  );
  assert.equal(
    portalPathForMlflowHash(`#/compare-runs?runs=["${RUN}","${RUN2}"]&experiments=["1"]`),
    `/experiments/compare?runs=${RUN},${RUN2}`,
  );
  assert.equal(
    portalPathForMlflowHash(`#/metric/acc?runs=["${RUN}"]&experiments=["4"]`),
    `/experiments/4/runs/${RUN}/metrics`,
  );
  assert.equal(portalPathForMlflowHash(`#/experiments/2/models/m-${RUN}`), `/experiments/2/models/m-${RUN}`);
  assert.equal(portalPathForMlflowHash('#/models/churn/versions/2'), '/models');
  assert.equal(portalPathForMlflowHash('#/'), '/experiments');
  assert.equal(portalPathForMlflowHash('#/experiments/1/runs/not-a-run'), '/experiments/1');
  assert.equal(portalPathForMlflowHash('#main'), null, "the portal's own fragments are left alone");
  assert.equal(portalPathForMlflowHash(''), null);
});

test('downsampling keeps the extremes of every bucket, in order', () => {
  const points: Point[] = [];
  for (let i = 0; i < 10_000; i++) points.push({ x: i, y: Math.sin(i / 50) });
  points[5000] = { x: 5000, y: 10 }; // a spike must survive
  const out = downsample(points, 0, 9999, 100);
  assert.ok(out.length <= 400, `${out.length} points`);
  assert.ok(
    out.some((p) => p.y === 10),
    'the spike is kept',
  );
  assert.deepEqual(out[0], points[0]);
  assert.deepEqual(out[out.length - 1], points[9999]);
  for (let i = 1; i < out.length; i++) assert.ok(out[i]!.x > out[i - 1]!.x, 'x increases');
  const few = [
    { x: 0, y: 1 },
    { x: 1, y: 2 },
  ];
  assert.deepEqual(downsample(few, 0, 1, 100), few);
});

test('ticks are round numbers covering the range', () => {
  const { ticks, min, max } = niceTicks(0.13, 0.96, 5);
  assert.ok(min <= 0.13 && max >= 0.96);
  assert.deepEqual(ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const steps = niceTicks(0, 999, 5, true);
  assert.ok(steps.ticks.every((t) => Number.isInteger(t)));
  assert.equal(niceTicks(5, 5, 5).ticks.length > 1, true, 'a flat series still gets an axis');
  assert.equal(formatTick(0.30000000000000004), '0.3');
  assert.equal(formatTick(25_000), '25k');
  assert.equal(
    nearestIndex(
      [
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 20, y: 0 },
      ],
      14,
    ),
    1,
  );
  assert.equal(nearestIndex([], 3), -1);
});

test('CSV previews read quoted fields and stop at the row limit', () => {
  const csv = 'a,b,c\r\n1,"x, y",3\n2,"say ""hi""",4\n3,z,5\n';
  const p = parseDelimited(csv, ',', 2);
  assert.deepEqual(p.header, ['a', 'b', 'c']);
  assert.deepEqual(p.rows, [
    ['1', 'x, y', '3'],
    ['2', 'say "hi"', '4'],
  ]);
  assert.equal(p.more, true);
  const all = parseDelimited('a\tb\n1\t2', '\t', 10);
  assert.deepEqual(all.rows, [['1', '2']]);
  assert.equal(all.more, false);
  const cut = parseDelimited('a,b\n1,2\n3,4', ',', 10, true);
  assert.deepEqual(cut.rows, [['1', '2']], 'a record cut off by the range is dropped');
  assert.equal(cut.more, true);
  assert.equal(delimiterOf('data/x.TSV'), '\t');
  assert.equal(delimiterOf('x.csv'), ',');
});
