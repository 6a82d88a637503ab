import { Counter, type Registry } from 'prom-client';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from '../../core/fast-metrics.js';

/** What one (deployment, version, route) records into: its outcome counters and its latency. */
interface RouteSeries {
  ok: CounterSeries;
  error: CounterSeries;
  latency: HistogramSeries | null;
}

/**
 * The data plane's Prometheus metrics, per deployment and version. The per-request ones are
 * {@link FastCounter}/{@link FastHistogram} series resolved once per (deployment, version, route):
 * resolving labels on every request is a measurable share of a 1-row inference.
 */
export class ServingMetrics {
  private readonly requests: FastCounter<'deployment' | 'version' | 'route' | 'outcome'>;
  private readonly latency: FastHistogram<'deployment' | 'version'>;
  private readonly dropped: Counter;
  private readonly shadowSkipped: Counter<'deployment'>;
  private readonly routes = new Map<string, RouteSeries>();

  constructor(registry: Registry) {
    this.requests = new FastCounter(
      'hangar_inference_requests_total',
      'Inference requests by deployment, version, route (stable, candidate, pinned, shadow) and outcome',
      ['deployment', 'version', 'route', 'outcome'],
      registry,
    );
    this.latency = new FastHistogram(
      'hangar_inference_duration_seconds',
      'Inference latency (routing, validation and the runtime call) by deployment and version',
      ['deployment', 'version'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registry,
    );
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
    const key = `${deployment}\n${version}\n${route}`;
    let r = this.routes.get(key);
    if (!r) {
      const labels = { deployment, version: String(version), route };
      r = {
        ok: this.requests.with({ ...labels, outcome: 'ok' }),
        error: this.requests.with({ ...labels, outcome: 'error' }),
        // Shadow copies are counted, but their latency is not the deployment's.
        latency: route === 'shadow' ? null : this.latency.with({ deployment, version: String(version) }),
      };
      this.routes.set(key, r);
    }
    (ok ? r.ok : r.error).inc();
    r.latency?.observe(seconds);
  }

  logDropped(n: number): void {
    this.dropped.inc(n);
  }

  shadowSkip(deployment: string): void {
    this.shadowSkipped.inc({ deployment });
  }
}
