import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { HangarApiError, type ArtifactEntry, type HangarClient } from '@hangar/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatBytes, formatDuration, formatTable } from '../output.js';
import { ProgressBar, formatRate, type ProgressStream } from '../progress.js';

/** Files moved at once: enough to hide per-request latency on folders of small files. */
const CONCURRENCY = 4;

/** The suffix of a download in progress, kept after a broken transfer so `--continue` can resume it. */
const PARTIAL_SUFFIX = '.hangar-partial';

export interface TransferFlags extends GlobalFlags {
  /** False with --no-progress. */
  progress?: boolean;
}

/** One file moved, as the commands report it. */
export interface TransferredFile {
  /** The artifact path, relative to the run's artifact root. */
  path: string;
  /** The local file (absolute). */
  file: string;
  size: number;
  sha256: string;
}

/** Throws a UsageError unless `id` looks like a run id. */
function checkRunId(id: string): void {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new UsageError(`${JSON.stringify(id)} is not a run id (32 hex characters)`);
}

/**
 * An artifact path given on the command line, without leading `./` and trailing slashes; `''`
 * for the run's root. Throws a UsageError for a path that would leave the run's artifacts
 * (`..`), is absolute, or has empty or `.` segments; the server checks the rest.
 */
export function artifactPathArg(value: string | undefined, what = 'artifact path'): string {
  const v = (value ?? '').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (v === '' || v === '.') return '';
  const refuse = (why: string) => new UsageError(`${what} ${JSON.stringify(value)} ${why}`);
  if (v.startsWith('/')) throw refuse("is absolute; artifact paths are relative to the run's artifact root");
  if (v.includes('\\')) throw refuse('contains a backslash; separate folders with /');
  for (const seg of v.split('/')) {
    if (seg === '..') throw refuse('has a ".." segment; paths cannot leave the run\'s artifacts');
    if (seg === '' || seg === '.') throw refuse('has an empty or "." segment');
  }
  return v;
}

/**
 * The local file for the artifact at `rel` (a `/`-separated path the server listed) under `root`.
 * Refuses anything that is not a plain relative path or would land outside `root`, so a listing
 * can never make the CLI write elsewhere on this machine.
 */
export function localTargetOf(root: string, rel: string): string {
  const segments = rel.split('/');
  const refuse = () =>
    new CliError(`refusing to write artifact ${JSON.stringify(rel)}: it would not land inside ${root}`);
  if (
    rel === '' ||
    segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0')) ||
    path.isAbsolute(rel)
  )
    throw refuse();
  const base = path.resolve(root);
  const target = path.resolve(base, ...segments);
  if (!target.startsWith(base.endsWith(path.sep) ? base : base + path.sep)) throw refuse();
  return target;
}

/**
 * Runs `fn` on every item, at most `limit` at a time. After the first failure no new item starts;
 * the ones running finish, then that failure is thrown.
 */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

function progressFor(ctx: CliContext, flags: TransferFlags, total: number, label: string): ProgressBar {
  const stream: ProgressStream = flags.progress === false ? { write: () => undefined } : ctx.stderr;
  return new ProgressBar(stream, { total, label });
}

function filesLabel(done: number, count: number, single: string): string {
  return count === 1 ? single : `${done}/${count} files`;
}

/** `Uploaded 3 files (25.0 MiB) to run … in 1.2s (20.8 MiB/s)` and what follows it. */
function summary(verb: string, files: TransferredFile[], where: string, ms: number, tail = ''): string {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const rate = ms > 0 ? formatRate((bytes / ms) * 1000) : '-';
  const count = `${files.length} file${files.length === 1 ? '' : 's'}`;
  return `${verb} ${count} (${formatBytes(bytes)}) ${where} in ${formatDuration(ms)} (${rate})${tail}.\n`;
}

/** One row per file: where it is (as the user named it), its exact size and its sha256. */
function fileTable(files: TransferredFile[], header: string, name: (f: TransferredFile) => string): string {
  return formatTable(
    [header, 'bytes', 'sha256'],
    files.map((f) => [name(f), f.size, f.sha256]),
  );
}

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** `hangar artifacts ls RUN [PATH] [--recursive]`: a folder's entries, or every file beneath it. */
export async function listArtifacts(
  ctx: CliContext,
  runId: string,
  rawPath: string | undefined,
  flags: GlobalFlags & { recursive?: boolean },
): Promise<void> {
  checkRunId(runId);
  const where = artifactPathArg(rawPath);
  const { client } = resolveConnection(flags, ctx.env);
  const listing = await client.listRunArtifacts({
    runId,
    path: where || undefined,
    recursive: flags.recursive === true,
  });
  let items = listing.items;
  if (items.length === 0 && where) {
    // Listing a file answers nothing; show the file itself, as ls does.
    items = (await findFile(client, runId, where)) ?? [];
    if (items.length === 0) throw new CliError(`no artifact at ${where} in run ${runId}`);
  }
  const out = new Output(ctx, flags.json === true);
  out.result({ root: listing.root, items }, () =>
    items.length === 0
      ? `No artifacts in run ${runId}.\n`
      : formatTable(
          ['path', 'size'],
          items.map((e) => [e.isDir ? `${e.path}/` : e.path, e.isDir ? null : formatBytes(e.size)]),
        ),
  );
  if (flags.recursive && items.length && !out.json) {
    const bytes = items.reduce((n, e) => n + (e.size ?? 0), 0);
    out.note(`${items.length} file${items.length === 1 ? '' : 's'}, ${formatBytes(bytes)}`);
  }
}

