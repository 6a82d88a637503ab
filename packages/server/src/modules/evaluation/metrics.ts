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

/**
 * Labels, one per row: a Float64Array where they are numeric (held-out sets, ONNX label tensors),
 * an array otherwise. Compared with ===, as before either way.
 */
export type Labels = readonly Label[] | Float64Array;

/** Class probabilities, row-major: one row per example, one column per class (`classes` order). */
export type ProbabilityData = Float32Array | Float64Array;

const compare = (a: Label, b: Label) => (a < b ? -1 : a > b ? 1 : 0);

/** Left to right, as `xs.reduce((s, x) => s + x, 0) / xs.length` sums. */
function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** The distinct labels of all the lists, sorted as scikit-learn sorts classes. */
export function sortedUnion(...lists: Labels[]): Label[] {
  // As a Set keeps them (SameValueZero: NaN is one label, -0 is 0), found by a linear scan while
  // there are few (classes are), which costs less than a Set lookup per row.
  const seen: Label[] = [];
  let set: Set<Label> | null = null;
  for (const list of lists) {
    let last: Label | undefined;
    for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      if (v === last) continue;
      last = v;
      if (set) set.add(v);
      else if (indexOfLabel(seen, v) < 0) {
        seen.push(v === 0 ? 0 : v);
        if (seen.length > 32) set = new Set(seen);
      }
    }
  }
  return [...(set ?? seen)].sort(compare);
}

/** The index of `v` in `labels` by SameValueZero (NaN finds NaN), or -1. */
function indexOfLabel(labels: readonly Label[], v: Label): number {
  for (let k = 0; k < labels.length; k++) {
    const l = labels[k];
    if (l === v || (l !== l && v !== v)) return k;
  }
  return -1;
}

/**
 * Each label's index in `labels` (which holds them all), by ===: -1 for NaN, which equals nothing,
 * so comparing indexes is comparing the labels.
 */
function encode(list: Labels, labels: readonly Label[]): Int32Array {
  const out = new Int32Array(list.length);
  let last: Label | undefined;
  let lastAt = -1;
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (v !== last) {
      last = v;
      lastAt = labels.indexOf(v);
    }
    out[i] = lastAt;
  }
  return out;
}

/**
 * Classification metrics of predicted labels (and, when given, class probabilities in the order of
 * `classes`, as the model's classes_) against the true labels. Loops over the typed arrays with no
 * allocation per row: held-out sets run to 100k rows.
 */
export function classificationMetrics(
  yTrue: Labels,
  yPred: Labels,
  probabilities?: { classes: readonly Label[]; data: ProbabilityData },
): ClassificationMetrics {
  const n = yTrue.length;
  if (n === 0 || n !== yPred.length) {
    throw new Error(`need as many predictions as labels, and at least one (${n} vs ${yPred.length})`);
  }
  // sklearn's labels: the sorted union of what is true and what is predicted.
  const labels = sortedUnion(yTrue, yPred);
  const binary = labels.length <= 2 && (probabilities ? probabilities.classes.length === 2 : true);
  const trueAt = encode(yTrue, labels);
  const predAt = encode(yPred, labels);
  const tp = new Float64Array(labels.length);
  const fp = new Float64Array(labels.length);
  const fn = new Float64Array(labels.length);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = trueAt[i]!;
    const p = predAt[i]!;
    if (t >= 0 && t === p) {
      tp[t]!++;
      correct++;
    } else {
      if (p >= 0) fp[p]!++;
      if (t >= 0) fn[t]!++;
    }
  }
  const perClass = labels.map((_, c) => {
    const precision = tp[c]! + fp[c]! === 0 ? 0 : tp[c]! / (tp[c]! + fp[c]!);
    const recall = tp[c]! + fn[c]! === 0 ? 0 : tp[c]! / (tp[c]! + fn[c]!);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1 };
  });
  const positive = probabilities ? probabilities.classes[1] : labels[labels.length - 1];
  const pick = binary ? perClass[labels.indexOf(positive!)] : undefined;
  const averaged = (k: 'precision' | 'recall' | 'f1') => (binary ? (pick?.[k] ?? 0) : mean(perClass.map((p) => p[k])));
  const result: ClassificationMetrics = {
    accuracy: correct / n,
    precision: averaged('precision'),
    recall: averaged('recall'),
    f1: averaged('f1'),
    rocAuc: null,
    logLoss: null,
    brier: null,
    ece: null,
  };
  if (!probabilities) return result;
  const { classes, data } = probabilities;
  const k = classes.length;
  if (data.length !== n * k) throw new Error('need one probability per class for every row');
  // Each row's true class, as a column index; and whether class c is label l, by ===.
  const classOf = labels.map((l) => classes.indexOf(l));
  const isClass = new Uint8Array(labels.length * k);
  labels.forEach((l, at) => classes.forEach((c, col) => (isClass[at * k + col] = c === l ? 1 : 0)));
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = trueAt[i]! < 0 ? -1 : classOf[trueAt[i]!]!;
    if (t < 0) throw new Error('a true label is not among the model classes');
    truth[i] = t;
  }
  result.logLoss = logLoss(truth, data, k);
  result.ece = expectedCalibrationError(trueAt, isClass, data, k);
  if (k === 2) {
    const isPositive = new Uint8Array(n);
    for (let i = 0; i < n; i++) isPositive[i] = truth[i] === 1 ? 1 : 0;
    result.rocAuc = binaryAuc(isPositive, data, 1, 2);
    let brier = 0;
    for (let i = 0; i < n; i++) brier += (data[i * 2 + 1]! - isPositive[i]!) ** 2;
    result.brier = brier / n;
  } else {
    // One-vs-rest, macro-averaged (roc_auc_score(multi_class="ovr", average="macro")).
    const aucs: (number | null)[] = [];
    const inClass = new Uint8Array(n);
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < n; i++) inClass[i] = truth[i] === c ? 1 : 0;
      aucs.push(binaryAuc(inClass, data, c, k));
    }
    result.rocAuc = aucs.some((a) => a === null) ? null : mean(aucs as number[]);
    let brier = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let c = 0; c < k; c++) row += (data[i * k + c]! - (truth[i] === c ? 1 : 0)) ** 2;
      brier += row;
    }
    result.brier = brier / n;
  }
  return result;
}

