import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when the module at `metaUrl` is the script node was started with (not imported by run-all). */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(metaUrl);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const ms = (x: number) => `${x.toFixed(0)} ms`;
/** Megabytes of 10^6 bytes, the unit the targets are stated in. */
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
export const num = (x: number) => Math.round(x).toLocaleString('en-US');
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

export function heading(title: string): void {
  process.stdout.write(`\n=== ${title} ===\n`);
}

/** Prints rows as aligned columns; the first row is the header. */
export function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows)
    process.stdout.write(`${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);
}

/** Targets are reported, never enforced: a benchmark is not a test and exits 0 either way. */
export function target(what: string, met: boolean, detail: string): void {
  process.stdout.write(`target ${what}: ${met ? 'MET' : 'MISSED'} (${detail})\n`);
}

export function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}
