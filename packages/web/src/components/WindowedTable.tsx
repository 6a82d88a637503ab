import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { Column } from './Table.js';

export interface WindowedColumn<T> extends Column<T> {
  /** Its header is a button that sorts by it (`onSort`). */
  sortable?: boolean;
  /** A heading above a run of adjacent columns ("Metrics", "Parameters"). */
  group?: string;
  /** The full header text when `header` is cut short (tooltips, screen readers). */
  title?: string;
}

export interface TableSort {
  column: string;
  ascending: boolean;
}

export interface WindowedTableProps<T> {
  columns: WindowedColumn<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  caption: string;
  empty?: ReactNode;
  rowAttributes?: (row: T) => Record<string, string>;
  sort?: TableSort | null;
  onSort?: (column: string) => void;
  /** Called when the reader scrolls near the last loaded row (to load the next page). */
  onNearEnd?: () => void;
  'data-testid'?: string;
}

/** Rows rendered above and below the visible ones, so fast scrolling does not show blanks. */
const OVERSCAN = 12;
/** How close to the end (in rows) `onNearEnd` fires. */
const NEAR_END = 30;
/** Until a row has been measured; the table's rows are one line high. */
const DEFAULT_ROW_HEIGHT = 41;
const UNSIZED_COLUMN = '10rem';

/**
 * A table that renders only the rows in view (plus a margin) inside its own scroll area, with a
 * sticky header: thousands of loaded rows cost what forty do. Rows are one line high (cells clip
 * with an ellipsis), which is what lets it place them without measuring each. Sortable columns
 * get a header button and `aria-sort`; the row count and each row's position are exposed to
 * assistive technology, since most rows are not in the DOM.
 */
export function WindowedTable<T>({
  columns,
  rows,
  rowKey,
  caption,
  empty = 'Nothing here yet.',
  rowAttributes,
  sort,
  onSort,
  onNearEnd,
  'data-testid': testId,
}: WindowedTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [rowHeight, setRowHeight] = useState(DEFAULT_ROW_HEIGHT);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    setViewport(el.clientHeight);
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Measure a real row once there is one: the CSS decides the height, not this file.
  const hasRows = rows.length > 0;
  useLayoutEffect(() => {
    const tr = bodyRef.current?.querySelector<HTMLTableRowElement>('tr[data-row]');
    if (tr) {
      const h = tr.getBoundingClientRect().height;
      if (h > 0 && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
    }
  }, [hasRows, rowHeight]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const lastVisible = Math.min(rows.length, Math.ceil((scrollTop + viewport) / rowHeight));
  const last = Math.min(rows.length, lastVisible + OVERSCAN);

  const nearEnd = rows.length > 0 && rows.length - lastVisible < NEAR_END;
  const onNearEndRef = useRef(onNearEnd);
  useEffect(() => {
    onNearEndRef.current = onNearEnd;
  }, [onNearEnd]);
  useEffect(() => {
    if (nearEnd) onNearEndRef.current?.();
  }, [nearEnd, rows.length]);

  const groups: { name: string; span: number; key: string }[] = [];
  const grouped = columns.some((c) => c.group);
  if (grouped) {
    for (const c of columns) {
      const name = c.group ?? '';
      const prev = groups[groups.length - 1];
      if (prev && prev.name === name) prev.span++;
      else groups.push({ name, span: 1, key: c.key });
    }
  }
  const minWidth = `calc(${columns.map((c) => c.width ?? UNSIZED_COLUMN).join(' + ')})`;

  return (
    <div
      className="vtable-scroll"
      ref={scrollRef}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      data-testid={testId}
      // Keyboard users scroll it too.
      tabIndex={0}
      role="region"
      aria-label={caption}
    >
      <table className="table vtable" style={{ minWidth }} aria-rowcount={rows.length + (grouped ? 2 : 1)}>
        <caption className="visually-hidden">{caption}</caption>
        <colgroup>
          {columns.map((c) => (
            <col key={c.key} style={{ width: c.width ?? UNSIZED_COLUMN }} />
          ))}
        </colgroup>
        <thead>
          {grouped && (
            <tr className="vtable-groups">
              {groups.map((g) => (
                <th key={g.key} colSpan={g.span} scope="colgroup" className={g.name ? 'vtable-group' : undefined}>
                  {g.name}
                </th>
              ))}
            </tr>
          )}
          <tr>
            {columns.map((c) => {
              const sorted = sort?.column === c.key ? sort : null;
              return (
                <th
                  key={c.key}
                  scope="col"
                  className={c.align === 'right' ? 'num' : undefined}
                  title={c.title}
                  aria-sort={sorted ? (sorted.ascending ? 'ascending' : 'descending') : undefined}
                  data-col={c.key}
                >
                  {c.sortable && onSort ? (
                    <button type="button" className="th-sort" onClick={() => onSort(c.key)}>
                      <span className="th-sort-label">{c.header}</span>
                      <span className="th-sort-mark" aria-hidden="true">
                        {sorted ? (sorted.ascending ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={bodyRef}>
          {rows.length === 0 ? (
            <tr>
              <td className="table-empty" colSpan={columns.length}>
                {empty}
              </td>
            </tr>
          ) : (
            <>
              {first > 0 && (
                <tr className="vtable-spacer" aria-hidden="true">
                  <td colSpan={columns.length} style={{ height: first * rowHeight }} />
                </tr>
              )}
              {rows.slice(first, last).map((row, i) => (
                <tr
                  key={rowKey(row)}
                  data-row=""
                  aria-rowindex={first + i + (grouped ? 3 : 2)}
                  {...rowAttributes?.(row)}
                >
                  {columns.map((c) => (
                    <td
                      key={c.key}
                      data-col={c.key}
                      className={
                        [c.align === 'right' ? 'num' : '', c.mono ? 'mono' : '', c.actions ? 'cell-actions' : '']
                          .filter(Boolean)
                          .join(' ') || undefined
                      }
                    >
                      {c.render(row)}
                    </td>
                  ))}
                </tr>
              ))}
              {last < rows.length && (
                <tr className="vtable-spacer" aria-hidden="true">
                  <td colSpan={columns.length} style={{ height: (rows.length - last) * rowHeight }} />
                </tr>
              )}
            </>
          )}
        </tbody>
      </table>
    </div>
  );
}
