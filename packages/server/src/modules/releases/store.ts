import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { Engine } from '../../db/dialect.js';
import type {
  DB,
  ModelStage,
  ModelVersionGatesTable,
  ReleaseEnvironment,
  ReleaseStatus,
  ReleasesTable,
  ReleaseTransitionsTable,
  RiskTier,
} from '../../db/schema.js';

export type ReleaseRow = Selectable<ReleasesTable>;
export type TransitionRow = Selectable<ReleaseTransitionsTable>;
export type GateRow = Selectable<ModelVersionGatesTable>;
/** A release with the facts of its model that its rules depend on. */
export type ReleaseWithModel = ReleaseRow & { model_name: string; project_id: string; risk_tier: RiskTier };

export interface ModelFacts {
  id: string;
  name: string;
  project_id: string;
  risk_tier: RiskTier;
}

export interface ReleaseFilter {
  projectId: string;
  status?: ReleaseStatus;
  modelName?: string;
  environment?: ReleaseEnvironment;
  /** Only releases older than this id (ids sort by creation time). */
  beforeId?: string;
  limit: number;
}

/** Statuses in which a release still waits on something (its gate or a decision). */
export const OPEN_STATUSES: ReleaseStatus[] = ['gate', 'approval'];
/**
 * Statuses of a release that reached production (the champion is the newest such release):
 * approved, being deployed (packaged, tested on staging, rolled out), and done.
 */
export const LIVE_STATUSES: ReleaseStatus[] = ['approved', 'deploying', 'done'];

/**
 * SQL of releases and their transitions, plus the few reads and writes of registry rows the release
 * rules need (models, versions, gate results, MLflow stages): kept here rather than calling the
 * registry service, so they run in the release's transaction. `with(tx)` binds it to a transaction.
 */
export class ReleaseStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
  ) {}

  with(tx: Kysely<DB>): ReleaseStore {
    return new ReleaseStore(tx, this.engine);
  }

  // ---- registry rows ----

  model(projectId: string, name: string): Promise<ModelFacts | undefined> {
    return this.db
      .selectFrom('registered_models')
      .select(['id', 'name', 'project_id', 'risk_tier'])
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  modelById(id: string): Promise<ModelFacts | undefined> {
    return this.db
      .selectFrom('registered_models')
      .select(['id', 'name', 'project_id', 'risk_tier'])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Serializes release decisions about one model: on PostgreSQL the model row is locked until the
   * transaction ends; SQLite transactions are exclusive already.
   */
  async lockModel(modelId: string): Promise<void> {
    if (this.engine !== 'postgres') return;
    await this.db.selectFrom('registered_models').select('id').where('id', '=', modelId).forUpdate().execute();
  }

  async versionExists(modelId: string, version: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('model_versions')
      .select('version')
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The version's gate result: its newest gate row. */
  latestGate(modelId: string, version: number): Promise<GateRow | undefined> {
    return this.db
      .selectFrom('model_version_gates')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Moves versions to an MLflow stage; returns nothing (the caller knows which it moved). */
  async setStage(modelId: string, versions: number[], stage: ModelStage, now: number): Promise<void> {
    if (versions.length === 0) return;
    await this.db
      .updateTable('model_versions')
      .set({ stage, updated_at: now })
      .where('model_id', '=', modelId)
      .where('version', 'in', versions)
      .execute();
    await this.db.updateTable('registered_models').set({ updated_at: now }).where('id', '=', modelId).execute();
  }

  /** Versions of the model in MLflow stage Production, other than `except`. */
  async productionVersions(modelId: string, except: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('model_versions')
      .select('version')
      .where('model_id', '=', modelId)
      .where('stage', '=', 'Production')
      .where('version', '!=', except)
      .execute();
    return rows.map((r) => Number(r.version));
  }

  // ---- releases ----

  async insert(row: Insertable<ReleasesTable>): Promise<void> {
    await this.db.insertInto('releases').values(row).execute();
  }

  /**
   * Moves a release to another status only if it is still in one of `from`, and reports whether it
   * did: the conditional UPDATE is what makes concurrent decisions produce exactly one winner.
   */
  async move(id: string, from: ReleaseStatus[], patch: Updateable<ReleasesTable>): Promise<boolean> {
    const r = await this.db
      .updateTable('releases')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Appends a transition with the next sequence number (the release row is locked by the move before it). */
  async addTransition(row: Omit<TransitionRow, 'seq'>): Promise<number> {
    const last = await this.db
      .selectFrom('release_transitions')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('release_id', '=', row.release_id)
      .executeTakeFirst();
    const seq = Number(last?.seq ?? 0) + 1;
    await this.db
      .insertInto('release_transitions')
      .values({ ...row, seq })
      .execute();
    return seq;
  }

  private withModel() {
    return this.db
      .selectFrom('releases')
      .innerJoin('registered_models as m', 'm.id', 'releases.model_id')
      .selectAll('releases')
      .select(['m.name as model_name', 'm.project_id as project_id', 'm.risk_tier as risk_tier']);
  }

  get(id: string): Promise<ReleaseWithModel | undefined> {
    return this.withModel().where('releases.id', '=', id).executeTakeFirst();
  }

  /** The open release of a model to an environment, if any (there is at most one). */
  open(modelId: string, environment: ReleaseEnvironment): Promise<ReleaseRow | undefined> {
    return this.db
      .selectFrom('releases')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('environment', '=', environment)
      .where('status', 'in', OPEN_STATUSES)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** The current production release of a model (the champion's): the newest live one. */
  currentProduction(modelId: string): Promise<ReleaseRow | undefined> {
    return this.db
      .selectFrom('releases')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('environment', '=', 'production')
      .where('status', 'in', LIVE_STATUSES)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Releases of this version waiting on its gate. */
  waitingOnGate(modelId: string, version: number): Promise<ReleaseRow[]> {
    return this.db
      .selectFrom('releases')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('status', '=', 'gate')
      .orderBy('id')
      .execute();
  }

  /** Versions with releases waiting on their gate, oldest first (for the periodic catch-up). */
  async versionsWaiting(limit: number): Promise<{ modelId: string; version: number }[]> {
    const rows = await this.db
      .selectFrom('releases')
      .select(['model_id', 'version'])
      .where('status', '=', 'gate')
      .groupBy(['model_id', 'version'])
      .limit(limit)
      .execute();
    return rows.map((r) => ({ modelId: r.model_id, version: Number(r.version) }));
  }

  /** Newest first. */
  list(f: ReleaseFilter): Promise<ReleaseWithModel[]> {
    let q = this.withModel().where('m.project_id', '=', f.projectId).orderBy('releases.id', 'desc').limit(f.limit);
    if (f.status) q = q.where('releases.status', '=', f.status);
    if (f.environment) q = q.where('releases.environment', '=', f.environment);
    if (f.modelName !== undefined) q = q.where('m.name', '=', f.modelName);
    if (f.beforeId) q = q.where('releases.id', '<', f.beforeId);
    return q.execute();
  }

  transitions(releaseId: string): Promise<TransitionRow[]> {
    return this.db
      .selectFrom('release_transitions')
      .selectAll()
      .where('release_id', '=', releaseId)
      .orderBy('seq')
      .execute();
  }
}