/**
 * Area under the ROC curve of column `col` (of `width`) by the rank-sum (Mann-Whitney U)
 * statistic with tied scores sharing their average rank: the same number as the trapezoidal ROC
 * area. Null for a single class.
 *
 * The scores of positives and of negatives are sorted apart, by the typed arrays' own numeric sort
 * (no comparator call per pair), and merged tie group by tie group. Every rank is a half-integer
 * and every partial rank sum an exact double (below 2^52), so the sum is the same whatever order
 * it is added in.
 */
function binaryAuc(isPositive: Uint8Array, data: ProbabilityData, col: number, width: number): number | null {
  const n = isPositive.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += isPositive[i]!;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const s = data[i * width + col]!;
    // NaN scores have no place in a ranking: the comparator sort below gives the answer it always gave.
    if (Number.isNaN(s)) return comparatorAuc(isPositive, data, col, width, positives, negatives);
    if (isPositive[i]) pos[p++] = s;
    else neg[q++] = s;
  }
  pos.sort();
  neg.sort();
  let rankSum = 0;
  let i = 0;
  let j = 0;
  let done = 0;
  while (i < positives || j < negatives) {
    const v = i < positives && (j >= negatives || pos[i]! <= neg[j]!) ? pos[i]! : neg[j]!;
    let tiedPos = 0;
    let tiedNeg = 0;
    // === groups -0 with 0, as the comparator sort's tie test did.
    while (i < positives && pos[i] === v) {
      i++;
      tiedPos++;
    }
    while (j < negatives && neg[j] === v) {
      j++;
      tiedNeg++;
    }
    const last = done + tiedPos + tiedNeg - 1;
    const rank = (done + last) / 2 + 1;
    rankSum += rank * tiedPos;
    done = last + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** binaryAuc by one comparator sort of row indexes: kept for scores with NaN in them. */
function comparatorAuc(
  isPositive: Uint8Array,
  data: ProbabilityData,
  col: number,
  width: number,
  positives: number,
  negatives: number,
): number {
  const n = isPositive.length;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = data[i * width + col]!;
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
function logLoss(truth: Int32Array, data: ProbabilityData, width: number): number {
  const eps = Number.EPSILON;
  const n = truth.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += -Math.log(Math.min(1 - eps, Math.max(eps, data[i * width + truth[i]!]!)));
  return sum / n;
}

/**
 * ECE of the top-label confidence; `isClass[label * width + c]` says whether column c's class is
 * the label at that index (`trueAt`: each row's true label's index).
 */
function expectedCalibrationError(
  trueAt: Int32Array,
  isClass: Uint8Array,
  data: ProbabilityData,
  width: number,
  bins = 10,
): number {
  const n = trueAt.length;
  const count = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const at = i * width;
    let best = 0;
    for (let c = 1; c < width; c++) if (data[at + c]! > data[at + best]!) best = c;
    const conf = data[at + best]!;
    // Bins are (lo, hi], the first one [0, 0.1].
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    count[b]!++;
    confidence[b]! += conf;
    if (isClass[trueAt[i]! * width + best]) correct[b]!++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) {
    const c = count[b]!;
    if (c) e += (c / n) * Math.abs(correct[b]! / c - confidence[b]! / c);
  }
  return e;
}

/** Regression metrics of predictions against true values. */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  if (yTrue.length === 0 || yTrue.length !== yPred.length) {
    throw new Error(`need as many predictions as values, and at least one (${yTrue.length} vs ${yPred.length})`);
  }
  const n = yTrue.length;
  const avg = mean(yTrue);
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
