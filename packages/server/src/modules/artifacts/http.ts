import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange, GetResult } from '../../artifacts/index.js';
import { InputError, RangeNotSatisfiableError } from '../../core/errors.js';

/*
 * HTTP plumbing shared by the native artifact routes and MLflow's artifact proxy: raw streaming
 * request bodies, Range headers, and download responses that are safe to open in a browser.
 */

/**
 * Makes every request body in `scope` a raw stream (`req.body`), whatever its content type: an
 * uploaded `.json` file is bytes to store, not JSON to parse, and nothing is buffered. The body
 * limit does not apply to these streams; the store streams them to disk or S3.
 */
export function acceptRawBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
}

/** The upload stream of a request in an {@link acceptRawBodies} scope (empty for a 0-byte body). */
export function uploadOf(req: FastifyRequest): {
  body: Readable;
  size?: number;
  contentType?: string;
  sha256?: string;
} {
  const body = req.body instanceof Readable ? req.body : Readable.from([]);
  const length = req.headers['content-length'];
  const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  const contentType = req.headers['content-type'];
  const sha256 = sha256OfContentDigest(req.headers['content-digest']);
  return {
    body,
    ...(size !== undefined ? { size } : {}),
    ...(contentType ? { contentType } : {}),
    ...(sha256 ? { sha256 } : {}),
  };
}

/**
 * The sha256 (hex) an upload declares in RFC 9530's `Content-Digest: sha-256=:<base64>:`; the
 * store refuses a body that hashes otherwise, and stores nothing. Other algorithms in the header
 * are ignored, as the RFC allows; a malformed sha-256 value is a 400.
 */
export function sha256OfContentDigest(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const member of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0 || member.slice(0, eq).trim().toLowerCase() !== 'sha-256') continue;
    const value = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(member.slice(eq + 1).trim());
    const bytes = value ? Buffer.from(value[1]!, 'base64') : null;
    if (!bytes || bytes.length !== 32) {
      throw new InputError(
        'Content-Digest sha-256 must be 32 bytes in base64 between colons: sha-256=:<base64>:',
        'content-digest',
      );
    }
    return bytes.toString('hex');
  }
  return undefined;
}

/**
 * The byte range of a `Range` header, or undefined to send the whole file. Only single `bytes`
 * ranges are served; a multi-range request gets the whole file (RFC 9110 allows ignoring Range).
 * A header that is not a well-formed list of byte ranges is a 400.
 */
export function rangeOf(header: string | undefined): ByteRange | undefined {
  if (!header) return undefined;
  const unit = /^bytes=(.*)$/is.exec(header.trim());
  if (!unit) throw new InputError(`unsupported Range header ${JSON.stringify(header)}; use bytes=start-end`, 'range');
  // Each element must be a range of its own: `bytes=5` or `bytes=--5` are a client's mistake to
  // report, not a list of ranges to ignore. Empty elements are allowed, as in every HTTP list.
  const specs = unit[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0 || specs.some((s) => !/^(\d+-\d*|-\d+)$/.test(s))) {
    throw new InputError(`invalid Range header ${JSON.stringify(header)}; use bytes=start-end`, 'range');
  }
  if (specs.length > 1) return undefined;
  const [a, b] = specs[0]!.split('-') as [string, string];
  // Bounds of any size are valid HTTP, and past 2^53 they can only mean "past the end": a last
  // byte that far is the end of the file, a first byte that far is unsatisfiable (416, not 400).
  const bound = (digits: string) => Math.min(Number(digits), Number.MAX_SAFE_INTEGER);
  if (a === '') return { suffix: bound(b) };
  const start = bound(a);
  if (b === '') return { start };
  const end = bound(b);
  if (end < start) throw new InputError(`invalid Range header ${JSON.stringify(header)}: end before start`, 'range');
  return { start, end };
}

const TYPES: Record<string, string> = {
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  py: 'text/x-python; charset=utf-8',
  yaml: 'text/yaml; charset=utf-8',
  yml: 'text/yaml; charset=utf-8',
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  parquet: 'application/vnd.apache.parquet',
  onnx: 'application/octet-stream',
};

/**
 * The content type served for an artifact, from its name. HTML is served as plain text: artifacts
 * are user content on the portal's origin and must never run as a page there.
 */
export function contentTypeOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === 'MLmodel') return 'text/yaml; charset=utf-8';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  return TYPES[ext] ?? (ext === 'html' || ext === 'htm' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
}

/**
 * Opens an artifact with `open` and streams it, or the range the request asks for, as the response.
 * An unsatisfiable range is rethrown (a 416) with the `Content-Range: bytes *\/size` header set.
 */
export async function sendArtifact(
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  open: (range: ByteRange | undefined) => Promise<GetResult>,
): Promise<FastifyReply> {
  let file: GetResult;
  try {
    file = await open(rangeOf(req.headers.range));
  } catch (err) {
    if (err instanceof RangeNotSatisfiableError) reply.header('content-range', `bytes */${err.size}`);
    throw err;
  }
  reply
    .header('content-type', contentTypeOf(path))
    .header('content-length', file.length)
    .header('accept-ranges', 'bytes')
    // Defence in depth for user content on our origin: no sniffing, no scripts, no embedding.
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox");
  if (file.range) {
    reply.code(206).header('content-range', `bytes ${file.range.start}-${file.range.end}/${file.size}`);
  }
  return reply.send(file.stream);
}
