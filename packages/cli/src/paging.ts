/** One page of a cursor-paginated listing, as every `/api/v1` list route answers. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Fetches pages from `cursor` on until `max` items are collected or the listing ends; asks each
 * page for no more than is still wanted (and at most `pageSize`). Returns the items and the
 * cursor to continue from (undefined when nothing is left).
 */
export async function collectPages<T>(
  fetchPage: (cursor: string | undefined, limit: number) => Promise<Page<T>>,
  opts: { max: number; pageSize: number; cursor?: string },
): Promise<{ items: T[]; nextCursor: string | undefined }> {
  const items: T[] = [];
  let cursor = opts.cursor;
  const seen = new Set<string>();
  do {
    const page = await fetchPage(cursor, Math.min(opts.pageSize, opts.max - items.length));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    // A server that hands back the same cursor twice would keep us here forever.
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`the server returned cursor ${cursor} twice`);
      seen.add(cursor);
    }
  } while (cursor && items.length < opts.max);
  return { items, nextCursor: cursor };
}
