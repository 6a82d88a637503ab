import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { InputError } from '../../../core/errors.js';
import type { Engine } from '../../../db/dialect.js';
import type { DB } from '../../../db/schema.js';
import type { RunRow } from '../store.js';
import type { DatasetClause, NumericComparator, RunAttribute, RunClause, RunOrderBy, StringComparator } from './ast.js';
import { byCodePoint, compareInteger, compareList, compareReal, compareText } from './compare.js';
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
import { FILTER_LIMITS, parseRunFilter } from './parse-filter.js';
import { parseRunOrderBy } from './parse-order-by.js';

/**
 * Compiles one `datasets.<name|digest|context>` clause to a condition on the `runs` row (e.g. an
 * EXISTS over the run's inputs). Dataset search lands here once run inputs are stored.
 */
export type DatasetFilter = (clause: DatasetClause) => Expression<SqlBool>;

export interface RunSearchOptions {
  engine: Engine;
  /** Experiments to search; the caller has already checked the caller may read them. */
  experimentIds: readonly number[];
  /** MLflow filter string; empty or absent matches every run. */
  filter?: string | null;
  /** MLflow order_by items; the order then continues by start_time DESC and run id. */
  orderBy?: readonly string[] | null;
  /** Page size, 1..50000; default 1000. */
  maxResults?: number | null;
  /** The nextPageToken of the previous page of this same search. */
  pageToken?: string | null;
  /** Default ACTIVE_ONLY. */
  viewType?: ViewType | null;
  /** Without it, `datasets.*` clauses are refused as not supported yet. */
  datasetFilter?: DatasetFilter;
}

export interface RunSearchPage<R = RunRow> {
  runs: R[];
  /** Null on the last page. */
  nextPageToken: string | null;
}

/** What {@link searchRunRevisions} returns for a run: its id and revision (SQLite's `runs.rev`). */
export interface RunRevision {
  id: string;
  rev: number;
}

/** A page query row: the run's columns plus the sort values (`k<i>g`, `k<i>v`). */
export type RunSearchRow = RunRow & Record<string, unknown>;

export interface CompiledRunSearch<R = RunRow> {
  readonly clauses: readonly RunClause[];
  readonly orderBy: readonly RunOrderBy[];
  /** Selects up to maxResults + 1 rows; run it with `query.execute(db)` or read `query.compile(db)`. */
  readonly query: RawBuilder<RunSearchRow>;
  /** Runs the query: the page of runs and the token for the next one. */
  execute(): Promise<RunSearchPage<R>>;
}

/** What a page query selects of each run: the whole row, or only its id and revision. */
interface Selection<R> {
  columns: RawBuilder<unknown>;
  pick(row: RunSearchRow): R;
}

/**
 * A metric-ordered walk leaves the page to the general query after this many segments, or when it
 * would take more index steps than {@link maxWalk}.
 */
const SEGMENTS = 4;
const maxWalk = (limit: number) => 8 * limit + 1000;

const ROWS: Selection<RunRow> = { columns: sql`runs.*`, pick: pickRun };
const REVISIONS: Selection<RunRevision> = {
  columns: sql`runs.id, runs.rev`,
  pick: (row) => ({ id: row.id, rev: row.rev as number }),
};

const RUN_COLUMNS = [
  'id',
  'experiment_id',
  'name',
  'user_id',
  'username',
  'status',
  'start_time',
  'end_time',
  'lifecycle_stage',
  'artifact_uri',
  'parent_run_id',
] as const satisfies readonly (keyof RunRow)[];

/** MLflow's run attribute names over the runs table; `user_id` is the name MLflow clients see. */
const ATTRIBUTE_COLUMNS: Record<RunAttribute, string> = {
  run_id: 'id',
  run_name: 'name',
  user_id: 'username',
  status: 'status',
  artifact_uri: 'artifact_uri',
  start_time: 'start_time',
  end_time: 'end_time',
};

const runColumn = (attribute: RunAttribute) => sql.ref(`runs.${ATTRIBUTE_COLUMNS[attribute]}`);
const KV_TABLES = { parameter: 'run_params', tag: 'run_tags' } as const;

