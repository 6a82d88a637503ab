import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

let lastMs = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

/** Adds one to a big-endian byte string; the caller made sure it cannot overflow in practice. */
function increment(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    next[i] = (next[i]! + 1) & 0xff;
    if (next[i] !== 0) break;
  }
  return next;
}

/**
 * A 26-character id that sorts by creation time (48-bit millisecond prefix, like a ULID) so
 * primary-key order is creation order, which keeps B-tree inserts local and cursors simple. Within
 * one millisecond the random part is incremented (monotonic ULIDs), so ids made by one process
 * keep their creation order too; across processes, same-millisecond order is arbitrary.
 */
export function newId(now = Date.now()): string {
  const bytes = new Uint8Array(16);
  const ms = Math.max(now, lastMs);
  lastRandom = ms === lastMs ? increment(lastRandom) : new Uint8Array(randomBytes(10));
  lastMs = ms;
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(lastRandom, 6);
  return encode(bytes).slice(0, 26);
}

/** A secret token body with 192 bits of entropy, URL-safe. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}
