import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import { LocalArtifactStore, type LocalArtifactStoreOptions } from './local-artifact-store.js';
import type { S3ArtifactStoreOptions } from './s3-artifact-store.js';
import { normalizeArtifactPath } from './safe-path.js';
import type { ArtifactStore } from './types.js';

export interface ArtifactStoreOptions {
  local?: LocalArtifactStoreOptions;
  /** S3 settings the URI does not carry (credentials, part size); the URI's own query wins. */
  s3?: Omit<S3ArtifactStoreOptions, 'bucket' | 'prefix'>;
}

const S3_QUERY_KEYS = ['endpoint', 'region', 'forcePathStyle'];
// Bucket names as S3 allows them (3-63 lower-case letters, digits, dots and hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Opens the artifact store a URI names; creates nothing and contacts no server.
 *
 * - `file:///abs/dir` (or a plain absolute path): `LocalArtifactStore` rooted at that folder.
 * - `s3://bucket/optional/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&forcePathStyle=true`:
 *   `S3ArtifactStore`. Every query key is optional; unknown ones are refused. Credentials come from
 *   `options.s3.credentials` or the AWS SDK's default chain (`AWS_ACCESS_KEY_ID`,
 *   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, profiles, instance roles), never from the URI.
 *
 * A malformed URI is an `InputError` (field `uri`) that says what is wrong. Async because the S3
 * store's module, with the AWS SDK (several megabytes of memory), is loaded only for an s3 URI.
 */
export async function openArtifactStore(uri: string, options: ArtifactStoreOptions = {}): Promise<ArtifactStore> {
  const bad = (why: string): never => {
    throw new InputError(`artifact store URI ${JSON.stringify(redact(uri))}: ${why}`, 'uri');
  };
  if (path.isAbsolute(uri) && !uri.includes('://')) return new LocalArtifactStore(uri, options.local);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return bad('not a URI; use file:///abs/dir or s3://bucket/prefix');
  }
  if (url.protocol === 'file:') {
    if (url.host && url.host !== 'localhost') bad('a file URI must not name a host');
    if (url.search || url.hash) bad('a file URI takes no query or fragment');
    return new LocalArtifactStore(fileURLToPath(url), options.local);
  }
  if (url.protocol !== 's3:') return bad(`unsupported scheme ${JSON.stringify(url.protocol)}; use file: or s3:`);
  if (url.username || url.password) {
    bad('credentials do not belong in the URI; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or pass them as options');
  }
  if (url.hash) bad('an s3 URI takes no fragment');
  const bucket = url.hostname;
  if (!BUCKET.test(bucket) || bucket.includes('..')) bad(`${JSON.stringify(bucket)} is not a valid bucket name`);
  if (url.port) bad('the port belongs in ?endpoint=, not after the bucket');
  const unknown = [...url.searchParams.keys()].filter((k) => !S3_QUERY_KEYS.includes(k));
  if (unknown.length) bad(`unknown query parameter(s) ${unknown.join(', ')}; known: ${S3_QUERY_KEYS.join(', ')}`);
  // The raw text, not url.pathname: URL parsing would silently resolve `a/../b` to `b`.
  const rawPath = /^s3:\/\/[^/?#]*([^?#]*)/i.exec(uri)?.[1] ?? '';
  let prefix = '';
  try {
    prefix = decodeURIComponent(rawPath.replace(/^\//, '').replace(/\/$/, ''));
  } catch {
    bad('the prefix is not valid percent-encoding');
  }
  try {
    normalizeArtifactPath(prefix, { allowRoot: true, field: 'prefix' });
  } catch (err) {
    bad(err instanceof Error ? err.message : String(err));
  }
  const q = url.searchParams;
  const endpoint = q.get('endpoint') ?? options.s3?.endpoint;
  if (endpoint !== undefined) {
    let e: URL | undefined;
    try {
      e = new URL(endpoint);
    } catch {
      e = undefined;
    }
    if (!e || (e.protocol !== 'http:' && e.protocol !== 'https:')) bad('endpoint must be an http:// or https:// URL');
  }
  const forcePathStyleText = q.get('forcePathStyle');
  if (forcePathStyleText !== null && forcePathStyleText !== 'true' && forcePathStyleText !== 'false') {
    bad('forcePathStyle must be true or false');
  }
  const region = q.get('region') ?? options.s3?.region;
  const forcePathStyle = forcePathStyleText === null ? options.s3?.forcePathStyle : forcePathStyleText === 'true';
  const { S3ArtifactStore } = await import('./s3-artifact-store.js');
  return new S3ArtifactStore({
    ...options.s3,
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
  });
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^/@]*@/, '//***@');
}
