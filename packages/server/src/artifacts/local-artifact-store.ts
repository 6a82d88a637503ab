import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rename, rm, rmdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ConflictError, InputError, NotFoundError } from '../core/errors.js';
import { checkExpectedSha256, checkExpectedSize, DigestStream } from './digest-stream.js';
import { checkByteRange, resolveByteRange } from './range.js';
import {
  isSafeArtifactPath,
  joinArtifactPath,
  normalizeArtifactPath,
  parentArtifactPath,
  TEMP_NAME_PREFIX,
} from './safe-path.js';
import type {
  ArtifactEntry,
  ArtifactStat,
  ArtifactStore,
  ByteRange,
  DeleteResult,
  GetResult,
  ListOptions,
  PutOptions,
  PutResult,
} from './types.js';

export interface LocalArtifactStoreOptions {
  /**
   * fsync each file before it is renamed into place, and its directory after, so an acknowledged
   * put survives power loss and not only a crash of the process. Default true.
   */
  fsync?: boolean;
}

/**
 * Artifacts as files under a local root folder (`file:///abs/dir`). The root is created on the first
 * put. Writes go to a temporary file in the target's folder (named with `TEMP_NAME_PREFIX`, hidden
 * from listings) that is renamed over the target when complete, so readers never see a partial file.
 *
 * Symbolic links are never followed: every component of a path is checked with `lstat`, files are
 * opened with `O_NOFOLLOW`, and on Linux the opened descriptor's real location is checked against
 * the root through `/proc/self/fd`, so a symlink planted inside the root (or swapped in between the
 * check and the open) cannot be read or written through. Listings skip symlinks. Directories left
 * empty by a delete are removed, as directories vanish from an object store when their last object goes.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly uri: string;
  readonly root: string;
  private readonly fsync: boolean;
  private rootReady: Promise<void> | undefined;
  private realRoot: Promise<string> | undefined;

  constructor(root: string, opts: LocalArtifactStoreOptions = {}) {
    if (!path.isAbsolute(root)) {
      throw new InputError(`local artifact root must be an absolute path, got ${JSON.stringify(root)}`, 'uri');
    }
    this.root = path.resolve(root);
    this.uri = pathToFileURL(this.root).href;
    this.fsync = opts.fsync ?? true;
  }

  async put(p: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const rel = normalizeArtifactPath(p);
    checkExpectedSize(opts.size);
    checkExpectedSha256(opts.sha256);
    const dirRel = parentArtifactPath(rel);
    const target = this.abs(rel);
    // The rename below would replace a symlink rather than write through it; refuse it all the same,
    // so every operation treats links alike.
    await this.walk(rel);
    const { handle, tmpPath } = await this.createTemp(rel, dirRel);
    const digest = new DigestStream(rel, opts.size, opts.sha256);
    let closed = false;
    try {
      await this.verifyDescriptor(handle, joinArtifactPath(dirRel, path.basename(tmpPath)), rel);
      await pipeline(body, digest, fileSink(handle));
      if (this.fsync) await handle.sync();
      closed = true;
      await handle.close();
      try {
        // rename() replaces a symlink at the target rather than following it, so no check is needed there.
        await rename(tmpPath, target);
      } catch (err) {
        if (isErrno(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR')) {
          throw new ConflictError(`artifact path ${JSON.stringify(rel)} is a directory`, { path: rel });
        }
        throw err;
      }
    } catch (err) {
      if (!closed) await handle.close().catch(() => undefined);
      await rm(tmpPath, { force: true }).catch(() => undefined);
      throw err;
    }
    if (this.fsync) await this.syncDir(this.abs(dirRel));
    return { path: rel, size: digest.bytes, sha256: digest.sha256 };
  }

  async get(p: string, range?: ByteRange): Promise<GetResult> {
    const rel = normalizeArtifactPath(p);
    if (range) checkByteRange(range);
    const st = await this.walk(rel);
    if (!st || !st.isFile()) throw notFound(rel);
    let handle: FileHandle;
    try {
      handle = await open(this.abs(rel), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw this.mapOpenError(err, rel);
    }
    try {
      await this.verifyDescriptor(handle, rel, rel);
      const fst = await handle.stat();
      if (!fst.isFile()) throw notFound(rel);
      const size = fst.size;
      if (!range) {
        return { stream: handle.createReadStream({ autoClose: true }), size, length: size };
      }
      const r = resolveByteRange(rel, range, size);
      return {
        stream: handle.createReadStream({ start: r.start, end: r.end, autoClose: true }),
        size,
        length: r.end - r.start + 1,
        range: r,
      };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  async stat(p: string): Promise<ArtifactStat> {
    const rel = normalizeArtifactPath(p);
    const st = await this.walk(rel);
    if (st?.isDirectory()) return { path: rel, isDir: true, size: 0, modifiedAt: st.mtimeMs };
    if (st?.isFile()) return { path: rel, isDir: false, size: st.size, modifiedAt: st.mtimeMs };
    throw notFound(rel);
  }

  async exists(p: string): Promise<boolean> {
    const rel = normalizeArtifactPath(p);
    const st = await this.walk(rel);
    return !!st && (st.isFile() || st.isDirectory());
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(prefix, { allowRoot: true, field: 'prefix' });
    if (rel) {
      const st = await this.walk(rel);
      if (!st?.isDirectory()) return [];
    }
    const out: ArtifactEntry[] = [];
    const pending = [rel];
    while (pending.length) {
      const dirRel = pending.pop() as string;
      for (const entry of await this.readDir(dirRel)) {
        if (entry.isDir) {
          if (opts.recursive) pending.push(entry.path);
          else out.push(entry);
        } else {
          out.push(entry);
        }
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(p: string): Promise<DeleteResult> {
    const rel = normalizeArtifactPath(p);
    const st = await this.walk(rel);
    if (!st) return { deleted: 0 };
    let deleted = 0;
    if (st.isDirectory()) {
      deleted = (await this.list(rel, { recursive: true })).length;
      // rm() unlinks symlinks inside the tree; it never follows them.
      await rm(this.abs(rel), { recursive: true, force: true, maxRetries: 3 });
    } else {
      try {
        await unlink(this.abs(rel));
        deleted = 1;
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    await this.pruneEmptyDirs(parentArtifactPath(rel));
    return { deleted };
  }

  async close(): Promise<void> {}

  private abs(rel: string): string {
    return rel ? path.join(this.root, ...rel.split('/')) : this.root;
  }

  /**
   * lstat of each component of `rel` below the root; null when one is missing (or is a file where
   * a directory should be). Throws when one is a symlink.
   */
  private async walk(rel: string): Promise<Stats | null> {
    let cur = this.root;
    let st: Stats | null = null;
    for (const seg of rel.split('/')) {
      cur = path.join(cur, seg);
      try {
        st = await lstat(cur);
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
        throw err;
      }
      if (st.isSymbolicLink()) throw symlinkError(rel);
    }
    return st;
  }

  /** Creates the folders of `dirRel` one by one, refusing symlinks and files in the way. */
  private async ensureDir(rel: string, dirRel: string): Promise<void> {
    this.rootReady ??= mkdir(this.root, { recursive: true }).then(() => undefined);
    try {
      await this.rootReady;
    } catch (err) {
      this.rootReady = undefined;
      throw err;
    }
    if (!dirRel) return;
    let cur = this.root;
    const segs = dirRel.split('/');
    for (let i = 0; i < segs.length; i++) {
      cur = path.join(cur, segs[i] as string);
      try {
        await mkdir(cur);
      } catch (err) {
        if (isErrno(err, 'ENOTDIR')) throw fileInTheWay(rel, segs.slice(0, i).join('/'));
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const st = await lstat(cur);
      if (st.isSymbolicLink()) throw symlinkError(rel);
      if (!st.isDirectory()) throw fileInTheWay(rel, segs.slice(0, i + 1).join('/'));
    }
  }

  private async createTemp(rel: string, dirRel: string): Promise<{ handle: FileHandle; tmpPath: string }> {
    // A concurrent delete may remove a folder between its creation and the temp file's: try again.
    for (let attempt = 0; ; attempt++) {
      await this.ensureDir(rel, dirRel);
      const tmpPath = path.join(this.abs(dirRel), TEMP_NAME_PREFIX + randomBytes(8).toString('hex'));
      try {
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
        return { handle: await open(tmpPath, flags, 0o644), tmpPath };
      } catch (err) {
        if (!isErrno(err, 'ENOENT') || attempt >= 5) throw err;
      }
    }
  }

  private async readDir(dirRel: string): Promise<ArtifactEntry[]> {
    let dirents;
    try {
      dirents = await readdir(this.abs(dirRel), { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw err;
    }
    const out: ArtifactEntry[] = [];
    for (const d of dirents) {
      // Symlinks, sockets and the like are not artifacts; names the store would refuse are not listed.
      if (!d.isFile() && !d.isDirectory()) continue;
      const p = joinArtifactPath(dirRel, d.name);
      if (!isSafeArtifactPath(p)) continue;
      if (d.isDirectory()) {
        out.push({ path: p, isDir: true });
        continue;
      }
      try {
        out.push({ path: p, isDir: false, size: (await lstat(this.abs(p))).size });
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return out;
  }

  private async pruneEmptyDirs(dirRel: string): Promise<void> {
    for (let cur = dirRel; cur; cur = parentArtifactPath(cur)) {
      try {
        await rmdir(this.abs(cur));
      } catch {
        return; // not empty (or already gone, or replaced): stop climbing
      }
    }
  }

  /**
   * Where the kernel says an opened descriptor lives (Linux); refuses one that is not at `rel` under
   * the real root, which catches a component swapped for a symlink after `walk` checked it.
   */
  private async verifyDescriptor(handle: FileHandle, rel: string, forPath: string): Promise<void> {
    let actual: string;
    try {
      actual = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      return; // no procfs: the lstat walk and O_NOFOLLOW are all we have
    }
    this.realRoot ??= realpath(this.root);
    const expected = path.join(await this.realRoot, ...rel.split('/'));
    if (actual !== expected) throw symlinkError(forPath);
  }

  private mapOpenError(err: unknown, rel: string): unknown {
    if (isErrno(err, 'ELOOP')) return symlinkError(rel);
    if (isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return notFound(rel);
    return err;
  }

  private async syncDir(dir: string): Promise<void> {
    const h = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

/**
 * A writable over an open file handle that leaves closing to the caller, who must fsync first.
 * (A FileHandle write stream with `autoClose: false` never settles `pipeline` on Node 20.)
 */
function fileSink(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, done) {
      void (async () => {
        for (let off = 0; off < chunk.length;) {
          off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
        }
      })().then(() => done(), done);
    },
  });
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

function notFound(rel: string): NotFoundError {
  return new NotFoundError(`artifact ${JSON.stringify(rel)} not found`, { path: rel });
}

function symlinkError(rel: string): InputError {
  return new InputError(
    `artifact path ${JSON.stringify(rel)} passes through a symbolic link, which the store does not follow`,
    'path',
    { path: rel },
  );
}

function fileInTheWay(rel: string, file: string): ConflictError {
  return new ConflictError(`cannot store ${JSON.stringify(rel)}: ${JSON.stringify(file)} is a file, not a directory`, {
    path: rel,
  });
}
