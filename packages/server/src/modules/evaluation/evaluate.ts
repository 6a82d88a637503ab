import type { Readable } from 'node:stream';
import { readDelimitedRows } from '../datasets/csv.js';
import {
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type Label,
  type RegressionMetrics,
} from './metrics.js';
import type { FeatureBatch, Scorer } from './scoring.js';

export type Task = 'binary' | 'multiclass' | 'regression';

/** A held-out set: features, in column order, and the true label (or value) of each row. */
export interface HeldOut {
  features: FeatureBatch;
  labels: Label[];
}

/**
 * Reads a held-out CSV/TSV with a header row: every column but `labelColumn` is a numeric feature.
 * Labels stay numbers when every label is numeric (scikit-learn's classes then sort numerically).
 */
export async function readHeldOut(stream: Readable, format: 'csv' | 'tsv', labelColumn: string): Promise<HeldOut> {
  let header: string[] | null = null;
  let labelAt = -1;
  // Features go straight into a float32 buffer that doubles as it fills (100k × 20 cells is 2M
  // numbers; a JS array of them and a copy would cost more than parsing them).
  let values = new Float32Array(1 << 16);
  let filled = 0;
  const raw: string[] = [];
  let line = 1;
  for await (const row of readDelimitedRows(stream, format === 'csv' ? ',' : '\t')) {
    if (!header) {
      header = row.map((h) => h.trim());
      labelAt = header.indexOf(labelColumn);
      if (labelAt < 0)
        throw new Error(`the held-out set has no label column "${labelColumn}" (columns: ${header.join(', ')})`);
      continue;
    }
    line++;
    if (row.length === 1 && row[0] === '') continue;
    if (row.length !== header.length)
      throw new Error(`row ${line} has ${row.length} cells; the header has ${header.length}`);
    if (filled + row.length > values.length) {
      const grown = new Float32Array(Math.max(values.length * 2, filled + row.length));
      grown.set(values);
      values = grown;
    }
    for (let c = 0; c < row.length; c++) {
      if (c === labelAt) continue;
      const cell = row[c]!;
      const v = Number(cell);
      // Number('') and Number('  ') are 0: only a zero needs the blank check.
      if (Number.isNaN(v) || (v === 0 && cell.trim() === '')) {
        throw new Error(`row ${line}, column "${header[c]}": ${JSON.stringify(cell)} is not a number`);
      }
      values[filled++] = v;
    }
    raw.push(row[labelAt]!);
  }
  if (!header) throw new Error('the held-out set is empty');
  const numeric = raw.every((l) => l.trim() !== '' && !Number.isNaN(Number(l)));
  return {
    features: { names: header.filter((_, i) => i !== labelAt), rows: raw.length, data: values.slice(0, filled) },
    labels: numeric ? raw.map(Number) : raw,
  };
}

export type EvaluationMetrics = ClassificationMetrics | RegressionMetrics;

/** Scores a held-out set through `scorer` and computes the task's metrics. */
export async function evaluate(scorer: Scorer, heldOut: HeldOut, task: Task): Promise<EvaluationMetrics> {
  if (heldOut.features.rows === 0) throw new Error('the held-out set has no rows');
  const scores = await scorer.score(heldOut.features);
  if (task === 'regression') {
    if (!scores.values) throw new Error('a regression model must answer with numeric values');
    return regressionMetrics(heldOut.labels as number[], scores.values);
  }
  if (!scores.labels) throw new Error('a classifier must answer with labels');
  if (!scores.probabilities) return classificationMetrics(heldOut.labels, scores.labels);
  const width = scores.probabilities[0]?.length ?? 0;
  // Without the model's own class list, its classes are the sorted labels seen (scikit-learn's
  // classes_ order), when that accounts for every probability column.
  const classes =
    scores.classes ?? [...new Set([...heldOut.labels, ...scores.labels])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length !== width) return classificationMetrics(heldOut.labels, scores.labels);
  return classificationMetrics(heldOut.labels, scores.labels, { classes, rows: scores.probabilities });
}
