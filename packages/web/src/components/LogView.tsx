import { useLayoutEffect, useRef, type ReactNode } from 'react';

export interface LogChunk {
  id: number;
  attempt: number;
  stream: string;
  data: string;
}

export interface LogViewProps {
  chunks: readonly LogChunk[];
  /** Shown when there are no chunks, e.g. "Waiting for output…". */
  empty: ReactNode;
  label: string;
}

/**
 * A job's output as a terminal-like block: stderr and system lines tinted, a divider where a new
 * attempt starts. It sticks to the bottom while new output arrives, unless the reader has scrolled
 * up to read something, in which case it stays put.
 */
export function LogView({ chunks, empty, label }: LogViewProps) {
  const ref = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [chunks]);

  const onScroll = () => {
    const el = ref.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };

  const parts: ReactNode[] = [];
  let attempt: number | null = null;
  for (const c of chunks) {
    if (attempt !== null && c.attempt !== attempt) {
      parts.push(
        <span key={`attempt-${c.id}`} className="log-divider">
          {`── attempt ${c.attempt} ──\n`}
        </span>,
      );
    }
    attempt = c.attempt;
    parts.push(
      <span key={c.id} className={`log-${c.stream === 'stdout' ? 'out' : c.stream === 'stderr' ? 'err' : 'sys'}`}>
        {c.data}
      </span>,
    );
  }

  return (
    // Focusable so keyboard users can scroll it; not a live region (it would read every line aloud).
    <pre className="log" ref={ref} onScroll={onScroll} tabIndex={0} aria-label={label} data-testid="job-log">
      {parts.length ? parts : <span className="log-empty">{empty}</span>}
    </pre>
  );
}
