import { InputError, RangeNotSatisfiableError } from '../core/errors.js';
import type { ByteRange } from './types.js';

export { RangeNotSatisfiableError };

/** Checks a range's numbers; throws `InputError` for negative, fractional or reversed bounds. */
export function checkByteRange(range: ByteRange): void {
  const bad = (why: string): never => {
    throw new InputError(`invalid byte range: ${why}`, 'range');
  };
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix < 0) bad('suffix must be a non-negative integer');
    return;
  }
  if (!Number.isSafeInteger(range.start) || range.start < 0) bad('start must be a non-negative integer');
  if (range.end !== undefined) {
    if (!Number.isSafeInteger(range.end) || range.end < 0) bad('end must be a non-negative integer');
    if (range.end < range.start) bad('end is before start');
  }
}

/**
 * The inclusive byte bounds `range` selects in a file of `size` bytes, with HTTP's rules: `end` is
 * clamped to the last byte, a suffix longer than the file selects all of it, and a range that
 * selects nothing throws `RangeNotSatisfiableError`.
 */
export function resolveByteRange(path: string, range: ByteRange, size: number): { start: number; end: number } {
  checkByteRange(range);
  if ('suffix' in range) {
    if (range.suffix === 0 || size === 0) throw new RangeNotSatisfiableError(path, size);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) throw new RangeNotSatisfiableError(path, size);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The `Range` header value for a range (S3 GetObject takes HTTP's syntax). */
export function rangeHeader(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}
