import { formatDateTime, formatShortDateTime } from '../format.js';
import type { Column } from './Table.js';

/** A timestamp in a table cell: short, with the full date and time on hover. */
export function ShortDateTime({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatShortDateTime(iso)}
    </time>
  );
}

/** A table column of one timestamp per row ("Created", "Added"), as `ShortDateTime`. */
export function timeColumn<T>(key: string, header: string, iso: (row: T) => string, width = '11.5rem'): Column<T> {
  return { key, header, width, render: (row) => <ShortDateTime iso={iso(row)} /> };
}
