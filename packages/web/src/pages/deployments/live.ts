// Live data for the deployment pages: what they show (traffic, canary progress, predictions) moves
// by itself, so they poll while someone is looking and stop while the tab is hidden.
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import { sleep, type Resource } from '../../hooks.js';

/** How often a visible page asks again. */
export const LIVE_POLL_MS = 2000;

/** Resolves once the document is visible (at once if it is), or when the signal aborts. */
function visible(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!document.hidden || signal.aborted) return resolve();
    const done = () => {
      document.removeEventListener('visibilitychange', onChange);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const onChange = () => {
      if (!document.hidden) done();
    };
    document.addEventListener('visibilitychange', onChange);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Like `useResource`, and then again every `intervalMs` while the tab is visible (a hidden tab
 * waits until it is shown, then loads at once). Each load waits for the previous one, so a slow
 * server is never asked twice at a time. A failed refresh keeps the last data and reports the
 * error until the next success; `reload()` loads now (after the page changed something). Changing
 * `deps` starts over: the request under way is aborted and its answer dropped.
 */
export function useLive<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
  intervalMs = LIVE_POLL_MS,
): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const depsKey = useRef<DependencyList | null>(null);

  useEffect(() => {
    // New deps: what was shown belonged to something else.
    const same =
      depsKey.current !== null &&
      depsKey.current.length === deps.length &&
      deps.every((d, i) => Object.is(d, depsKey.current![i]));
    if (!same) {
      depsKey.current = deps;
      setData(null);
      setError(null);
    }
    const ac = new AbortController();
    const run = async () => {
      while (!ac.signal.aborted) {
        try {
          const value = await loadRef.current(ac.signal);
          if (ac.signal.aborted) return;
          setData(value);
          setError(null);
        } catch (err) {
          if (ac.signal.aborted) return;
          setError(err);
        }
        await sleep(intervalMs, ac.signal);
        await visible(ac.signal);
      }
    };
    void run();
    return () => ac.abort();
    // `load` is a fresh closure every render; `deps` say when it means something new.
  }, [...deps, attempt, intervalMs]);

  return { data, error, reload };
}
