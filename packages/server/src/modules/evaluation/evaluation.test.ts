import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { readDelimitedRows } from '../datasets/csv.js';
import { evaluate, readHeldOut } from './evaluate.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { OnnxScorer } from './scoring.js';

// Fixtures and scikit-learn's own numbers for them: fixtures/make_fixtures.py.
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const expected = (name: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.expected.json`), 'utf8')) as {
    task: 'binary' | 'multiclass' | 'regression';
    labels?: number[];
    probabilities?: number[][];
    predictions?: number[];
    metrics: Record<string, number>;
  };

function close(actual: number | null, want: number, what: string, tol = 1e-6) {
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
        if (want.labels) assert.deepEqual(scores.labels, want.labels);
        if (want.probabilities) {
          scores.probabilities!.forEach((row, i) =>
            row.forEach((p, c) => close(p, want.probabilities![i]![c]!, `p[${i}][${c}]`)),
          );
        }
        if (want.predictions) scores.values!.forEach((v, i) => close(v, want.predictions![i]!, `prediction ${i}`));
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
  });
});

describe('metrics edge cases follow scikit-learn', () => {
  test('zero division is 0; one class has no ROC AUC', () => {
    const m = classificationMetrics([0, 0, 0], [0, 0, 0], {
      classes: [0, 1],
      rows: [
        [0.9, 0.1],
        [0.8, 0.2],
        [0.7, 0.3],
      ],
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
      rows: [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.2, 0.8],
        [0.1, 0.9],
      ],
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
