import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Engine } from '../../db/dialect.js';
import { inChunks } from '../../db/in-chunks.js';
import type { DB, DatasetsTable, RunInputsTable } from '../../db/schema.js';
import { compareList, compareText, type DatasetClause } from '../tracking/search/index.js';

export type DatasetRow = Selectable<DatasetsTable>;
export type RunInputRow = Selectable<RunInputsTable>;

const DATASET_COLUMNS = { name: 'd.name', digest: 'd.digest', context: 'ri.context' } as const;

/** SQL of dataset versions and the runs that used them. */
export class DatasetStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
  ) {}

  withTx(tx: Kysely<DB>): DatasetStore {
    return new DatasetStore(tx, this.engine);
  }

  transaction<T>(fn: (store: DatasetStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => fn(this.withTx(tx)));
  }

  byId(id: string) {
    return this.db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byContent(projectId: string, name: string, digest: string) {
    return this.db
      .selectFrom('datasets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  /** Inserts the version unless one with the same name and digest exists; returns the stored row. */
  async upsert(row: DatasetRow): Promise<DatasetRow> {
    await this.db
      .insertInto('datasets')
      .values(row)
      .onConflict((oc) => oc.columns(['project_id', 'name', 'digest']).doNothing())
      .execute();
    return (await this.byContent(row.project_id, row.name, row.digest))!;
  }

  list(projectId: string, name?: string) {
    let q = this.db.selectFrom('datasets').selectAll().where('project_id', '=', projectId);
    if (name !== undefined) q = q.where('name', '=', name);
    return q.orderBy('name').orderBy('created_at', 'desc').limit(1000).execute();
  }

  /** Links a dataset to a run; the first link of a (run, dataset) pair wins, like MLflow's. */
  async addInput(row: RunInputRow) {
    await this.db
      .insertInto('run_inputs')
      .values(row)
      .onConflict((oc) => oc.columns(['run_id', 'dataset_id']).doNothing())
      .execute();
  }

  /** The dataset inputs of runs, with their datasets, in the order they were logged. */
  inputsOf(runIds: string[]) {
    return inChunks(runIds, (c) =>
      this.db
        .selectFrom('run_inputs as ri')
        .innerJoin('datasets as d', 'd.id', 'ri.dataset_id')
        .select(['ri.run_id', 'ri.context', 'ri.tags', 'ri.created_at as linked_at'])
        .selectAll('d')
        .where('ri.run_id', 'in', c)
        .orderBy('ri.created_at')
        .orderBy('d.name')
        .execute(),
    );
  }

  /** The runs that used a dataset version, newest first. */
  runsOf(datasetId: string) {
    return this.db
      .selectFrom('run_inputs as ri')
      .innerJoin('runs as r', 'r.id', 'ri.run_id')
      .select(['r.id as run_id', 'r.name as run_name', 'r.experiment_id', 'ri.context'])
      .where('ri.dataset_id', '=', datasetId)
      .orderBy('r.start_time', 'desc')
      .limit(1000)
      .execute();
  }

  /** A runs-search condition on `datasets.name|digest|context` (runs referenced as `runs`). */
  condition(c: DatasetClause): Expression<SqlBool> {
    const column = sql.ref(DATASET_COLUMNS[c.key]);
    const test =
      'values' in c
        ? compareList(column, c.comparator, c.values)
        : compareText(this.engine, column, c.comparator, c.value);
    return sql<SqlBool>`exists (select 1 from run_inputs as ri inner join datasets as d on d.id = ri.dataset_id where ri.run_id = runs.id and ${test})`;
  }
}