/** The file at `artifactPath` as its folder lists it, or undefined when there is no such file. */
async function findFile(client: HangarClient, runId: string, artifactPath: string) {
  const parent = artifactPath.includes('/') ? artifactPath.slice(0, artifactPath.lastIndexOf('/')) : '';
  const { items } = await client.listRunArtifacts({ runId, path: parent || undefined });
  const hit = items.find((e) => e.path === artifactPath && !e.isDir);
  return hit ? [hit] : undefined;
}

export interface DownloadFlags extends TransferFlags {
  out?: string;
  continue?: boolean;
}

/**
 * `hangar artifacts download RUN [PATH] [--out DIR] [--continue]`: a file, a folder (recursively)
 * or, without PATH, all of the run's artifacts, into DIR (default: the current folder). PATH lands
 * at DIR/<its last segment>, keeping the folder structure beneath it; the whole run lands in DIR.
 * Each file is written under a temporary name and renamed when complete; after a broken transfer
 * that partial file stays, and `--continue` resumes it with an HTTP range.
 */
export async function downloadArtifacts(
  ctx: CliContext,
  runId: string,
  rawPath: string | undefined,
  flags: DownloadFlags,
): Promise<void> {
  checkRunId(runId);
  const where = artifactPathArg(rawPath);
  const outDir = path.resolve(flags.out ?? '.');
  const { client } = resolveConnection(flags, ctx.env);
  const out = new Output(ctx, flags.json === true);

  const { items } = await client.listRunArtifacts({ runId, path: where || undefined, recursive: true });
  let entries: ArtifactEntry[] = items.filter((e) => !e.isDir);
  // A folder's files keep their path below the folder's parent: PATH lands at DIR/<last segment>.
  const parentPrefix = where.includes('/') ? where.slice(0, where.lastIndexOf('/') + 1) : '';
  if (entries.length === 0 && where) {
    const file = await findFile(client, runId, where);
    if (!file) throw new CliError(`no artifact at ${where} in run ${runId}`);
    entries = file;
  }
  const plan = entries.map((e) => {
    if (where && e.path !== where && !e.path.startsWith(`${where}/`)) {
      throw new CliError(`the server listed ${JSON.stringify(e.path)}, which is not under ${where}`);
    }
    const rel = e.path.slice(parentPrefix.length);
    return {
      remote: e.path,
      local: localTargetOf(outDir, rel),
      shown: path.join(flags.out ?? '', rel),
      size: e.size ?? 0,
    };
  });
  if (plan.length === 0) {
    out.result({ runId, path: where, out: outDir, files: [], bytes: 0 }, () => `No artifacts in run ${runId}.\n`);
    return;
  }

  const total = plan.reduce((n, f) => n + f.size, 0);
  const progress = progressFor(ctx, flags, total, filesLabel(0, plan.length, plan[0]!.remote));
  const started = Date.now();
  const done: TransferredFile[] = [];
  let resumable = false;
  try {
    await forEachLimited(plan, CONCURRENCY, async (item) => {
      try {
        done.push(await downloadOne(client, runId, item, flags.continue === true, progress));
      } catch (err) {
        if (err instanceof PartialKept) resumable = true;
        throw err instanceof PartialKept ? err.reason : err;
      }
      progress.setLabel(filesLabel(done.length, plan.length, item.remote));
    });
  } catch (err) {
    progress.done();
    if (resumable) out.note('(a partial download was kept; run the same command with --continue to resume it)');
    throw err;
  }
  progress.done();
  done.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const ms = Date.now() - started;
  const shown = new Map(plan.map((p) => [p.remote, p.shown]));
  out.result(
    { runId, path: where, out: outDir, files: done, bytes: total, seconds: ms / 1000 },
    () =>
      fileTable(done, 'file', (f) => shown.get(f.path) ?? f.file) +
      summary('Downloaded', done, `from run ${runId} to ${flags.out ?? 'the current folder'}`, ms),
  );
}

