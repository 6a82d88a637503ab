import type { Caller } from '../../core/auth.js';
import { ForbiddenError, NotFoundError, RangeNotSatisfiableError } from '../../core/errors.js';
import { PROXY_SCHEME, storePathOf, type ArtifactsService } from '../artifacts/service.js';
import type { ModelVersion, RegistryService } from '../registry/service.js';
import type { ReproducibilityRecord, ReproducibilityService } from '../reproducibility/service.js';
import type { LineageService } from './service.js';
import type { LineageStore } from './store.js';

/** The environment files MLflow writes beside a model, in the order they are reported. */
export const ENVIRONMENT_FILES = ['requirements.txt', 'python_env.yaml', 'conda.yaml'] as const;
/** Environment files are small; anything larger is reported cut at this size. */
export const MAX_ENVIRONMENT_FILE_BYTES = 64 * 1024;

export interface EnvironmentFile {
  name: (typeof ENVIRONMENT_FILES)[number];
  /** The file's text, at most MAX_ENVIRONMENT_FILE_BYTES of it. */
  content: string;
  size: number;
  truncated: boolean;
}

export interface VersionReproducibility {
  version: Pick<
    ModelVersion,
    | 'name'
    | 'version'
    | 'source'
    | 'storageLocation'
    | 'runId'
    | 'loggedModelId'
    | 'checksum'
    | 'sizeBytes'
    | 'fileCount'
    | 'framework'
    | 'format'
    | 'signature'
    | 'stage'
    | 'creator'
    | 'createdAt'
  >;
  /** The environment files found in the version's model folder (missing ones are left out). */
  environment: EnvironmentFile[];
  /** The reproducibility record of the run that trained it; null without one (or when it is gone). */
  run: ReproducibilityRecord | null;
  /** The held-out set the evaluation gate scores it on, if the model has an evaluation spec. */
  heldOutDataset: {
    datasetId: string;
    name: string | null;
    digest: string | null;
    task: string | null;
    labelColumn: string | null;
    from: 'gate' | 'spec';
  } | null;
}

/**
 * Everything needed to re-run the training of a model version: its files' identity (source,
 * location, checksum, size, flavor, signature), the Python environment files stored with it, the
 * source run's reproducibility record (code commit, entry point, params, dataset versions) and the
 * held-out dataset of its evaluation gate. Viewers of the project read it.
 */
export class VersionReproducibilityService {
  constructor(
    private readonly registry: Pick<RegistryService, 'getVersion'>,
    private readonly runs: Pick<ReproducibilityService, 'record'>,
    private readonly artifacts: Pick<ArtifactsService, 'get'>,
    private readonly lineage: Pick<LineageService, 'heldOut'>,
    private readonly store: Pick<LineageStore, 'datasets'>,
  ) {}

  async record(caller: Caller, project: string, name: unknown, version: unknown): Promise<VersionReproducibility> {
    // The registry checks the caller may read the project (first thing it does).
    const v = await this.registry.getVersion(caller, { name: project }, name, version);
    const [environment, run, heldOut] = await Promise.all([
      this.environment(caller, v.storageLocation),
      v.runId
        ? this.runs.record(caller, v.runId).catch((err: unknown) => {
            // A deleted run, or one the caller may no longer read, leaves the record without it.
            if (err instanceof NotFoundError || err instanceof ForbiddenError) return null;
            throw err;
          })
        : null,
      this.heldOut(v),
    ]);
    return {
      version: {
        name: v.name,
        version: v.version,
        source: v.source,
        storageLocation: v.storageLocation,
        runId: v.runId,
        loggedModelId: v.loggedModelId,
        checksum: v.checksum,
        sizeBytes: v.sizeBytes,
        fileCount: v.fileCount,
        framework: v.framework,
        format: v.format,
        signature: v.signature,
        stage: v.stage,
        creator: v.creator,
        createdAt: v.createdAt,
      },
      environment,
      run,
      heldOutDataset: heldOut,
    };
  }

  private async heldOut(v: ModelVersion): Promise<VersionReproducibility['heldOutDataset']> {
    const h = (await this.lineage.heldOut([{ modelId: v.modelId, version: v.version }])).values().next().value;
    if (!h) return null;
    // The spec's dataset lies in the model's project (the gate's rule), which the caller reads.
    const [d] = await this.store.datasets([h.datasetId]);
    return {
      datasetId: h.datasetId,
      name: d?.name ?? null,
      digest: d?.digest ?? null,
      task: h.task,
      labelColumn: h.labelColumn,
      from: h.from,
    };
  }

  private async environment(caller: Caller, storageLocation: string): Promise<EnvironmentFile[]> {
    if (!storageLocation.startsWith(PROXY_SCHEME)) return [];
    const root = storePathOf(storageLocation);
    const files = await Promise.all(
      ENVIRONMENT_FILES.map(async (name): Promise<EnvironmentFile | null> => {
        try {
          const file = await this.artifacts.get(caller, `${root}/${name}`, {
            start: 0,
            end: MAX_ENVIRONMENT_FILE_BYTES - 1,
          });
          const chunks: Buffer[] = [];
          for await (const c of file.stream) chunks.push(c as Buffer);
          return {
            name,
            content: Buffer.concat(chunks).toString('utf8'),
            size: file.size,
            truncated: file.size > MAX_ENVIRONMENT_FILE_BYTES,
          };
        } catch (err) {
          // Missing (or the version is a single file): not part of the environment. Empty: no range.
          if (err instanceof NotFoundError) return null;
          if (err instanceof RangeNotSatisfiableError) return { name, content: '', size: 0, truncated: false };
          throw err;
        }
      }),
    );
    return files.filter((f): f is EnvironmentFile => f !== null);
  }
}
