// Cursor-paged lists for the model pages: the first page on load, more on demand, never all at once.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export interface Paged<T> {
  /** The rows loaded so far; null until the first page arrives. */
  rows: T[] | null;
  /** The first page's failure (the list cannot be shown). */
  error: unknown;
  /** Whether the server has more rows after these. */
  hasMore: boolean;
  loadingMore: boolean;
  /** The last "load more" failure (the rows loaded stay). */
  moreError: unknown;
  loadMore: () => void;
  /** Loads the first page again (after a change the page made, or on Retry). */
  reload: () => void;
}

/**
 * Pages through a list with the server's page tokens. `key` names the query; when it changes the
 * list starts over and answers for the old query are dropped, so a slow old page cannot land in
 * a new list.
 */
export function usePaged<T>(
  key: string,
  load: (pageToken: string | undefined, signal: AbortSignal) => Promise<Page<T>>,
): Paged<T> {
  const [state, setState] = useState<{ key: string; rows: T[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    setMoreError(null);
    loadRef.current(undefined, ac.signal).then(
      (page) => !ac.signal.aborted && setState({ key, rows: page.items, next: page.nextPageToken }),
      (err: unknown) => !ac.signal.aborted && setError(err),
    );
    return () => ac.abort();
  }, [key, attempt]);

  const current = state?.key === key ? state : null;
  const loadMore = useCallback(() => {
    if (!current?.next || loadingMore) return;
    const at = current;
    setLoadingMore(true);
    setMoreError(null);
    loadRef
      .current(at.next ?? undefined, new AbortController().signal)
      .then(
        (page) =>
          setState((s) =>
            s && s.key === at.key && s.next === at.next
              ? { key: s.key, rows: [...s.rows, ...page.items], next: page.nextPageToken }
              : s,
          ),
        (err: unknown) => setMoreError(err),
      )
      .finally(() => setLoadingMore(false));
  }, [current, loadingMore]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return {
    rows: current?.rows ?? null,
    error,
    hasMore: Boolean(current?.next),
    loadingMore,
    moreError,
    loadMore,
    reload,
  };
}