/**
 * How metric, param and tag clauses meet the runs row. `in`: `runs.id IN (subquery on (key,
 * value))`, which lets the planner drive the search from the (key, value) index when a clause is
 * selective (SQLite, 20k runs, a 1% metric filter: 0.9 ms instead of 16 ms). `exists`: a
 * correlated EXISTS per run, for when runs are read in index order and the scan stops at the page
 * size (default start_time order): there SQLite would otherwise drive from the index and sort
 * everything (21 ms instead of 1.5 ms for a 50% filter). PostgreSQL plans both as a semi-join.
 */
export type KeyValueForm = 'in' | 'exists';

/** A metric, param or tag clause that compares a value: a test on one row of a key-value table. */
interface KeyValueTest {
  table: 'latest_metrics' | 'run_params' | 'run_tags';
  alias: 'lm' | 'kv';
  key: string;
  test: RawBuilder<SqlBool>;
}

type MetricClause = Extract<RunClause, { type: 'metric' }>;
type ValueClause = Extract<RunClause, { type: 'parameter' | 'tag'; value: string }>;

function metricTest(c: MetricClause): KeyValueTest {
  // NaN compares like IEEE NaN: only `!=` holds (NaN is stored as 0 with is_nan = 1).
  const test =
    c.comparator === '!='
      ? sql<SqlBool>`(lm.is_nan = 1 or ${compareReal(sql.ref('lm.value'), '!=', c.value)})`
      : sql<SqlBool>`lm.is_nan = 0 and ${compareReal(sql.ref('lm.value'), c.comparator, c.value)}`;
  return { table: 'latest_metrics', alias: 'lm', key: c.key, test };
}

function valueTest(engine: Engine, c: ValueClause): KeyValueTest {
  return {
    table: KV_TABLES[c.type],
    alias: 'kv',
    key: c.key,
    test: compareText(engine, sql.ref('kv.value'), c.comparator, c.value),
  };
}

/** The clause's test on one row of a key-value table; null for clauses of another kind. */
function keyValueTest(engine: Engine, c: RunClause): KeyValueTest | null {
  if (c.type === 'metric') return metricTest(c);
  if ((c.type === 'parameter' || c.type === 'tag') && 'value' in c) return valueTest(engine, c);
  return null;
}

function keyValueCondition(form: KeyValueForm, { table, alias, key, test }: KeyValueTest): RawBuilder<SqlBool> {
  const t = sql.table(table);
  const a = sql.id(alias);
  return form === 'in'
    ? sql<SqlBool>`runs.id in (select ${a}.run_id from ${t} as ${a} where ${a}.key = ${key} and ${test})`
    : sql<SqlBool>`exists (select 1 from ${t} as ${a} where ${a}.run_id = runs.id and ${a}.key = ${key} and ${test})`;
}

function clauseCondition(
  engine: Engine,
  c: RunClause,
  form: KeyValueForm,
  datasetFilter: DatasetFilter | undefined,
): Expression<SqlBool> {
  switch (c.type) {
    case 'metric':
      return keyValueCondition(form, metricTest(c));
    case 'parameter':
    case 'tag': {
      if ('value' in c) return keyValueCondition(form, valueTest(engine, c));
      const has = keyValueCondition('exists', { table: KV_TABLES[c.type], alias: 'kv', key: c.key, test: sql`1 = 1` });
      return c.comparator === 'IS NULL' ? sql<SqlBool>`not ${has}` : has;
    }
    case 'attribute':
      if ('values' in c) return compareList(runColumn(c.key), c.comparator, c.values);
      if (typeof c.value === 'number')
        return compareInteger(runColumn(c.key), c.comparator as NumericComparator, c.value);
      return compareText(engine, runColumn(c.key), c.comparator as StringComparator, c.value);
    case 'dataset':
      if (!datasetFilter) {
        throw new InputError(`Searching runs by datasets.${c.key} is not supported yet`, 'filter');
      }
      return datasetFilter(c);
  }
}

/**
 * The WHERE conditions of a parsed runs filter, over a table referenced as `runs` (usable in any
 * Kysely query: `.where((eb) => eb.and(runFilterConditions(...)))`). `form` may differ per clause.
 */
export function runFilterConditions(
  engine: Engine,
  clauses: readonly RunClause[],
  options: { datasetFilter?: DatasetFilter; form?: KeyValueForm | ((c: RunClause) => KeyValueForm) } = {},
): Expression<SqlBool>[] {
  const form = options.form ?? 'in';
  return clauses.map((c) =>
    clauseCondition(engine, c, typeof form === 'function' ? form(c) : form, options.datasetFilter),
  );
}

