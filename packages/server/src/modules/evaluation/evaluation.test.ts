import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { DecimalScanner, readDelimitedRows } from '../datasets/csv.js';
import { evaluate, readHeldOut } from './evaluate.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { OnnxScorer } from './scoring.js';

// Fixtures and scikit-learn's own numbers for them: fixtures/make_fixtures.py.
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const expected = (name: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.expected.json`), 'utf8')) as {
    task: 'binary' | 'multiclass' | 'regression';
    classes?: number[];
    labels?: number[];
    probabilities?: number[][];
    predictions?: number[];
    metrics: Record<string, number>;
  };

// Metrics are float64 sums of at most a few hundred terms, on both sides (make_fixtures.py computes
// scikit-learn's in float64 on the same float32 scores): they differ by rounding only, ~1e-14.
// 1e-9 is absolute for metrics within [0, 1] and relative for larger ones (MAE, RMSE).
const METRIC_TOL = 1e-9;
// Scores are float32 outputs of one graph from two onnxruntime builds (Node's here, Python's in
// make_fixtures.py): a few float32 ulps.
const SCORE_TOL = 1e-6;

function close(actual: number | null, want: number, what: string, tol = METRIC_TOL) {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${actual} vs scikit-learn ${want}`);
}

describe('evaluation of ONNX models against scikit-learn', () => {
  for (const name of ['binary', 'multiclass', 'regression']) {
    test(`${name}: in-process ONNX scores and metrics match scikit-learn's`, async () => {
      const want = expected(name);
      const label = want.task === 'regression' ? 'target' : 'label';
      const heldOut = await readHeldOut(createReadStream(path.join(FIXTURES, `${name}.csv`)), 'csv', label);
      const scorer = await OnnxScorer.open(path.join(FIXTURES, `${name}.onnx`));
      try {
        const scores = await scorer.score(heldOut.features);
        if (want.labels) assert.deepEqual(Array.from(scores.labels!), want.labels);
        if (want.probabilities) {
          const { width, data } = scores.probabilities!;
          assert.equal(data.length, want.probabilities.length * width);
          want.probabilities.forEach((row, i) =>
            row.forEach((p, c) => close(data[i * width + c]!, p, `p[${i}][${c}]`, SCORE_TOL)),
          );
        }
        if (want.predictions) {
          scores.values!.forEach((v, i) => close(v, want.predictions![i]!, `prediction ${i}`, SCORE_TOL));
        }
        // The metrics alone, on the very scores scikit-learn was given.
        const y = heldOut.labels as Float64Array;
        const onStored = (want.probabilities
          ? classificationMetrics(y, Float64Array.from(want.labels!), {
              classes: want.classes!,
              data: Float64Array.from(want.probabilities.flat()),
            })
          : regressionMetrics(y, want.predictions!)) as unknown as Record<string, number | null>;
        for (const [k, v] of Object.entries(want.metrics)) close(onStored[k]!, v, `${k} of the stored scores`);
        // And end to end, on this runtime's scores.
        const metrics = (await evaluate(scorer, heldOut, want.task)) as unknown as Record<string, number | null>;
        for (const [k, v] of Object.entries(want.metrics)) close(metrics[k]!, v, k);
      } finally {
        await scorer.close();
      }
    });
  }

  test('a held-out set without the label column, or with a non-numeric feature, is refused by name', async () => {
    await assert.rejects(readHeldOut(Readable.from(['a,b\n1,2\n']), 'csv', 'label'), /no label column "label"/);
    await assert.rejects(
      readHeldOut(Readable.from(['a,label\nx,1\n']), 'csv', 'label'),
      /column "a": "x" is not a number/,
    );
    await assert.rejects(readHeldOut(Readable.from(['a,label\n1,2,3\n']), 'csv', 'label'), /row 2 has 3 cells/);
    await assert.rejects(readHeldOut(Readable.from(['a,b,label\n1,2,0\n3\n']), 'csv', 'label'), /row 3 has 1 cells/);
    for (const junk of ['', ' ', 'NaN', 'nan', '1e', '-', '.', '1.2.3', '0x', '1.5e', '--1', '1 2', 'e5']) {
      await assert.rejects(
        readHeldOut(Readable.from([`a,b,label\n1,2,0\n4,${junk},1\n`]), 'csv', 'label'),
        new RegExp(`row 3, column "b": ${JSON.stringify(junk).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a number`),
        junk,
      );
    }
  });
});

