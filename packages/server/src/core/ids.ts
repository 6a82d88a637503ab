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

/** Random hex digits, drawn 4 KiB at a time: one crypto call serves hundreds of ids. */
let pool = '';
let poolAt = 0;
let v7Ms = -1;
let v7Seq = 0;
/** The id's first 14 characters (timestamp and version) for the millisecond `prefixMs`. */
let prefixMs = -1;
let prefix = '';

function randomHex(n: number): string {
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096).toString('hex');
    poolAt = 0;
  }
  poolAt += n;
  return pool.slice(poolAt - n, poolAt);
}

/** The variant digit (binary 10xx) from a random hex digit: the codes of 0-9a-f are uniform mod 4. */
const VARIANT = '89ab';

/**
 * A UUIDv7 (RFC 9562) as text: a 48-bit millisecond timestamp, then a 12-bit sequence (random at
 * each new millisecond, incremented within one, the RFC's "method 1"; when it runs out the
 * timestamp moves on a millisecond), then 62 random bits. Request ids are indexed in the
 * prediction log; time-ordered ids land at the index's right edge instead of at random pages,
 * which halves the cost of each logged row. Built from strings (the timestamp's digits once per
 * millisecond) because every request makes one: a Buffer and its hex encoding cost a microsecond.
 */
export function newUuidV7(now = Date.now()): string {
  let ms = Math.max(now, v7Ms);
  if (ms === v7Ms && v7Seq < 0xfff) v7Seq++;
  else {
    if (ms === v7Ms) ms++;
    v7Seq = parseInt(randomHex(3), 16) & 0x7ff;
  }
  v7Ms = ms;
  if (ms !== prefixMs) {
    const t = ms.toString(16).padStart(12, '0');
    prefix = `${t.slice(0, 8)}-${t.slice(8)}-7`;
    prefixMs = ms;
  }
  const r = randomHex(16);
  const seq = (0x1000 | v7Seq).toString(16).slice(1);
  return `${prefix}${seq}-${VARIANT[r.charCodeAt(0) & 3]}${r.slice(1, 4)}-${r.slice(4)}`;
}
