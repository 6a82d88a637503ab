import type { Insertable, Kysely, Selectable } from 'kysely';
import { inChunks } from '../../db/in-chunks.js';
import type {
  DB,
  DeploymentRevisionsTable,
  DeploymentsTable,
  DeploymentStatus,
  PredictionsTable,
  RolloutsTable,
  RolloutStatus,
} from '../../db/schema.js';

export type DeploymentRow = Selectable<DeploymentsTable>;
export type DeploymentWithModel = DeploymentRow & { model_name: string; project_name: string };
export type RevisionRow = Selectable<DeploymentRevisionsTable>;
export type RolloutRow = Selectable<RolloutsTable>;
export type PredictionRow = Selectable<PredictionsTable>;
export type NewPrediction = Insertable<PredictionsTable>;

/** What a traffic change writes: the new policy plus why and by whom. */
export interface TrafficChange {
  traffic: string;
  shadow: string | null;
  stableVersion: number;
  previousVersion: number | null;
  reason: string;
  actor: string;
  at: number;
}

/** A version's facts the serving plane needs to load it. */
export interface ServableVersion {
  model_id: string;
  version: number;
  storage_location: string;
  signature: string | null;
  status: string;
}

/** One request as the canary analysis sees it. */
export interface PredictionSample {
  version: number;
  outcome: 'ok' | 'error';
  latency_ms: number;
  output_label: string | null;
  output_value: number | null;
  /** The ground truth for this request, once it has arrived (see `upsertLabels`). */
  truth_label: string | null;
  truth_value: number | null;
}

export interface NewLabel {
  request_id: string;
  label: string | null;
  value: number | null;
}

/**
 * SQL of deployments, their traffic revisions, rollouts and the prediction log. `with(tx)` binds it
 * to a transaction. Traffic changes are compare-and-set on the revision, so two changes racing
 * produce one winner and the loser learns it (a rollback never silently undoes a newer change).
 */
