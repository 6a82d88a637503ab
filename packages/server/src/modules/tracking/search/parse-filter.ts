import { InputError } from '../../../core/errors.js';
import type {
  DatasetKey,
  ExperimentClause,
  ExperimentNumericAttribute,
  LoggedModelClause,
  LoggedModelNumericAttribute,
  LoggedModelStringAttribute,
  ModelVersionClause,
  ModelVersionStringAttribute,
  NumericComparator,
  RegisteredModelClause,
  RunAttribute,
  NumericRunAttribute,
  RunClause,
  StringComparator,
  StringRunAttribute,
} from './ast.js';
import {
  EXPERIMENT_SEARCH_ATTRIBUTES,
  RUN_SEARCH_ATTRIBUTES,
  pyList,
  pySet,
  resolveExperimentIdent,
  resolveRunIdent,
  type IdentToken,
} from './identifiers.js';
import { keywordOf, tokenize, type Token } from './tokenize.js';

/*
 * MLflow's filter grammar: comparisons joined by AND (no OR, no parentheses), each
 * `identifier comparator value`, `identifier [NOT] IN ('a', 'b')` or `identifier IS [NOT] NULL`.
 * Errors reuse MLflow's wording, so clients and users recognise them.
 */

/** Bounds on what one filter may ask for, so a request cannot build an unbounded statement. */
export const FILTER_LIMITS = {
  /** Characters in a filter string. */
  length: 100_000,
  /** AND-ed comparisons in one filter. */
  clauses: 100,
  /** Values across all IN / NOT IN lists of one filter (each is a bound parameter). */
  listValues: 10_000,
} as const;

const FIELD = 'filter';
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE', 'TRUE', 'FALSE']);

