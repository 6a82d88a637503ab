import { InputError } from '../../../core/errors.js';
import type { ExperimentNumericAttribute, ExperimentOrderKey, RunAttribute } from './ast.js';
import type { Token } from './tokenize.js';

/*
 * Which names MLflow's search grammar accepts on the left of a comparison or in order_by, and the
 * errors it gives for the others (mlflow/utils/search_utils.py: SearchUtils, SearchExperimentsUtils).
 */

export type IdentToken = Extract<Token, { kind: 'ident' }>;
export type RunEntity = 'metric' | 'parameter' | 'tag' | 'attribute' | 'dataset';
export type ExperimentEntity = 'attribute' | 'tag';

/** Python's repr of a set of strings, sorted (Python's own order varies from run to run). */
export function pySet(items: readonly string[]): string {
  return `{${[...items]
    .sort()
    .map((s) => `'${s}'`)
    .join(', ')}}`;
}

export function pyList(items: readonly string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

const RUN_ENTITIES: Record<string, RunEntity> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'parameter',
  parameters: 'parameter',
  param: 'parameter',
  params: 'parameter',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};
const RUN_ENTITY_NAMES = ['metric', 'parameter', 'tag', 'attribute', 'dataset'];

/** Searchable run attributes, with MLflow's aliases, mapped to canonical names. */
export const RUN_SEARCH_ATTRIBUTES: Record<string, RunAttribute> = {
  run_id: 'run_id',
  run_name: 'run_name',
  'run name': 'run_name',
  'Run name': 'run_name',
  'Run Name': 'run_name',
  user_id: 'user_id',
  status: 'status',
  artifact_uri: 'artifact_uri',
  start_time: 'start_time',
  created: 'start_time',
  Created: 'start_time',
  end_time: 'end_time',
};

/** Orderable run attributes: the searchable ones without the "run name" spellings. */
export const RUN_ORDER_ATTRIBUTES: Record<string, RunAttribute> = {
  run_id: 'run_id',
  run_name: 'run_name',
  user_id: 'user_id',
  status: 'status',
  artifact_uri: 'artifact_uri',
  start_time: 'start_time',
  created: 'start_time',
  Created: 'start_time',
  end_time: 'end_time',
};

export const DATASET_KEYS = ['name', 'digest', 'context'] as const;

export const EXPERIMENT_SEARCH_ATTRIBUTES: Record<string, 'name' | ExperimentNumericAttribute> = {
  name: 'name',
  creation_time: 'creation_time',
  last_update_time: 'last_update_time',
};

export const EXPERIMENT_ORDER_ATTRIBUTES: Record<string, ExperimentOrderKey> = {
  name: 'name',
  experiment_id: 'experiment_id',
  creation_time: 'creation_time',
  last_update_time: 'last_update_time',
};

function has(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

export interface ResolvedIdent<E extends string> {
  type: E;
  /** The key as written (quotes removed), for messages. */
  written: string;
  /** The canonical key: the attribute name with aliases resolved, or the metric/param/tag key. */
  key: string;
}

/** `entity.key` split at the first dot, as MLflow does; `key` alone is an attribute. */
function split(token: IdentToken): { entity: string | null; key: string } {
  if (token.parts.length === 1) return { entity: null, key: token.parts[0]!.text };
  const [first, ...rest] = token.parts;
  const entity = first!.quote === '"' ? `"${first!.text}"` : first!.text;
  return { entity, key: rest.map((p) => p.text).join('.') };
}

export function resolveRunIdent(
  token: IdentToken,
  attributes: Record<string, RunAttribute>,
  field: string,
): ResolvedIdent<RunEntity> {
  const { entity, key } = split(token);
  let type: RunEntity = 'attribute';
  if (entity !== null) {
    if (!has(RUN_ENTITIES, entity)) {
      throw new InputError(`Invalid entity type '${entity}'. Valid values are ${pyList(RUN_ENTITY_NAMES)}`, field);
    }
    type = RUN_ENTITIES[entity]!;
  }
  if (type === 'attribute') {
    if (!has(attributes, key)) {
      throw new InputError(
        `Invalid attribute key '${key}' specified. Valid keys are '${pySet(Object.keys(attributes))}'`,
        field,
      );
    }
    return { type, written: key, key: attributes[key]! };
  }
  if (type === 'dataset' && !(DATASET_KEYS as readonly string[]).includes(key)) {
    throw new InputError(`Invalid dataset key '${key}' specified. Valid keys are '${pySet(DATASET_KEYS)}'`, field);
  }
  return { type, written: key, key };
}

export function resolveExperimentIdent<K extends string>(
  token: IdentToken,
  attributes: Record<string, K>,
  field: string,
): ResolvedIdent<ExperimentEntity> {
  const { entity, key } = split(token);
  let type: ExperimentEntity = 'attribute';
  if (entity !== null) {
    if (entity !== 'attribute' && entity !== 'tag' && entity !== 'tags') {
      throw new InputError(
        `Invalid entity type '${entity}'. Valid entity types are ('attribute', 'tag', 'tags')`,
        field,
      );
    }
    type = entity === 'attribute' ? 'attribute' : 'tag';
  }
  if (type === 'attribute') {
    if (!has(attributes, key)) {
      throw new InputError(
        `Invalid attribute key '${key}' specified. Valid keys are '${pySet(Object.keys(attributes))}'`,
        field,
      );
    }
    return { type, written: key, key: attributes[key]! };
  }
  return { type, written: key, key };
}
