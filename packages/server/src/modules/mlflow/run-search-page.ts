import type { Caller } from '../../core/auth.js';
import type { RunSearchInput, TrackingSearchService } from '../tracking/search-service.js';
import type { Run, TrackingService } from '../tracking/service.js';
import { RunJsonCache } from './run-json-cache.js';

/** JSON kept of runs at most, in bytes (one run with a few params, tags and metrics: ~1.5 kB). */
const CACHE_BYTES = 64 * 1024 * 1024;
const COMMA = Buffer.from(',');

/**
 * MLflow's `runs/search` answer as JSON bytes, on a store that keeps run revisions (SQLite):
 * the search reads only ids and revisions, each run's JSON comes from the cache while its revision
 * stands, and only the others are read and built (ADR 0012). A page of 1000 runs is then one
 * indexed query plus copying bytes instead of reading and serializing ~16,000 fields.
 */
export function cachedRunSearch(deps: {
  search: TrackingSearchService;
  tracking: TrackingService;
  /** MLflow's JSON of each run (with its inputs and outputs), by run id. */
  toJson: (runs: Run[]) => Promise<Map<string, string>>;
}): (caller: Caller, input: RunSearchInput) => Promise<Buffer> {
  const cache = new RunJsonCache(CACHE_BYTES);
  return async (caller, input) => {
    const page = await deps.search.searchRunRevisions(caller, input);
    const json = page.runs.map((r) => cache.get(r.id, r.rev));
    const missing = page.runs.filter((_, i) => json[i] === undefined);
    if (missing.length > 0) {
      const built = await deps.toJson(await deps.tracking.runsWithData(missing.map((r) => r.id)));
      page.runs.forEach((r, i) => {
        const j = built.get(r.id);
        if (json[i] !== undefined || j === undefined) return;
        json[i] = Buffer.from(j);
        cache.set(r.id, r.rev, json[i]);
      });
    }
    // A run deleted for good between the search and the reads is left out of the page.
    const parts: Buffer[] = [Buffer.from('{"runs":[')];
    for (const j of json) {
      if (j === undefined) continue;
      if (parts.length > 1) parts.push(COMMA);
      parts.push(j);
    }
    const token = page.nextPageToken ? `,"next_page_token":${JSON.stringify(page.nextPageToken)}` : '';
    parts.push(Buffer.from(`]${token}}`));
    return Buffer.concat(parts);
  };
}
