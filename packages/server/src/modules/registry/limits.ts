import { InputError } from '../../core/errors.js';
import type { ModelStage, RiskTier } from '../../db/schema.js';
import { posixNormpath, validateKey } from '../tracking/limits.js';

/*
 * The registry's name rules and limits: MLflow's (mlflow/utils/validation.py) where it has them, and
 * bounds of our own where it has none (name and description lengths, tags per request), so that no
 * request can store an unbounded value.
 */
export const REGISTRY_LIMITS = {
  /** MLflow's SQL schema stores names in 256 characters. */
  nameLength: 256,
  /** MLflow sets none; bounded so a description cannot grow a row without limit. */
  descriptionLength: 100_000,
  tagKeyLength: 250,
  tagValueLength: 100_000,
  aliasLength: 255,
  /** Tags given with a create call. */
  tagsPerRequest: 100,
  sourceLength: 4096,
  runLinkLength: 4096,
  /** Files of one model version; more is refused (each is read and hashed at registration). */
  filesPerVersion: 10_000,
  /** The MLmodel file is read whole. */
  mlmodelBytes: 1024 * 1024,
} as const;

export const RISK_TIERS = ['low', 'critical'] as const satisfies readonly RiskTier[];
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const satisfies readonly ModelStage[];
/** Stages that archive_existing_versions may be used with (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly ModelStage[] = ['Staging', 'Production'];

const missing = (path: string) => new InputError(`Missing value for required parameter '${path}'.`, path);

/**
 * A registered model name, by MLflow's rule (not blank, no `/` or `:`, nothing a file system would
 * read as another name) plus ours: at most 256 characters, no control characters (names show up
 * in URLs, logs and the portal). Unicode letters and spaces are welcome.
 */
export function validateModelName(name: unknown, path = 'name'): string {
  if (name === undefined || name === null || (typeof name === 'string' && name.trim() === '')) throw missing(path);
  if (typeof name !== 'string') {
    throw new InputError(`Invalid value ${JSON.stringify(name)} for parameter '${path}': expected a string`, path);
  }
  if (name.includes('/') || name.includes(':')) {
    throw new InputError(`Invalid model name '${name}'. Names cannot contain '/' or ':'.`, path);
  }
  if (name.length > REGISTRY_LIMITS.nameLength) {
    throw new InputError(
      `Invalid model name: it has ${name.length} characters; at most ${REGISTRY_LIMITS.nameLength} are allowed`,
      path,
    );
  }
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name)) {
    throw new InputError('Invalid model name: control characters are not allowed', path);
  }
  const norm = posixNormpath(name);
  if (norm !== name || norm === '.' || norm.startsWith('..')) {
    throw new InputError(
      `Invalid value ${JSON.stringify(name)} for parameter '${path}' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
      path,
    );
  }
  return name;
}

/** A description: free text (line breaks welcome), bounded, no NUL (PostgreSQL cannot store it). */
export function validateDescription(value: unknown, path = 'description'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new InputError(`Invalid value ${JSON.stringify(value)} for parameter '${path}': expected a string`, path);
  }
  if (value.length > REGISTRY_LIMITS.descriptionLength) {
    throw new InputError(
      `'${path}' exceeds the maximum length of ${REGISTRY_LIMITS.descriptionLength} characters (got ${value.length})`,
      path,
    );
  }
  if (value.includes('\u0000')) throw new InputError(`'${path}' has a NUL character, which cannot be stored`, path);
  return value;
}

/** A registered model or model version tag: MLflow's key rule and its 100,000-character value limit. */
export function validateTag(key: unknown, value: unknown): { key: string; value: string } {
  const k = validateKey('tag', key);
  if (value === undefined || value === null) value = '';
  if (typeof value !== 'string') throw new InputError(`Tag '${k}' must have a string value`, 'value');
  if (value.length > REGISTRY_LIMITS.tagValueLength) {
    throw new InputError(
      `'value' exceeds the maximum length of ${REGISTRY_LIMITS.tagValueLength} characters (tag '${k}', got ${value.length})`,
      'value',
    );
  }
  if (value.includes('\u0000')) throw new InputError(`Tag '${k}' has a NUL character in its value`, 'value');
  return { key: k, value };
}

/** Tags of a create call: at most 100, the last value of a repeated key wins (as in MLflow). */
export function validateTags(tags: unknown): { key: string; value: string }[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags)) throw new InputError("Invalid value for parameter 'tags': expected a list", 'tags');
  if (tags.length > REGISTRY_LIMITS.tagsPerRequest) {
    throw new InputError(`At most ${REGISTRY_LIMITS.tagsPerRequest} tags may be given at once`, 'tags');
  }
  const out = new Map<string, string>();
  for (const t of tags) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      throw new InputError("Invalid value for parameter 'tags': expected a list of {key, value} objects", 'tags');
    }
    const { key, value } = validateTag((t as { key?: unknown }).key, (t as { value?: unknown }).value);
    out.set(key, value);
  }
  return [...out].map(([key, value]) => ({ key, value }));
}

/**
 * A version number as MLflow parses one (`int(version)`): a positive integer, given as a number or
 * a string of digits.
 */
export function parseVersion(value: unknown, path = 'version'): number {
  if (value === undefined || value === null || value === '') throw missing(path);
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`Parameter '${path}' must be an integer, got '${String(value)}'.`, path);
  }
  return n;
}

/** An alias name: MLflow's rule (letters, digits, `_`, `-`; at most 255). */
export function validateAlias(alias: unknown, reservedCheck: boolean): string {
  if (alias === undefined || alias === null || alias === '') {
    throw new InputError('Registered model alias name cannot be empty.', 'alias');
  }
  if (typeof alias !== 'string' || !/^[\p{L}\p{N}_-]*$/u.test(alias)) {
    throw new InputError(
      `Invalid alias name: '${String(alias)}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
      'alias',
    );
  }
  if (alias.length > REGISTRY_LIMITS.aliasLength) {
    throw new InputError(
      `'Registered model alias name' exceeds the maximum length of ${REGISTRY_LIMITS.aliasLength} characters`,
      'alias',
    );
  }
  if (reservedCheck) {
    if (alias.toLowerCase() === 'latest') {
      throw new InputError("'latest' alias name (case insensitive) is reserved.", 'alias');
    }
    if (/^[vV]\d+$/.test(alias)) throw new InputError(`Version alias name '${alias}' is reserved.`, 'alias');
  }
  return alias;
}

/** A stage name in any case, as MLflow's get_canonical_stage reads it. */
export function canonicalStage(stage: unknown): ModelStage {
  const found = typeof stage === 'string' ? STAGES.find((s) => s.toLowerCase() === stage.toLowerCase()) : undefined;
  if (!found) {
    throw new InputError(
      `Invalid Model Version stage: ${String(stage)}. Value must be one of ${STAGES.join(', ')}.`,
      'stage',
    );
  }
  return found;
}

export function validateRiskTier(value: unknown): RiskTier {
  if (typeof value !== 'string' || !(RISK_TIERS as readonly string[]).includes(value)) {
    throw new InputError(`riskTier must be one of ${RISK_TIERS.join(', ')}`, 'riskTier');
  }
  return value as RiskTier;
}

/** An optional short string field (run_id, model_id, run_link). */
export function optionalString(value: unknown, path: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    throw new InputError(`Invalid value ${JSON.stringify(value)} for parameter '${path}': expected a string`, path);
  }
  if (value.length > max) throw new InputError(`'${path}' exceeds the maximum length of ${max} characters`, path);
  if (value.includes('\u0000')) throw new InputError(`'${path}' has a NUL character`, path);
  return value;
}
