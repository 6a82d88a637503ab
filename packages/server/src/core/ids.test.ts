import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from './ids.js';

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
