import type { HangarClient, Job } from '@hangar/sdk';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError } from '../cli-error.js';
import { resolveConnection } from '../connection.js';
import { followJobLogs, type LogChunk } from '../follow-logs.js';
import { Output, formatBytes, formatDuration, formatKeyValues, formatTable, formatTime } from '../output.js';

export const JOB_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const satisfies readonly Job['state'][];

/** The API's largest page. */
const MAX_PAGE = 500;

function duration(job: Job): string {
  if (!job.startedAt) return '-';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return formatDuration(end - Date.parse(job.startedAt));
}

export interface ListFlags extends GlobalFlags {
  state?: Job['state'];
  kind?: string;
  limit?: number;
  all?: boolean;
  cursor?: string;
}

/**
 * `hangar jobs list`: newest first, up to `--limit` jobs (default 50) or every page with `--all`.
 * JSON output is `{ items, nextCursor }`; pass nextCursor back with `--cursor` to continue.
 */
export async function listJobs(ctx: CliContext, flags: ListFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const max = flags.all ? Number.POSITIVE_INFINITY : (flags.limit ?? 50);
  const items: Job[] = [];
  let cursor = flags.cursor;
  do {
    const page = await client.listJobs({
      state: flags.state,
      kind: flags.kind,
      cursor,
      limit: Math.min(MAX_PAGE, max - items.length),
    });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);

  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextCursor: cursor ?? null }, () =>
    items.length === 0
      ? 'No jobs.\n'
      : formatTable(
          ['id', 'kind', 'state', 'attempt', 'created', 'duration'],
          items.map((j) => [
            j.id,
            j.kind,
            j.state,
            `${j.attempt}/${j.maxAttempts}`,
            formatTime(j.createdAt),
            duration(j),
          ]),
        ),
  );
  if (cursor && !out.json) out.note(`(${items.length} shown; more with --all, or --cursor ${cursor})`);
}

function describeJob(job: Job): string {
  const pairs: [string, unknown][] = [
    ['id', job.id],
    ['kind', job.kind],
    ['state', job.cancelRequested && job.state === 'running' ? 'running (cancel requested)' : job.state],
    ['attempt', `${job.attempt}/${job.maxAttempts}`],
    ['priority', job.priority],
    ['created', formatTime(job.createdAt)],
    ['run at', formatTime(job.runAt)],
    ['started', formatTime(job.startedAt)],
    ['finished', formatTime(job.finishedAt)],
    ['duration', duration(job)],
  ];
  if (job.error) pairs.push(['error', job.error]);
  if (job.usage.cpuSeconds !== null) pairs.push(['cpu', `${job.usage.cpuSeconds.toFixed(2)}s`]);
  if (job.usage.peakRssBytes !== null) pairs.push(['peak memory', formatBytes(job.usage.peakRssBytes)]);
  pairs.push(['log', `${formatBytes(job.logBytes)}${job.logsTruncated ? ' (truncated)' : ''}`]);
  pairs.push(['payload', job.payload]);
  if (job.result !== null && job.result !== undefined) pairs.push(['result', job.result]);
  return formatKeyValues(pairs);
}

/** `hangar jobs get ID`: one job's details. */
export async function getJob(ctx: CliContext, id: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const job = await client.getJob({ id });
  new Output(ctx, flags.json === true).result(job, () => describeJob(job));
}

/** Writes chunks for people (raw, attempt changes marked on stderr) or as JSON lines. */
function chunkWriter(out: Output, target: 'stdout' | 'stderr'): (chunk: LogChunk) => void {
  let attempt: number | null = null;
  return (chunk) => {
    if (out.json && target === 'stdout') {
      out.write(`${JSON.stringify(chunk)}\n`);
      return;
    }
    if (attempt !== null && chunk.attempt !== attempt) out.note(`--- attempt ${chunk.attempt} ---`);
    attempt = chunk.attempt;
    if (target === 'stdout') out.write(chunk.data);
    else out.writeErr(chunk.data);
  };
}

/**
 * `hangar jobs logs ID [--follow]`: prints the log's data as it was written (all streams, in order);
 * with --follow keeps printing until the job finishes. With --json, one JSON chunk per line.
 */
export async function jobLogs(ctx: CliContext, id: string, flags: GlobalFlags & { follow?: boolean }): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const out = new Output(ctx, flags.json === true);
  await followJobLogs(client, id, { follow: flags.follow === true, onChunk: chunkWriter(out, 'stdout') });
}

/** `hangar jobs cancel ID`: a queued job is cancelled at once, a running one has its processes killed. */
export async function cancelJob(ctx: CliContext, id: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const job = await client.cancelJob({ id });
  new Output(ctx, flags.json === true).result(job, () =>
    job.state === 'cancelled'
      ? `Cancelled job ${job.id}.\n`
      : job.cancelRequested
        ? `Cancellation requested for job ${job.id} (${job.state}); its processes are being stopped.\n`
        : `Job ${job.id} had already ${job.state}.\n`,
  );
}

export interface RunFlags extends GlobalFlags {
  kind: string;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  wait?: boolean;
}

async function waitForJob(client: HangarClient, job: Job, out: Output): Promise<Job> {
  // With --json, stdout carries only the final job, so the log goes to stderr.
  await followJobLogs(client, job.id, { follow: true, onChunk: chunkWriter(out, out.json ? 'stderr' : 'stdout') });
  return client.getJob({ id: job.id });
}

/**
 * `hangar jobs run --kind K [--payload JSON] [--wait]`: enqueues a job and prints it; with --wait
 * streams its log to stdout until it finishes and fails (exit 1) unless it succeeded.
 */
export async function runJob(ctx: CliContext, flags: RunFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const out = new Output(ctx, flags.json === true);
  const job = await client.enqueueJob({
    body: { kind: flags.kind, payload: flags.payload, priority: flags.priority, maxAttempts: flags.maxAttempts },
  });
  if (!flags.wait) {
    out.result(job, () => `Enqueued job ${job.id} (${job.kind}).\n`);
    return;
  }
  if (!out.json) out.note(`hangar: job ${job.id} enqueued; following its log (Ctrl-C stops following, not the job)`);
  const final = await waitForJob(client, job, out);
  if (out.json) out.result(final, () => '');
  if (final.state !== 'succeeded') {
    throw new CliError(`job ${final.id} ${final.state}${final.error ? `: ${final.error}` : ''}`);
  }
  if (!out.json) out.note(`hangar: job ${final.id} succeeded in ${duration(final)}`);
}
