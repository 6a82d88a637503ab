import { InputError } from '../../core/errors.js';

/*
 * MLflow's limits and name rules (mlflow/utils/validation.py), enforced identically for the native
 * API and the MLflow adapter, so code that works against MLflow works here and vice versa.
 */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
  experimentTagValueLength: 20000,
  runNameLength: 500,
} as const;

/*
 * MLflow's name rule is the Python regex ^[/\w.\- :]*$ on a str, where \w is Unicode-aware: letters
 * and digits of any script pass ("précision", "損失"), while emoji, control, format (zero-width,
 * bidi override) and combining characters do not. \p{L}\p{N}_ is the same set in JavaScript.
 */
const KEY = /^[/\p{L}\p{N}_.\- :]*$/u;
const BAD_CHARACTERS =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/** Python's posixpath.normpath, which MLflow uses to refuse names that would resolve to other names. */
export function posixNormpath(p: string): string {
  if (p === '') return '.';
  const lead = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (lead === 0 && out.length === 0) || out[out.length - 1] === '..') out.push(part);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(lead) + out.join('/');
  return joined || '.';
}

/** MLflow's invalid_value(): `Invalid value <json> for parameter '<path>' supplied: <why>`. */
const invalidValue = (path: string, value: unknown, why: string) =>
  `Invalid value ${JSON.stringify(value)} for parameter '${path}' supplied: ${why}`;

/**
 * Metric, param and tag keys, by MLflow's rules: its character set, at most 250 characters, and
 * nothing a file system would read as another name (`..`, `.`, `a//b`, `a/`, a leading `/`), since
 * keys can become file names. `path` names the field in messages (e.g. `metrics[3].key`).
 */
export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown, path = 'key'): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new InputError(`Missing value for required ${kind} key (parameter '${path}')`, 'key');
  if (key.length > LIMITS.keyLength) {
    throw new InputError(
      `${cap(kind)} key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`,
      'key',
    );
  }
  if (!KEY.test(key)) throw new InputError(invalidValue(path, key, BAD_CHARACTERS), 'key');
  const norm = posixNormpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new InputError(
      invalidValue(
        path,
        key,
        `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
      ),
      'key',
    );
  }
  return key;
}

export function validateValue(kind: 'param' | 'tag', key: string, value: unknown): string {
  if (typeof value !== 'string') throw new InputError(`${cap(kind)} '${key}' must have a string value`, 'value');
  // Text columns cannot hold NUL on PostgreSQL; refused on every engine alike.
  if (value.includes('\u0000'))
    throw new InputError(`${cap(kind)} '${key}' has a NUL character in its value, which cannot be stored`, 'value');
  const max = kind === 'param' ? LIMITS.paramValueLength : LIMITS.tagValueLength;
  if (value.length > max) {
    throw new InputError(
      `${cap(kind)} value '${value.slice(0, 50)}...' had length ${value.length}, which exceeded length limit of ${max}`,
      'value',
    );
  }
  return value;
}

/**
 * A metric value as MLflow's server parses a JSON double: a number, or a string Python's float()
 * reads (clients send NaN and ±Infinity as "NaN", "Infinity", "-Infinity"; "inf" and case
 * variants pass there too).
 */
export function parseMetricValue(key: string, value: unknown, path = 'value'): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const special = /^\s*([+-]?)(nan|inf|infinity)\s*$/i.exec(value);
    if (special) {
      if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
      return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw new InputError(
    `${invalidValue(path, value ?? null, `metric '${key}'`)}. Please specify value as a valid double (64-bit floating point)`,
    'value',
  );
}

/**
 * An int64 field as protobuf's JSON reader takes it: an integral number or a string of digits.
 * `min` refuses smaller values (MLflow: timestamps are nonnegative).
 */
export function parseInteger(what: string, value: unknown, fallback?: number, min?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new InputError(`Missing value for required parameter '${what}'`, what);
  }
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new InputError(`Invalid value ${JSON.stringify(value)} for parameter '${what}': expected an integer`, what);
  if (min !== undefined && n < min)
    throw new InputError(
      `Invalid value ${JSON.stringify(value)} for parameter '${what}': must be at least ${min}`,
      what,
    );
  return n;
}

export function validateExperimentName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '')
    throw new InputError('Invalid experiment name: must be a non-empty string', 'name');
  if (name.length > LIMITS.experimentNameLength) {
    throw new InputError(
      `Experiment name exceeds the maximum length of ${LIMITS.experimentNameLength} characters`,
      'name',
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new InputError('Invalid experiment name: control characters are not allowed', 'name');
  return name;
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
