import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RuntimeInputError, RuntimeUnavailableError } from '../runtime.js';
import type { Tensor } from '../tensors.js';
import { OnnxRuntime } from './onnx-runtime.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures');
// The evaluation gate's scikit-learn fixtures (skl2onnx, zipmap off) and what Python computed for them.
const EVAL_FIXTURES = path.join(HERE, '..', '..', 'evaluation', 'fixtures');

const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The feature columns of a fixture CSV (the last column is the label), row-major. */
function features(file: string): { rows: number; width: number; data: Float32Array } {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const width = lines[0]!.split(',').length - 1;
  const data = new Float32Array(lines.length * width);
  lines.forEach((line, r) =>
    line
      .split(',')
      .slice(0, width)
      .forEach((v, c) => (data[r * width + c] = Number(v))),
  );
  return { rows: lines.length, width, data };
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const byName = (outputs: Tensor[], name: string): Tensor => {
  const t = outputs.find((o) => o.name === name);
  assert.ok(t, `output ${name} is missing`);
  return t;
};

describe('OnnxRuntime', () => {
  it('reports the graph as OIP metadata', async () => {
    const rt = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'binary.onnx'));
    try {
      assert.equal(rt.kind, 'onnx');
      assert.equal(rt.ready(), true);
      assert.deepEqual(rt.metadata(), {
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 30] }],
        outputs: [
          { name: 'label', datatype: 'INT64', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        ],
      });
    } finally {
      await rt.close();
    }
  });

  for (const name of ['binary', 'multiclass'] as const) {
    it(`scores the ${name} scikit-learn classifier as Python onnxruntime did`, async () => {
      const expected = json<{ labels: number[]; probabilities: number[][] }>(
        path.join(EVAL_FIXTURES, `${name}.expected.json`),
      );
      const x = features(path.join(EVAL_FIXTURES, `${name}.csv`));
      const rt = await OnnxRuntime.open(readFileSync(path.join(EVAL_FIXTURES, `${name}.onnx`)));
      try {
        const out = await rt.infer([{ name: 'X', datatype: 'FP32', shape: [x.rows, x.width], data: x.data }]);
        assert.deepEqual(
          out.map((o) => o.name),
          ['label', 'probabilities'],
        );
        const label = byName(out, 'label');
        assert.equal(label.datatype, 'INT64');
        assert.deepEqual(label.shape, [x.rows]);
        assert.deepEqual(Array.from(label.data as BigInt64Array, Number), expected.labels);
        const proba = byName(out, 'probabilities');
        assert.deepEqual(proba.shape, [x.rows, expected.probabilities[0]!.length]);
        assertClose(proba.data as Float32Array, expected.probabilities.flat(), 1e-5, 'probabilities');
      } finally {
        await rt.close();
      }
    });
  }

  it('scores the regressor one row at a time, as a server does', async () => {
    const expected = json<{ predictions: number[] }>(path.join(EVAL_FIXTURES, 'regression.expected.json'));
    const x = features(path.join(EVAL_FIXTURES, 'regression.csv'));
    const rt = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'regression.onnx'), { intraOpThreads: 1 });
    try {
      const got: number[] = [];
      for (let r = 0; r < x.rows; r++) {
        const row = x.data.subarray(r * x.width, (r + 1) * x.width); // a view: no copy on the way in
        const [y] = await rt.infer([{ name: 'X', datatype: 'FP32', shape: [1, x.width], data: row }]);
        assert.equal(y!.name, 'variable');
        assert.deepEqual(y!.shape, [1, 1]);
        got.push((y!.data as Float32Array)[0]!);
      }
      assertClose(got, expected.predictions, 1e-4, 'predictions');
    } finally {
      await rt.close();
    }
  });

  it('returns string labels as UTF-8 byte strings, and only the outputs asked for', async () => {
    const expected = json<{ rows: number[][]; labels: string[]; sklearnLabels: string[]; probabilities: number[][] }>(
      path.join(FIXTURES, 'iris_labels.expected.json'),
    );
    assert.deepEqual(expected.labels, expected.sklearnLabels);
    const rt = await OnnxRuntime.open(path.join(FIXTURES, 'iris_labels.onnx'));
    try {
      assert.deepEqual(rt.metadata().outputs[0], { name: 'label', datatype: 'BYTES', shape: [-1] });
      const input: Tensor = {
        name: 'X',
        datatype: 'FP32',
        shape: [expected.rows.length, 4],
        data: Float32Array.from(expected.rows.flat()),
      };
      const [label, proba] = await rt.infer([input]);
      assert.equal(label!.datatype, 'BYTES');
      assert.deepEqual(
        (label!.data as Buffer[]).map((b) => b.toString('utf8')),
        expected.labels,
      );
      assertClose(proba!.data as Float32Array, expected.probabilities.flat(), 1e-5, 'probabilities');

      const only = await rt.infer([input], ['probabilities']);
      assert.deepEqual(
        only.map((o) => o.name),
        ['probabilities'],
      );
    } finally {
      await rt.close();
    }
  });

  it('carries every datatype both ways as Python onnxruntime does', async () => {
    type Plain = { shape: number[]; data?: (string | number | boolean)[]; bits?: number[] };
    const fixture = json<{ inputs: Record<string, Plain>; outputs: Record<string, Plain> }>(
      path.join(FIXTURES, 'types.expected.json'),
    );
    const rt = await OnnxRuntime.open(path.join(FIXTURES, 'types.onnx'));
    try {
      const specs = new Map(rt.metadata().inputs.map((s) => [s.name, s]));
      assert.deepEqual(specs.get('pixels')!.shape, [2, 2]);
      assert.deepEqual(specs.get('count')!.shape, [-1, 2]);
      const inputs: Tensor[] = Object.entries(fixture.inputs).map(([name, v]) => {
        const datatype = specs.get(name)!.datatype;
        return { name, datatype, shape: v.shape, data: toData(datatype, v) };
      });
      const out = await rt.infer(inputs);
      assert.deepEqual(out.map((o) => o.name).sort(), Object.keys(fixture.outputs).sort());
      for (const t of out) {
        const want = fixture.outputs[t.name]!;
        assert.deepEqual(t.shape, want.shape, `${t.name} shape`);
        assert.deepEqual(plain(t), want.bits ?? want.data, `${t.name} data`);
      }
    } finally {
      await rt.close();
    }
  });

  it('leaves out outputs OIP cannot carry (ZipMap) and serves the rest', async () => {
    const rt = await OnnxRuntime.open(path.join(FIXTURES, 'iris_zipmap.onnx'));
    try {
      assert.deepEqual(rt.metadata().outputs, [{ name: 'output_label', datatype: 'INT64', shape: [-1] }]);
      const input: Tensor = {
        name: 'X',
        datatype: 'FP32',
        shape: [2, 4],
        data: Float32Array.of(5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6, 2.5),
      };
      const out = await rt.infer([input]);
      assert.deepEqual(
        out.map((o) => o.name),
        ['output_label'],
      );
      assert.deepEqual(Array.from(out[0]!.data as BigInt64Array), [0n, 2n]);
      await assert.rejects(rt.infer([input], ['output_probability']), /unknown output "output_probability"/);
    } finally {
      await rt.close();
    }
  });

  it('refuses bad inputs with a RuntimeInputError naming the input', async () => {
    const rt = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'multiclass.onnx'));
    const x = (shape: number[], data: Tensor['data'] = new Float32Array(shape.reduce((a, b) => a * b, 1))): Tensor => ({
      name: 'X',
      datatype: 'FP32',
      shape,
      data,
    });
    const cases: [string, Tensor[], string[] | undefined, RegExp][] = [
      ['unknown', [x([1, 4]), { ...x([1, 4]), name: 'Y' }], undefined, /unknown input "Y".*"X"/],
      ['missing', [], undefined, /missing input "X"/],
      ['twice', [x([1, 4]), x([1, 4])], undefined, /input "X" is given more than once/],
      [
        'datatype',
        [{ ...x([1, 4]), datatype: 'FP64', data: new Float64Array(4) }],
        undefined,
        /input "X" is FP64: the model takes FP32/,
      ],
      ['rank', [x([4])], undefined, /input "X" has shape \[4\]: the model takes \[-1, 4\]/],
      ['fixed dim', [x([2, 3])], undefined, /input "X" has shape \[2, 3\]: the model takes \[-1, 4\]/],
      ['count', [x([2, 4], new Float32Array(7))], undefined, /input "X" has 7 values but its shape \[2, 4\] holds 8/],
      ['array', [x([1, 4], new Float64Array(4))], undefined, /input "X" is FP32 but its data is not a Float32Array/],
      ['negative dim', [x([-1, 4], new Float32Array(4))], undefined, /input "X" has shape \[-1, 4\]/],
      ['output', [x([1, 4])], ['label', 'proba'], /unknown output "proba"/],
    ];
    try {
      for (const [what, inputs, outputs, message] of cases) {
        await assert.rejects(rt.infer(inputs, outputs), (err: Error) => {
          assert.ok(err instanceof RuntimeInputError, `${what}: ${err.name} ${err.message}`);
          assert.match(err.message, message, what);
          return true;
        });
      }
      // Still serving after all that.
      const [label] = await rt.infer([x([1, 4], Float32Array.from([5.1, 3.5, 1.4, 0.2]))], ['label']);
      assert.deepEqual(Array.from(label!.data as BigInt64Array), [0n]);
    } finally {
      await rt.close();
    }
  });

  it("passes a failure inside onnxruntime on as a plain Error with onnxruntime's message", async () => {
    const rt = await OnnxRuntime.open(path.join(FIXTURES, 'reshape4.onnx'));
    try {
      const [square] = await rt.infer([{ name: 'v', datatype: 'FP32', shape: [4], data: Float32Array.of(1, 2, 3, 4) }]);
      assert.deepEqual(square!.shape, [2, 2]);
      await assert.rejects(
        rt.infer([{ name: 'v', datatype: 'FP32', shape: [3], data: Float32Array.of(1, 2, 3) }]),
        (err: Error) => {
          assert.ok(!(err instanceof RuntimeInputError) && !(err instanceof RuntimeUnavailableError), err.name);
          assert.match(err.message, /^onnxruntime failed: .*(reshape|Reshape|shape)/);
          return true;
        },
      );
    } finally {
      await rt.close();
    }
  });

  it('refuses a file that is no ONNX graph', async () => {
    await assert.rejects(OnnxRuntime.open(new Uint8Array([1, 2, 3, 4, 5])), /./);
    await assert.rejects(OnnxRuntime.open(path.join(FIXTURES, 'no-such.onnx')), /no-such\.onnx|No such file|load/i);
  });

  it('is unavailable once closed, and closing twice is harmless', async () => {
    const rt = await OnnxRuntime.open(path.join(EVAL_FIXTURES, 'regression.onnx'));
    await rt.close();
    await rt.close();
    assert.equal(rt.ready(), false);
    await assert.rejects(
      rt.infer([{ name: 'X', datatype: 'FP32', shape: [1, 10], data: new Float32Array(10) }]),
      RuntimeUnavailableError,
    );
  });
});

