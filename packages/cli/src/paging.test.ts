import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectPages, type Page } from './paging.js';

/** A listing of 0..n-1 served in pages of at most `size`, cursors being the next index. */
function listing(n: number, size: number) {
  const calls: { cursor: string | undefined; limit: number }[] = [];
  const fetchPage = async (cursor: string | undefined, limit: number): Promise<Page<number>> => {
    calls.push({ cursor, limit });
    const from = cursor ? Number(cursor) : 0;
    const to = Math.min(n, from + Math.min(limit, size));
    const items = Array.from({ length: to - from }, (_v, i) => from + i);
    return { items, nextCursor: to < n ? String(to) : null };
  };
  return { fetchPage, calls };
}

test('collectPages stops at max, asks only for what is still wanted, and returns the cursor to go on', async () => {
  const { fetchPage, calls } = listing(10, 3);
  const r = await collectPages(fetchPage, { max: 5, pageSize: 3 });
  assert.deepEqual(r.items, [0, 1, 2, 3, 4]);
  assert.equal(r.nextCursor, '5');
  assert.deepEqual(
    calls.map((c) => c.limit),
    [3, 2],
  );
  const rest = await collectPages(fetchPage, { max: Infinity, pageSize: 3, cursor: r.nextCursor });
  assert.deepEqual(rest.items, [5, 6, 7, 8, 9]);
  assert.equal(rest.nextCursor, undefined);
});

test('collectPages refuses a cursor the server repeats', async () => {
  await assert.rejects(
    collectPages(async () => ({ items: [1], nextCursor: 'same' }), { max: Infinity, pageSize: 10 }),
    /returned cursor same twice/,
  );
});
