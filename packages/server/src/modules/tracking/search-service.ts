import type { Kysely } from 'kysely';
import { isPlatformAdmin, requireAuth, type Caller } from '../../core/auth.js';
import { NotFoundError } from '../../core/errors.js';
import type { Engine } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import type { AccessService } from '../projects/access.js';
import type { ProjectStore } from '../projects/store.js';
import { searchExperiments, searchRuns, type DatasetFilter, type ViewType } from './search/index.js';
import type { Experiment, Run, TrackingService } from './service.js';
import type { TrackingStore } from './store.js';

export interface RunSearchInput {
  experimentIds: readonly string[];
  filter?: string | null;
  orderBy?: readonly string[] | null;
  maxResults?: number | null;
  pageToken?: string | null;
  viewType?: ViewType | null;
}

export interface ExperimentSearchInput {
  filter?: string | null;
  orderBy?: readonly string[] | null;
  maxResults?: number | null;
  pageToken?: string | null;
  viewType?: ViewType | null;
}

/**
 * Search over runs and experiments with MLflow's grammar (compiled to SQL in ./search). Runs are
 * searched in experiments the caller may read (every one named must be readable); experiments in
 * every project the caller has a role in.
 */
export class TrackingSearchService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
    private readonly store: TrackingStore,
    private readonly tracking: TrackingService,
    private readonly projects: ProjectStore,
    private readonly access: AccessService,
    /** Compiles `datasets.*` filter clauses (the datasets module owns those tables). */
    private readonly datasetFilter?: DatasetFilter,
  ) {}

  async searchRuns(caller: Caller, input: RunSearchInput): Promise<{ runs: Run[]; nextPageToken: string | null }> {
    requireAuth(caller);
    const ids: number[] = [];
    for (const id of input.experimentIds) {
      const n = /^\d{1,15}$/.test(id) ? Number(id) : Number.NaN;
      const e = Number.isNaN(n) ? undefined : await this.store.experimentById(n);
      const missing = () => new NotFoundError(`No Experiment with id=${id} exists`);
      if (!e) throw missing();
      await this.access.requireProjectId(caller, e.project_id, 'viewer', null, missing);
      ids.push(e.id);
    }
    const page = await searchRuns(this.db, {
      engine: this.engine,
      ...input,
      experimentIds: ids,
      datasetFilter: this.datasetFilter,
    });
    return { runs: await this.tracking.withData(page.runs), nextPageToken: page.nextPageToken };
  }

  async searchExperiments(
    caller: Caller,
    input: ExperimentSearchInput,
  ): Promise<{ experiments: Experiment[]; nextPageToken: string | null }> {
    const a = requireAuth(caller);
    let projectIds: string[];
    if (isPlatformAdmin(a)) projectIds = (await this.projects.list()).map((p) => p.id);
    else if (a.projectId !== null) projectIds = [a.projectId];
    else {
      projectIds = [];
      for (const p of await this.projects.listForUser(a.userId))
        if (await this.access.roleIn(a, p)) projectIds.push(p.id);
    }
    const page = await searchExperiments(this.db, { engine: this.engine, ...input, projectIds });
    // The projects were checked above; no per-experiment access check or query is needed.
    return { experiments: await this.tracking.withTags(page.experiments), nextPageToken: page.nextPageToken };
  }
}
