import type { Readable } from 'node:stream';
import type { ArtifactEntry, ArtifactStore, ByteRange, GetResult, PutResult } from '../../artifacts/index.js';
import { joinArtifactPath, normalizeArtifactPath } from '../../artifacts/index.js';
import type { Caller } from '../../core/auth.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import type { AuditLog } from '../audit/log.js';
import type { TrackingService } from '../tracking/service.js';

/** The scheme of the artifact locations Hangar hands out (MLflow's proxied-artifact scheme). */
export const PROXY_SCHEME = 'mlflow-artifacts:/';

/** The store folder of an `mlflow-artifacts:/…` location, e.g. `3/<run id>/artifacts`. */
export function storePathOf(location: string): string {
  if (!location.startsWith(PROXY_SCHEME)) throw new Error(`not a proxied artifact location: ${location}`);
  return location.slice(PROXY_SCHEME.length).replace(/^\/+/, '');
}

/** Who else owns an artifact folder inside an experiment (logged models, in their module). */
export interface ArtifactOwners {
  /** The experiment id of the logged model `modelId`, or undefined when there is none. */
  loggedModelExperiment(modelId: string): Promise<number | undefined>;
}

type Access = 'read' | 'write';

/**
 * Artifacts of runs and logged models, in one artifact store laid out as MLflow's proxy lays it out:
 * `<experiment id>/<run id>/artifacts/...` and `<experiment id>/models/<model id>/artifacts/...`.
 *
 * Access follows the experiment's project: reading needs the viewer role, writing and deleting the
 * developer role. Writes must land inside a run's or a logged model's artifact folder of that very
 * experiment, so nobody can plant files beside them. Uploads are not audited (they are as frequent
 * as metrics); deletions are.
 */
export class ArtifactsService {
  private owners: ArtifactOwners | null = null;

  constructor(
    readonly store: ArtifactStore,
    private readonly tracking: TrackingService,
    private readonly audit: AuditLog,
  ) {}

  /** Registers the lookup of logged models (wired after both services exist). */
  setOwners(owners: ArtifactOwners): void {
    this.owners = owners;
  }

  // ---- addressed by MLflow proxy path (`<experiment>/...`) ----

  /** The folder's entries (store paths), or every file beneath it with `recursive`. */
  async list(caller: Caller, path: string, recursive = false): Promise<ArtifactEntry[]> {
    const p = await this.authorize(caller, path, 'read', true);
    return this.store.list(p, { recursive });
  }

  async get(caller: Caller, path: string, range?: ByteRange): Promise<GetResult> {
    const p = await this.authorize(caller, path, 'read');
    return this.store.get(p, range);
  }

  async put(
    caller: Caller,
    path: string,
    body: Readable,
    opts: { size?: number; contentType?: string; sha256?: string },
  ): Promise<PutResult> {
    const p = await this.authorize(caller, path, 'write', false, true);
    return this.store.put(p, body, opts);
  }

  async delete(caller: Caller, path: string): Promise<number> {
    const p = await this.authorize(caller, path, 'write');
    const projectId = (await this.tracking.readableExperiment(caller, p.split('/')[0]!)).project_id;
    return this.audit.change(caller, async (_tx, record) => {
      const { deleted } = await this.store.delete(p);
      record('artifact.delete', { type: 'artifact', name: p }, { projectId, details: { deleted } });
      return deleted;
    });
  }

  // ---- addressed by run (native API) ----

  /**
   * The proxy path of `path` inside a run's artifact folder (the caller must be able to read the
   * run; the operation then called with it checks the rest).
   */
  async runPath(caller: Caller, runId: string, path: string): Promise<{ root: string; path: string }> {
    const { run } = await this.tracking.readableRun(caller, runId);
    const root = storePathOf(run.artifact_uri);
    return { root, path: joinArtifactPath(root, normalizeArtifactPath(path, { allowRoot: true })) };
  }

  /**
   * Checks `path` and the caller's right to it; returns the normalized store path. Reads may look
   * at any folder of a readable experiment; writes only inside a run or logged model of it.
   */
  private async authorize(
    caller: Caller,
    path: string,
    access: Access,
    allowExperimentRoot = false,
    isFile = false,
  ): Promise<string> {
    const p = normalizeArtifactPath(path, { field: 'path' });
    const parts = p.split('/');
    const [experimentId, owner, third, fourth] = parts;
    if (!/^\d{1,15}$/.test(experimentId!)) {
      throw new InputError(`artifact path ${JSON.stringify(p)} must start with an experiment id`, 'path');
    }
    if (access === 'read') {
      await this.tracking.readableExperiment(caller, experimentId!);
      if (owner === undefined && !allowExperimentRoot) throw new NotFoundError(`no artifact at ${JSON.stringify(p)}`);
      return p;
    }
    const experiment = await this.tracking.writableExperiment(caller, experimentId!, 'artifact.write');
    const outside = () =>
      new InputError(
        `artifact path ${JSON.stringify(p)} is outside every run and logged model of experiment ${experimentId}; ` +
          'write under <experiment>/<run id>/artifacts/ or <experiment>/models/<model id>/artifacts/',
        'path',
      );
    if (owner === 'models') {
      const modelExperiment = third ? await this.owners?.loggedModelExperiment(third) : undefined;
      if (modelExperiment !== experiment.id || fourth !== 'artifacts' || (isFile && parts.length < 5)) throw outside();
      return p;
    }
    if (third !== 'artifacts' || !owner || !/^[0-9a-f]{32}$/.test(owner) || (isFile && parts.length < 4))
      throw outside();
    const { run } = await this.tracking.writableRun(caller, owner, 'artifact.write');
    if (run.experiment_id !== experiment.id) throw outside();
    return p;
  }
}
