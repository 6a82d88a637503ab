import { InputError } from './errors.js';

/** Opaque cursors: callers must pass back what we gave them, so the encoding can change freely. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor(cursor: string, keys: string[]): Record<string, string | number> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && keys.every((k) => k in parsed)) {
      return parsed as Record<string, string | number>;
    }
  } catch {
    // fall through to the error below
  }
  throw new InputError('cursor is malformed; pass back the nextCursor of a previous page', 'cursor');
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
