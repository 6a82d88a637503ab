// A tiny client-side router on the History API: the portal has a handful of routes, which does not
// justify a dependency. The server answers every unknown non-API GET with index.html, so deep links
// and reloads land here and are resolved by `matchRoute`.
import {
  useEffect,
  useState,
  useSyncExternalStore,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

const NAVIGATE_EVENT = 'hangar:navigate';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(NAVIGATE_EVENT, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(NAVIGATE_EVENT, listener);
  };
}

// The snapshot is a string so React can compare it cheaply; `useLocation` splits it.
function snapshot(): string {
  return window.location.pathname + window.location.search;
}

export interface Location {
  pathname: string;
  search: URLSearchParams;
  /** pathname + search, as given to `navigate`. */
  href: string;
}

/** The current location; re-renders the caller on every navigation. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { pathname: url.pathname, search: url.searchParams, href };
}

/**
 * Whether the page was opened with `?<flag>` set (e.g. `created=1` from the page that created what
 * this one shows, to announce it once). The flag only carries that announcement: it is dropped from
 * the URL at once, so a reload or a shared link does not repeat it.
 */
export function useOneTimeFlag(flag: string): boolean {
  const { pathname, search } = useLocation();
  const [wasSet] = useState(() => Boolean(search.get(flag)));
  const present = search.get(flag) !== null;
  useEffect(() => {
    if (present) navigate(pathname, { replace: true });
  }, [present, pathname]);
  return wasSet;
}

/** Goes to a path of this app (same origin); `replace` does not add a history entry (redirects). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/**
 * Accepts only a path on this origin (`/jobs/1`), never `//evil.example` or `https://...`, so a
 * crafted `?next=` cannot send a user elsewhere after logging in.
 */
export function safeLocalPath(candidate: string | null | undefined, fallback = '/'): string {
  if (!candidate || !candidate.startsWith('/') || candidate.startsWith('//') || candidate.startsWith('/\\'))
    return fallback;
  return candidate;
}

/**
 * Matches a pattern such as `/jobs/:id` against a pathname; returns the decoded parameters, or
 * null when it does not match. A trailing slash is ignored.
 */
export function matchRoute(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) {
      return null;
    }
  }
  return params;
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: string;
  children: ReactNode;
}

/**
 * An ordinary link (so middle-click, ctrl-click and "copy link" work) that navigates in place on a
 * plain left click.
 */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}

/** Redirects on mount (replacing the history entry); renders nothing. */
export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/**
 * Replaces a fragment-routed link (`/#/experiments/1`, as MLflow's own UI writes them) in the
 * address bar by the portal path `map` gives for its fragment, without a history entry (so Back
 * does not bounce). Returns whether it did; `map` returns null for fragments it does not know
 * (the portal's own `#main`), which are left alone.
 */
export function followHashLink(map: (hash: string) => string | null): boolean {
  const target = map(window.location.hash);
  if (target === null) return false;
  // Drop the fragment first: `navigate` compares paths only, and the target may be this path.
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  navigate(target, { replace: true });
  return true;
}

/**
 * Follows fragment links that arrive while the portal is open: pasting one over the portal's own
 * address changes only the fragment, which does not reload the page.
 */
export function useHashLinks(map: (hash: string) => string | null): void {
  useEffect(() => {
    const follow = () => void followHashLink(map);
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [map]);
}
