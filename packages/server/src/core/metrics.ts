import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram, type HistogramSeries } from './fast-metrics.js';

/** The metrics every role exports; one registry per app so tests and embedded apps never share state. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hangar_' });
  const httpDuration = new FastHistogram(
    'hangar_http_request_duration_seconds',
    'HTTP request latency by route and status',
    ['method', 'route', 'status'],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );
  return {
    registry,
    /**
     * The latency recorder of one route (its path pattern), made once when the route is declared:
     * a request then only picks the series of its method and status, allocating nothing.
     */
    httpRoute(route: string): (method: string, status: number, seconds: number) => void {
      const byMethod = new Map<string, Map<number, HistogramSeries>>();
      return (method, status, seconds) => {
        let byStatus = byMethod.get(method);
        if (!byStatus) byMethod.set(method, (byStatus = new Map()));
        let series = byStatus.get(status);
        if (!series) {
          series = httpDuration.with({ method, route, status: String(status) });
          byStatus.set(status, series);
        }
        series.observe(seconds);
      };
    },
    jobsSettled: new Counter({
      name: 'hangar_jobs_settled_total',
      help: 'Job attempts recorded, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    jobsByState: (count: () => Promise<Record<string, number>>) =>
      new Gauge({
        name: 'hangar_jobs',
        help: 'Jobs in the store by state (read at scrape time)',
        labelNames: ['state'],
        registers: [registry],
        async collect() {
          const counts = await count();
          for (const state of ['queued', 'running', 'succeeded', 'failed', 'cancelled'])
            this.set({ state }, counts[state] ?? 0);
        },
      }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