const NUMERIC_COMPARATORS: readonly NumericComparator[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_COMPARATORS: readonly StringComparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_ATTRIBUTE_COMPARATORS = [...STRING_COMPARATORS, 'IN', 'NOT IN'] as const;

type RawValue =
  | { kind: 'number'; value: number; text: string }
  | { kind: 'string'; value: string; text: string }
  /** A bare word, backticked or dotted name where a value belongs: MLflow wants it quoted. */
  | { kind: 'unquoted'; text: string }
  | { kind: 'list'; items: Token[]; text: string };

/** A comparison whose shape is right; what its parts mean is checked per domain. */
interface RawClause {
  ident: IdentToken;
  comparator: string;
  value: RawValue | null;
}

const isIdent = (t: Token | undefined): t is IdentToken => t?.kind === 'ident' && !KEYWORDS.has(keywordOf(t) ?? '');

function invalidClauses(fragments: string[]): InputError {
  return new InputError(`Invalid clause(s) in filter string: ${fragments.map((f) => `'${f}'`).join(', ')}`, FIELD);
}

function valueOf(t: Token): RawValue | null {
  if (t.kind === 'number') return { kind: 'number', value: t.value, text: t.text };
  if (t.kind === 'string') return { kind: 'string', value: t.value, text: t.text };
  if (!isIdent(t)) return null;
  // sqlparse reads "x" as a name; MLflow then accepts it as a double-quoted string value.
  if (t.parts.length === 1 && t.parts[0]!.quote === '"')
    return { kind: 'string', value: t.parts[0]!.text, text: t.text };
  return { kind: 'unquoted', text: t.text };
}

function expectIdentifier(t: Token): IdentToken {
  if (isIdent(t)) return t;
  throw new InputError(`Invalid comparison clause. Expected 'Identifier' found '${t.text}'`, FIELD);
}

/** One AND-separated piece: a comparison, or null when its shape is not one MLflow accepts. */
function shapeOf(tokens: Token[], source: string): RawClause | null {
  const [t0, t1, t2, t3] = tokens;
  const n = tokens.length;
  const k1 = keywordOf(t1);
  if (!t0 || !t1) return null;
  if (n === 3 && (t1.kind === 'op' || k1 === 'LIKE' || k1 === 'ILIKE')) {
    const value = valueOf(t2!);
    if (!value) return null;
    return { ident: expectIdentifier(t0), comparator: t1.kind === 'op' ? t1.text : k1!, value };
  }
  if (k1 === 'IS') {
    if (n === 3 && keywordOf(t2) === 'NULL') return { ident: expectIdentifier(t0), comparator: 'IS NULL', value: null };
    if (n === 4 && keywordOf(t2) === 'NOT' && keywordOf(t3) === 'NULL') {
      return { ident: expectIdentifier(t0), comparator: 'IS NOT NULL', value: null };
    }
    return null;
  }
  const not = k1 === 'NOT';
  const open = not ? 3 : 2;
  if ((k1 === 'IN' || (not && keywordOf(t2) === 'IN')) && tokens[open]?.kind === 'lparen') {
    const last = tokens[n - 1]!;
    if (last.kind !== 'rparen' || n < open + 2) return null;
    const items = tokens.slice(open + 1, n - 1);
    if (items.some((t) => t.kind === 'lparen' || t.kind === 'rparen')) return null;
    const text = source.slice(tokens[open]!.start, last.end);
    return {
      ident: expectIdentifier(t0),
      comparator: not ? 'NOT IN' : 'IN',
      value: { kind: 'list', items, text },
    };
  }
  return null;
}

/** Splits at AND (outside parentheses) and checks every piece's shape, reporting all bad ones. */
function structure(input: string): RawClause[] {
  if (input.length > FILTER_LIMITS.length) {
    throw new InputError(`Filter string is too long (more than ${FILTER_LIMITS.length} characters)`, FIELD);
  }
  // No stored name or value holds NUL, and PostgreSQL cannot even compare a text holding one: a
  // filter with NUL is refused here, where the database would fail with a 5xx.
  if (input.includes('\u0000')) throw new InputError('Filter string contains a NUL character', FIELD);
  const tokens = tokenize(input);
  const semi = tokens.findIndex((t) => t.kind === 'semicolon');
  if (semi >= 0 && tokens.slice(semi + 1).some((t) => t.kind !== 'semicolon')) {
    throw new InputError(
      `Search filter contained multiple expression '${input}'. Provide AND-ed expression list.`,
      FIELD,
    );
  }
  const segments: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'lparen') depth++;
    if (t.kind === 'rparen') depth = Math.max(0, depth - 1);
    if (depth === 0 && keywordOf(t) === 'AND') segments.push([]);
    else segments.at(-1)!.push(t);
  }
  const clauses: RawClause[] = [];
  const invalid: string[] = [];
  const text = (ts: Token[]) => input.slice(ts[0]!.start, ts.at(-1)!.end);
  for (const segment of segments) {
    if (segment.length === 0) {
      invalid.push('AND');
      continue;
    }
    // `a OR b`: each OR is an invalid clause of its own (as in MLflow), and so is any bad side.
    const pieces: Token[][] = [[]];
    for (const t of segment) {
      if (keywordOf(t) === 'OR') {
        invalid.push(t.text);
        pieces.push([]);
      } else pieces.at(-1)!.push(t);
    }
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      const clause = shapeOf(piece, input);
      if (clause) clauses.push(clause);
      else invalid.push(text(piece));
    }
  }
  if (invalid.length > 0) throw invalidClauses(invalid);
  if (clauses.length > FILTER_LIMITS.clauses) {
    throw new InputError(`Filter has ${clauses.length} clauses; at most ${FILTER_LIMITS.clauses} are allowed`, FIELD);
  }
  const listValues = clauses.reduce(
    (n, c) => n + (c.value?.kind === 'list' ? c.value.items.filter((t) => t.kind !== 'comma').length : 0),
    0,
  );
  if (listValues > FILTER_LIMITS.listValues) {
    throw new InputError(`Filter lists hold more than ${FILTER_LIMITS.listValues} values in all`, FIELD);
  }
  return clauses;
}

function checkComparator<C extends string>(comparator: string, valid: readonly C[]): C {
  if ((valid as readonly string[]).includes(comparator)) return comparator as C;
  throw new InputError(`Invalid comparator '${comparator}' not one of '${pySet(valid)}'`, FIELD);
}

function notQuoted(text: string): InputError {
  return new InputError(
    `Parameter value is either not quoted or unidentified quote types used for string value ${text}. ` +
      'Use either single or double quotes.',
    FIELD,
  );
}

/** MLflow's `_parse_run_ids`: a non-empty parenthesised list of quoted strings. */
function listValues(value: Extract<RawValue, { kind: 'list' }>): string[] {
  if (value.items.length === 0) {
    throw new InputError(
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
      FIELD,
    );
  }
  const out: string[] = [];
  for (let i = 0; i < value.items.length; i++) {
    const t = value.items[i]!;
    const v = i % 2 === 0 ? valueOf(t) : null;
    const ok = i % 2 === 0 ? v?.kind === 'string' : t.kind === 'comma';
    if (!ok) {
      throw new InputError(
        'While parsing a list in the query, expected string value, punctuation, or whitespace, ' +
          `but got different type in list: ${value.text}`,
        FIELD,
      );
    }
    if (v?.kind === 'string') out.push(v.value);
  }
  return out;
}