/** A download that failed in a way worth resuming (the connection): its partial file was kept. */
class PartialKept extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

async function hashFile(hash: Hash, file: string, end: number): Promise<void> {
  if (end <= 0) return;
  for await (const chunk of createReadStream(file, { end: end - 1 })) hash.update(chunk as Uint8Array);
}

async function downloadOne(
  client: HangarClient,
  runId: string,
  item: { remote: string; local: string; size: number },
  resume: boolean,
  progress: ProgressBar,
): Promise<TransferredFile> {
  const dir = path.dirname(item.local);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create ${dir}: ${(err as Error).message}`);
  }
  const partial = path.join(dir, `.${path.basename(item.local)}${PARTIAL_SUFFIX}`);
  let offset = resume ? ((await stat(partial).catch(() => null))?.size ?? 0) : 0;
  if (offset > item.size) offset = 0;
  let hash = createHash('sha256');
  await hashFile(hash, partial, offset);

  let written = 0;
  if (offset < item.size || item.size === 0) {
    let res;
    try {
      res = await client.downloadRunArtifactStream(
        { runId, path: item.remote },
        offset > 0 ? { range: { start: offset } } : {},
      );
    } catch (err) {
      // A partial file of an artifact that is gone is worthless; after anything else it may resume.
      if (err instanceof HangarApiError && err.status === 404) await rm(partial, { force: true });
      else if (offset > 0) throw new PartialKept(err);
      throw err;
    }
    if (offset > 0 && !(res.status === 206 && res.range?.start === offset)) {
      // The server sent the whole file after all: start over.
      offset = 0;
      hash = createHash('sha256');
    }
    progress.skip(offset);
    const expected = res.range ? res.range.size : res.contentLength !== null ? res.contentLength : item.size;
    const h = hash;
    try {
      await pipeline(
        Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>),
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            h.update(chunk);
            written += chunk.length;
            progress.add(chunk.length);
            yield chunk;
          }
        },
        createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' }),
      );
    } catch (err) {
      if (isFsError(err) && !(err instanceof HangarApiError)) {
        await rm(partial, { force: true });
        throw new CliError(`cannot write ${partial}: ${err.message}`);
      }
      // The connection broke: what arrived stays for --continue.
      throw new PartialKept(
        new CliError(
          `the download of ${item.remote} broke off after ${formatBytes(offset + written)}: ${(err as Error).message}`,
        ),
      );
    }
    if (offset + written !== expected) {
      throw new PartialKept(
        new CliError(`the download of ${item.remote} ended after ${offset + written} of ${expected} bytes`),
      );
    }
  } else {
    progress.skip(offset);
  }
  try {
    await rename(partial, item.local);
  } catch (err) {
    throw new CliError(`cannot write ${item.local}: ${(err as Error).message}`);
  }
  return { path: item.remote, file: item.local, size: offset + written, sha256: hash.digest('hex') };
}

/** A local file to upload and where it goes. */
interface UploadItem {
  local: string;
  remote: string;
  size: number;
}

/** Every regular file under `root` (following links to files, not to folders), sorted by path. */
async function walk(root: string, notes: string[]): Promise<{ local: string; rel: string; size: number }[]> {
  const found: { local: string; rel: string; size: number }[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const local = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await visit(local, r);
      else if (e.isFile() || e.isSymbolicLink()) {
        // A link to a folder could loop; a link to a file is uploaded as the file.
        const st = await stat(local).catch(() => null);
        if (st?.isFile()) found.push({ local, rel: r, size: st.size });
        else notes.push(`skipped ${local}: a link to ${st?.isDirectory() ? 'a folder' : 'nothing'}`);
      } else notes.push(`skipped ${local}: not a regular file`);
    }
  };
  await visit(root, '');
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export interface UploadFlags extends TransferFlags {
  path?: string;
}

/**
 * `hangar artifacts upload RUN LOCAL [--path DEST]`: a file lands at DEST/<its name>; a folder's
 * contents land under DEST, recursively (as MLflow's log_artifact and log_artifacts place them).
 * Each file streams from disk with its size, and the sha256 the server computed must equal the one
 * computed here while reading, or the command fails naming the file.
 */
export async function uploadArtifacts(
  ctx: CliContext,
  runId: string,
  local: string,
  flags: UploadFlags,
): Promise<void> {
  checkRunId(runId);
  const dest = artifactPathArg(flags.path, '--path');
  const out = new Output(ctx, flags.json === true);
  const source = path.resolve(local);
  const st = await stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${local}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`);
  });
  const join = (rel: string) => (dest ? `${dest}/${rel}` : rel);
  const notes: string[] = [];
  let plan: UploadItem[];
  if (st.isDirectory()) {
    plan = (await walk(source, notes)).map((f) => ({ local: f.local, remote: join(f.rel), size: f.size }));
  } else if (st.isFile()) {
    plan = [{ local: source, remote: join(path.basename(source)), size: st.size }];
  } else {
    throw new CliError(`cannot upload ${local}: not a regular file or folder`);
  }
  for (const n of notes) out.note(n);

  const { client } = resolveConnection(flags, ctx.env);
  // Fails early and clearly (an unknown run, no access) before any file is read.
  await client.getRun({ id: runId });
  if (plan.length === 0) {
    out.result({ runId, files: [], bytes: 0 }, () => `No files to upload in ${local}.\n`);
    return;
  }

  const total = plan.reduce((n, f) => n + f.size, 0);
  const progress = progressFor(ctx, flags, total, filesLabel(0, plan.length, plan[0]!.remote));
  const started = Date.now();
  const done: TransferredFile[] = [];
  try {
    await forEachLimited(plan, CONCURRENCY, async (item) => {
      done.push(await uploadOne(client, runId, item, progress));
      progress.setLabel(filesLabel(done.length, plan.length, item.remote));
    });
  } finally {
    progress.done();
  }
  done.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const ms = Date.now() - started;
  out.result(
    { runId, files: done, bytes: total, seconds: ms / 1000 },
    () =>
      fileTable(done, 'path', (f) => f.path) +
      summary('Uploaded', done, `to run ${runId}`, ms, '; every sha256 verified'),
  );
}

