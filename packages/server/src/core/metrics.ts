import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics every role exports; one registry per app so tests and embedded apps never share state. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hangar_' });
  const httpDuration = new Histogram({
    name: 'hangar_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Label sets are few (method x route x status); reusing their children skips hashing the labels
  // on every request.
  const httpChildren = new Map<string, { observe(v: number): void }>();
  return {
    registry,
    observeHttp(method: string, route: string, status: number, seconds: number) {
      const key = `${method} ${route} ${status}`;
      let child = httpChildren.get(key);
      if (!child) {
        child = httpDuration.labels(method, route, String(status));
        httpChildren.set(key, child);
      }
      child.observe(seconds);
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
