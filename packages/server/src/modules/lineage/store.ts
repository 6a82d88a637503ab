import type { Kysely } from 'kysely';
import { inChunks } from '../../db/in-chunks.js';
import type { DB, GateStatus, ReleaseEnvironment, ReleaseStatus } from '../../db/schema.js';

/** A model version by its registered model's id (names change on rename; ids do not). */
export interface VersionRef {
  modelId: string;
  version: number;
}

export interface DatasetFacts {
  id: string;
  projectId: string;
  name: string;
  digest: string;
  sourceType: string;
}

export interface RunFacts {
  id: string;
  projectId: string;
  experimentId: string;
  name: string;
  status: string;
  user: string;
  lifecycleStage: string;
  startTime: number;
  gitCommit: string | null;
  paramsCount: number;
}

export interface LoggedModelFacts {
  id: string;
  projectId: string;
  experimentId: string;
  name: string;
  status: string;
  lifecycleStage: string;
  sourceRunId: string | null;
}

export interface VersionFacts extends VersionRef {
  projectId: string;
  modelName: string;
  source: string;
  storageLocation: string;
  runId: string | null;
  loggedModelId: string | null;
  status: string;
  stage: string;
  checksum: string | null;
  createdAt: number;
  aliases: string[];
}

export interface ReleaseFacts extends VersionRef {
  id: string;
  projectId: string;
  modelName: string;
  environment: ReleaseEnvironment;
  status: ReleaseStatus;
  requestedBy: string;
  createdAt: number;
}

export interface DeploymentFacts {
  id: string;
  name: string;
  projectId: string;
  modelId: string;
  modelName: string;
  environment: string;
  status: string;
  runtime: string;
  /** The traffic split now. */
  traffic: { version: number; weight: number }[];
  /** Every version that had a share of the traffic in some revision, ascending. */
  served: number[];
  createdAt: number;
}

/** One gate evaluation of a version, as lineage needs it. */
export interface GateFacts extends VersionRef {
  status: GateStatus;
  spec: string | null;
  overridden: boolean;
  createdAt: number;
}

const num = (v: number | string | bigint) => Number(v);

/**
 * The SQL of the lineage graph: facts of nodes and the links between them, each asked for a whole
 * BFS layer at once (one statement per kind of node and link, never one per node). Lists passed in
 * are bounded by the caller's node cap; `limit` bounds what one layer can add.
 */
export class LineageStore {
  constructor(private readonly db: Kysely<DB>) {}

  // ---- facts ----

