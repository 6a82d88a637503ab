import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics every role exports; one registry per app so tests and embedded apps never share state. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hangar_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'hangar_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
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
