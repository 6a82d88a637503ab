import type { Readable } from 'node:stream';
import { DecimalScanner, readDelimitedLines } from '../datasets/csv.js';
import {
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  sortedUnion,
  type Labels,
  type RegressionMetrics,
} from './metrics.js';
import type { FeatureBatch, Scorer } from './scoring.js';

export type Task = 'binary' | 'multiclass' | 'regression';

/** A held-out set: features, in column order, and the true label (or value) of each row. */
export interface HeldOut {
  features: FeatureBatch;
  /** Numbers in a Float64Array when every label is numeric; strings otherwise. */
  labels: Labels;
}

/**
 * Reads a held-out CSV/TSV with a header row: every column but `labelColumn` is a numeric feature.
 * Labels stay numbers when every label is numeric (scikit-learn's classes then sort numerically).
 *
 * Lines without quotes (nearly all) are parsed in place: each feature cell straight from the
 * line's characters ({@link DecimalScanner}, bit for bit Number()'s value), with no substring per
 * cell; a cell the fast path does not take is cut out and given to Number(). Any line that does
 * not parse cleanly that way (a wrong cell count, a blank or non-numeric cell) goes through the
 * cell-by-cell path, which names the row and column in its error.
 */
export async function readHeldOut(stream: Readable, format: 'csv' | 'tsv', labelColumn: string): Promise<HeldOut> {
  const sep = format === 'csv' ? ',' : '\t';
  const sepCode = sep.charCodeAt(0);
  let header: string[] | null = null;
  let labelAt = -1;
  let columns = 0;
  // Features go straight into a float32 buffer that doubles as it fills (100k × 20 cells is 2M
  // numbers; a JS array of them and a copy would cost more than parsing them).
  let values = new Float32Array(1 << 16);
  let filled = 0;
  const raw: string[] = [];
  let line = 1;
  const scanner = new DecimalScanner();

  /** Parses a quote-free line in place; false (nothing kept) when it needs the cell-by-cell path. */
  const fastRow = (text: string): boolean => {
    let pos = 0;
    let at = filled;
    let label = '';
    const last = columns - 1;
    for (let c = 0; c < columns; c++) {
      if (c !== labelAt) {
        const v = scanner.scan(text, pos);
        const stop = scanner.end;
        if (!Number.isNaN(v) && (c === last ? stop === text.length : text.charCodeAt(stop) === sepCode)) {
          values[at++] = v;
          pos = stop + 1;
          continue;
        }
      }
      const next = text.indexOf(sep, pos);
      if (c === last ? next >= 0 : next < 0) return false;
      const end = c === last ? text.length : next;
      const cell = text.slice(pos, end);
      pos = end + 1;
      if (c === labelAt) {
        label = cell;
        continue;
      }
      const v = Number(cell);
      if (Number.isNaN(v) || (v === 0 && cell.trim() === '')) return false;
      values[at++] = v;
    }
    filled = at;
    raw.push(label);
    return true;
  };

  /** Parses a row of cells; throws naming the row and column of what is not a number. */
  const slowRow = (row: string[]) => {
    if (row.length !== columns) throw new Error(`row ${line} has ${row.length} cells; the header has ${columns}`);
    for (let c = 0; c < row.length; c++) {
      if (c === labelAt) continue;
      const cell = row[c]!;
      const v = Number(cell);
      // Number('') and Number('  ') are 0: only a zero needs the blank check.
      if (Number.isNaN(v) || (v === 0 && cell.trim() === '')) {
        throw new Error(`row ${line}, column "${header![c]}": ${JSON.stringify(cell)} is not a number`);
      }
      values[filled++] = v;
    }
    raw.push(row[labelAt]!);
  };

  for await (const batch of readDelimitedLines(stream, sep)) {
    for (const item of batch) {
      if (!header) {
        header = (typeof item === 'string' ? item.split(sep) : item).map((h) => h.trim());
        labelAt = header.indexOf(labelColumn);
        if (labelAt < 0)
          throw new Error(`the held-out set has no label column "${labelColumn}" (columns: ${header.join(', ')})`);
        columns = header.length;
        continue;
      }
      line++;
      if (item === '' || (typeof item !== 'string' && item.length === 1 && item[0] === '')) continue;
      if (filled + columns > values.length) {
        const grown = new Float32Array(Math.max(values.length * 2, filled + columns));
        grown.set(values);
        values = grown;
      }
      if (typeof item === 'string') {
        if (!fastRow(item)) slowRow(item.split(sep));
      } else slowRow(item);
    }
  }
  if (!header) throw new Error('the held-out set is empty');
  const numeric = raw.every((l) => l.trim() !== '' && !Number.isNaN(Number(l)));
  return {
    features: { names: header.filter((_, i) => i !== labelAt), rows: raw.length, data: values.slice(0, filled) },
    labels: numeric ? Float64Array.from(raw, Number) : raw,
  };
}

export type EvaluationMetrics = ClassificationMetrics | RegressionMetrics;

/** Scores a held-out set through `scorer` and computes the task's metrics. */
export async function evaluate(scorer: Scorer, heldOut: HeldOut, task: Task): Promise<EvaluationMetrics> {
  if (heldOut.features.rows === 0) throw new Error('the held-out set has no rows');
  const scores = await scorer.score(heldOut.features);
  if (task === 'regression') {
    if (!scores.values) throw new Error('a regression model must answer with numeric values');
    return regressionMetrics(heldOut.labels as ArrayLike<number>, scores.values);
  }
  if (!scores.labels) throw new Error('a classifier must answer with labels');
  if (!scores.probabilities) return classificationMetrics(heldOut.labels, scores.labels);
  const { width, data } = scores.probabilities;
  // Without the model's own class list, its classes are the sorted labels seen (scikit-learn's
  // classes_ order), when that accounts for every probability column.
  const classes = scores.classes ?? sortedUnion(heldOut.labels, scores.labels);
  if (classes.length !== width) return classificationMetrics(heldOut.labels, scores.labels);
  return classificationMetrics(heldOut.labels, scores.labels, { classes, data });
}
