// Display formatting shared by the pages. Missing values render as an em dash so an empty cell
// reads as "not known (yet)" rather than zero.
import type { Job } from '@hangar/sdk';

export const NONE = '—';

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const dateOnly = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** The day of a timestamp, e.g. "Mar 4, 2026" (the full form goes in a tooltip). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return NONE;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateOnly.format(t);
}

/** A timestamp in the viewer's locale and time zone, e.g. "Mar 4, 2026, 14:05:09". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return NONE;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(t);
}

/** The same without the year, for table cells (the full form goes in a tooltip). */
export function formatShortDateTime(iso: string | null | undefined): string {
  if (!iso) return NONE;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : shortDateTime.format(t);
}

/** Seconds as "850 ms", "4.2 s", "3 m 05 s" or "2 h 07 m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return NONE;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}

/** Bytes in binary units: "512 B", "3.4 KiB", "120 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** CPU seconds with two decimals (short jobs use fractions of a second). */
export function formatCpuSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  return seconds.toFixed(2);
}

export const ACTIVE_STATES: ReadonlySet<Job['state']> = new Set(['queued', 'running']);

export function isActive(job: Pick<Job, 'state'>): boolean {
  return ACTIVE_STATES.has(job.state);
}

/**
 * How long a job ran: the worker's wall-clock figure once it has one, otherwise start to finish,
 * or start to now while it is still running.
 */
export function jobDurationSeconds(job: Job, now = Date.now()): number | null {
  if (job.usage.wallSeconds !== null) return job.usage.wallSeconds;
  if (!job.startedAt) return null;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : job.state === 'running' ? now : null;
  return end === null ? null : Math.max(0, (end - Date.parse(job.startedAt)) / 1000);
}

/** Pretty JSON for payloads and results; strings are shown as they are. */
export function formatJson(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