  async datasets(ids: string[]): Promise<DatasetFacts[]> {
    const rows = await inChunks(ids, (c) =>
      this.db
        .selectFrom('datasets')
        .select(['id', 'project_id', 'name', 'digest', 'source_type'])
        .where('id', 'in', c)
        .execute(),
    );
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      name: r.name,
      digest: r.digest,
      sourceType: r.source_type,
    }));
  }

  async runs(ids: string[]): Promise<RunFacts[]> {
    if (ids.length === 0) return [];
    const [rows, commits, params] = await Promise.all([
      inChunks(ids, (c) =>
        this.db
          .selectFrom('runs as r')
          .innerJoin('experiments as e', 'e.id', 'r.experiment_id')
          .select([
            'r.id',
            'r.name',
            'r.status',
            'r.username',
            'r.lifecycle_stage',
            'r.start_time',
            'r.experiment_id',
            'e.project_id',
          ])
          .where('r.id', 'in', c)
          .execute(),
      ),
      inChunks(ids, (c) =>
        this.db
          .selectFrom('run_tags')
          .select(['run_id', 'value'])
          .where('key', '=', 'mlflow.source.git.commit')
          .where('run_id', 'in', c)
          .execute(),
      ),
      inChunks(ids, (c) =>
        this.db
          .selectFrom('run_params')
          .select(['run_id', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('run_id', 'in', c)
          .groupBy('run_id')
          .execute(),
      ),
    ]);
    const commitOf = new Map(commits.map((c) => [c.run_id, c.value]));
    const paramsOf = new Map(params.map((p) => [p.run_id, num(p.n)]));
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      status: r.status,
      user: r.username,
      lifecycleStage: r.lifecycle_stage,
      startTime: num(r.start_time),
      gitCommit: commitOf.get(r.id) ?? null,
      paramsCount: paramsOf.get(r.id) ?? 0,
    }));
  }

  async loggedModels(ids: string[]): Promise<LoggedModelFacts[]> {
    const rows = await inChunks(ids, (c) =>
      this.db
        .selectFrom('logged_models as m')
        .innerJoin('experiments as e', 'e.id', 'm.experiment_id')
        .select([
          'm.id',
          'm.name',
          'm.status',
          'm.lifecycle_stage',
          'm.source_run_id',
          'm.experiment_id',
          'e.project_id',
        ])
        .where('m.id', 'in', c)
        .execute(),
    );
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      status: r.status,
      lifecycleStage: r.lifecycle_stage,
      sourceRunId: r.source_run_id,
    }));
  }

  /** Versions by (model id, version), with their model's name, project and aliases. */
  async versions(refs: VersionRef[]): Promise<VersionFacts[]> {
    const rows = await inChunks(refs, (c) =>
      this.versionQuery()
        .where((eb) => eb.or(c.map((r) => eb.and([eb('v.model_id', '=', r.modelId), eb('v.version', '=', r.version)]))))
        .execute(),
    );
    return this.withAliases(rows);
  }

  /** A version by its model's name in a project (the root of a lineage query). */
  async versionByName(projectId: string, name: string, version: number): Promise<VersionFacts | undefined> {
    const rows = await this.versionQuery()
      .where('m.project_id', '=', projectId)
      .where('m.name', '=', name)
      .where('v.version', '=', version)
      .execute();
    return (await this.withAliases(rows))[0];
  }

  async releases(ids: string[]): Promise<ReleaseFacts[]> {
    const rows = await inChunks(ids, (c) => this.releaseQuery().where('r.id', 'in', c).execute());
    return rows.map(releaseFacts);
  }

  async deployments(ids: string[]): Promise<DeploymentFacts[]> {
    return this.withServed(await inChunks(ids, (c) => this.deploymentQuery().where('d.id', 'in', c).execute()));
  }

  async deploymentByName(projectId: string, name: string): Promise<DeploymentFacts | undefined> {
    const rows = await this.deploymentQuery()
      .where('d.project_id', '=', projectId)
      .where('d.name', '=', name)
      .execute();
    return (await this.withServed(rows))[0];
  }

  /** Every gate evaluation of the versions, oldest first. */
  async gates(refs: VersionRef[]): Promise<GateFacts[]> {
    const rows = await inChunks(refs, (c) =>
      this.db
        .selectFrom('model_version_gates')
        .select(['model_id', 'version', 'status', 'spec', 'override_by', 'created_at'])
        .where((eb) => eb.or(c.map((r) => eb.and([eb('model_id', '=', r.modelId), eb('version', '=', r.version)]))))
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    );
    return rows.map((r) => ({
      modelId: r.model_id,
      version: num(r.version),
      status: r.status,
      spec: r.spec,
      overridden: r.override_by !== null,
      createdAt: num(r.created_at),
    }));
  }

  /** The evaluation spec (held-out dataset, task, label) of each model that has one. */
  async evaluationSpecs(modelIds: string[]) {
    return inChunks([...new Set(modelIds)], (c) =>
      this.db
        .selectFrom('evaluation_specs')
        .select(['model_id', 'dataset_id', 'task', 'label_column'])
        .where('model_id', 'in', c)
        .execute(),
    );
  }

  async projectNames(ids: string[]): Promise<Map<string, string>> {
    const rows = await inChunks([...new Set(ids)], (c) =>
      this.db.selectFrom('projects').select(['id', 'name']).where('id', 'in', c).execute(),
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  // ---- links ----

  /** Datasets the runs used, with their context (dataset -> run). */
  async inputsOfRuns(runIds: string[]) {
    return inChunks(runIds, (c) =>
      this.db
        .selectFrom('run_inputs')
        .select(['run_id', 'dataset_id', 'context'])
        .where('run_id', 'in', c)
        .orderBy('created_at')
        .execute(),
    );
  }

  /** Runs that used the datasets (dataset -> run). */
  async runsOfDatasets(datasetIds: string[], limit: number) {
    return inChunks(datasetIds, (c) =>
      this.db
        .selectFrom('run_inputs')
        .select(['run_id', 'dataset_id', 'context'])
        .where('dataset_id', 'in', c)
        .orderBy('created_at')
        .limit(limit)
        .execute(),
    );
  }

  /** Logged model links of runs (both directions). */
  async modelLinksOfRuns(runIds: string[]) {
    return inChunks(runIds, (c) =>
      this.db.selectFrom('run_models').select(['run_id', 'model_id', 'direction']).where('run_id', 'in', c).execute(),
    );
  }

  /** Run links of logged models (both directions). */
  async runLinksOfModels(modelIds: string[], limit: number) {
    return inChunks(modelIds, (c) =>
      this.db
        .selectFrom('run_models')
        .select(['run_id', 'model_id', 'direction'])
        .where('model_id', 'in', c)
        .limit(limit)
        .execute(),
    );
  }

  /** Logged models whose source run is one of the runs. */
  async modelsFromRuns(runIds: string[], limit: number) {
    return inChunks(runIds, (c) =>
      this.db
        .selectFrom('logged_models')
        .select(['id', 'source_run_id'])
        .where('source_run_id', 'in', c)
        .limit(limit)
        .execute(),
    );
  }

  /** Versions registered from the runs or the logged models. */
  async versionsFrom(by: { runIds: string[]; loggedModelIds: string[] }, limit: number): Promise<VersionFacts[]> {
    const rows = [
      ...(await inChunks(by.runIds, (c) => this.versionQuery().where('v.run_id', 'in', c).limit(limit).execute())),
      ...(await inChunks(by.loggedModelIds, (c) =>
        this.versionQuery().where('v.logged_model_id', 'in', c).limit(limit).execute(),
      )),
    ];
    return this.withAliases(rows);
  }

  /**
   * Versions registered from another version (a `models:/` source) that share one of the files'
   * locations: the candidates for being registered from the given versions.
   */
  async versionsCopying(storageLocations: string[], limit: number): Promise<VersionFacts[]> {
    const rows = await inChunks([...new Set(storageLocations)], (c) =>
      this.versionQuery()
        .where('v.storage_location', 'in', c)
        .where('v.source', 'like', 'models:/%')
        .limit(limit)
        .execute(),
    );
    return this.withAliases(rows);
  }

  /** Versions of the named models (by project) stored at the given locations: parents of copies. */
  async versionsAt(wanted: { projectId: string; name: string; storageLocation: string }[]): Promise<VersionFacts[]> {
    const rows = await inChunks(wanted, (c) =>
      this.versionQuery()
        .where((eb) =>
          eb.or(
            c.map((w) =>
              eb.and([
                eb('m.project_id', '=', w.projectId),
                eb('m.name', '=', w.name),
                eb('v.storage_location', '=', w.storageLocation),
              ]),
            ),
          ),
        )
        .execute(),
    );
    return this.withAliases(rows);
  }

  /** Releases of the versions. */
  async releasesOf(refs: VersionRef[], limit: number): Promise<ReleaseFacts[]> {
    const rows = await inChunks(refs, (c) =>
      this.releaseQuery()
        .where((eb) => eb.or(c.map((r) => eb.and([eb('r.model_id', '=', r.modelId), eb('r.version', '=', r.version)]))))
        .orderBy('r.created_at')
        .limit(limit)
        .execute(),
    );
    return rows.map(releaseFacts);
  }

  /** Deployments of the models (which versions each served is for the caller to match). */
  async deploymentsOfModels(modelIds: string[], limit: number): Promise<DeploymentFacts[]> {
    const rows = await inChunks([...new Set(modelIds)], (c) =>
      this.deploymentQuery().where('d.model_id', 'in', c).orderBy('d.created_at').limit(limit).execute(),
    );
    return this.withServed(rows);
  }

  /**
   * Versions whose gate evaluations may have used one of the datasets: their spec snapshot (JSON)
   * mentions its id. The caller parses the snapshot to be sure.
   */
  async gatedOn(datasetIds: string[], limit: number): Promise<VersionRef[]> {
    const rows = await inChunks(datasetIds, (c) =>
      this.db
        .selectFrom('model_version_gates')
        .select(['model_id', 'version'])
        .distinct()
        // Matching is loose (SQLite's LIKE ignores case, _ matches any character); the caller
        // parses each snapshot, so a loose match only costs a row.
        .where((eb) => eb.or(c.map((id) => eb('spec', 'like', `%${id}%`))))
        .limit(limit)
        .execute(),
    );
    return rows.map((r) => ({ modelId: r.model_id, version: num(r.version) }));
  }

  /** Versions of models whose evaluation spec names one of the datasets. */
  async versionsOfModelsEvaluatedOn(datasetIds: string[], limit: number): Promise<VersionRef[]> {
    const rows = await inChunks(datasetIds, (c) =>
      this.db
        .selectFrom('evaluation_specs as s')
        .innerJoin('model_versions as v', 'v.model_id', 's.model_id')
        .select(['v.model_id', 'v.version'])
        .where('s.dataset_id', 'in', c)
        .limit(limit)
        .execute(),
    );
    return rows.map((r) => ({ modelId: r.model_id, version: num(r.version) }));
  }

  // ---- internals ----

  private versionQuery() {
    return this.db
      .selectFrom('model_versions as v')
      .innerJoin('registered_models as m', 'm.id', 'v.model_id')
      .select([
        'v.model_id',
        'v.version',
        'm.name as model_name',
        'm.project_id',
        'v.source',
        'v.storage_location',
        'v.run_id',
        'v.logged_model_id',
        'v.status',
        'v.stage',
        'v.checksum',
        'v.created_at',
      ]);
  }

  private releaseQuery() {
    return this.db
      .selectFrom('releases as r')
      .innerJoin('registered_models as m', 'm.id', 'r.model_id')
      .select([
        'r.id',
        'r.model_id',
        'r.version',
        'm.name as model_name',
        'm.project_id',
        'r.environment',
        'r.status',
        'r.requested_by',
        'r.created_at',
      ]);
  }

  private deploymentQuery() {
    return this.db
      .selectFrom('deployments as d')
      .innerJoin('registered_models as m', 'm.id', 'd.model_id')
      .select([
        'd.id',
        'd.name',
        'd.project_id',
        'd.model_id',
        'm.name as model_name',
        'd.environment',
        'd.status',
        'd.runtime',
        'd.traffic',
        'd.created_at',
      ]);
  }

  /**
   * Adds the versions each deployment served: those with a share of the traffic in any of its
   * revisions (a shadow answers no one, so it is not counted).
   */
  private async withServed(
    rows: Awaited<ReturnType<ReturnType<LineageStore['deploymentQuery']>['execute']>>,
  ): Promise<DeploymentFacts[]> {
    const revisions = await inChunks(
      rows.map((r) => r.id),
      (c) =>
        this.db
          .selectFrom('deployment_revisions')
          .select(['deployment_id', 'traffic'])
          .where('deployment_id', 'in', c)
          .execute(),
    );
    const served = new Map<string, Set<number>>();
    for (const r of revisions) {
      const set = served.get(r.deployment_id) ?? new Set<number>();
      for (const s of splitOf(r.traffic)) if (s.weight > 0) set.add(s.version);
      served.set(r.deployment_id, set);
    }
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      projectId: r.project_id,
      modelId: r.model_id,
      modelName: r.model_name,
      environment: r.environment,
      status: r.status,
      runtime: r.runtime,
      traffic: splitOf(r.traffic),
      served: [...(served.get(r.id) ?? [])].sort((a, b) => a - b),
      createdAt: num(r.created_at),
    }));
  }

  private async withAliases(
    rows: Awaited<ReturnType<ReturnType<LineageStore['versionQuery']>['execute']>>,
  ): Promise<VersionFacts[]> {
    const modelIds = [...new Set(rows.map((r) => r.model_id))];
    const aliases = await inChunks(modelIds, (c) =>
      this.db
        .selectFrom('registered_model_aliases')
        .select(['model_id', 'alias', 'version'])
        .where('model_id', 'in', c)
        .orderBy('alias')
        .execute(),
    );
    const aliasesOf = new Map<string, string[]>();
    for (const a of aliases) {
      const key = `${a.model_id}/${num(a.version)}`;
      aliasesOf.set(key, [...(aliasesOf.get(key) ?? []), a.alias]);
    }
    // The same version can come from two queries of a layer; keep one.
    const seen = new Set<string>();
    const out: VersionFacts[] = [];
    for (const r of rows) {
      const key = `${r.model_id}/${num(r.version)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        modelId: r.model_id,
        version: num(r.version),
        projectId: r.project_id,
        modelName: r.model_name,
        source: r.source,
        storageLocation: r.storage_location,
        runId: r.run_id,
        loggedModelId: r.logged_model_id,
        status: r.status,
        stage: r.stage,
        checksum: r.checksum,
        createdAt: num(r.created_at),
        aliases: aliasesOf.get(key) ?? [],
      });
    }
    return out;
  }
}

/** A stored traffic split (JSON written by the serving module). */
function splitOf(json: string): { version: number; weight: number }[] {
  return (JSON.parse(json) as { version: number | string; weight: number }[]).map((s) => ({
    version: num(s.version),
    weight: s.weight,
  }));
}

function releaseFacts(r: {
  id: string;
  model_id: string;
  version: number;
  model_name: string;
  project_id: string;
  environment: ReleaseEnvironment;
  status: ReleaseStatus;
  requested_by: string;
  created_at: number;
}): ReleaseFacts {
  return {
    id: r.id,
    modelId: r.model_id,
    version: num(r.version),
    projectId: r.project_id,
    modelName: r.model_name,
    environment: r.environment,
    status: r.status,
    requestedBy: r.requested_by,
    createdAt: num(r.created_at),
  };
}
