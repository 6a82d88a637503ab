import type { ReactNode } from 'react';

export interface Column<T> {
  /** Stable key for React and a `data-col` attribute (tests and styles find cells by it). */
  key: string;
  header: ReactNode;
  render: (row: T) => ReactNode;
  align?: 'left' | 'right';
  /** A CSS width such as '14rem' or '10%'; unset columns share what is left. */
  width?: string;
  /** Monospaced, for ids and numbers that should line up. */
  mono?: boolean;
  /** Holds buttons: never clipped with an ellipsis (give it a width that fits them). */
  actions?: boolean;
}

export interface TableProps<T> {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** Shown in place of the rows when there are none. */
  empty?: ReactNode;
  /** Names the table for screen readers (visually hidden). */
  caption: string;
  rowAttributes?: (row: T) => Record<string, string>;
}

/** A plain data table: header row, zebra-free rows with hover, numbers right-aligned. */
export function Table<T>({
  columns,
  rows,
  rowKey,
  empty = 'Nothing here yet.',
  caption,
  rowAttributes,
}: TableProps<T>) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <colgroup>
          {columns.map((c) => (
            <col key={c.key} style={c.width ? { width: c.width } : undefined} />
          ))}
        </colgroup>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.align === 'right' ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td className="table-empty" colSpan={columns.length}>
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={rowKey(row)} {...rowAttributes?.(row)}>
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
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