function numberValue(value: RawValue, message: string): number {
  if (value.kind === 'number') return value.value;
  throw new InputError(`${message}. Found ${value.text}`, FIELD);
}

/** A string value for params, tags, string attributes and datasets; `expected` starts the error. */
function stringValue(value: RawValue, expected: string): string {
  if (value.kind === 'string') return value.value;
  if (value.kind === 'unquoted') throw notQuoted(value.text);
  throw new InputError(`${expected}. Got value ${value.text}`, FIELD);
}

function runClause(raw: RawClause): RunClause {
  const id = resolveRunIdent(raw.ident, RUN_SEARCH_ATTRIBUTES, FIELD);
  if (raw.value === null) {
    if (id.type !== 'tag' && id.type !== 'parameter') {
      throw new InputError(
        `IS NULL / IS NOT NULL is only supported for tags and params, not for '${id.type}' '${id.written}'`,
        FIELD,
      );
    }
    return { type: id.type, key: id.key, comparator: raw.comparator as 'IS NULL' | 'IS NOT NULL' };
  }
  const value = raw.value;
  switch (id.type) {
    case 'metric': {
      const n = numberValue(value, 'Expected numeric value type for metric');
      return {
        type: 'metric',
        key: id.key,
        comparator: checkComparator(raw.comparator, NUMERIC_COMPARATORS),
        value: n,
      };
    }
    case 'parameter':
    case 'tag': {
      const s = stringValue(value, `Expected a quoted string value for ${id.type} (e.g. 'my-value')`);
      return { type: id.type, key: id.key, comparator: checkComparator(raw.comparator, STRING_COMPARATORS), value: s };
    }
    case 'attribute': {
      if (id.key === 'start_time' || id.key === 'end_time') {
        const n = numberValue(value, `Expected numeric value type for numeric attribute: ${id.written}`);
        const comparator = checkComparator(raw.comparator, NUMERIC_COMPARATORS);
        return { type: 'attribute', key: id.key as NumericRunAttribute, comparator, value: n };
      }
      if (value.kind === 'list') {
        if (id.key !== 'run_id') {
          throw new InputError(
            "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
            FIELD,
          );
        }
        const comparator = checkComparator(raw.comparator, ['IN', 'NOT IN'] as const);
        return { type: 'attribute', key: 'run_id', comparator, values: listValues(value) };
      }
      const s = stringValue(value, 'Expected a quoted string value for attributes');
      // IN / NOT IN always come with a list (see shapeOf); the wider set is for MLflow's message.
      const comparator = checkComparator(raw.comparator, STRING_ATTRIBUTE_COMPARATORS) as StringComparator;
      return { type: 'attribute', key: id.key as StringRunAttribute, comparator, value: s };
    }
    case 'dataset': {
      const key = id.key as DatasetKey;
      if (value.kind === 'list') {
        const comparator = checkComparator(raw.comparator, ['IN', 'NOT IN'] as const);
        return { type: 'dataset', key, comparator, values: listValues(value) };
      }
      const s = stringValue(value, 'Expected a quoted string value for dataset attributes');
      const comparator = checkComparator(raw.comparator, STRING_ATTRIBUTE_COMPARATORS) as StringComparator;
      return { type: 'dataset', key, comparator, value: s };
    }
  }
}

function experimentClause(raw: RawClause): ExperimentClause {
  const id = resolveExperimentIdent(raw.ident, EXPERIMENT_SEARCH_ATTRIBUTES, FIELD);
  if (raw.value === null) {
    if (id.type !== 'tag') {
      throw new InputError(
        `IS NULL / IS NOT NULL is only supported for tags, not for attribute '${id.written}'`,
        FIELD,
      );
    }
    return { type: 'tag', key: id.key, comparator: raw.comparator as 'IS NULL' | 'IS NOT NULL' };
  }
  const value = raw.value;
  if (id.type === 'tag') {
    const s = stringValue(value, "Expected a quoted string value for tag (e.g. 'my-value')");
    return { type: 'tag', key: id.key, comparator: checkComparator(raw.comparator, STRING_COMPARATORS), value: s };
  }
  if (id.key === 'name') {
    if (value.kind === 'list') {
      throw new InputError(
        "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
        FIELD,
      );
    }
    const s = stringValue(value, 'Expected a quoted string value for attributes');
    return {
      type: 'attribute',
      key: 'name',
      comparator: checkComparator(raw.comparator, STRING_COMPARATORS),
      value: s,
    };
  }
  const n = numberValue(value, `Expected numeric value type for numeric attribute: ${id.written}`);
  const comparator = checkComparator(raw.comparator, NUMERIC_COMPARATORS);
  return { type: 'attribute', key: id.key as ExperimentNumericAttribute, comparator, value: n };
}

