// Loading metric histories for the charts: every page of `getMetricHistory`, as chart points.
import { HangarApiError } from '@hangar/sdk';
import { api } from '../../api.js';
import type { Point } from '../../chart.js';
import { useResource, type Resource } from '../../hooks.js';
import { metricNumber } from '../../tracking.js';

/** The server's largest page. */
const PAGE = 25_000;
/** A chart stops loading here; it says so. Drawing is not the limit (it downsamples), memory is. */
export const MAX_HISTORY_POINTS = 200_000;

export interface MetricHistory {
  /** Finite values in step order (x = step). */
  points: Point[];
  /** NaN and infinite values, which cannot be drawn. */
  nonFinite: number;
  /** More points exist than were loaded (MAX_HISTORY_POINTS). */
  truncated: boolean;
}

/** Loads a run's history of one metric, page after page, up to MAX_HISTORY_POINTS values. */
export async function loadMetricHistory(runId: string, key: string, signal: AbortSignal): Promise<MetricHistory> {
  const points: Point[] = [];
  let nonFinite = 0;
  let pageToken: string | undefined;
  let loaded = 0;
  for (;;) {
    const page = await api().getMetricHistory({ id: runId, key, maxResults: PAGE, pageToken }, { signal });
    for (const m of page.items) {
      const y = metricNumber(m.value);
      if (Number.isFinite(y)) points.push({ x: m.step, y });
      else nonFinite++;
    }
    loaded += page.items.length;
    if (!page.nextPageToken) return { points, nonFinite, truncated: false };
    if (loaded >= MAX_HISTORY_POINTS) return { points, nonFinite, truncated: true };
    pageToken = page.nextPageToken;
  }
}

/**
 * The histories of one metric for several runs (a run without that metric has an empty one), once
 * `enabled` (charts load when scrolled to). Null until loaded.
 */
export function useMetricHistories(
  runIds: readonly string[],
  key: string,
  enabled: boolean,
): Resource<Map<string, MetricHistory> | null> {
  return useResource(
    async (signal) => {
      if (!enabled) return null;
      const entries = await Promise.all(
        runIds.map(async (id): Promise<[string, MetricHistory]> => {
          try {
            return [id, await loadMetricHistory(id, key, signal)];
          } catch (err) {
            // A run that never logged this metric has no history: an empty line, not an error.
            if (err instanceof HangarApiError && err.status === 404)
              return [id, { points: [], nonFinite: 0, truncated: false }];
            throw err;
          }
        }),
      );
      return new Map(entries);
    },
    [runIds.join(','), key, enabled],
  );
}
