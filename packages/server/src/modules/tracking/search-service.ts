import type { Kysely } from 'kysely';
import { isPlatformAdmin, requireAuth, type Caller } from '../../core/auth.js';
import { NotFoundError } from '../../core/errors.js';
import type { Engine } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import type { AccessService } from '../projects/access.js';
import type { ProjectStore } from '../projects/store.js';
import {
  searchExperiments,
  searchRunRevisions,
  searchRuns,
  type DatasetFilter,
  type RunRevision,
  type RunSearchOptions,
  type RunSearchPage,
  type ViewType,
} from './search/index.js';
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
    const page = await searchRuns(this.db, await this.runSearchOptions(caller, input));
    return { runs: await this.tracking.withData(page.runs), nextPageToken: page.nextPageToken };
  }

  /** Whether runs carry a revision ({@link searchRunRevisions}): on SQLite only. */
  get keepsRevisions(): boolean {
    return this.engine === 'sqlite';
  }

  /**
   * The same search, returning each run's id and revision only, for a caller that keeps what it
   * builds from a run while the revision stands (the MLflow adapter's run JSON).
   */
  async searchRunRevisions(caller: Caller, input: RunSearchInput): Promise<RunSearchPage<RunRevision>> {
    return searchRunRevisions(this.db, await this.runSearchOptions(caller, input));
  }

  /** Checks that the caller may read every experiment named (a missing one is not found). */
  private async runSearchOptions(caller: Caller, input: RunSearchInput): Promise<RunSearchOptions> {
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
    return { engine: this.engine, ...input, experimentIds: ids, datasetFilter: this.datasetFilter };
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
