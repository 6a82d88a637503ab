import { HangarApiError, type GetJobLogsResponse, type HangarClient, type Job } from '@hangar/sdk';

export type LogChunk = GetJobLogsResponse['chunks'][number];

/** Server-side long-poll wait; the server caps it at 25 s. */
const WAIT_MS = 20_000;
const PAGE = 1000;
/** Consecutive transient failures tolerated while following (a server restart, a proxy hiccup). */
const MAX_RETRIES = 5;

function isTransient(err: unknown): boolean {
  return (
    err instanceof HangarApiError && (err.status === 0 ? err.code !== 'aborted' : [502, 503, 504].includes(err.status))
  );
}

/**
 * Reads a job's log from the start, calling `onChunk` for each chunk in order. Without `follow`
 * it stops once the existing log is read; with `follow` it long-polls until the server says the
 * log is complete (the job finished), riding out a few transient failures with backoff. Resolves
 * with the job state from the last answer.
 */
export async function followJobLogs(
  client: HangarClient,
  id: string,
  options: { follow: boolean; onChunk: (chunk: LogChunk) => void },
): Promise<{ state: Job['state']; complete: boolean }> {
  let after = 0;
  let failures = 0;
  for (;;) {
    let page: GetJobLogsResponse;
    try {
      page = await client.getJobLogs(
        { id, after, limit: PAGE, waitMs: options.follow ? WAIT_MS : 0 },
        // The client's own timeout must outlast the server's wait.
        { timeoutMs: WAIT_MS + 30_000 },
      );
      failures = 0;
    } catch (err) {
      if (!options.follow || !isTransient(err) || failures >= MAX_RETRIES) throw err;
      failures++;
      await new Promise((r) => setTimeout(r, 500 * 2 ** failures));
      continue;
    }
    for (const chunk of page.chunks) options.onChunk(chunk);
    after = page.next;
    if (page.complete) return { state: page.state, complete: true };
    if (!options.follow && page.chunks.length < PAGE) return { state: page.state, complete: false };
  }
}