/**
 * The form for each clause of a metric-ordered walk. A clause is tested once per step of the walk;
 * as a correlated EXISTS that is a primary-key probe (about 1 µs on SQLite, with text run ids),
 * as `IN (subquery)` the subquery's matches (over every experiment) are listed once per query and
 * each step probes that in-memory list, which is several times cheaper. So IN pays when the list
 * is short against the walk: a clause with fewer than `cap` matching rows (counted up to the cap,
 * one cheap index range) takes the IN form, any other keeps EXISTS.
 */
async function walkForms(
  db: Kysely<DB>,
  engine: Engine,
  clauses: readonly RunClause[],
  cap: number,
): Promise<(c: RunClause) => KeyValueForm> {
  const short = new Set<RunClause>();
  for (const c of clauses) {
    const kv = keyValueTest(engine, c);
    if (!kv) continue;
    const a = sql.id(kv.alias);
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from (select 1 from ${sql.table(kv.table)}
      as ${a} where ${a}.key = ${kv.key} and ${kv.test} limit ${cap}) as capped`.execute(db);
    if (Number(rows[0]?.n ?? cap) < cap) short.add(c);
  }
  return (c) => (short.has(c) ? 'in' : 'exists');
}

interface RunSortPlan {
  keys: SortKey[];
  joins: RawBuilder<unknown>[];
}

function attributeKey(engine: Engine, attribute: RunAttribute, ascending: boolean): SortKey {
  const column = runColumn(attribute);
  if (attribute === 'start_time') return { order: column, value: column, kind: 'integer', ascending };
  if (attribute === 'end_time') {
    const group = sql<number>`(case when ${column} is null then 1 else 0 end)`;
    return { order: column, value: column, kind: 'integer', ascending, group: { expr: group, max: 1 } };
  }
  return { order: byCodePoint(engine, column), value: column, kind: 'text', ascending };
}

/**
 * MLflow's order: the given keys, then start_time DESC (unless ordered by it), then run id. Missing
 * values sort last either way; for metrics NaN sorts after numbers and before missing. Metric,
 * param and tag keys read their value through a LEFT JOIN on the (run_id, key) primary key.
 */
function sortPlan(engine: Engine, orderBy: readonly RunOrderBy[]): RunSortPlan {
  const keys: SortKey[] = [];
  const joins: RawBuilder<unknown>[] = [];
  orderBy.forEach((o, i) => {
    if (o.type === 'attribute') {
      keys.push(attributeKey(engine, o.key, o.ascending));
      return;
    }
    const alias = `o${i}`;
    const col = (name: string) => sql.ref(`${alias}.${name}`);
    const table = o.type === 'metric' ? 'latest_metrics' : KV_TABLES[o.type];
    joins.push(
      sql`left join ${sql.table(table)} as ${sql.id(alias)} on ${col('run_id')} = runs.id and ${col('key')} = ${o.key}`,
    );
    if (o.type === 'metric') {
      const group = sql<number>`(case when ${col('run_id')} is null then 2 when ${col('is_nan')} = 1 then 1 else 0 end)`;
      keys.push({
        order: col('value'),
        value: col('value'),
        kind: 'real',
        ascending: o.ascending,
        group: { expr: group, max: 2 },
      });
    } else {
      const group = sql<number>`(case when ${col('run_id')} is null then 1 else 0 end)`;
      keys.push({
        order: byCodePoint(engine, col('value')),
        value: col('value'),
        kind: 'text',
        ascending: o.ascending,
        group: { expr: group, max: 1 },
      });
    }
  });
  const has = (key: RunAttribute) => orderBy.some((o) => o.type === 'attribute' && o.key === key);
  if (!has('start_time')) keys.push(attributeKey(engine, 'start_time', false));
  if (!has('run_id')) keys.push(attributeKey(engine, 'run_id', true));
  return { keys, joins };
}

function pickRun(row: RunSearchRow): RunRow {
  const run = {} as Record<string, unknown>;
  for (const c of RUN_COLUMNS) run[c] = row[c];
  return run as unknown as RunRow;
}

/**
 * Runs a search ordered first by a metric by walking that metric's values in order, through
 * latest_metrics_key_idx (key, is_nan, value), instead of reading every matching run and sorting
 * them: a page then costs about page-size / (share of runs that match) index steps, whatever the
 * experiment's size. Only the runs that have a (non-NaN) value are walked; their order is the
 * search's order up to the value, and the rest of the keys sort ties.
 *
 * The walk is bounded, since the index holds the key's values across every experiment. It goes in
 * segments: the value `budget` steps ahead is read (one index scan), and only runs whose value lies
 * in the segment up to it are considered. Everything up to that value is then complete, ties
 * included, so once at least `limit` runs match the page is exact. While fewer match, the next
 * segment is sized from the share of steps that matched so far (a selective filter walks further,
 * a loose one stops early), up to {@link SEGMENTS} segments and {@link maxWalk} steps. If the
 * walk reaches the end of the key's numbers (after them come NaN and missing values), or a filter
 * turns out too selective for the walk to pay, it returns null and the caller runs the general
 * query, which then starts from the filter's index.
 * `cross join` makes SQLite nest the loops in this order (PostgreSQL plans it as a plain join).
 */
function metricOrderedPage(
  db: Kysely<DB>,
  o: {
    key: string;
    ascending: boolean;
    plan: RunSortPlan;
    limit: number;
    /** The value of the last row of the previous page (its group is 0). */
    after: number | null;
    /** The page's conditions, given the form for each filter clause. */
    conditions: (form: (c: RunClause) => KeyValueForm) => Expression<SqlBool>[];
    clauses: readonly RunClause[];
    engine: Engine;
    columns: RawBuilder<unknown>;
  },
): () => Promise<{ rows: RunSearchRow[] } | null> {
  const dir = sql.raw(o.ascending ? 'asc' : 'desc');
  const from = sql.raw(o.ascending ? '>=' : '<=');
  const beyond = sql.raw(o.ascending ? '>' : '<');
  const upTo = sql.raw(o.ascending ? '<=' : '>=');
  const [k0, ...rest] = o.plan.keys;
  return async () => {
    const conditions = o.conditions(await walkForms(db, o.engine, o.clauses, maxWalk(o.limit)));
    const rows: RunSearchRow[] = [];
    // The first segment starts at the cursor's value (ties continue there), the next ones after
    // the previous segment's bound.
    let lower = o.after === null ? null : { op: from, value: o.after };
    let budget = 2 * o.limit + 1000;
    let walked = 0;
    for (let segment = 0; segment < SEGMENTS; segment++) {
      const edge = await sql<{ value: number }>`select value from latest_metrics
        where key = ${o.key} and is_nan = 0 ${lower ? sql`and value ${lower.op} ${lower.value}` : sql``}
        order by value ${dir} limit 1 offset ${budget - 1}`.execute(db);
      const bound = edge.rows[0]?.value;
      const found = await sql<RunSearchRow>`select ${o.columns}, ${sql.join(sortSelections(o.plan.keys))}
        from latest_metrics as o0 cross join runs ${sql.join(o.plan.joins.slice(1), sql` `)}
        where o0.run_id = runs.id and o0.key = ${o.key} and o0.is_nan = 0
          ${lower ? sql`and o0.value ${lower.op} ${lower.value}` : sql``}
          ${bound === undefined ? sql`` : sql`and o0.value ${upTo} ${bound}`}
          and ${sql.join(conditions, sql` and `)}
        order by ${k0!.order} ${dir}, ${orderByItems(rest)}
        limit ${o.limit - rows.length}`.execute(db);
      // Segments follow one another in value order, so the page is their rows in turn.
      for (const row of found.rows) rows.push(row);
      if (rows.length >= o.limit) return { rows };
      if (bound === undefined) return null;
      walked += budget;
      lower = { op: beyond, value: bound };
      // Steps for the runs still wanted at the share seen so far, and a tenth more: a segment
      // that falls short costs one more (cheap) edge query, one too long costs a probe per step.
      const share = Math.max(rows.length, 1) / walked;
      budget = Math.ceil(((o.limit - rows.length) / share) * 1.1) + 100;
      // A filter this selective is cheaper driven from its own index: the general query.
      if (walked + budget > maxWalk(o.limit)) return null;
    }
    return null;
  };
}

/**
 * Compiles an MLflow run search into one SQL query for either engine: filter (metrics, params,
 * tags, attributes; datasets through `datasetFilter`), order_by with MLflow's defaults and
 * tie-breaking, view type, page size and keyset page token. Throws InputError, with MLflow's
 * messages, for a bad filter, order_by, max_results or page token; nothing runs until `execute`.
 */
export function compileRunSearch(db: Kysely<DB>, options: RunSearchOptions): CompiledRunSearch {
  return compile(db, options, ROWS);
}

function compile<R>(db: Kysely<DB>, options: RunSearchOptions, selection: Selection<R>): CompiledRunSearch<R> {
  const { engine } = options;
  const maxResults = maxResultsOf(options.maxResults, 'runs');
  const stage = stageOf(options.viewType);
  const clauses = parseRunFilter(options.filter);
  const orderBy = parseRunOrderBy(options.orderBy);
  if (options.experimentIds.length > FILTER_LIMITS.listValues) {
    throw new InputError(`At most ${FILTER_LIMITS.listValues} experiment ids per search`, 'experiment_ids');
  }
  if (!options.experimentIds.every((id) => Number.isSafeInteger(id))) {
    throw new InputError('Experiment ids must be integers', 'experiment_ids');
  }
  const experimentIds = [...new Set(options.experimentIds)].sort((a, b) => a - b);
  const plan = sortPlan(engine, orderBy);
  // One experiment ordered by start_time first: runs_experiment_idx yields rows in order.
  const first = orderBy[0];
  const indexOrdered =
    experimentIds.length === 1 && (!first || (first.type === 'attribute' && first.key === 'start_time'));
  const form: KeyValueForm = indexOrdered ? 'exists' : 'in';
  const print = fingerprint({ runs: experimentIds, clauses, orderBy, stage });
  const cursor = options.pageToken ? decodePageToken(options.pageToken, print, plan.keys) : null;

  const conditions: Expression<SqlBool>[] = [
    experimentIds.length === 0
      ? sql<SqlBool>`1 = 0`
      : sql<SqlBool>`runs.experiment_id in (${sql.join(experimentIds.map((id) => sql`${id}`))})`,
    ...(stage ? [sql<SqlBool>`runs.lifecycle_stage = ${stage}`] : []),
    ...runFilterConditions(engine, clauses, { datasetFilter: options.datasetFilter, form }),
    ...(cursor ? [afterCursor(plan.keys, cursor)] : []),
  ];
  const query = sql<RunSearchRow>`select ${selection.columns}, ${sql.join(sortSelections(plan.keys))}
    from runs ${sql.join(plan.joins, sql` `)}
    where ${sql.join(conditions, sql` and `)}
    order by ${orderByItems(plan.keys)}
    limit ${maxResults + 1}`;
  const byMetric =
    first?.type === 'metric' && (!cursor || cursor[0]![0] === 0)
      ? metricOrderedPage(db, {
          key: first.key,
          ascending: first.ascending,
          plan,
          limit: maxResults + 1,
          after: cursor ? (cursor[0]![1] as number) : null,
          columns: selection.columns,
          clauses,
          engine,
          conditions: (form) => [
            conditions[0]!,
            ...(stage ? [sql<SqlBool>`runs.lifecycle_stage = ${stage}`] : []),
            ...runFilterConditions(engine, clauses, { datasetFilter: options.datasetFilter, form }),
            ...(cursor ? [afterCursor(plan.keys, cursor)] : []),
          ],
        })
      : null;

  return {
    clauses,
    orderBy,
    query,
    async execute() {
      const { rows } = (byMetric && (await byMetric())) || (await query.execute(db));
      const page = rows.slice(0, maxResults);
      const last = page.at(-1);
      return {
        runs: page.map((row) => selection.pick(row)),
        nextPageToken: rows.length > maxResults && last ? encodePageToken(print, cursorOf(plan.keys, last)) : null,
      };
    },
  };
}

/** compileRunSearch(db, options).execute(); bad input rejects with InputError. */
export async function searchRuns(db: Kysely<DB>, options: RunSearchOptions): Promise<RunSearchPage> {
  return compileRunSearch(db, options).execute();
}

/**
 * Like {@link searchRuns}, but reads only each run's id and revision: for a caller that keeps what
 * it builds from a run while the revision stands. SQLite only (PostgreSQL keeps no revisions).
 */
export async function searchRunRevisions(
  db: Kysely<DB>,
  options: RunSearchOptions,
): Promise<RunSearchPage<RunRevision>> {
  if (options.engine !== 'sqlite') throw new Error('run revisions are kept on SQLite only');
  return compile(db, options, REVISIONS).execute();
}