/**
 * Parses an MLflow runs filter (`metrics.acc > 0.9 AND params.model = 'cnn'`) into clauses with
 * canonical keys. An empty or missing filter gives no clauses. Throws InputError with MLflow's
 * message (which the MLflow adapter reports as INVALID_PARAMETER_VALUE) for anything else.
 */
export function parseRunFilter(filter: string | null | undefined): RunClause[] {
  if (!filter || filter.trim() === '') return [];
  return structure(filter).map(runClause);
}

/**
 * Parses an MLflow experiments filter (`name LIKE 'cv-%' AND tags.team = 'vision'`): attributes
 * `name`, `creation_time`, `last_update_time`, and `tags.<key>`. Same contract as parseRunFilter.
 */
export function parseExperimentFilter(filter: string | null | undefined): ExperimentClause[] {
  if (!filter || filter.trim() === '') return [];
  return structure(filter).map(experimentClause);
}

/** Searchable logged-model attributes (MLflow's SearchLoggedModelsUtils), with its aliases. */
export const LOGGED_MODEL_ATTRIBUTES: Record<string, LoggedModelNumericAttribute | LoggedModelStringAttribute> = {
  name: 'name',
  model_id: 'model_id',
  model_type: 'model_type',
  status: 'status',
  source_run_id: 'source_run_id',
  creation_timestamp: 'creation_timestamp',
  creation_time: 'creation_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
  last_updated_time: 'last_updated_timestamp',
};

function loggedModelClause(raw: RawClause): LoggedModelClause {
  const id = resolveRunIdent(raw.ident, LOGGED_MODEL_ATTRIBUTES as unknown as Record<string, RunAttribute>, FIELD);
  if (id.type === 'dataset') {
    throw new InputError(
      "Invalid entity type 'dataset'. Valid values are ['metric', 'parameter', 'tag', 'attribute']",
      FIELD,
    );
  }
  if (raw.value === null) throw new InputError('IS NULL / IS NOT NULL is not supported for logged models', FIELD);
  const value = raw.value;
  if (id.type === 'metric') {
    const n = numberValue(value, 'Expected numeric value type for metric');
    return { type: 'metric', key: id.key, comparator: checkComparator(raw.comparator, NUMERIC_COMPARATORS), value: n };
  }
  if (id.type !== 'attribute') {
    const s = stringValue(value, `Expected a quoted string value for ${id.type} (e.g. 'my-value')`);
    return { type: id.type, key: id.key, comparator: checkComparator(raw.comparator, STRING_COMPARATORS), value: s };
  }
  if (id.key === 'creation_timestamp' || id.key === 'last_updated_timestamp') {
    const n = numberValue(value, `Expected numeric value type for numeric attribute: ${id.written}`);
    return {
      type: 'attribute',
      key: id.key,
      comparator: checkComparator(raw.comparator, NUMERIC_COMPARATORS),
      value: n,
    };
  }
  const key = id.key as LoggedModelStringAttribute;
  if (value.kind === 'list') {
    return {
      type: 'attribute',
      key,
      comparator: checkComparator(raw.comparator, ['IN', 'NOT IN'] as const),
      values: listValues(value),
    };
  }
  const s = stringValue(value, 'Expected a quoted string value for attributes');
  return { type: 'attribute', key, comparator: checkComparator(raw.comparator, STRING_COMPARATORS), value: s };
}

/**
 * Parses an MLflow logged-models filter (`name = 'model' AND metrics.acc > 0.9`): attributes
 * `name`, `model_id`, `model_type`, `status`, `source_run_id`, `creation_timestamp`,
 * `last_updated_timestamp`, plus `metrics.`, `params.` and `tags.` keys.
 */
export function parseLoggedModelFilter(filter: string | null | undefined): LoggedModelClause[] {
  if (!filter || filter.trim() === '') return [];
  return structure(filter).map(loggedModelClause);
}

