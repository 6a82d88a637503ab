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
  experimentTagValueLength: 5000,
  runNameLength: 500,
} as const;

const KEY = /^[/\w.\- :]*$/u;

/** Metric, param and tag keys: MLflow's character set, no traversal, at most 250 characters. */
export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new InputError(`Missing value for required ${kind} key`, 'key');
  if (key.length > LIMITS.keyLength) {
    throw new InputError(
      `${cap(kind)} key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`,
      'key',
    );
  }
  // MLflow allows these characters in keys; \w is ASCII-only there, so unicode letters are refused too.
  if (!KEY.test(key) || /[^\x20-\x7e]/.test(key)) {
    throw new InputError(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
      'key',
    );
  }
  if (key.split('/').some((part) => part === '..' || part === '.') || key.startsWith('/')) {
    throw new InputError(
      `Invalid ${kind} name: '${key}'. Names cannot be absolute paths or contain '.' or '..' segments.`,
      'key',
    );
  }
  return key;
}

export function validateValue(kind: 'param' | 'tag', key: string, value: unknown): string {
  if (typeof value !== 'string') throw new InputError(`${cap(kind)} '${key}' must have a string value`, 'value');
  const max = kind === 'param' ? LIMITS.paramValueLength : LIMITS.tagValueLength;
  if (value.length > max) {
    throw new InputError(
      `${cap(kind)} value '${value.slice(0, 50)}...' had length ${value.length}, which exceeded length limit of ${max}`,
      'value',
    );
  }
  return value;
}

/** MLflow clients send NaN and ±Infinity as JSON strings; numbers pass through. */
export function parseMetricValue(key: string, value: unknown): number {
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  if (value === 'NaN' || (typeof value === 'number' && Number.isNaN(value))) return Number.NaN;
  if (value === 'Infinity' || value === 'inf') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity' || value === '-inf') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new InputError(
    `Got invalid value ${JSON.stringify(value)} for metric '${key}' (timestamp and step must be integers, value a number)`,
    'value',
  );
}

export function parseInteger(what: string, value: unknown, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new InputError(`Missing value for required parameter '${what}'`, what);
  }
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new InputError(`Invalid value ${JSON.stringify(value)} for parameter '${what}': expected an integer`, what);
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