/** Fixture JSON values as the typed array of the OIP datatype. */
function toData(datatype: string, v: { data?: (string | number | boolean)[]; bits?: number[] }): Tensor['data'] {
  const d = v.data ?? [];
  switch (datatype) {
    case 'BYTES':
      return d.map((s) => Buffer.from(String(s), 'utf8'));
    case 'BOOL':
      return Uint8Array.from(d, (b) => (b ? 1 : 0));
    case 'INT64':
      return BigInt64Array.from(d, (s) => BigInt(String(s)));
    case 'INT32':
      return Int32Array.from(d, Number);
    case 'UINT8':
      return Uint8Array.from(d, Number);
    case 'FP64':
      return Float64Array.from(d, Number);
    case 'FP16':
      return Uint16Array.from(v.bits ?? []);
    default:
      throw new Error(`no conversion for ${datatype}`);
  }
}

/** A tensor's data in the fixture JSON's terms. */
function plain(t: Tensor): (string | number | boolean)[] {
  switch (t.datatype) {
    case 'BYTES':
      return (t.data as Buffer[]).map((b) => b.toString('utf8'));
    case 'BOOL':
      return Array.from(t.data as Uint8Array, (b) => b !== 0);
    case 'INT64':
    case 'INT32':
    case 'UINT8':
      return Array.from(t.data as ArrayLike<number | bigint>, (n) => String(n));
    case 'FP16':
      return Array.from(t.data as Uint16Array);
    default:
      return Array.from(t.data as Float64Array);
  }
}
