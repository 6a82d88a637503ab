/*
 * Evaluation metrics with scikit-learn's definitions (sklearn.metrics), so a gate computed here
 * agrees with what data scientists compute in their notebooks. Tested against scikit-learn's own
 * numbers on committed fixtures (fixtures/make_fixtures.py).
 */

export type Label = number | string;

export interface ClassificationMetrics {
  accuracy: number;
  /** Of the positive class (the greater label) for two classes; macro-averaged otherwise. */
  precision: number;
  recall: number;
  f1: number;
  /** Null without probabilities, or when the held-out set has a single class. */
  rocAuc: number | null;
  logLoss: number | null;
  brier: number | null;
  /** Expected calibration error of the top-label confidence over 10 equal-width bins. */
  ece: number | null;
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  r2: number;
  mape: number;
}

const compare = (a: Label, b: Label) => (a < b ? -1 : a > b ? 1 : 0);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Classification metrics of predicted labels (and, when given, class probabilities in the order of
 * `classes`, as the model's classes_) against the true labels.
 */
export function classificationMetrics(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  probabilities?: { classes: readonly Label[]; rows: readonly (readonly number[])[] },
): ClassificationMetrics {
  if (yTrue.length === 0 || yTrue.length !== yPred.length) {
    throw new Error(`need as many predictions as labels, and at least one (${yTrue.length} vs ${yPred.length})`);
  }
  // sklearn's labels: the sorted union of what is true and what is predicted.
  const labels = [...new Set([...yTrue, ...yPred])].sort(compare);
  const binary = labels.length <= 2 && (probabilities ? probabilities.classes.length === 2 : true);
  const perClass = labels.map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === c;
      const p = yPred[i] === c;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1 };
  });
  const positive = probabilities ? probabilities.classes[1] : labels[labels.length - 1];
  const pick = binary ? perClass[labels.indexOf(positive!)] : undefined;
  const averaged = (k: 'precision' | 'recall' | 'f1') => (binary ? (pick?.[k] ?? 0) : mean(perClass.map((p) => p[k])));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  const result: ClassificationMetrics = {
    accuracy: correct / yTrue.length,
    precision: averaged('precision'),
    recall: averaged('recall'),
    f1: averaged('f1'),
    rocAuc: null,
    logLoss: null,
    brier: null,
    ece: null,
  };
  if (!probabilities) return result;
  const { classes, rows } = probabilities;
  if (rows.length !== yTrue.length || rows.some((r) => r.length !== classes.length)) {
    throw new Error('need one probability per class for every row');
  }
  const truth = yTrue.map((y) => classes.indexOf(y));
  if (truth.some((t) => t < 0)) throw new Error('a true label is not among the model classes');
  result.logLoss = logLoss(truth, rows);
  result.ece = expectedCalibrationError(yTrue, rows, classes);
  if (classes.length === 2) {
    const scores = rows.map((r) => r[1]!);
    const isPositive = truth.map((t) => t === 1);
    result.rocAuc = binaryAuc(isPositive, scores);
    result.brier = mean(scores.map((p, i) => (p - (isPositive[i] ? 1 : 0)) ** 2));
  } else {
    // One-vs-rest, macro-averaged (roc_auc_score(multi_class="ovr", average="macro")).
    const aucs = classes.map((_, c) =>
      binaryAuc(
        truth.map((t) => t === c),
        rows.map((r) => r[c]!),
      ),
    );
    result.rocAuc = aucs.some((a) => a === null) ? null : mean(aucs as number[]);
    result.brier = mean(rows.map((r, i) => r.reduce((s, p, c) => s + (p - (truth[i] === c ? 1 : 0)) ** 2, 0)));
  }
  return result;
}

/**
 * Area under the ROC curve by the rank-sum (Mann-Whitney U) statistic with tied scores sharing
 * their average rank: the same number as the trapezoidal ROC area. Null for a single class.
 */
function binaryAuc(isPositive: readonly boolean[], scores: readonly number[]): number | null {
  const n = scores.length;
  const positives = isPositive.filter(Boolean).length;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  // Row indexes sorted by score in a typed array: no tuple per row (100k-row held-out sets).
  const s = Float64Array.from(scores);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => s[a]! - s[b]!);
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && s[order[j + 1]!] === s[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (isPositive[order[k]!]) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Mean negative log-likelihood of the true class, its probability clipped to [eps, 1 - eps] with
 * float64's eps: scikit-learn's log_loss (1.9) on float64 probabilities, which no longer
 * renormalises rows. Float32 model outputs are exact in float64, so they give the same number.
 */
function logLoss(truth: readonly number[], rows: readonly (readonly number[])[]): number {
  const eps = Number.EPSILON;
  return mean(rows.map((r, i) => -Math.log(Math.min(1 - eps, Math.max(eps, r[truth[i]!]!)))));
}

function expectedCalibrationError(
  yTrue: readonly Label[],
  rows: readonly (readonly number[])[],
  classes: readonly Label[],
  bins = 10,
): number {
  const n = rows.length;
  const sums = Array.from({ length: bins }, () => ({ count: 0, correct: 0, confidence: 0 }));
  rows.forEach((r, i) => {
    let best = 0;
    for (let c = 1; c < r.length; c++) if (r[c]! > r[best]!) best = c;
    const conf = r[best]!;
    // Bins are (lo, hi], the first one [0, 0.1].
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    sums[b]!.count++;
    sums[b]!.confidence += conf;
    if (classes[best] === yTrue[i]) sums[b]!.correct++;
  });
  return sums.reduce(
    (e, s) => (s.count ? e + (s.count / n) * Math.abs(s.correct / s.count - s.confidence / s.count) : e),
    0,
  );
}

/** Regression metrics of predictions against true values. */
export function regressionMetrics(yTrue: readonly number[], yPred: readonly number[]): RegressionMetrics {
  if (yTrue.length === 0 || yTrue.length !== yPred.length) {
    throw new Error(`need as many predictions as values, and at least one (${yTrue.length} vs ${yPred.length})`);
  }
  const n = yTrue.length;
  const avg = mean(yTrue as number[]);
  let abs = 0;
  let sq = 0;
  let tot = 0;
  let pct = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i]! - yPred[i]!;
    abs += Math.abs(e);
    sq += e * e;
    tot += (yTrue[i]! - avg) ** 2;
    // scikit-learn divides by max(|y|, float64 epsilon), so a zero target gives a huge, finite error.
    pct += Math.abs(e) / Math.max(Math.abs(yTrue[i]!), Number.EPSILON);
  }
  return {
    mae: abs / n,
    rmse: Math.sqrt(sq / n),
    // scikit-learn's convention for a constant target: 1 for a perfect fit, else 0.
    r2: tot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / tot,
    mape: pct / n,
  };
}
