import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { DB, EvaluationSpecsTable, ModelVersionGatesTable } from '../../db/schema.js';
import { LIVE_STATUSES } from '../releases/store.js';

export type SpecRow = Selectable<EvaluationSpecsTable>;
export type GateRow = Selectable<ModelVersionGatesTable>;

/** Numbers come back as strings from PostgreSQL bigint columns. */
function gateRow(r: GateRow): GateRow {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    ...r,
    version: Number(r.version),
    rows: n(r.rows),
    champion_version: n(r.champion_version),
    override_at: n(r.override_at),
    created_at: Number(r.created_at),
    started_at: n(r.started_at),
    finished_at: n(r.finished_at),
  };
}

/** SQL of evaluation specs and gate results, and the few reads of registry state the gate rules need. */
export class GateStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): GateStore {
    return new GateStore(tx);
  }

  // ---- specs ----

  spec(modelId: string): Promise<SpecRow | undefined> {
    return this.db.selectFrom('evaluation_specs').selectAll().where('model_id', '=', modelId).executeTakeFirst();
  }

  async putSpec(row: SpecRow): Promise<void> {
    const { model_id: _, ...rest } = row;
    await this.db
      .insertInto('evaluation_specs')
      .values(row)
      .onConflict((oc) => oc.column('model_id').doUpdateSet(rest))
      .execute();
  }

  async deleteSpec(modelId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('evaluation_specs').where('model_id', '=', modelId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- gates ----

  async insertGate(row: GateRow): Promise<void> {
    await this.db.insertInto('model_version_gates').values(row).execute();
  }

  async gate(id: string): Promise<GateRow | undefined> {
    const r = await this.db.selectFrom('model_version_gates').selectAll().where('id', '=', id).executeTakeFirst();
    return r && gateRow(r);
  }

  /** A version's gates, newest first (the first is its gate result). */
  async gates(modelId: string, version: number, limit: number): Promise<GateRow[]> {
    const rows = await this.db
      .selectFrom('model_version_gates')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(gateRow);
  }

  async newest(modelId: string, version: number): Promise<GateRow | undefined> {
    return (await this.gates(modelId, version, 1))[0];
  }

  /** The newest gate of each of `versions` of a model. */
  async newestOf(modelId: string, versions: number[]): Promise<GateRow[]> {
    if (versions.length === 0) return [];
    const rows = await this.db
      .selectFrom('model_version_gates as g')
      .selectAll('g')
      .where('g.model_id', '=', modelId)
      .where('g.version', 'in', versions)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('model_version_gates as n')
              .select('n.id')
              .whereRef('n.model_id', '=', 'g.model_id')
              .whereRef('n.version', '=', 'g.version')
              .where((eb) =>
                eb.or([
                  eb('n.created_at', '>', eb.ref('g.created_at')),
                  eb.and([eb('n.created_at', '=', eb.ref('g.created_at')), eb('n.id', '>', eb.ref('g.id'))]),
                ]),
              ),
          ),
        ),
      )
      .execute();
    return rows.map(gateRow);
  }

  /**
   * Moves a gate from pending (or running, when a crashed attempt is retried) to running with the
   * spec it runs with; false when it has settled meanwhile.
   */
  async start(id: string, spec: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('model_version_gates')
      .set({ status: 'running', spec, started_at: now })
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Settles an unsettled gate; false when it had settled already (another attempt finished it). */
  async settle(id: string, patch: Updateable<ModelVersionGatesTable>): Promise<boolean> {
    const r = await this.db
      .updateTable('model_version_gates')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Records an admin override of a failed gate, once: false when it was not failed or already overridden. */
  async override(id: string, by: string, reason: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('model_version_gates')
      .set({ override_by: by, override_reason: reason, override_at: at })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .where('override_by', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The version's passed gates, newest first (the caller matches their spec snapshots). */
  async passed(modelId: string, version: number): Promise<GateRow[]> {
    const rows = await this.db
      .selectFrom('model_version_gates')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('status', '=', 'passed')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(50)
      .execute();
    return rows.map(gateRow);
  }

  // ---- registry state the rules read ----

  async model(id: string) {
    return this.db.selectFrom('registered_models').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async version(modelId: string, version: number) {
    return this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  /**
   * The champion (shared rule): the version of the newest production release approved or done
   * (not rolled back); else the newest version in MLflow stage Production; else the version behind
   * alias 'champion'; else none.
   */
  async champion(modelId: string): Promise<number | null> {
    const release = await this.db
      .selectFrom('releases')
      .select('version')
      .where('model_id', '=', modelId)
      .where('environment', '=', 'production')
      .where('status', 'in', LIVE_STATUSES)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (release) return Number(release.version);
    const production = await this.db
      .selectFrom('model_versions')
      .select(sql<number>`max(version)`.as('version'))
      .where('model_id', '=', modelId)
      .where('stage', '=', 'Production')
      .executeTakeFirst();
    if (production?.version !== null && production?.version !== undefined) return Number(production.version);
    const alias = await this.db
      .selectFrom('registered_model_aliases')
      .select('version')
      .where('model_id', '=', modelId)
      .where('alias', '=', 'champion')
      .executeTakeFirst();
    return alias ? Number(alias.version) : null;
  }

  /** Whether the version has a production release that was approved (or is done). */
  async approvedForProduction(modelId: string, version: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('releases')
      .select('id')
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('environment', '=', 'production')
      .where('status', 'in', LIVE_STATUSES)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async dataset(id: string) {
    return this.db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
