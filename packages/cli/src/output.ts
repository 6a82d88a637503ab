/** Where a command writes; `json` says whether stdout must be machine-readable. */
export interface OutputStreams {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

// Values come from the server (job kinds, error messages); control characters in them must not
// reach the terminal, where they could move the cursor or hide text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Makes a value safe and one-line for a table cell. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/\r?\n/g, ' ').replace(CONTROL, '?');
}

/**
 * Lays rows out as aligned columns under upper-case headers, two spaces apart, without trailing
 * blanks. Every line ends with a newline.
 */
export function formatTable(headers: string[], rows: unknown[][]): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => headers.map((_h, i) => cell(r[i])))];
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** Aligned `key: value` lines for one record, keys padded to the longest. */
export function formatKeyValues(pairs: [string, unknown][]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cell(v)}\n`).join('');
}

/** Pretty JSON with a trailing newline, the form every `--json` output takes. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A short human duration: 850ms, 12.3s, 4m05s, 2h07m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO timestamp to the second, in UTC, e.g. `2025-01-31 14:05:09Z`; `-` for null. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A byte count with a binary unit: 512 B, 1.5 KiB, 3.2 MiB. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The single place commands write results: JSON on stdout with `--json`, text for people
 * otherwise; notes and progress always go to stderr so stdout stays pipeable.
 */
export class Output {
  constructor(
    private readonly streams: OutputStreams,
    readonly json: boolean,
  ) {}

  /** Writes `value` as JSON in --json mode, else the text `human()` builds. */
  result(value: unknown, human: () => string): void {
    this.streams.stdout.write(this.json ? formatJson(value) : human());
  }

  /** Raw text to stdout (job logs). */
  write(text: string): void {
    this.streams.stdout.write(text);
  }

  /** A note for people, on stderr. */
  note(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }

  /** Raw text to stderr (job logs while stdout carries JSON). */
  writeErr(text: string): void {
    this.streams.stderr.write(text);
  }
}
