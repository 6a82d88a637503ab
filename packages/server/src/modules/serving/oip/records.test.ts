import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor, TensorSpec } from '../tensors.js';
import { InferInputError, floatToHalf } from './codec.js';
import { columnsToTensors, parseRecords, tensorsToPredictions, type Columns } from './records.js';

const LIMITS = { maxRows: 100 };
const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

function rejects(fn: () => unknown, message: RegExp | string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InferInputError, `expected InferInputError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('every MLflow request format reads to the same columns', () => {
  const want: Columns = {
    names: ['a', 'b'],
    rows: 2,
    columns: [
      [1, 3],
      ['x', 'y'],
    ],
  };
  const bodies = [
    {
      instances: [
        { a: 1, b: 'x' },
        { a: 3, b: 'y' },
      ],
    },
    {
      instances: [
        [1, 'x'],
        [3, 'y'],
      ],
    },
    {
      dataframe_split: {
        columns: ['a', 'b'],
        data: [
          [1, 'x'],
          [3, 'y'],
        ],
        index: [0, 1],
      },
    },
    {
      dataframe_split: {
        data: [
          [1, 'x'],
          [3, 'y'],
        ],
      },
    },
    {
      dataframe_records: [
        { a: 1, b: 'x' },
        { a: 3, b: 'y' },
      ],
    },
    { inputs: { a: [1, 3], b: ['x', 'y'] } },
    {
      inputs: [
        { a: 1, b: 'x' },
        { a: 3, b: 'y' },
      ],
    },
    {
      inputs: [
        [1, 'x'],
        [3, 'y'],
      ],
      params: { ignored: true },
    },
  ];
  for (const body of bodies) assert.deepEqual(parseRecords(body, ['a', 'b'], LIMITS), want, JSON.stringify(body));
});

test('without expected columns, positional rows are named by position and records keep their keys', () => {
  assert.deepEqual(parseRecords({ instances: [[5.1, 3.5]] }, null, LIMITS), {
    names: ['0', '1'],
    rows: 1,
    columns: [[5.1], [3.5]],
  });
  assert.deepEqual(parseRecords({ instances: [7, 8, 9] }, null, LIMITS), {
    names: ['0'],
    rows: 3,
    columns: [[7, 8, 9]],
  });
  // Keys missing from some records are null there, as pandas fills NaN.
  assert.deepEqual(parseRecords({ dataframe_records: [{ a: 1 }, { b: true }, { a: null, b: false }] }, null, LIMITS), {
    names: ['a', 'b'],
    rows: 3,
    columns: [
      [1, null, null],
      [null, true, false],
    ],
  });
  // A scalar in a columnar object is one row.
  assert.deepEqual(parseRecords({ inputs: { a: 1, b: 'x' } }, null, LIMITS).rows, 1);
});

test('expected columns pick and order the columns; extras are ignored, a missing one is an error', () => {
  const body = {
    instances: [{ petal_width: 0.2, extra: 'ignored', sepal_length: 5.1, petal_length: 1.4, sepal_width: 3.5 }],
  };
  const cols = parseRecords(body, IRIS, LIMITS);
  assert.deepEqual(cols.names, IRIS);
  assert.deepEqual(cols.columns, [[5.1], [3.5], [1.4], [0.2]]);
  rejects(
    () => parseRecords({ instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 }] }, IRIS, LIMITS),
    'missing column "petal_width"',
  );
  rejects(
    () => parseRecords({ dataframe_split: { columns: ['sepal_length'], data: [[1]] } }, IRIS, LIMITS),
    'missing column "sepal_width"',
  );
});

test('malformed bodies are InferInputErrors naming the field, column or row', () => {
  rejects(() => parseRecords([1], null, LIMITS), /must be a JSON object with one of "dataframe_split"/);
  rejects(() => parseRecords({ data: [] }, null, LIMITS), /must have one of "dataframe_split", "dataframe_records"/);
  rejects(
    () => parseRecords({ instances: [[1]], inputs: [[1]] }, null, LIMITS),
    'the body has "instances" and "inputs"; send only one',
  );
  rejects(() => parseRecords({ instances: [] }, null, LIMITS), '"instances" has no rows');
  rejects(() => parseRecords({ instances: 5 }, null, LIMITS), /"instances" must be an array of rows or an object/);
  rejects(
    () => parseRecords({ instances: Array.from({ length: 101 }, () => [1]) }, null, LIMITS),
    '"instances" has 101 rows, more than the limit of 100',
  );
  rejects(() => parseRecords({ instances: [[1, 2], [3]] }, null, LIMITS), 'instances[1] has 1 values, expected 2');
  rejects(
    () => parseRecords({ instances: [[1, 2, 3]] }, IRIS, LIMITS),
    /instances\[0\] has 3 values, expected 4 \(the model's columns: sepal_length, sepal_width/,
  );
  rejects(() => parseRecords({ instances: [[1], 2] }, null, LIMITS), 'instances[1] must be an array');
  rejects(() => parseRecords({ instances: [1, [2]] }, null, LIMITS), /instances\[1\]: rows must all be of one kind/);
  rejects(() => parseRecords({ instances: [1] }, IRIS, LIMITS), /holds single values but the model takes 4 columns/);
  rejects(
    () => parseRecords({ dataframe_records: [{ a: 1 }, 2] }, null, LIMITS),
    'dataframe_records[1] must be an object',
  );
  rejects(
    () => parseRecords({ dataframe_records: {} }, null, LIMITS),
    '"dataframe_records" must be an array of objects',
  );
  rejects(
    () => parseRecords({ dataframe_split: { columns: ['a'] } }, null, LIMITS),
    /must be an object with a "data" array/,
  );
  rejects(
    () => parseRecords({ dataframe_split: { columns: ['a', 1], data: [[1, 2]] } }, null, LIMITS),
    '"dataframe_split.columns" must be an array of strings',
  );
  rejects(
    () => parseRecords({ dataframe_split: { columns: ['a', 'a'], data: [[1, 2]] } }, null, LIMITS),
    'column "a" is given more than once',
  );
  rejects(
    () => parseRecords({ dataframe_split: { columns: ['a', 'b'], data: [[1, 2], [3]] } }, null, LIMITS),
    'dataframe_split.data[1] has 1 values, expected 2',
  );
  rejects(
    () => parseRecords({ inputs: { a: [1, 2], b: [1] } }, null, LIMITS),
    'column "b" has 1 values, column "a" has 2',
  );
  rejects(() => parseRecords({ inputs: {} }, null, LIMITS), '"inputs" has no columns');
  rejects(
    () => parseRecords({ instances: [{ a: 1 }, { a: [1, 2] }] }, null, LIMITS),
    'column "a" row 1: expected a number, string, boolean or null, got an array',
  );
  rejects(
    () => parseRecords({ instances: [[{ x: 1 }]] }, null, LIMITS),
    'column "0" row 0: expected a number, string, boolean or null, got an object',
  );
});

const spec = (name: string, datatype: TensorSpec['datatype'], shape: number[]): TensorSpec => ({
  name,
  datatype,
  shape,
});

test('one [-1, n] input takes all columns row-major, in the column order', () => {
  const cols = parseRecords(
    {
      instances: [
        { b: 2, a: 1 },
        { a: 3, b: 4 },
      ],
    },
    null,
    LIMITS,
  );
  const [t] = columnsToTensors(cols, [spec('X', 'FP32', [-1, 2])], null);
  assert.deepEqual(t, { name: 'X', datatype: 'FP32', shape: [2, 2], data: new Float32Array([2, 1, 4, 3]) });
  const [ordered] = columnsToTensors(cols, [spec('X', 'FP64', [-1, -1])], ['a', 'b']);
  assert.deepEqual(ordered!.data, new Float64Array([1, 2, 3, 4]));
  rejects(() => columnsToTensors(cols, [spec('X', 'FP32', [-1, 2])], ['a', 'c']), 'missing column "c"');
  rejects(
    () => columnsToTensors(cols, [spec('X', 'FP32', [-1, 3])], null),
    'input "X" takes 3 columns, the request has 2',
  );
  rejects(
    () => columnsToTensors(cols, [spec('X', 'FP32', [-1, 2, 2])], null),
    'input "X" of shape [-1,2,2] cannot be filled from 2 columns',
  );
  const single = parseRecords({ instances: [1.5, 2.5] }, null, LIMITS);
  assert.deepEqual(columnsToTensors(single, [spec('v', 'FP32', [-1])], null)[0]!.shape, [2]);
});

test('inputs named like columns get one column each, typed as declared', () => {
  const cols = parseRecords(
    {
      dataframe_records: [
        { age: 41, income: '52000.5', city: 'Zürich', member: true, id: '9007199254740993', h: 0.5 },
        { age: '7', income: null, city: '東京', member: 'false', id: -3, h: 2 },
      ],
    },
    null,
    LIMITS,
  );
  const inputs = [
    spec('age', 'INT32', [-1, 1]),
    spec('income', 'FP64', [-1]),
    spec('city', 'BYTES', [-1, 1]),
    spec('member', 'BOOL', [-1]),
    spec('id', 'INT64', [-1, -1]),
    spec('h', 'FP16', [-1]),
  ];
  const [age, income, city, member, id, h] = columnsToTensors(cols, inputs, null);
  assert.deepEqual(age, { name: 'age', datatype: 'INT32', shape: [2, 1], data: new Int32Array([41, 7]) });
  assert.deepEqual(income!.shape, [2]);
  assert.equal((income!.data as Float64Array)[0], 52000.5);
  assert.ok(Number.isNaN((income!.data as Float64Array)[1]));
  assert.deepEqual(city!.data, [Buffer.from('Zürich'), Buffer.from('東京')]);
  assert.deepEqual(member!.data, new Uint8Array([1, 0]));
  // A string keeps a 64-bit integer exact where a JSON number could not.
  assert.deepEqual(id!.data, new BigInt64Array([9007199254740993n, -3n]));
  assert.deepEqual(h!.data, new Uint16Array([floatToHalf(0.5), floatToHalf(2)]));
});

test('cells that do not convert name the column and row', () => {
  const one = (datatype: TensorSpec['datatype'], v: unknown) =>
    columnsToTensors(parseRecords({ inputs: { c: [1, v] } }, null, LIMITS), [spec('c', datatype, [-1])], null);
  rejects(() => one('FP32', 'abc'), 'column "c" row 1: "abc" is not a number');
  rejects(() => one('FP32', ''), 'column "c" row 1: "" is not a number');
  rejects(() => one('FP32', true), 'column "c" row 1: true is not a number');
  rejects(() => one('INT32', null), 'column "c" row 1: null is missing (integer columns cannot hold null)');
  rejects(() => one('INT32', 1.5), 'column "c" row 1: 1.5 is not an integer');
  rejects(() => one('INT8', 300), 'column "c" row 1: 300 is out of range for INT8');
  rejects(() => one('UINT64', -1), 'column "c" row 1: -1 is out of range for UINT64');
  rejects(() => one('INT64', '99999999999999999999'), /"99999999999999999999" is out of range for INT64/);
  rejects(() => one('INT64', 2 ** 60), /is beyond 2\^53/);
  rejects(() => one('BOOL', 'maybe'), 'column "c" row 1: "maybe" is not a boolean');
  rejects(
    () => columnsToTensors(parseRecords({ inputs: { c: ['a', 5] } }, null, LIMITS), [spec('c', 'BYTES', [-1])], null),
    'column "c" row 1: 5 is not a string',
  );
});

test('a multi-input model needs a column for every input', () => {
  const cols = parseRecords({ instances: [{ a: 1, b: 2 }] }, null, LIMITS);
  rejects(() => columnsToTensors(cols, [spec('a', 'FP32', [-1]), spec('z', 'FP32', [-1])], null), 'missing column "z"');
  rejects(
    () => columnsToTensors(cols, [spec('a', 'FP32', [-1]), spec('b', 'FP32', [-1, 3])], null),
    'input "b" of shape [-1,3] cannot be filled from one column',
  );
  rejects(() => columnsToTensors(cols, [], null), 'the model declares no inputs');
});

const tensor = (name: string, datatype: Tensor['datatype'], shape: number[], data: Tensor['data']): Tensor => ({
  name,
  datatype,
  shape,
  data,
});

test('one output gives one entry per row: scalars for [n] and [n,1], arrays otherwise', () => {
  assert.deepEqual(tensorsToPredictions([tensor('y', 'INT64', [3], new BigInt64Array([0n, 2n, 1n]))]), {
    predictions: [0, 2, 1],
  });
  assert.deepEqual(tensorsToPredictions([tensor('y', 'FP32', [2, 1], new Float32Array([0.5, 1.5]))]), {
    predictions: [0.5, 1.5],
  });
  assert.deepEqual(tensorsToPredictions([tensor('p', 'FP64', [2, 3], new Float64Array([1, 2, 3, 4, 5, 6]))]), {
    predictions: [
      [1, 2, 3],
      [4, 5, 6],
    ],
  });
  assert.deepEqual(
    tensorsToPredictions([tensor('t', 'INT32', [2, 2, 2], new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]))]).predictions,
    [
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ],
  );
  assert.deepEqual(tensorsToPredictions([tensor('s', 'FP32', [], new Float32Array([7]))]).predictions, [7]);
  assert.deepEqual(tensorsToPredictions([]).predictions, []);
});

test('several outputs give one object per row; values are JSON-ready', () => {
  const out = tensorsToPredictions([
    tensor('label', 'INT64', [2], new BigInt64Array([1n, 2n ** 60n])),
    tensor('probabilities', 'FP32', [2, 2], new Float32Array([0.25, 0.75, 1, 0])),
    tensor('ok', 'BOOL', [2, 1], new Uint8Array([1, 0])),
    tensor('name', 'BYTES', [2], [Buffer.from('ä'), Buffer.from('b')]),
    tensor('h', 'FP16', [2], new Uint16Array([floatToHalf(0.5), floatToHalf(-2)])),
  ]);
  assert.deepEqual(out.predictions, [
    { label: 1, probabilities: [0.25, 0.75], ok: true, name: 'ä', h: 0.5 },
    { label: '1152921504606846976', probabilities: [1, 0], ok: false, name: 'b', h: -2 },
  ]);
  assert.doesNotThrow(() => JSON.stringify(out));
  assert.throws(
    () =>
      tensorsToPredictions([
        tensor('a', 'FP32', [2], new Float32Array(2)),
        tensor('b', 'FP32', [3], new Float32Array(3)),
      ]),
    /outputs "a" and "b" have different row counts \(2, 3\)/,
  );
});

test('records -> tensors -> predictions, end to end for a scikit-learn-style model', () => {
  const cols = parseRecords(
    {
      dataframe_split: {
        columns: IRIS,
        data: [
          [5.1, 3.5, 1.4, 0.2],
          [6.7, 3.0, 5.2, 2.3],
        ],
      },
    },
    IRIS,
    LIMITS,
  );
  const [x] = columnsToTensors(cols, [spec('float_input', 'FP32', [-1, 4])], IRIS);
  assert.deepEqual(x!.shape, [2, 4]);
  assert.deepEqual(x!.data, new Float32Array([5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]));
  // What a classifier exported without ZipMap answers.
  const label = tensor('label', 'INT64', [2], new BigInt64Array([0n, 2n]));
  const probabilities = tensor('probabilities', 'FP32', [2, 3], new Float32Array([1, 0, 0, 0, 0, 1]));
  assert.deepEqual(tensorsToPredictions([label]), { predictions: [0, 2] });
  assert.deepEqual(tensorsToPredictions([label, probabilities]).predictions[1], { label: 2, probabilities: [0, 0, 1] });
});
