import type { Histogram, Registry } from 'prom-client';

/*
 * Prometheus metrics for hot paths, exported through a prom-client registry like any of its
 * metrics. prom-client resolves and hashes the label object on every observation, even through a
 * child (an object, a closure and a sorted key string each time): a few microseconds per request,
 * and garbage, at tens of thousands of requests per second. Here a label set's series is resolved
 * once and kept by the caller; recording into it allocates nothing.
 */

/** One label set's series of a histogram. */
export interface HistogramSeries {
  observe(value: number): void;
}

/** One label set's series of a counter. */
export interface CounterSeries {
  inc(by?: number): void;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The series of one metric by label values, and its export in prom-client's metric shape. */
abstract class LabeledMetric<L extends string, S> {
  abstract readonly type: 'histogram' | 'counter';
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, { labels: Record<string, string>; s: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    // The registry takes any object with prom-client's metric shape (name, help, type, get, reset).
    registry.registerMetric(this as unknown as Histogram);
  }

  /** The series of one label set, created on first use; callers keep it instead of asking again. */
  with(labels: Record<L, string>): S {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: Object.fromEntries(this.labelNames.map((n) => [n, labels[n]])), s: this.create() };
      this.series.set(key, entry);
    }
    return entry.s;
  }

  protected abstract create(): S;
  protected abstract samples(labels: Record<string, string>, s: S): Sample[];
  protected abstract zero(s: S): void;

  /** Called by the registry on scrape. */
  get() {
    const values: Sample[] = [];
    for (const { labels, s } of this.series.values()) values.push(...this.samples(labels, s));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics(): every count back to zero; series kept by callers go on counting. */
  reset(): void {
    for (const { s } of this.series.values()) this.zero(s);
  }
}

class Buckets implements HistogramSeries {
  sum = 0;
  count = 0;
  readonly counts: Float64Array;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    // Only values within a bound are counted in a bucket; beyond the last, only in count (+Inf).
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram<L extends string> extends LabeledMetric<L, Buckets> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected create(): Buckets {
    return new Buckets(this.buckets);
  }

  /** Cumulative buckets, +Inf, sum and count, labelled as prom-client labels them (le first). */
  protected samples(labels: Record<string, string>, s: Buckets): Sample[] {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const out: Sample[] = this.buckets.map((le, i) => {
      cumulative += s.counts[i]!;
      return { labels: { le, ...labels }, value: cumulative, metricName: bucket };
    });
    out.push({ labels: { le: '+Inf', ...labels }, value: s.count, metricName: bucket });
    out.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: s.count, metricName: `${this.name}_count` });
    return out;
  }

  protected zero(s: Buckets): void {
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
  }
}

class Total implements CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter<L extends string> extends LabeledMetric<L, Total> {
  readonly type = 'counter';

  protected create(): Total {
    return new Total();
  }

  protected samples(labels: Record<string, string>, s: Total): Sample[] {
    return [{ labels, value: s.value }];
  }

  protected zero(s: Total): void {
    s.value = 0;
  }
}
