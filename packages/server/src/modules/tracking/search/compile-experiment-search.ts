import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { InputError } from '../../../core/errors.js';
import type { Engine } from '../../../db/dialect.js';
import type { DB } from '../../../db/schema.js';
import type { ExperimentRow } from '../store.js';
import type { ExperimentClause, ExperimentOrderBy, ExperimentOrderKey } from './ast.js';
import { byCodePoint, compareInteger, compareText } from './compare.js';
import {
  afterCursor,
  cursorOf,
  decodePageToken,
  encodePageToken,
  fingerprint,
  orderByItems,
  sortSelections,
  type SortKey,
} from './keyset.js';
import { maxResultsOf, stageOf, type ViewType } from './options.js';
import { FILTER_LIMITS, parseExperimentFilter } from './parse-filter.js';
import { parseExperimentOrderBy } from './parse-order-by.js';

export interface ExperimentSearchOptions {
  engine: Engine;
  /** Projects whose experiments are searched; the caller has checked the caller may read them. */
  projectIds: readonly string[];
  filter?: string | null;
  /** Default `creation_time DESC, experiment_id ASC`; otherwise ties break by experiment_id DESC. */
  orderBy?: readonly string[] | null;
  maxResults?: number | null;
  pageToken?: string | null;
  viewType?: ViewType | null;
}

export interface ExperimentSearchPage {
  experiments: ExperimentRow[];
  nextPageToken: string | null;
}

export type ExperimentSearchRow = ExperimentRow & Record<string, unknown>;

export interface CompiledExperimentSearch {
  readonly clauses: readonly ExperimentClause[];
  readonly orderBy: readonly ExperimentOrderBy[];
  readonly query: RawBuilder<ExperimentSearchRow>;
  execute(): Promise<ExperimentSearchPage>;
}

const EXPERIMENT_COLUMNS = [
  'id',
  'project_id',
  'name',
  'artifact_location',
  'lifecycle_stage',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ExperimentRow)[];

const ORDER_COLUMNS: Record<ExperimentOrderKey, string> = {
  name: 'name',
  experiment_id: 'id',
  creation_time: 'created_at',
  last_update_time: 'updated_at',
};

const column = (key: ExperimentOrderKey) => sql.ref(`experiments.${ORDER_COLUMNS[key]}`);

/** The WHERE conditions of a parsed experiments filter, over a table referenced as `experiments`. */
export function experimentFilterConditions(
  engine: Engine,
  clauses: readonly ExperimentClause[],
): Expression<SqlBool>[] {
  return clauses.map((c) => {
    if (c.type === 'attribute') {
      return c.key === 'name'
        ? compareText(engine, column('name'), c.comparator, c.value)
        : compareInteger(column(c.key), c.comparator, c.value);
    }
    const has = (test: RawBuilder<SqlBool> | null) =>
      sql<SqlBool>`exists (select 1 from experiment_tags as et
        where et.experiment_id = experiments.id and et.key = ${c.key}${test ? sql` and ${test}` : sql``})`;
    if (!('value' in c)) return c.comparator === 'IS NULL' ? sql<SqlBool>`not ${has(null)}` : has(null);
    return has(compareText(engine, sql.ref('et.value'), c.comparator, c.value));
  });
}

function sortKeys(engine: Engine, orderBy: readonly ExperimentOrderBy[]): SortKey[] {
  const given: ExperimentOrderBy[] =
    orderBy.length > 0
      ? [...orderBy]
      : [
          { key: 'creation_time', ascending: false },
          { key: 'experiment_id', ascending: true },
        ];
  // MLflow's tie-breaker; experiment ids are unique, so the order is total.
  if (!given.some((o) => o.key === 'experiment_id')) given.push({ key: 'experiment_id', ascending: false });
  return given.map(({ key, ascending }) =>
    key === 'name'
      ? { order: byCodePoint(engine, column(key)), value: column(key), kind: 'text', ascending }
      : { order: column(key), value: column(key), kind: 'integer', ascending },
  );
}

function pickExperiment(row: ExperimentSearchRow): ExperimentRow {
  const e = {} as Record<string, unknown>;
  for (const c of EXPERIMENT_COLUMNS) e[c] = row[c];
  return e as unknown as ExperimentRow;
}

/**
 * Compiles an MLflow experiment search (filter on name, creation_time, last_update_time and tags;
 * order_by; view type; page size; keyset page token) over the given projects into one SQL query
 * for either engine. Throws InputError with MLflow's messages for bad input; runs nothing itself.
 */
export function compileExperimentSearch(db: Kysely<DB>, options: ExperimentSearchOptions): CompiledExperimentSearch {
  const { engine } = options;
  const maxResults = maxResultsOf(options.maxResults, 'experiments');
  const stage = stageOf(options.viewType);
  const clauses = parseExperimentFilter(options.filter);
  const orderBy = parseExperimentOrderBy(options.orderBy);
  if (options.projectIds.length > FILTER_LIMITS.listValues) {
    throw new InputError(`At most ${FILTER_LIMITS.listValues} projects per search`, 'project_ids');
  }
  const projectIds = [...new Set(options.projectIds)].sort();
  const keys = sortKeys(engine, orderBy);
  const print = fingerprint({ experiments: projectIds, clauses, orderBy, stage });
  const cursor = options.pageToken ? decodePageToken(options.pageToken, print, keys) : null;

  const conditions: Expression<SqlBool>[] = [
    projectIds.length === 0
      ? sql<SqlBool>`1 = 0`
      : sql<SqlBool>`experiments.project_id in (${sql.join(projectIds.map((id) => sql`${id}`))})`,
    ...(stage ? [sql<SqlBool>`experiments.lifecycle_stage = ${stage}`] : []),
    ...experimentFilterConditions(engine, clauses),
    ...(cursor ? [afterCursor(keys, cursor)] : []),
  ];
  const query = sql<ExperimentSearchRow>`select experiments.*, ${sql.join(sortSelections(keys))}
    from experiments
    where ${sql.join(conditions, sql` and `)}
    order by ${orderByItems(keys)}
    limit ${maxResults + 1}`;

  return {
    clauses,
    orderBy,
    query,
    async execute() {
      const { rows } = await query.execute(db);
      const page = rows.slice(0, maxResults);
      const last = page.at(-1);
      return {
        experiments: page.map(pickExperiment),
        nextPageToken: rows.length > maxResults && last ? encodePageToken(print, cursorOf(keys, last)) : null,
      };
    },
  };
}

/** compileExperimentSearch(db, options).execute(); bad input rejects with InputError. */
export async function searchExperiments(
  db: Kysely<DB>,
  options: ExperimentSearchOptions,
): Promise<ExperimentSearchPage> {
  return compileExperimentSearch(db, options).execute();
}
