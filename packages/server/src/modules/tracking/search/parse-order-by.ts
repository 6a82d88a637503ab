import { InputError } from '../../../core/errors.js';
import type {
  ExperimentOrderBy,
  ExperimentOrderKey,
  ModelVersionOrderKey,
  RegisteredModelOrderKey,
  RegistryOrderBy,
  RunAttribute,
  RunOrderBy,
} from './ast.js';
import {
  EXPERIMENT_ORDER_ATTRIBUTES,
  RUN_ORDER_ATTRIBUTES,
  pyList,
  resolveExperimentIdent,
  resolveRunIdent,
  type IdentToken,
} from './identifiers.js';
import { keywordOf, tokenize } from './tokenize.js';

/** At most this many order_by items per search (each may add a join). */
export const ORDER_BY_LIMIT = 20;

const FIELD = 'order_by';

/** `<identifier> [ASC|DESC]`, keywords in any case; quoting as in filters. */
function splitItem(item: string): { ident: IdentToken; ascending: boolean } {
  const tokens = tokenize(item);
  const [first, second] = tokens;
  if (tokens.length === 0 || tokens.length > 2 || first?.kind !== 'ident') {
    throw new InputError(`Invalid order_by clause '${item}'. Could not be parsed.`, FIELD);
  }
  if (!second) return { ident: first, ascending: true };
  const direction = keywordOf(second);
  if (direction === null) throw new InputError(`Invalid order_by clause '${item}'. Could not be parsed.`, FIELD);
  if (direction !== 'ASC' && direction !== 'DESC') {
    throw new InputError(`Invalid ordering key in order_by clause '${item}'.`, FIELD);
  }
  return { ident: first, ascending: direction === 'ASC' };
}

function checkCount(items: readonly string[]) {
  if (items.length > ORDER_BY_LIMIT) {
    throw new InputError(`order_by has ${items.length} items; at most ${ORDER_BY_LIMIT} are allowed`, FIELD);
  }
}

/**
 * Parses MLflow search_runs order_by items (`metrics.acc DESC`, ``params.`learning rate` ``,
 * `attributes.start_time ASC`, `run_name`). Ascending unless DESC. The same field twice
 * (`created` and `start_time` count as one) is an error, as in MLflow.
 */
export function parseRunOrderBy(items: readonly string[] | null | undefined): RunOrderBy[] {
  if (!items) return [];
  checkCount(items);
  const seen = new Set<string>();
  return items.map((item) => {
    const { ident, ascending } = splitItem(item);
    const id = resolveRunIdent(ident, RUN_ORDER_ATTRIBUTES, FIELD);
    if (id.type === 'dataset') throw new InputError(`Invalid identifier type '${id.type}'`, FIELD);
    const field = `${id.type}\u0000${id.key}`;
    if (seen.has(field)) throw new InputError(`\`order_by\` contains duplicate fields: ${pyList(items)}`, FIELD);
    seen.add(field);
    return id.type === 'attribute'
      ? { type: 'attribute', key: id.key as RunAttribute, ascending }
      : { type: id.type, key: id.key, ascending };
  });
}

/**
 * Parses MLflow search_experiments order_by items: `name`, `experiment_id`, `creation_time`,
 * `last_update_time`, each optionally ASC/DESC.
 */
export function parseExperimentOrderBy(items: readonly string[] | null | undefined): ExperimentOrderBy[] {
  if (!items) return [];
  checkCount(items);
  return items.map((item) => {
    const { ident, ascending } = splitItem(item);
    const id = resolveExperimentIdent(ident, EXPERIMENT_ORDER_ATTRIBUTES, FIELD);
    if (id.type !== 'attribute') throw new InputError(`Invalid order_by entity: ${id.type}`, FIELD);
    return { key: id.key as ExperimentOrderKey, ascending };
  });
}

/** Orderable registered-model keys; `timestamp` is MLflow's alias of `last_updated_timestamp`. */
const REGISTERED_MODEL_ORDER_ATTRIBUTES: Record<string, RegisteredModelOrderKey> = {
  name: 'name',
  timestamp: 'last_updated_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
  creation_timestamp: 'creation_timestamp',
};

const MODEL_VERSION_ORDER_ATTRIBUTES: Record<string, ModelVersionOrderKey> = {
  name: 'name',
  version_number: 'version_number',
  creation_timestamp: 'creation_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
};

function parseRegistryOrderBy<K extends string>(
  items: readonly string[] | null | undefined,
  attributes: Record<string, K>,
): RegistryOrderBy<K>[] {
  if (!items) return [];
  checkCount(items);
  const seen = new Set<K>();
  return items.map((item) => {
    const { ident, ascending } = splitItem(item);
    const id = resolveExperimentIdent(ident, attributes, FIELD);
    if (id.type !== 'attribute') throw new InputError(`Invalid order_by entity: ${id.type}`, FIELD);
    const key = id.key as K;
    if (seen.has(key)) throw new InputError(`\`order_by\` contains duplicate fields: ${pyList(items)}`, FIELD);
    seen.add(key);
    return { key, ascending };
  });
}

/**
 * Parses MLflow search_registered_models order_by items: `name`, `timestamp` (=
 * `last_updated_timestamp`), `last_updated_timestamp`, `creation_timestamp`, each optionally ASC/DESC.
 */
export function parseRegisteredModelOrderBy(
  items: readonly string[] | null | undefined,
): RegistryOrderBy<RegisteredModelOrderKey>[] {
  return parseRegistryOrderBy(items, REGISTERED_MODEL_ORDER_ATTRIBUTES);
}

/**
 * Parses MLflow search_model_versions order_by items: `name`, `version_number`,
 * `creation_timestamp`, `last_updated_timestamp`, each optionally ASC/DESC.
 */
export function parseModelVersionOrderBy(
  items: readonly string[] | null | undefined,
): RegistryOrderBy<ModelVersionOrderKey>[] {
  return parseRegistryOrderBy(items, MODEL_VERSION_ORDER_ATTRIBUTES);
}
