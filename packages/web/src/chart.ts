// The arithmetic of the metric charts: downsampling for drawing, axis ticks, and finding the point
// under the pointer. Pure functions (no DOM), tested in Node.

export interface Point {
  x: number;
  y: number;
}

/**
 * Reduces points sorted by x to at most four per bucket (the first, lowest, highest and last of
 * the points falling in it, in their original order), with `buckets` equal slices of [x0, x1].
 * One bucket per pixel column draws the same picture as every point would, spikes included,
 * while a 100 000-point history becomes a few thousand path segments.
 */
export function downsample(points: readonly Point[], x0: number, x1: number, buckets: number): Point[] {
  const n = Math.max(1, Math.floor(buckets));
  if (points.length <= n * 4) return points.slice();
  const span = x1 - x0 || 1;
  const out: Point[] = [];
  let bucket = -1;
  let first = 0;
  let min = 0;
  let max = 0;
  let last = 0;
  const flush = () => {
    if (bucket < 0) return;
    // Each index once, in order: the line still runs left to right.
    const idx = [first, min, max, last].sort((a, b) => a - b);
    let prev = -1;
    for (const i of idx) {
      if (i !== prev) out.push(points[i]!);
      prev = i;
    }
  };
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const b = Math.min(n - 1, Math.max(0, Math.floor(((p.x - x0) / span) * n)));
    if (b !== bucket) {
      flush();
      bucket = b;
      first = min = max = last = i;
    } else {
      last = i;
      if (p.y < points[min]!.y) min = i;
      if (p.y > points[max]!.y) max = i;
    }
  }
  flush();
  return out;
}

function niceStep(rough: number): number {
  const exp = Math.floor(Math.log10(rough));
  const base = 10 ** exp;
  const f = rough / base;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * base;
}

/**
 * About `count` round tick values covering [min, max] (1, 2, 2.5 or 5 times a power of ten),
 * with the domain widened to the outer ticks so lines do not touch the frame. `integer` keeps the
 * step whole (steps on the x axis).
 */
export function niceTicks(
  min: number,
  max: number,
  count = 5,
  integer = false,
): { ticks: number[]; min: number; max: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [0, 1], min: 0, max: 1 };
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
    if (integer) {
      min = Math.floor(min);
      max = Math.ceil(max);
    }
  }
  let step = niceStep((max - min) / Math.max(1, count));
  if (integer) step = Math.max(1, Math.round(step));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Rounded to the step's precision, so 0.1 + 0.2 prints as 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = lo, i = 0; v <= hi + step / 2 && i < 100; v += step, i++) ticks.push(Number(v.toFixed(digits)));
  return { ticks, min: lo, max: hi };
}

/** A tick label: short, no float noise (0.30000000000000004 prints as 0.3). */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (abs >= 1000) return `${Number((v / 1000).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}

/** The index of the point whose x is nearest to `x` in points sorted by x; -1 when empty. */
export function nearestIndex(points: readonly Point[], x: number): number {
  if (points.length === 0) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.x < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1]!.x - x) <= Math.abs(points[lo]!.x - x)) return lo - 1;
  return lo;
}

/** The x and y ranges of several series together; null when there is no point at all. */
export function extent(
  series: readonly (readonly Point[])[],
): { x0: number; x1: number; y0: number; y1: number } | null {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const points of series) {
    for (const p of points) {
      if (p.x < x0) x0 = p.x;
      if (p.x > x1) x1 = p.x;
      if (p.y < y0) y0 = p.y;
      if (p.y > y1) y1 = p.y;
    }
  }
  return x0 === Infinity ? null : { x0, x1, y0, y1 };
}

/** An SVG path through the points, already in pixel coordinates (one decimal is plenty). */
export function pathOf(points: readonly Point[]): string {
  let d = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    d += `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`;
  }
  return d;
}
