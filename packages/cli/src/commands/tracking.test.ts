import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Run } from '@hangar/sdk';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_RUN_COLUMNS, runColumns } from './tracking.js';

function run(id: string, data: Partial<Run['data']>, info: Partial<Run['info']> = {}): Run {
  return {
    info: {
      runId: id,
      runName: `name-${id}`,
      experimentId: '3',
      userId: 'ada',
      status: 'FINISHED',
      startTime: Date.parse('2025-01-31T12:00:00Z'),
      endTime: Date.parse('2025-01-31T12:04:05Z'),
      artifactUri: `mlflow-artifacts:/3/${id}/artifacts`,
      lifecycleStage: 'active',
      ...info,
    },
    data: { params: [], metrics: [], tags: [], ...data },
  };
}

const a = run(
  'a',
  {
    params: [{ key: 'lr', value: '0.01' }],
    metrics: [{ key: 'acc', value: 0.9, step: 1, timestamp: 1 }],
    tags: [{ key: 'team', value: 'x' }],
  },
  { endTime: null, status: 'RUNNING' },
);
const b = run('b', {
  params: [{ key: 'depth', value: '3' }],
  metrics: [
    { key: 'acc', value: 'NaN', step: 1, timestamp: 1 },
    { key: 'loss', value: 0.5, step: 1, timestamp: 1 },
  ],
});
const cells = (spec: string | undefined, r: Run) => runColumns(spec, [a, b]).map((c) => c.value(r));
const headers = (spec: string | undefined) => runColumns(spec, [a, b]).map((c) => c.header);

test("the default columns, and attributes by our names or MLflow's", () => {
  assert.deepEqual(headers(undefined), DEFAULT_RUN_COLUMNS);
  assert.deepEqual(cells(undefined, b), ['b', 'name-b', '3', 'FINISHED', '2025-01-31 12:00:00', '4m05s']);
  assert.deepEqual(cells(undefined, a).slice(4), ['2025-01-31 12:00:00', null], 'a running run has no duration');
  assert.deepEqual(headers('run_id, start_time,attributes.status,user'), ['run', 'started', 'status', 'user']);
});

test('params, metrics and tags by key, missing values empty, and * for every key', () => {
  assert.deepEqual(headers('name,params.lr,metrics.acc,tags.team'), ['name', 'params.lr', 'metrics.acc', 'tags.team']);
  assert.deepEqual(cells('params.lr,metrics.acc,tags.team', a), ['0.01', 0.9, 'x']);
  assert.deepEqual(cells('params.lr,metrics.acc,tags.team', b), [undefined, 'NaN', undefined]);
  assert.deepEqual(headers('metric.acc,param.lr,tag.team'), ['metrics.acc', 'params.lr', 'tags.team']);
  assert.deepEqual(headers('params.*,metrics.*'), ['params.depth', 'params.lr', 'metrics.acc', 'metrics.loss']);
});

test('a list starting with + adds to the default columns', () => {
  assert.deepEqual(headers('+metrics.acc'), [...DEFAULT_RUN_COLUMNS, 'metrics.acc']);
});

test('unknown columns and empty keys are usage errors naming what is valid', () => {
  assert.throws(() => runColumns('bogus', []), InvalidArgumentError);
  assert.throws(() => runColumns('bogus', []), /unknown column "bogus"; use run, name, .*params\.KEY/);
  assert.throws(() => runColumns('params.', []), /names no key, e\.g\. params\.lr/);
  for (const inherited of ['toString', 'constructor', 'constructor.x', '__proto__']) {
    assert.throws(() => runColumns(inherited, []), /unknown column/, inherited);
  }
});
