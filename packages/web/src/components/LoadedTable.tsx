import type { ReactNode } from 'react';
import { Button } from './Button.js';
import { ErrorBanner } from './ErrorBanner.js';
import { LoadingBlock } from './Spinner.js';
import { Table, type TableProps } from './Table.js';

export interface LoadedTableProps<T> extends Omit<TableProps<T>, 'rows'> {
  /** The rows loaded so far; null until the first answer. */
  rows: readonly T[] | null;
  /** The last load's failure, shown above the rows (a failed reload keeps the rows on screen). */
  error: unknown;
  /** What failed, e.g. "Could not load teams". */
  errorTitle: string;
  onRetry: () => void;
  /** What is loading, until the first answer: "Loading teams…". */
  loadingLabel: string;
  /** Below the rows once there are some: "Load more", its error. */
  children?: ReactNode;
}

/**
 * A table of rows the page loads, in a flush card: a spinner until the first answer, the error
 * with Retry when a load fails, and the last rows kept while a reload runs or fails, so the
 * table does not blank.
 */
export function LoadedTable<T>({
  rows,
  error,
  errorTitle,
  onRetry,
  loadingLabel,
  children,
  ...table
}: LoadedTableProps<T>) {
  return (
    <>
      {error !== null && (
        <div className="card-pad">
          <ErrorBanner error={error} title={errorTitle} onRetry={onRetry} />
        </div>
      )}
      {rows ? (
        <>
          <Table {...table} rows={rows} />
          {children}
        </>
      ) : (
        error === null && <LoadingBlock label={loadingLabel} />
      )}
    </>
  );
}

/** The footer of a cursor-paged table while there is a next page. */
export function LoadMore({ loading, onLoadMore }: { loading: boolean; onLoadMore: () => void }) {
  return (
    <div className="table-footer">
      <Button onClick={onLoadMore} loading={loading}>
        Load more
      </Button>
    </div>
  );
}
