import type { OutputSink, OutputStream } from './types.js';

/** A sink that re-chunks text into whole lines, plus a flush for the unterminated tails. */
export interface LineSplitter {
  sink: OutputSink;
  flush(): void;
}

/**
 * Wraps a per-line callback as an {@link OutputSink}: text is buffered per stream and `onLine`
 * is called once per complete line, without its `\n` (a trailing `\r` is also removed, so
 * CRLF output reads the same). Progress bars that redraw with bare `\r` stay one growing line
 * until their `\n`. Call `flush()` after the run to deliver any last line that lacked a newline.
 */
export function createLineSplitter(onLine: (stream: OutputStream, line: string) => void): LineSplitter {
  const pending = new Map<OutputStream, string>();
  const sink: OutputSink = (stream, chunk) => {
    const parts = ((pending.get(stream) ?? '') + chunk).split('\n');
    pending.set(stream, parts.pop() ?? '');
    for (const line of parts) onLine(stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  const flush = (): void => {
    for (const [stream, rest] of pending) if (rest.length > 0) onLine(stream, rest);
    pending.clear();
  };
  return { sink, flush };
}
