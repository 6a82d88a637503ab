import { cell, formatBytes, formatDuration } from './output.js';

/** Where a progress bar draws: a terminal stream (process.stderr) or a test double. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Bytes expected in all; the bar shows a percentage and an ETA when this is known. */
  total: number | null;
  /** What is moving, e.g. a file name or `3/10 files`. */
  label: string;
  /** The clock (ms); tests inject one. */
  now?: () => number;
  /** Nothing is drawn before this much time has passed, so quick transfers stay quiet. Default 400 ms. */
  delayMs?: number;
  /** At most one redraw per this many ms. Default 100 ms. */
  intervalMs?: number;
}

/** How far back the rate looks, so it follows the current speed rather than the average. */
const RATE_WINDOW_MS = 5000;

/** `1.5 MiB/s`, or `-` before anything could be measured. */
export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null || !Number.isFinite(bytesPerSecond)) return '-';
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/**
 * A one-line progress bar for byte transfers, redrawn in place on a terminal:
 *
 *     model.onnx  [##########--------------]  42%  10.5 MiB / 25.0 MiB  8.1 MiB/s  ETA 2s
 *
 * It draws only on a TTY, only after `delayMs` (a transfer that ends sooner draws nothing) and at
 * most every `intervalMs`; {@link ProgressBar.done} erases it, leaving the terminal as it was, so
 * a summary printed afterwards starts on a clean line. On anything but a TTY it does nothing.
 */
export class ProgressBar {
  private bytes = 0;
  private label: string;
  private total: number | null;
  private readonly start: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly samples: { t: number; bytes: number }[] = [];
  private readonly now: () => number;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.delayMs = options.delayMs ?? 400;
    this.intervalMs = options.intervalMs ?? 100;
    this.label = options.label;
    this.total = options.total;
    this.start = this.now();
    this.enabled = stream.isTTY === true;
    this.samples.push({ t: this.start, bytes: 0 });
  }

  /** Counts `n` more bytes (and optionally changes the label), redrawing when it is time to. */
  add(n: number, label?: string): void {
    this.bytes += n;
    if (label !== undefined) this.label = label;
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.start < this.delayMs || t - this.lastDraw < this.intervalMs) return;
    this.samples.push({ t, bytes: this.bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift();
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r${this.render(t)}\u001b[K`);
  }

  /**
   * Counts `n` bytes that were there already (the part of a file a resumed download keeps), so
   * they advance the bar without inflating the rate.
   */
  skip(n: number): void {
    this.bytes += n;
    for (const s of this.samples) s.bytes += n;
  }

  /** Changes the label without counting bytes. */
  setLabel(label: string): void {
    this.add(0, label);
  }

  /** Bytes counted so far. */
  get transferred(): number {
    return this.bytes;
  }

  /** Erases the bar (if it was drawn). */
  done(): void {
    if (this.drawn) this.stream.write('\r\u001b[K');
    this.drawn = false;
  }

  /** The line for time `t`, fitted to the terminal's width. */
  render(t: number = this.now()): string {
    const first = this.samples[0]!;
    const span = (t - first.t) / 1000;
    const rate = span > 0 ? (this.bytes - first.bytes) / span : null;
    const total = this.total;
    const counts = total === null ? formatBytes(this.bytes) : `${formatBytes(this.bytes)} / ${formatBytes(total)}`;
    const parts = [counts, formatRate(rate)];
    if (total !== null && rate !== null && rate > 0 && this.bytes < total) {
      parts.push(`ETA ${formatDuration(((total - this.bytes) / rate) * 1000)}`);
    }
    const pct =
      total === null
        ? ''
        : `  ${String(Math.floor(total > 0 ? (Math.min(this.bytes, total) / total) * 100 : 100)).padStart(3)}%`;
    // Names come from the server or the file system: no control characters on the terminal.
    const name = cell(this.label);
    const columns = this.stream.columns ?? 0;
    const width = columns > 0 ? columns - 1 : 79;
    // The counts matter most, then the name (16 characters of it), the rate, the ETA, and the bar.
    while (parts.length > 1 && width - pct.length - `  ${parts.join('  ')}`.length < Math.min(name.length, 16)) {
      parts.pop();
    }
    const tail = `  ${parts.join('  ')}`;
    const spare = width - Math.min(name.length, 24) - pct.length - tail.length - 4;
    const barWidth = total === null || spare < 10 ? 0 : Math.min(30, spare);
    const bar =
      barWidth === 0
        ? ''
        : `  [${'#'.repeat(Math.round((barWidth * Math.min(this.bytes, total!)) / Math.max(total!, 1))).padEnd(barWidth, '-')}]`;
    const room = Math.max(8, width - bar.length - pct.length - tail.length);
    const label = name.length > room ? `…${name.slice(name.length - room + 1)}` : name;
    return `${label}${bar}${pct}${tail}`.slice(0, width);
  }
}
