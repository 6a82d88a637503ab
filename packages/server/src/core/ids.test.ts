import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newUuidV7 } from './ids.js';

test('ids are 26 lower-case base32 characters', () => {
  assert.match(newId(), /^[0-9a-hjkmnp-tv-z]{26}$/);
});

test('ids sort in creation order, also within one millisecond', () => {
  const ids = Array.from({ length: 5000 }, () => newId(1_700_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('ids from later milliseconds sort after earlier ones', () => {
  const a = newId(1_800_000_000_000);
  const b = newId(1_800_000_000_001);
  assert.ok(a < b);
});

test('request ids are RFC 9562 version-7 UUIDs that sort in creation order', () => {
  const ids = Array.from({ length: 3000 }, (_, i) => newUuidV7(1_700_000_000_000 + Math.floor(i / 1000)));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  // The timestamp is the first 48 bits.
  assert.equal(parseInt(ids[2999]!.replace(/-/g, '').slice(0, 12), 16), 1_700_000_000_002);
});

test('more request ids in one millisecond than the sequence holds still sort in creation order', () => {
  // The 12-bit sequence starts at up to 2047, so 2049 to 4096 ids fit a millisecond; then it moves on.
  const ids = Array.from({ length: 10_000 }, () => newUuidV7(1_800_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  const ms = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  assert.ok(ms(ids[0]!) === 1_800_000_000_000 && ms(ids.at(-1)!) >= 1_800_000_000_002);
  // The variant's two bits and the random tail vary: no digit of the tail is constant.
  const tails = new Set(ids.map((id) => id.slice(19, 20)));
  assert.deepEqual([...tails].sort(), ['8', '9', 'a', 'b']);
});