/** Searchable registered-model attributes (MLflow's SearchModelUtils). */
export const REGISTERED_MODEL_SEARCH_ATTRIBUTES = { name: 'name' } as const;
/** Searchable model-version attributes (MLflow's SearchModelVersionUtils). */
export const MODEL_VERSION_SEARCH_ATTRIBUTES = {
  name: 'name',
  version_number: 'version_number',
  run_id: 'run_id',
  source_path: 'source_path',
} as const;

const registryNull = (written: string) =>
  new InputError(`IS NULL / IS NOT NULL is not supported in registry searches ('${written}')`, FIELD);

const listNotSupported = (keys: readonly string[]) =>
  new InputError(
    `Only ${pyList([...keys].sort())} attributes support comparison with a list of quoted string values.`,
    FIELD,
  );

function registryTagClause(raw: RawClause, key: string) {
  const s = stringValue(raw.value!, "Expected a quoted string value for tag (e.g. 'my-value')");
  return { type: 'tag' as const, key, comparator: checkComparator(raw.comparator, STRING_COMPARATORS), value: s };
}

function registeredModelClause(raw: RawClause): RegisteredModelClause {
  const id = resolveExperimentIdent(raw.ident, REGISTERED_MODEL_SEARCH_ATTRIBUTES, FIELD);
  if (raw.value === null) throw registryNull(id.written);
  if (id.type === 'tag') return registryTagClause(raw, id.key);
  const value = raw.value;
  if (value.kind === 'list') {
    return {
      type: 'attribute',
      key: 'name',
      comparator: checkComparator(raw.comparator, ['IN', 'NOT IN'] as const),
      values: listValues(value),
    };
  }
  const s = stringValue(value, 'Expected a quoted string value or a list of quoted string values for attributes');
  const comparator = checkComparator(raw.comparator, STRING_ATTRIBUTE_COMPARATORS) as StringComparator;
  return { type: 'attribute', key: 'name', comparator, value: s };
}

function modelVersionClause(raw: RawClause): ModelVersionClause {
  const id = resolveExperimentIdent(raw.ident, MODEL_VERSION_SEARCH_ATTRIBUTES, FIELD);
  if (raw.value === null) throw registryNull(id.written);
  if (id.type === 'tag') return registryTagClause(raw, id.key);
  const value = raw.value;
  if (id.key === 'version_number') {
    if (value.kind === 'list') throw listNotSupported(['name', 'run_id']);
    const n =
      value.kind === 'number'
        ? value.value
        : value.kind === 'string' && /^\s*-?\d+\s*$/.test(value.value)
          ? Number(value.value)
          : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new InputError(`Invalid value for numeric attribute 'version_number': ${value.text}`, FIELD);
    }
    return {
      type: 'attribute',
      key: 'version_number',
      comparator: checkComparator(raw.comparator, NUMERIC_COMPARATORS),
      value: n,
    };
  }
  const key = id.key as ModelVersionStringAttribute;
  if (value.kind === 'list') {
    if (key === 'source_path') throw listNotSupported(['name', 'run_id']);
    return {
      type: 'attribute',
      key,
      comparator: checkComparator(raw.comparator, ['IN', 'NOT IN'] as const),
      values: listValues(value),
    };
  }
  if (value.kind === 'number') {
    throw new InputError(
      `Only the '${pySet(['version_number', 'creation_timestamp', 'last_updated_timestamp'])}' attributes support comparison with numeric values.`,
      FIELD,
    );
  }
  const s = stringValue(value, 'Expected a quoted string value or a list of quoted string values for attributes');
  const comparator = checkComparator(raw.comparator, STRING_ATTRIBUTE_COMPARATORS) as StringComparator;
  return { type: 'attribute', key, comparator, value: s };
}

/**
 * Parses an MLflow registered-models filter (`name LIKE 'fraud-%' AND tags.team = 'risk'`):
 * attribute `name` (=, !=, LIKE, ILIKE, IN, NOT IN) and `tags.<key>` (=, !=, LIKE, ILIKE).
 */
export function parseRegisteredModelFilter(filter: string | null | undefined): RegisteredModelClause[] {
  if (!filter || filter.trim() === '') return [];
  return structure(filter).map(registeredModelClause);
}

/**
 * Parses an MLflow model-versions filter (`name = 'fraud' AND version_number > 3`): attributes
 * `name` (the registered model's) and `run_id` (string comparators, IN, NOT IN), `source_path`
 * (string comparators), `version_number` (numeric comparators), and `tags.<key>`.
 */
export function parseModelVersionFilter(filter: string | null | undefined): ModelVersionClause[] {
  if (!filter || filter.trim() === '') return [];
  return structure(filter).map(modelVersionClause);
}
