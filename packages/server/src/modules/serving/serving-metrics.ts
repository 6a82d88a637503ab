import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The data plane's Prometheus metrics, per deployment and version. Children are cached per label
 * set: resolving labels on every request is a measurable share of a 1-row inference.
 */
export class ServingMetrics {
  private readonly requests: Counter<'deployment' | 'version' | 'route' | 'outcome'>;
  private readonly latency: Histogram<'deployment' | 'version'>;
  private readonly dropped: Counter;
  private readonly shadowSkipped: Counter<'deployment'>;
  private readonly children = new Map<string, { inc(): void }>();
  private readonly histograms = new Map<string, { observe(v: number): void }>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'hangar_inference_requests_total',
      help: 'Inference requests by deployment, version, route (stable, candidate, pinned, shadow) and outcome',
      labelNames: ['deployment', 'version', 'route', 'outcome'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'hangar_inference_duration_seconds',
      help: 'Inference latency (routing, validation and the runtime call) by deployment and version',
      labelNames: ['deployment', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'hangar_prediction_log_dropped_total',
      help: 'Prediction records not logged because the queue was full or the store failed',
      registers: [registry],
    });
    this.shadowSkipped = new Counter({
      name: 'hangar_shadow_requests_skipped_total',
      help: 'Shadow copies not sent because too many were already in flight',
      labelNames: ['deployment'],
      registers: [registry],
    });
  }

  observe(deployment: string, version: number, route: string, ok: boolean, seconds: number): void {
    const key = `${deployment}\n${version}\n${route}\n${ok}`;
    let c = this.children.get(key);
    if (!c) {
      c = this.requests.labels(deployment, String(version), route, ok ? 'ok' : 'error');
      this.children.set(key, c);
    }
    c.inc();
    if (route === 'shadow') return;
    const hkey = `${deployment}\n${version}`;
    let h = this.histograms.get(hkey);
    if (!h) {
      h = this.latency.labels(deployment, String(version));
      this.histograms.set(hkey, h);
    }
    h.observe(seconds);
  }

  logDropped(n: number): void {
    this.dropped.inc(n);
  }

  shadowSkip(deployment: string): void {
    this.shadowSkipped.inc({ deployment });
  }
}
