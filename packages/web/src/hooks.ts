// Small React helpers shared by the pages.
import { useCallback, useEffect, useState, type DependencyList } from 'react';

/** Sets the browser tab's title while the page is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Hangar` : 'Hangar';
  }, [title]);
}

/**
 * The current time, re-read every `intervalMs` while `enabled` (running jobs show a duration that
 * grows); a constant otherwise, so idle pages do not re-render.
 */
export function useNow(enabled: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const t = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(t);
  }, [enabled, intervalMs]);
  return now;
}

/** Resolves after `ms`, or at once when the signal aborts (callers check the signal afterwards). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = window.setTimeout(done, ms);
    function done() {
      window.clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface Resource<T> {
  /** The last successful answer; kept while a reload is under way, so tables do not blank. */
  data: T | null;
  /** The last failure, cleared by the next success. */
  error: unknown;
  /** Loads again (after a change the page made, or on Retry). */
  reload: () => void;
}

/**
 * Loads something for a page and reloads it when `deps` change or `reload()` is called. The
 * request of a superseded load is aborted and its answer ignored, so a slow old answer cannot
 * overwrite a newer one.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  useEffect(() => {
    const ac = new AbortController();
    load(ac.signal).then(
      (value) => {
        if (ac.signal.aborted) return;
        setData(value);
        setError(null);
      },
      (err: unknown) => {
        if (!ac.signal.aborted) setError(err);
      },
    );
    return () => ac.abort();
    // `load` is a fresh closure every render; `deps` say when it means something new.
  }, [...deps, attempt]);
  return { data, error, reload };
}

export interface Action {
  /** True from the start of `run` until its action settles. */
  busy: boolean;
  /** The last failure of the action, cleared when it runs again; the form shows it. */
  error: unknown;
  /** Runs `action` once, catching its failure into `error` (dialogs stay open to show it). */
  run: (action: () => Promise<void>) => Promise<void>;
}

/**
 * The state of a user's action that calls the server (a dialog's submit or confirm): progress for
 * the button, which also keeps the dialog from being dismissed meanwhile, and the failure to show
 * while the dialog stays open for another try.
 */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/**
 * Whether the element has come near the viewport (within `margin`); stays true once it has. Lets
 * a page of many charts load each one's data only when the reader gets to it.
 */
export function useSeen<E extends Element>(margin = '200px'): [(el: E | null) => void, boolean] {
  const [seen, setSeen] = useState(false);
  const [el, setEl] = useState<E | null>(null);
  useEffect(() => {
    if (!el || seen) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setSeen(true);
      },
      { rootMargin: margin },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [el, seen, margin]);
  return [setEl, seen];
}

/** A value kept in localStorage under `key` (JSON), for view choices that should survive a reload. */
export function useStoredState<T>(key: string, initial: T): [T, (next: T) => void] {
  // `initial` is only a default, read when nothing is stored: not a dependency.
  const read = useCallback((): T => {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      // Unavailable storage (privacy modes) or a value from an older version: start over.
      return initial;
    }
  }, [key]);
  const [state, setState] = useState<{ key: string; value: T }>(() => ({ key, value: read() }));
  const value = state.key === key ? state.value : read();
  const set = useCallback(
    (next: T) => {
      setState({ key, value: next });
      try {
        localStorage.setItem(key, JSON.stringify(next));
      } catch {
        // See above: the choice then lasts until the page is left.
      }
    },
    [key],
  );
  return [value, set];
}
