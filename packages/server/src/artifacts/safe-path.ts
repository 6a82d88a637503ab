import { InputError } from '../core/errors.js';

/** Longest path accepted, in UTF-8 bytes (S3's key limit; the S3 backend also counts its prefix). */
export const MAX_ARTIFACT_PATH_BYTES = 1024;
/** Longest path segment, in UTF-8 bytes (NAME_MAX of common filesystems). */
export const MAX_ARTIFACT_SEGMENT_BYTES = 255;
/** Deepest nesting accepted. */
export const MAX_ARTIFACT_PATH_DEPTH = 64;
/** Name prefix of the local backend's in-flight temporary files; reserved in every backend. */
export const TEMP_NAME_PREFIX = '.hangar-tmp-';

/**
 * Characters that render like `.`, `/` or `\` but are not them. Most fold to the ASCII character
 * under NFKC (and are refused by the normalization check below as well); the rest have no
 * decomposition and must be listed. A path that looks like traversal to a person reading a log or a
 * listing is refused even when no filesystem would treat it as one.
 */
const LOOK_ALIKES = new Set([
  // dots
  0x2024, // one dot leader
  0x2025, // two dot leader
  0x2026, // horizontal ellipsis
  0xfe52, // small full stop
  0xff0e, // fullwidth full stop
  0x3002, // ideographic full stop
  0xff61, // halfwidth ideographic full stop
  0x0701, // syriac supralinear full stop
  0x0702, // syriac sublinear full stop
  0xa60e, // vai full stop
  0x10a50, // kharoshthi punctuation dot
  // slashes
  0x2044, // fraction slash
  0x2215, // division slash
  0x2571, // box drawings light diagonal upper right to lower left
  0x27cb, // mathematical rising diagonal
  0x29f8, // big solidus
  0xff0f, // fullwidth solidus
  0x0338, // combining long solidus overlay
  0x0337, // combining short solidus overlay
  // backslashes
  0x2216, // set minus
  0x2572, // box drawings light diagonal upper left to lower right
  0x27cd, // mathematical falling diagonal
  0x29f5, // reverse solidus operator
  0x29f9, // big reverse solidus
  0xfe68, // small reverse solidus
  0xff3c, // fullwidth reverse solidus
]);

// Control (Cc), format (Cf: zero-width, bidi overrides, BOM), lone surrogate (Cs: not encodable as
// UTF-8) and private-use (Co) code points; plus the Unicode line and paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u2028\u2029]/u;
const PERCENT_ESCAPE = /%[0-9a-fA-F]{2}/;
const WINDOWS_DRIVE = /^[A-Za-z]:/;

export interface NormalizeOptions {
  /** Accept '' (the root), for listing. */
  allowRoot?: boolean;
  /** The input's name in errors; `path` by default. */
  field?: string;
}

/**
 * Checks an artifact path and returns it unchanged, or throws an `InputError` naming the path and
 * the rule it broke. Accepted: relative POSIX paths of non-empty segments separated by single `/`.
 * Refused: absolute paths (`/x`, `C:x`), `.` and `..` segments, empty segments (`a//b`, `a/`),
 * backslashes, NUL and other control or invisible characters, percent escapes (`%2e%2e`, `%2f`,
 * `%252e`: the HTTP layer decodes exactly once, so an escape that survives it is an attack on
 * whoever decodes next), characters that look like `.`, `/` or `\`, text that NFC or NFKC
 * normalization would change (so two spellings can never name one file on a normalizing
 * filesystem), lone surrogates, names reserved for temporary files, and paths longer than
 * `MAX_ARTIFACT_PATH_BYTES`, deeper than `MAX_ARTIFACT_PATH_DEPTH` or with a segment longer than
 * `MAX_ARTIFACT_SEGMENT_BYTES`.
 */
export function normalizeArtifactPath(input: unknown, opts: NormalizeOptions = {}): string {
  const field = opts.field ?? 'path';
  if (typeof input !== 'string') throw new InputError(`artifact ${field} must be a string`, field);
  const path = input;
  const refuse = (why: string): never => {
    throw new InputError(`artifact ${field} ${quote(path)} ${why}`, field, { path: clip(path) });
  };
  if (path === '') {
    if (opts.allowRoot) return '';
    refuse('is empty');
  }
  if (Buffer.byteLength(path, 'utf8') > MAX_ARTIFACT_PATH_BYTES) {
    refuse(`is longer than ${MAX_ARTIFACT_PATH_BYTES} bytes`);
  }
  if (path.includes('\0')) refuse('contains a NUL character');
  if (path.startsWith('/')) refuse('is absolute; artifact paths are relative');
  if (WINDOWS_DRIVE.test(path)) refuse('starts with a drive letter; artifact paths are relative');
  if (path.includes('\\')) refuse('contains a backslash; use / to separate segments');
  if (INVISIBLE.test(path)) refuse('contains a control, format or invisible character');
  if (PERCENT_ESCAPE.test(path)) refuse('contains a percent escape; send the decoded path');
  for (const ch of path) {
    const cp = ch.codePointAt(0) ?? 0;
    if (LOOK_ALIKES.has(cp)) {
      refuse(`contains U+${cp.toString(16).toUpperCase().padStart(4, '0')}, which looks like . / or \\`);
    }
  }
  if (path.normalize('NFC') !== path || path.normalize('NFKC') !== path) {
    refuse('is not in Unicode normal form (NFC and NFKC must leave it unchanged)');
  }
  const segments = path.split('/');
  if (segments.length > MAX_ARTIFACT_PATH_DEPTH) refuse(`is deeper than ${MAX_ARTIFACT_PATH_DEPTH} segments`);
  for (const seg of segments) {
    if (seg === '') refuse('has an empty segment (a leading, trailing or doubled /)');
    if (seg === '.' || seg === '..') refuse(`has a ${quote(seg)} segment`);
    if (seg.startsWith(TEMP_NAME_PREFIX)) refuse(`uses the reserved name prefix ${quote(TEMP_NAME_PREFIX)}`);
    if (Buffer.byteLength(seg, 'utf8') > MAX_ARTIFACT_SEGMENT_BYTES) {
      refuse(`has a segment longer than ${MAX_ARTIFACT_SEGMENT_BYTES} bytes`);
    }
  }
  return path;
}

/** Whether `normalizeArtifactPath` accepts `path` (listings skip names the store could not serve). */
export function isSafeArtifactPath(path: string): boolean {
  try {
    normalizeArtifactPath(path);
    return true;
  } catch {
    return false;
  }
}

/** Joins checked paths; either may be '' (the root). */
export function joinArtifactPath(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a}/${b}`;
}

/** The parent directory of a checked path ('' for a top-level name). */
export function parentArtifactPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

// JSON quoting escapes control characters, so a hostile path cannot forge log lines.
function quote(s: string): string {
  return JSON.stringify(clip(s));
}
