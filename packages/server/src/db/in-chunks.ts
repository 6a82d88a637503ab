/**
 * Lists bound into one statement (`where id in (...)`) must stay under the engines' parameter
 * limits: SQLite allows 32,766 per statement, PostgreSQL 65,535. Lists that come from a page of
 * results (MLflow lets a run search return 50,000 runs, a model version search 200,000) are sent
 * in chunks of this many items; an item may bind several parameters (a tuple).
 */
export const IN_LIST_CHUNK = 5000;

/** `items` in slices of at most `size`. */
function chunks<T>(items: readonly T[], size = IN_LIST_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Runs `query` per chunk of `items` and concatenates the rows; nothing runs for an empty list.
 * Rows keep the query's order within a chunk only, so callers that need an order across items
 * group the rows by item (as every caller does: rows of one run always fall in one chunk).
 */
export async function inChunks<T, R>(
  items: readonly T[],
  query: (chunk: T[]) => Promise<R[]>,
  size = IN_LIST_CHUNK,
): Promise<R[]> {
  if (items.length <= size) return items.length === 0 ? [] : query([...items]);
  const out: R[] = [];
  for (const chunk of chunks(items, size)) {
    // A loop, not push(...rows): spreading a large result would overflow the call stack.
    for (const row of await query(chunk)) out.push(row);
  }
  return out;
}
