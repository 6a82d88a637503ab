import type { Readable } from 'node:stream';

/**
 * Where artifacts live: a local folder (`LocalArtifactStore`) or an S3-compatible bucket
 * (`S3ArtifactStore`), chosen by `openArtifactStore(uri)`.
 *
 * Paths are relative POSIX paths (`model/MLmodel`), checked by `normalizeArtifactPath` on every call:
 * a path that could escape the store's root is an `InputError` naming the path, whatever the backend.
 * Bodies are streamed in both directions; no method holds a whole file in memory. Missing files are a
 * `NotFoundError`. Directories are not objects of their own: they exist while a file lies beneath
 * them (MLflow's model of an artifact tree), so listing derives them from the files' paths.
 */
export interface ArtifactStore {
  /** The store's location for logs and errors, with no credentials in it. */
  readonly uri: string;

  /**
   * Stores `body` at `path`, replacing any file there. The sha256 and size are computed while the
   * bytes stream through. The new file becomes visible whole or not at all: a reader sees the old
   * content or the new, never a part, and when `body` fails or `opts.size` does not match, nothing is
   * stored (the call rejects). Of concurrent puts of one path, one complete body wins.
   */
  put(path: string, body: Readable, opts?: PutOptions): Promise<PutResult>;

  /**
   * Opens the file at `path` for reading, whole or a byte range. The caller must consume or destroy
   * `stream`. A range that starts past the end is a `RangeNotSatisfiableError`.
   */
  get(path: string, range?: ByteRange): Promise<GetResult>;

  /** The file or directory at `path`; `NotFoundError` when there is neither. */
  stat(path: string): Promise<ArtifactStat>;

  /** Whether a file or a directory exists at `path`. */
  exists(path: string): Promise<boolean>;

  /**
   * The entries under the directory `prefix` ('' is the root), sorted by path. Non-recursive: the
   * directory's files and subdirectories. Recursive: every file beneath it, at any depth, and no
   * directory entries. A prefix that is a file or does not exist lists as empty, like MLflow's.
   */
  list(prefix: string, opts?: ListOptions): Promise<ArtifactEntry[]>;

  /**
   * Deletes the file at `path`, or everything beneath the directory `path`. Idempotent: deleting what
   * is not there deletes nothing. The root itself ('') cannot be deleted through the store.
   */
  delete(path: string): Promise<DeleteResult>;

  /** Releases sockets and other resources; the store must not be used afterwards. */
  close(): Promise<void>;
}

export interface PutOptions {
  /** Stored with the object where the backend can keep it (S3); the local backend ignores it. */
  contentType?: string;
  /** The exact number of bytes expected; a body of another length is refused and nothing is stored. */
  size?: number;
  /** The hex sha256 the body must have; a body that hashes otherwise is refused and nothing is stored. */
  sha256?: string;
}

export interface PutResult {
  path: string;
  size: number;
  /** Hex sha256 of the stored bytes. */
  sha256: string;
}

/**
 * A byte range as in HTTP `Range: bytes=...`: `{start}` reads to the end, `{start, end}` reads up to
 * and including `end` (clamped to the last byte), `{suffix: n}` reads the last `n` bytes.
 */
export type ByteRange = { start: number; end?: number } | { suffix: number };

export interface GetResult {
  stream: Readable;
  /** The whole file's size in bytes (for `Content-Range: bytes a-b/size`). */
  size: number;
  /** The number of bytes `stream` yields (`Content-Length`). */
  length: number;
  /** The bytes served, inclusive; present when a range was asked for. */
  range?: { start: number; end: number };
  contentType?: string;
}

export interface ArtifactStat {
  path: string;
  isDir: boolean;
  /** Size in bytes; 0 for a directory. */
  size: number;
  /** Last modification time in epoch milliseconds, where the backend knows it. */
  modifiedAt?: number;
  contentType?: string;
}

export interface ListOptions {
  recursive?: boolean;
}

export interface ArtifactEntry {
  /** Path from the store's root, e.g. `model/MLmodel`. */
  path: string;
  isDir: boolean;
  /** Size in bytes, for files only. */
  size?: number;
}

export interface DeleteResult {
  /** How many files were removed. */
  deleted: number;
}
