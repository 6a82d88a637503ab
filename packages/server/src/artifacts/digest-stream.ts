import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { InputError } from '../core/errors.js';

/**
 * A pass-through stream that counts and sha256-hashes the bytes flowing through it, so a store can
 * checksum an upload without holding it. With `expectedSize` it fails as soon as more bytes arrive,
 * or at the end when fewer did; with `expectedSha256` it fails at the end when the bytes hash to
 * something else. Either way the store discards the upload.
 */
export class DigestStream extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private hex: string | undefined;

  constructor(
    private readonly path: string,
    private readonly expectedSize?: number,
    private readonly expectedSha256?: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, done: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.bytes += buf.length;
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      done(this.sizeError());
      return;
    }
    this.hash.update(buf);
    done(null, buf);
  }

  override _flush(done: TransformCallback): void {
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      done(this.sizeError());
      return;
    }
    const hex = this.hash.digest('hex');
    if (this.expectedSha256 !== undefined && hex !== this.expectedSha256) {
      done(
        new InputError(
          `artifact ${JSON.stringify(this.path)}: the body's sha256 is ${hex}, not the ${this.expectedSha256} the request declared; nothing was stored`,
          'sha256',
          { path: this.path, expected: this.expectedSha256, received: hex },
        ),
      );
      return;
    }
    this.hex = hex;
    done();
  }

  /** The hex digest; available once the stream has ended. */
  get sha256(): string {
    if (this.hex === undefined) throw new Error('DigestStream: digest read before the end of the stream');
    return this.hex;
  }

  private sizeError(): InputError {
    return new InputError(
      `artifact ${JSON.stringify(this.path)}: expected ${this.expectedSize} bytes, received ${this.bytes}${
        this.bytes > (this.expectedSize ?? 0) ? ' or more' : ''
      }`,
      'size',
      { path: this.path, expected: this.expectedSize, received: this.bytes },
    );
  }
}

/** Checks `PutOptions.sha256`: 64 lowercase hex digits. */
export function checkExpectedSha256(sha256: string | undefined): void {
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new InputError('an expected sha256 is 64 lowercase hexadecimal digits', 'sha256');
  }
}

/** Checks `PutOptions.size`. */
export function checkExpectedSize(size: number | undefined): void {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new InputError('artifact size must be a non-negative integer', 'size');
  }
}
