import { Link } from '../router.js';

export interface TabNavItem {
  to: string;
  label: string;
  /** Whether the item is the current one (a prefix match is usually right: /admin/teams/x). */
  active: boolean;
}

/**
 * A row of links styled as tabs, for the sub-pages of an area. They are links, not ARIA tabs:
 * each has its own URL, so the browser's history and "open in new tab" work.
 */
export function TabNav({ label, items }: { label: string; items: readonly TabNavItem[] }) {
  return (
    <nav className="tab-nav" aria-label={label}>
      {items.map((it) => (
        <Link
          key={it.to}
          to={it.to}
          className={it.active ? 'tab-link active' : 'tab-link'}
          aria-current={it.active ? 'page' : undefined}
        >
          {it.label}
        </Link>
      ))}
    </nav>
  );
}
