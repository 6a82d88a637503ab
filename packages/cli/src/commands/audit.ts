import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { AuditEvent, ListAuditEventsParams } from '@hangar/sdk';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatTable, formatTime } from '../output.js';
import { collectPages } from '../paging.js';

export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const satisfies readonly AuditEvent['outcome'][];

/** The API's largest page of audit events. */
const MAX_PAGE = 1000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time for --since/--until: an ISO 8601 date or date-time (a date alone is midnight UTC),
 * or an age such as `30m`, `24h`, `7d` (that long before now). Returns an ISO date-time.
 */
export function parseTimeArg(value: string, now: number = Date.now()): string {
  const v = value.trim();
  const age = /^(\d+)([smhdw])$/.exec(v);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v.replace(' ', 'T'));
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new InvalidArgumentError(
    'expected an ISO date or date-time (2025-01-31, 2025-01-31T12:00:00Z) or an age (30m, 24h, 7d)',
  );
}

export type AuditFilterFlags = Omit<ListAuditEventsParams, 'limit' | 'cursor'>;

function filtersOf(flags: AuditFilterFlags): AuditFilterFlags {
  return {
    actor: flags.actor,
    target: flags.target,
    action: flags.action,
    outcome: flags.outcome,
    project: flags.project,
    since: flags.since,
    until: flags.until,
  };
}

export interface AuditListFlags extends GlobalFlags, AuditFilterFlags {
  limit?: number;
  all?: boolean;
  cursor?: string;
}

function targetOf(e: AuditEvent): string {
  return e.targetType ? `${e.targetType}:${e.target}` : e.target;
}

/**
 * `hangar audit list`: events newest first, up to `--limit` (default 50) or every page with
 * `--all`. JSON output is `{ items, nextCursor }`.
 */
export async function listAudit(ctx: CliContext, flags: AuditListFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const filters = filtersOf(flags);
  const { items, nextCursor } = await collectPages(
    (cursor, limit) => client.listAuditEvents({ ...filters, cursor, limit }),
    { max: flags.all ? Number.POSITIVE_INFINITY : (flags.limit ?? 50), pageSize: MAX_PAGE, cursor: flags.cursor },
  );
  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextCursor: nextCursor ?? null }, () =>
    items.length === 0
      ? 'No audit events.\n'
      : formatTable(
          ['seq', 'time', 'actor', 'action', 'target', 'outcome', 'reason'],
          items.map((e) => [
            e.seq,
            formatTime(e.at),
            e.actor,
            e.action,
            targetOf(e),
            e.outcome,
            typeof e.details.reason === 'string' ? e.details.reason : null,
          ]),
        ),
  );
  if (nextCursor && !out.json) out.note(`(${items.length} shown; more with --all, or --cursor ${nextCursor})`);
}

/**
 * `hangar audit verify`: recomputes the hash chain on the server (platform admins). Prints the
 * result; fails (exit 1) naming the first bad event when the chain does not verify.
 */
export async function verifyAudit(ctx: CliContext, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.verifyAuditChain();
  const pending = r.pending ? `; ${r.pending} newer event(s) not linked yet` : '';
  new Output(ctx, flags.json === true).result(r, () =>
    r.ok
      ? `Audit chain OK: ${r.checked} event(s) verified, up to seq ${r.headSeq} (head hash ${r.headHash})${pending}.\n`
      : `Audit chain BROKEN: checked ${r.checked} event(s) (head seq ${r.headSeq})${pending}.\n`,
  );
  if (!r.ok) {
    const where = r.problem ? ` at event ${r.problem.seq}: ${r.problem.reason}` : '';
    throw new CliError(`the audit chain does not verify${where}`);
  }
}

/** Waits for `drain` when a real stream's buffer is full, so a large export is not held in memory. */
async function writeOut(stream: CliContext['stdout'], text: string): Promise<void> {
  const s = stream as CliContext['stdout'] & { once?: (event: string, fn: () => void) => unknown };
  if (s.write(text) === false && typeof s.once === 'function') {
    await new Promise<void>((resolve) => s.once!('drain', resolve));
  }
}

