import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, DomainError, InputError, NotFoundError, UnavailableError } from '../core/errors.js';
import { checkExpectedSha256, checkExpectedSize, DigestStream } from './digest-stream.js';
import { checkByteRange, RangeNotSatisfiableError, rangeHeader, resolveByteRange } from './range.js';
import { isSafeArtifactPath, joinArtifactPath, MAX_ARTIFACT_PATH_BYTES, normalizeArtifactPath } from './safe-path.js';
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

/** S3's smallest part (except the last) and most parts per multipart upload. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix under which the store's paths live ('' for the bucket's root). */
  prefix?: string;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; AWS's own when absent. */
  endpoint?: string;
  /** Default: `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Default: the AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, instance roles). */
  credentials?: S3Credentials;
  /**
   * Multipart part size in bytes (default and minimum 5 MiB; larger when `PutOptions.size` needs it to
   * stay within 10,000 parts). An upload holds a few parts in memory: about 35 MiB with the defaults.
   */
  partSize?: number;
  /** Parts uploaded in parallel per upload (default 4). */
  queueSize?: number;
  /** A client to use instead of one built from the options above; `close()` leaves it open. */
  client?: S3Client;
}

/**
 * Artifacts as objects in an S3-compatible bucket under a key prefix (`s3://bucket/prefix`), through
 * AWS SDK v3. Uploads stream through `@aws-sdk/lib-storage`: one PutObject for a body smaller than a
 * part, otherwise a multipart upload that holds at most `partSize × queueSize` bytes and is aborted
 * when the body fails. Downloads are ranged GetObject streams. Listings page through ListObjectsV2
 * (with `/` as delimiter unless recursive); folder deletes list and delete in batches of 1000.
 * Keys ending in `/` (folder markers made by other tools) are not listed.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3ArtifactStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = normalizeArtifactPath(opts.prefix ?? '', { allowRoot: true, field: 'prefix' });
    this.partSize = Math.max(MIN_PART_SIZE, opts.partSize ?? MIN_PART_SIZE);
    this.queueSize = Math.max(1, opts.queueSize ?? 4);
    this.uri = `s3://${this.bucket}/${this.prefix}${opts.endpoint ? `?endpoint=${opts.endpoint}` : ''}`;
    if (opts.client) {
      this.client = opts.client;
      this.ownsClient = false;
    } else {
      this.client = new S3Client({
        region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        forcePathStyle: opts.forcePathStyle ?? false,
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        // Fail fast on an unreachable endpoint; a stalled socket is dropped after a minute of silence.
        requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
        maxAttempts: 3,
      });
      this.ownsClient = true;
    }
  }

  async put(p: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const rel = normalizeArtifactPath(p);
    checkExpectedSize(opts.size);
    checkExpectedSha256(opts.sha256);
    const key = this.key(rel);
    const digest = new DigestStream(rel, opts.size, opts.sha256);
    // With a known size, grow parts so even a huge file fits in S3's 10,000 parts, and send fewer
    // of those bigger parts at once so the memory an upload holds stays about the same.
    const partSize = Math.max(this.partSize, opts.size ? Math.ceil(opts.size / MAX_PARTS) : 0);
    const queueSize = Math.max(1, Math.min(this.queueSize, Math.floor((this.partSize * this.queueSize) / partSize)));
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: digest,
        ...(opts.contentType ? { ContentType: opts.contentType } : {}),
      },
      partSize,
      queueSize,
      leavePartsOnError: false,
    });
    const [piped, uploaded] = await Promise.allSettled([pipeline(body, digest), upload.done()]);
    if (piped.status === 'rejected') {
      if (uploaded.status === 'fulfilled') {
        // Cannot happen with a well-behaved Upload, but never leave a partial body behind.
        await this.deleteKeys([key]).catch(() => undefined);
      }
      // The body's own failure (or a size mismatch) explains the upload's abort better than the abort does.
      throw piped.reason;
    }
    if (uploaded.status === 'rejected') throw this.mapError(uploaded.reason, rel);
    return { path: rel, size: digest.bytes, sha256: digest.sha256 };
  }

  async get(p: string, range?: ByteRange): Promise<GetResult> {
    const rel = normalizeArtifactPath(p);
    if (range) {
      checkByteRange(range);
      if ('suffix' in range && range.suffix === 0) throw new RangeNotSatisfiableError(rel, (await this.stat(rel)).size);
    }
    let res;
    try {
      res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(rel),
          ...(range ? { Range: rangeHeader(range) } : {}),
        }),
      );
    } catch (err) {
      if (range && httpStatus(err) === 416) throw new RangeNotSatisfiableError(rel, (await this.stat(rel)).size);
      throw this.mapError(err, rel);
    }
    const stream = res.Body as Readable;
    const contentType = res.ContentType;
    const length = res.ContentLength ?? 0;
    const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.ContentRange ?? '');
    if (range && cr) {
      const r = { start: Number(cr[1]), end: Number(cr[2]) };
      return {
        stream,
        size: Number(cr[3]),
        length: r.end - r.start + 1,
        range: r,
        ...(contentType ? { contentType } : {}),
      };
    }
    if (range) {
      // The server ignored the range and sent the whole object: only acceptable when the range covers it all.
      try {
        const r = resolveByteRange(rel, range, length);
        if (r.start !== 0 || r.end !== length - 1) {
          throw new UnavailableError(`object store ignored the byte range for ${JSON.stringify(rel)}`);
        }
        return { stream, size: length, length, range: r, ...(contentType ? { contentType } : {}) };
      } catch (err) {
        stream.destroy();
        throw err;
      }
    }
    return { stream, size: length, length, ...(contentType ? { contentType } : {}) };
  }

  async stat(p: string): Promise<ArtifactStat> {
    const rel = normalizeArtifactPath(p);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return {
        path: rel,
        isDir: false,
        size: head.ContentLength ?? 0,
        ...(head.LastModified ? { modifiedAt: head.LastModified.getTime() } : {}),
        ...(head.ContentType ? { contentType: head.ContentType } : {}),
      };
    } catch (err) {
      if (httpStatus(err) !== 404) throw this.mapError(err, rel);
    }
    if (await this.hasObjectsUnder(rel)) return { path: rel, isDir: true, size: 0 };
    throw notFound(rel);
  }

  async exists(p: string): Promise<boolean> {
    try {
      await this.stat(p);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(prefix, { allowRoot: true, field: 'prefix' });
    const dirKey = this.dirKey(rel);
    const rootKey = this.dirKey('');
    const out: ArtifactEntry[] = [];
    await this.eachPage(dirKey, !opts.recursive, rel, (page) => {
      for (const cp of page.CommonPrefixes ?? []) {
        const name = cp.Prefix?.slice(dirKey.length, -1);
        if (!name) continue;
        const path = joinArtifactPath(rel, name);
        if (isSafeArtifactPath(path)) out.push({ path, isDir: true });
      }
      for (const obj of page.Contents ?? []) {
        if (!obj.Key || obj.Key.endsWith('/')) continue;
        const path = obj.Key.slice(rootKey.length);
        if (isSafeArtifactPath(path)) out.push({ path, isDir: false, size: obj.Size ?? 0 });
      }
    });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(p: string): Promise<DeleteResult> {
    const rel = normalizeArtifactPath(p);
    let deleted = 0;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      await this.deleteKeys([this.key(rel)]);
      deleted++;
    } catch (err) {
      if (httpStatus(err) !== 404) throw this.mapError(err, rel);
    }
    // Collect first, then delete: deleting while paging could shift a server's continuation tokens.
    const keys: string[] = [];
    await this.eachPage(this.dirKey(rel), false, rel, (page) => {
      for (const obj of page.Contents ?? []) if (obj.Key) keys.push(obj.Key);
    });
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      await this.deleteKeys(batch);
      deleted += batch.filter((k) => !k.endsWith('/')).length;
    }
    return { deleted };
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private key(rel: string): string {
    const key = joinArtifactPath(this.prefix, rel);
    if (Buffer.byteLength(key, 'utf8') > MAX_ARTIFACT_PATH_BYTES) {
      throw new InputError(`artifact path ${JSON.stringify(rel)} makes an object key longer than 1024 bytes`, 'path', {
        path: rel,
      });
    }
    return key;
  }

  /** The key prefix of the folder `rel` ('' is the store's root), ending in `/` unless it is the bucket's root. */
  private dirKey(rel: string): string {
    const k = joinArtifactPath(this.prefix, rel);
    return k ? `${k}/` : '';
  }

  private async hasObjectsUnder(rel: string): Promise<boolean> {
    try {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.dirKey(rel), MaxKeys: 1 }),
      );
      return (res.KeyCount ?? res.Contents?.length ?? 0) > 0;
    } catch (err) {
      throw this.mapError(err, rel);
    }
  }

  private async eachPage(
    prefix: string,
    delimited: boolean,
    rel: string,
    fn: (page: ListObjectsV2CommandOutput) => void,
  ): Promise<void> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(delimited ? { Delimiter: '/' } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        throw this.mapError(err, rel);
      }
      fn(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    let res;
    try {
      res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (err) {
      throw this.mapError(err, keys[0] ?? '');
    }
    const failed = res.Errors?.[0];
    if (failed) {
      throw new UnavailableError(
        `object store failed to delete ${res.Errors?.length} object(s), first ${JSON.stringify(failed.Key)}: ${
          failed.Code ?? 'error'
        } ${failed.Message ?? ''}`.trim(),
      );
    }
  }

  /** Turns SDK and network failures into domain errors; domain errors pass through. */
  private mapError(err: unknown, rel: string): unknown {
    if (err instanceof DomainError) return err;
    const status = httpStatus(err);
    const name = err instanceof Error ? err.name : '';
    if (status === 404 && name !== 'NoSuchBucket') return notFound(rel);
    // The bucket and prefix, not the endpoint: these messages can reach API clients.
    const what = `s3://${this.bucket}/${this.prefix}: ${name || 'error'}${err instanceof Error && err.message ? ` (${err.message})` : ''}`;
    if (status === 409) {
      // Filesystem-backed servers (versitygw's posix backend) refuse a file where a folder is, and back.
      return new ConflictError(`artifact ${JSON.stringify(rel)} conflicts with an existing file or folder (${name})`, {
        path: rel,
      });
    }
    if (name === 'NoSuchBucket') return new UnavailableError(`artifact bucket does not exist: ${what}`);
    if (status === 401 || status === 403) return new UnavailableError(`object store refused access: ${what}`);
    if ((status !== undefined && (status >= 500 || status === 429)) || isNetworkError(err)) {
      return new UnavailableError(`object store unavailable: ${what}`);
    }
    return err;
  }
}

function httpStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && NETWORK_CODES.has(code)) || err.name === 'TimeoutError';
}

function notFound(rel: string): NotFoundError {
  return new NotFoundError(`artifact ${JSON.stringify(rel)} not found`, { path: rel });
}