describe('numeric cells parsed straight from the line', () => {
  // A small deterministic generator (no Math.random: a failure must reproduce).
  let seed = 11;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const digits = (n: number) => Array.from({ length: n }, () => String(next(10))).join('');
  /** Decimal strings of every shape Number() reads: signs, long mantissas, exponents, leading zeros. */
  const generated = () => {
    const out = [
      '0',
      '-0',
      '+0',
      '-0.0',
      '0e99999',
      '-0e-5',
      '+1',
      '.5',
      '-.5',
      '1.',
      '1.e3',
      '1e22',
      '1e23',
      '9e-22',
      '1e-23',
      '123456789012345',
      '1234567890123456',
      '0.000000000000000000001',
      '00012.5000',
      '1E5',
      '1e+5',
      '2.5E-3',
      '4.9e-324',
      '1.7976931348623157e308',
      '1e309',
      '-1e400',
      'Infinity',
      '-Infinity',
      '0x1F',
      '1e-400',
      '9007199254740993',
      '0.1',
      '0.30000000000000004',
      '3.4028235e38',
      '1.401298464324817e-45',
    ];
    for (let i = 0; i < 20_000; i++) {
      const sign = ['', '-', '+'][next(3)]!;
      const int = next(4) === 0 ? '' : digits(next(12)) || '0';
      const frac = next(3) === 0 ? '' : `.${digits(next(20))}`;
      const exp = next(3) === 0 ? `${'eE'[next(2)]}${['', '-', '+'][next(3)]}${digits(1 + next(3))}` : '';
      const s = `${sign}${int}${frac}${exp}`;
      if (/\d/.test(int + frac)) out.push(s);
    }
    return out;
  };

  test('the scanner gives bit for bit what Number() gives, or NaN to fall back on', () => {
    const scanner = new DecimalScanner();
    let fast = 0;
    for (const s of generated()) {
      const v = scanner.scan(`,${s},`, 1);
      // NaN, or a number that stops short of the cell's end ('0x1F'): the reader falls back on Number().
      if (Number.isNaN(v) || scanner.end !== s.length + 1) continue;
      fast++;
      assert.ok(Object.is(v, Number(s)), `${s}: ${v} vs Number() ${Number(s)}`);
    }
    assert.ok(fast > 5_000, `the fast path took only ${fast} cells`);
    for (const junk of ['', '-', '+', '.', '-.', 'e5', '.e5', '1e', '1e+', 'NaN', 'Infinity', ' 1']) {
      assert.ok(Number.isNaN(scanner.scan(junk, 0)), junk);
    }
  });

  test('held-out features read bit for bit as Number() then float32 would store them', async () => {
    const cells = generated();
    const width = 7;
    const rows = Math.floor(cells.length / width);
    const lines = ['a,b,c,label,d,e,f,g'];
    for (let r = 0; r < rows; r++) {
      const row = cells.slice(r * width, r * width + width);
      lines.push([...row.slice(0, 3), String(r % 3), ...row.slice(3)].join(','));
    }
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 4093) chunks.push(bytes.subarray(i, i + 4093));
    const heldOut = await readHeldOut(Readable.from(chunks), 'csv', 'label');
    const want = Float32Array.from(cells.slice(0, rows * width), Number);
    assert.equal(heldOut.features.rows, rows);
    assert.deepEqual(heldOut.features.names, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.deepEqual(new Uint32Array(heldOut.features.data.buffer), new Uint32Array(want.buffer));
    assert.ok(heldOut.labels instanceof Float64Array);
    assert.deepEqual(
      Array.from(heldOut.labels),
      Array.from({ length: rows }, (_, r) => r % 3),
    );
  });
});