export class DeploymentStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): DeploymentStore {
    return new DeploymentStore(tx);
  }

  private selectWithModel() {
    return this.db
      .selectFrom('deployments as d')
      .innerJoin('registered_models as m', 'm.id', 'd.model_id')
      .innerJoin('projects as p', 'p.id', 'd.project_id')
      .selectAll('d')
      .select(['m.name as model_name', 'p.name as project_name']);
  }

  byName(name: string): Promise<DeploymentWithModel | undefined> {
    return this.selectWithModel().where('d.name', '=', name).executeTakeFirst();
  }

  byId(id: string): Promise<DeploymentWithModel | undefined> {
    return this.selectWithModel().where('d.id', '=', id).executeTakeFirst();
  }

  list(projectId: string): Promise<DeploymentWithModel[]> {
    return this.selectWithModel().where('d.project_id', '=', projectId).orderBy('d.name').execute();
  }

  /** The model's oldest deployment in an environment: the one releases deploy to. */
  forModel(modelId: string, environment: 'staging' | 'production'): Promise<DeploymentWithModel | undefined> {
    return this.selectWithModel()
      .where('d.model_id', '=', modelId)
      .where('d.environment', '=', environment)
      .orderBy('d.created_at')
      .orderBy('d.id')
      .limit(1)
      .executeTakeFirst();
  }

  async projectName(projectId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirst())?.name;
  }

  /** Finished rollouts that belong to a release still deploying: their end was not reported yet. */
  unreportedRollouts(): Promise<(RolloutRow & { release_status: string })[]> {
    return this.db
      .selectFrom('rollouts as r')
      .innerJoin('releases as rel', 'rel.id', 'r.release_id')
      .selectAll('r')
      .select('rel.status as release_status')
      .where('rel.status', '=', 'deploying')
      .where('r.status', 'in', ['promoted', 'aborted'])
      .execute();
  }

  /** Every deployment's name and revision: what serving replicas compare against what they hold. */
  revisions(): Promise<{ name: string; revision: number }[]> {
    return this.db.selectFrom('deployments').select(['name', 'revision']).execute();
  }

  async insert(row: DeploymentRow): Promise<void> {
    await this.db.insertInto('deployments').values(row).execute();
    await this.db
      .insertInto('deployment_revisions')
      .values({
        deployment_id: row.id,
        revision: row.revision,
        traffic: row.traffic,
        shadow: row.shadow,
        stable_version: row.stable_version,
        reason: 'created',
        actor: row.created_by,
        at: row.created_at,
      })
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('predictions').where('deployment_id', '=', id).execute();
    await this.db.deleteFrom('rollouts').where('deployment_id', '=', id).execute();
    await this.db.deleteFrom('deployment_revisions').where('deployment_id', '=', id).execute();
    await this.db.deleteFrom('deployments').where('id', '=', id).execute();
  }

  /**
   * Writes a new traffic policy if the deployment is still at `expectedRevision`, and records the
   * revision. Returns the new revision, or null when someone else changed it first.
   */
  async changeTraffic(id: string, expectedRevision: number, change: TrafficChange): Promise<number | null> {
    const revision = expectedRevision + 1;
    const r = await this.db
      .updateTable('deployments')
      .set({
        traffic: change.traffic,
        shadow: change.shadow,
        stable_version: change.stableVersion,
        previous_version: change.previousVersion,
        revision,
        updated_at: change.at,
      })
      .where('id', '=', id)
      .where('revision', '=', expectedRevision)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return null;
    await this.db
      .insertInto('deployment_revisions')
      .values({
        deployment_id: id,
        revision,
        traffic: change.traffic,
        shadow: change.shadow,
        stable_version: change.stableVersion,
        reason: change.reason,
        actor: change.actor,
        at: change.at,
      })
      .execute();
    return revision;
  }

  /** Status changes do not move the revision: replicas need not reload for them. */
  async setStatus(id: string, status: DeploymentStatus, failure: string | null, at: number): Promise<void> {
    await this.db.updateTable('deployments').set({ status, failure, updated_at: at }).where('id', '=', id).execute();
  }

  history(id: string, limit: number): Promise<RevisionRow[]> {
    return this.db
      .selectFrom('deployment_revisions')
      .selectAll()
      .where('deployment_id', '=', id)
      .orderBy('revision', 'desc')
      .limit(limit)
      .execute();
  }

  // ---- model versions ----

  modelByName(projectId: string, name: string): Promise<{ id: string } | undefined> {
    return this.db
      .selectFrom('registered_models')
      .select('id')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  versions(modelId: string, versions: readonly number[]): Promise<ServableVersion[]> {
    if (versions.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('model_versions')
      .select(['model_id', 'version', 'storage_location', 'signature', 'status'])
      .where('model_id', '=', modelId)
      .where('version', 'in', [...versions])
      .execute()
      .then((rows) => rows.map((r) => ({ ...r, version: Number(r.version) })));
  }

  // ---- rollouts ----

  async insertRollout(row: RolloutRow): Promise<void> {
    await this.db.insertInto('rollouts').values(row).execute();
  }

  /** The deployment's newest rollout, running or finished. */
  latestRollout(deploymentId: string): Promise<RolloutRow | undefined> {
    return this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  activeRollouts(): Promise<RolloutRow[]> {
    return this.db.selectFrom('rollouts').selectAll().where('status', 'in', ['running', 'paused']).execute();
  }

  /** Compare-and-set on (status, step): returns false when the rollout moved meanwhile. */
  async updateRollout(
    id: string,
    expected: { status: RolloutStatus; stepIndex: number },
    set: Partial<
      Pick<RolloutRow, 'status' | 'step_index' | 'step_started_at' | 'analyses' | 'reason' | 'finished_at'>
    > & {
      updated_at: number;
    },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('rollouts')
      .set(set)
      .where('id', '=', id)
      .where('status', '=', expected.status)
      .where('step_index', '=', expected.stepIndex)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- prediction log ----

  /** One transaction per batch: one commit however many rows. */
  async insertPredictions(rows: NewPrediction[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Chunks keep each statement under the engines' bound-parameter limits.
      for (let i = 0; i < rows.length; i += 200) {
        await tx
          .insertInto('predictions')
          .values(rows.slice(i, i + 200))
          .execute();
      }
    });
  }

  recentPredictions(deploymentId: string, limit: number): Promise<PredictionRow[]> {
    return this.db
      .selectFrom('predictions')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
  }

  /** The served requests of a window with the labels that have arrived for them, for the canary analysis. */
  async samples(deploymentId: string, from: number, to: number, limit: number): Promise<PredictionSample[]> {
    const rows = await this.db
      .selectFrom('predictions as p')
      .leftJoin('prediction_labels as l', (j) =>
        j.onRef('l.deployment_id', '=', 'p.deployment_id').onRef('l.request_id', '=', 'p.request_id'),
      )
      .select([
        'p.version',
        'p.outcome',
        'p.latency_ms',
        'p.output_label',
        'p.output_value',
        'l.label as truth_label',
        'l.value as truth_value',
      ])
      .where('p.deployment_id', '=', deploymentId)
      .where('p.created_at', '>=', from)
      .where('p.created_at', '<', to)
      .orderBy('p.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ...r,
      version: Number(r.version),
      latency_ms: Number(r.latency_ms),
      truth_value: r.truth_value === null ? null : Number(r.truth_value),
    }));
  }

  /** Stores labels by request id; a label for a request that has one replaces it. */
  async upsertLabels(deploymentId: string, labels: readonly NewLabel[], now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Chunks keep each statement under the engines' bound-parameter limits.
      for (let i = 0; i < labels.length; i += 500) {
        await tx
          .insertInto('prediction_labels')
          .values(labels.slice(i, i + 500).map((l) => ({ deployment_id: deploymentId, ...l, created_at: now })))
          .onConflict((oc) =>
            oc.columns(['deployment_id', 'request_id']).doUpdateSet((eb) => ({
              label: eb.ref('excluded.label'),
              value: eb.ref('excluded.value'),
              created_at: eb.ref('excluded.created_at'),
            })),
          )
          .execute();
      }
    });
  }

  /** How many of these request ids the prediction log holds for the deployment. */
  async countLogged(deploymentId: string, requestIds: readonly string[]): Promise<number> {
    const counts = await inChunks(requestIds, (chunk) =>
      this.db
        .selectFrom('predictions')
        .select((eb) => eb.fn.count<string>('request_id').distinct().as('n'))
        .where('deployment_id', '=', deploymentId)
        .where('request_id', 'in', chunk)
        .execute(),
    );
    return counts.reduce((sum, r) => sum + Number(r.n), 0);
  }

  /** Shadowed requests (the primary's answer and the shadow's), newest first. */
  async shadowPairs(deploymentId: string, since: number, limit: number): Promise<ShadowPair[]> {
    const rows = await this.db
      .selectFrom('predictions')
      .select([
        'request_id',
        'version',
        'outcome',
        'latency_ms',
        'output_label',
        'output_value',
        'shadow_version',
        'shadow_outcome',
        'shadow_latency_ms',
        'shadow_label',
        'shadow_value',
      ])
      .where('deployment_id', '=', deploymentId)
      .where('created_at', '>=', since)
      .where('shadow_version', 'is not', null)
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      request_id: r.request_id,
      primary_version: Number(r.version),
      shadow_version: Number(r.shadow_version),
      primary_outcome: r.outcome,
      shadow_outcome: r.shadow_outcome!,
      primary_latency: Number(r.latency_ms),
      shadow_latency: Number(r.shadow_latency_ms),
      primary_label: r.output_label,
      shadow_label: r.shadow_label,
      primary_value: r.output_value,
      shadow_value: r.shadow_value,
    }));
  }
}

export interface ShadowPair {
  request_id: string;
  primary_version: number;
  shadow_version: number;
  primary_outcome: 'ok' | 'error';
  shadow_outcome: 'ok' | 'error';
  primary_latency: number;
  shadow_latency: number;
  primary_label: string | null;
  shadow_label: string | null;
  primary_value: number | null;
  shadow_value: number | null;
}