async function uploadOne(
  client: HangarClient,
  runId: string,
  item: UploadItem,
  progress: ProgressBar,
): Promise<TransferredFile> {
  const hash = createHash('sha256');
  let read = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(item.local)) {
      const bytes = chunk as Uint8Array;
      hash.update(bytes);
      read += bytes.length;
      progress.add(bytes.length);
      yield bytes;
    }
  }
  let stored;
  try {
    stored = await client.uploadRunArtifactStream(
      { runId, path: item.remote, body: counted() },
      { contentLength: item.size },
    );
  } catch (err) {
    if (isFsError(err)) throw new CliError(`cannot read ${item.local}: ${err.message}`);
    if (err instanceof HangarApiError && err.status === 0 && read !== item.size) {
      // Fetch refuses a body whose length differs from the Content-Length sent.
      const size = (await stat(item.local).catch(() => null))?.size;
      if (size !== item.size) throw new CliError(`${item.local} changed while it was uploaded; nothing was stored`);
    }
    throw err;
  }
  const sha256 = hash.digest('hex');
  if (stored.sha256 !== sha256 || stored.size !== item.size) {
    throw new CliError(
      `${item.remote}: the server stored ${stored.size} bytes with sha256 ${stored.sha256}, ` +
        `but ${item.local} has ${item.size} bytes with sha256 ${sha256}`,
    );
  }
  return { path: stored.path, file: item.local, size: stored.size, sha256 };
}

/** Adds `hangar artifacts ...` to `program`. */
export function registerArtifactCommands(program: Command, ctx: CliContext): void {
  const artifacts = program
    .command('artifacts')
    .description("list, download and upload a run's artifacts (large files stream, with progress on a terminal)");
  withGlobalOptions(
    artifacts
      .command('ls')
      .description("list a folder of a run's artifacts (the root by default)")
      .argument('<run-id>')
      .argument('[path]', 'a folder or file inside the run, e.g. model')
      .option('-r, --recursive', 'list every file beneath the folder'),
  ).action(async (runId: string, p: string | undefined, _opts: unknown, cmd: Command) =>
    listArtifacts(ctx, runId, p, flagsOf<GlobalFlags & { recursive?: boolean }>(cmd)),
  );

  withGlobalOptions(
    artifacts
      .command('download')
      .description("download a file or a folder (recursively); without a path, all of the run's artifacts")
      .argument('<run-id>')
      .argument('[path]', 'a file or folder inside the run, e.g. model')
      .option('-o, --out <dir>', 'where to put it (default: the current folder); PATH lands at DIR/<last segment>')
      .option('-c, --continue', 'resume partial files a broken download left behind')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  ).action(async (runId: string, p: string | undefined, _opts: unknown, cmd: Command) =>
    downloadArtifacts(ctx, runId, p, flagsOf<DownloadFlags>(cmd)),
  );

  withGlobalOptions(
    artifacts
      .command('upload')
      .description('upload a file, or a folder recursively; checks each sha256 against the server')
      .argument('<run-id>')
      .argument('<local>', 'a local file or folder')
      .option('--path <dest>', "the folder inside the run's artifacts to upload into (default: the root)")
      .option('--no-progress', 'no progress bar, even on a terminal'),
  ).action(async (runId: string, local: string, _opts: unknown, cmd: Command) =>
    uploadArtifacts(ctx, runId, local, flagsOf<UploadFlags>(cmd)),
  );
}