describe('metrics edge cases follow scikit-learn', () => {
  test('zero division is 0; one class has no ROC AUC', () => {
    const m = classificationMetrics([0, 0, 0], [0, 0, 0], {
      classes: [0, 1],
      data: Float64Array.of(0.9, 0.1, 0.8, 0.2, 0.7, 0.3),
    });
    assert.equal(m.accuracy, 1);
    assert.equal(m.precision, 0);
    assert.equal(m.recall, 0);
    assert.equal(m.rocAuc, null);
    close(m.brier, (0.01 + 0.04 + 0.09) / 3, 'brier');
  });

  test('ties share their rank in ROC AUC', () => {
    const m = classificationMetrics([0, 1, 0, 1], [0, 1, 1, 1], {
      classes: [0, 1],
      data: Float64Array.of(0.5, 0.5, 0.5, 0.5, 0.2, 0.8, 0.1, 0.9),
    });
    // Pairs (pos, neg): (0.5 vs 0.5)=0.5, (0.5 vs 0.8)=0, (0.9 vs 0.5)=1, (0.9 vs 0.8)=1 → 2.5 / 4.
    close(m.rocAuc, 0.625, 'rocAuc');
  });

  test('string labels, macro averages over the union of true and predicted labels', () => {
    const m = classificationMetrics(['a', 'b', 'c'], ['a', 'b', 'd']);
    // a: p=r=1; b: p=r=1; c: p=0 (never predicted), r=0; d: p=0, r=0 (never true).
    close(m.precision, 0.5, 'precision');
    close(m.recall, 0.5, 'recall');
    assert.equal(m.logLoss, null);
  });

  test('regression: a constant target gives R² 1 for a perfect fit and 0 otherwise; MAPE survives zeros', () => {
    assert.equal(regressionMetrics([2, 2], [2, 2]).r2, 1);
    assert.equal(regressionMetrics([2, 2], [1, 3]).r2, 0);
    const m = regressionMetrics([0, 1], [1, 1]);
    assert.ok(Number.isFinite(m.mape) && m.mape > 1e15);
    assert.throws(() => regressionMetrics([], []), /at least one/);
  });
});

test('delimited rows survive any chunking: quotes, doubled quotes, CRLF and separators split across chunks', async () => {
  const text = 'a,"b, c","say ""hi""\r\nthere"\r\n1,,"x"\n\nlast';
  const want = [['a', 'b, c', 'say "hi"\r\nthere'], ['1', '', 'x'], [''], ['last']];
  for (const size of [1, 2, 3, 5, 100]) {
    const bytes = Buffer.from(text);
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const rows = [];
    for await (const r of readDelimitedRows(Readable.from(chunks), ',')) rows.push(r);
    assert.deepEqual(rows, want, `chunks of ${size}`);
  }
});

test('delimited rows: generated tables round-trip through any line end and chunking', async () => {
  // A small deterministic generator (no Math.random: a failure must reproduce).
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['a', 'b', '1', ' ', ',', '"', '\n', '\r', 'é'];
  for (let t = 0; t < 200; t++) {
    const width = 1 + next(4);
    const rows = Array.from({ length: 1 + next(6) }, () =>
      Array.from({ length: width }, () =>
        Array.from({ length: next(5) }, () => alphabet[next(alphabet.length)]).join(''),
      ),
    );
    // A lone empty cell is a blank line, which reads back as one empty cell: fine, but a
    // one-column table's last empty row would vanish at the end of the text, so keep it non-empty.
    if (width === 1 && rows.at(-1)![0] === '') rows.at(-1)![0] = 'z';
    const eol = ['\n', '\r\n', '\r'][next(3)]!;
    const quote = (c: string) => (/[",\r\n]/.test(c) || next(4) === 0 ? `"${c.replaceAll('"', '""')}"` : c);
    const text = rows.map((r) => r.map(quote).join(',')).join(eol) + (next(2) ? eol : '');
    const bytes = Buffer.from(text);
    const size = 1 + next(bytes.length + 1);
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const got = [];
    for await (const r of readDelimitedRows(Readable.from(chunks), ',')) got.push(r);
    assert.deepEqual(got, rows, `table ${t}: ${JSON.stringify(text)} in chunks of ${size}`);
  }
});