/** Counts complete lines in the bytes passing through and remembers whether the last one ended. */
function lineCounter(): {
  count: (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array>;
  lines: () => number;
  complete: () => boolean;
} {
  let lines = 0;
  let last = 0x0a;
  return {
    count: async function* (source) {
      for await (const chunk of source) {
        for (const b of chunk) if (b === 0x0a) lines++;
        if (chunk.length) last = chunk[chunk.length - 1]!;
        yield chunk;
      }
    },
    lines: () => lines,
    complete: () => last === 0x0a,
  };
}

/**
 * `hangar audit export [filters] [-o FILE]`: every matching event as JSON lines, newest first,
 * streamed to stdout or to FILE as it arrives. A file is written under a temporary name and renamed
 * when the export is complete, so an interrupted export never leaves a file that looks whole.
 */
export async function exportAudit(
  ctx: CliContext,
  flags: AuditFilterFlags & GlobalFlags & { output?: string },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { body } = await client.exportAuditEventsStream(filtersOf(flags));
  const stream = Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>);
  const counter = lineCounter();
  const out = new Output(ctx, flags.json === true);
  const cutOff = (err: unknown) =>
    new CliError(
      `the export was cut off after ${counter.lines()} event(s): ${err instanceof Error ? err.message : String(err)}`,
    );

  if (flags.output === undefined || flags.output === '-') {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of counter.count(stream))
        await writeOut(ctx.stdout, decoder.decode(chunk, { stream: true }));
      await writeOut(ctx.stdout, decoder.decode());
    } catch (err) {
      throw cutOff(err);
    }
    if (!counter.complete()) throw cutOff(new Error('the last line is incomplete'));
    return;
  }

  const file = path.resolve(flags.output);
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
  try {
    // Audit events carry user names and IP addresses: readable by the owner only.
    await pipeline(stream, counter.count, createWriteStream(partial, { mode: 0o600 }));
    if (!counter.complete()) throw new Error('the last line is incomplete');
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    if ((err as NodeJS.ErrnoException).code && (err as NodeJS.ErrnoException).syscall) {
      throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
    }
    throw cutOff(err);
  }
  out.result({ file, events: counter.lines() }, () => `Exported ${counter.lines()} audit event(s) to ${file}.\n`);
}

function filterOptions(cmd: Command): Command {
  return cmd
    .option('--actor <username>', 'only events by this user')
    .option('--target <name>', 'only events about this target (a project, team, user or token id)')
    .option('--action <action>', 'only this action, e.g. project.create, or a family: project.*')
    .addOption(new Option('--outcome <outcome>', 'only events with this outcome').choices(AUDIT_OUTCOMES))
    .option('--project <project>', 'only events in this project (its maintainers may read them)')
    .option('--since <time>', 'from this time on: ISO date(-time), or an age such as 24h or 7d', (v) => parseTimeArg(v))
    .option('--until <time>', 'before this time: ISO date(-time), or an age such as 1h', (v) => parseTimeArg(v));
}

/** Adds `hangar audit ...` to `program`. */
export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program
    .command('audit')
    .description('read, export and verify the hash-chained audit log (platform admins; maintainers: their projects)');
  withGlobalOptions(
    filterOptions(audit.command('list').description('list audit events, newest first'))
      .option('--limit <n>', 'show at most n events (default 50)', positiveInt(1_000_000))
      .option('--all', 'show every matching event (all pages)')
      .option('--cursor <cursor>', 'continue after a previous listing (its nextCursor)'),
  ).action(async (_opts: unknown, cmd: Command) => listAudit(ctx, flagsOf<AuditListFlags>(cmd)));

  withGlobalOptions(
    audit
      .command('verify')
      .description('recompute the hash chain; exits 1 and names the first bad event if it does not verify'),
  ).action(async (_opts: unknown, cmd: Command) => verifyAudit(ctx, flagsOf<GlobalFlags>(cmd)));

  withGlobalOptions(
    filterOptions(
      audit.command('export').description('stream every matching event as JSON lines (newest first)'),
    ).option('-o, --output <file>', 'write to this file instead of stdout'),
  ).action(async (_opts: unknown, cmd: Command) =>
    exportAudit(ctx, flagsOf<AuditFilterFlags & GlobalFlags & { output?: string }>(cmd)),
  );
}
