import type { Caller } from '../../core/auth.js';
import { NotFoundError, RangeNotSatisfiableError } from '../../core/errors.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { storePathOf } from '../artifacts/service.js';
import type { DatasetsService } from '../datasets/service.js';
import type { LoggedModelsService } from '../logged-models/service.js';
import type { TrackingService } from '../tracking/service.js';
import type { KeyValue } from '../tracking/store.js';

export interface ReproducibilityRecord {
  runId: string;
  runName: string;
  experimentId: string;
  user: string;
  status: string;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  /** Where the code came from, from the tags MLflow's client sets (mlflow.source.*). */
  code: {
    sourceType: string | null;
    entryPoint: string | null;
    gitCommit: string | null;
    gitRepoUrl: string | null;
    gitBranch: string | null;
  };
  params: KeyValue[];
  /**
   * The Python environment, from the files MLflow writes beside a logged model (python_env.yaml,
   * requirements.txt): the run's own, logged under its `environment/` artifact folder, else those
   * of the first model the run produced; null parts where there are none.
   */
  environment: {
    /** Where the files were read: the run's `environment/` folder, or a model the run produced. */
    source: 'run' | 'model' | null;
    fromModelId: string | null;
    python: string | null;
    requirements: string[];
  };
  datasets: { datasetId: string; name: string; digest: string; context: string | null; source: string }[];
  models: { modelId: string; name: string; direction: 'input' | 'output'; step: number; artifactUri: string }[];
}

/** Where a run's own environment files go among its artifacts (see docs/tracking.md). */
export const RUN_ENVIRONMENT_FOLDER = 'environment';

/** Environment files are small; anything larger is not read whole. */
const MAX_ENV_FILE_BYTES = 256 * 1024;

const tagOf = (tags: KeyValue[], key: string) => tags.find((t) => t.key === key)?.value ?? null;

/**
 * Assembles everything needed to re-run a run's training months later: code version, entry point,
 * params, environment, the exact dataset versions and the models it consumed and produced.
 */
export class ReproducibilityService {
  constructor(
    private readonly tracking: TrackingService,
    private readonly datasets: DatasetsService,
    private readonly loggedModels: LoggedModelsService,
    private readonly artifacts: ArtifactsService,
  ) {}

  async record(caller: Caller, runId: string): Promise<ReproducibilityRecord> {
    const run = await this.tracking.getRun(caller, runId);
    const tags = run.data.tags;
    const [inputs, links] = await Promise.all([this.datasets.inputsOf([runId]), this.loggedModels.linksOf([runId])]);
    const models: ReproducibilityRecord['models'] = [];
    for (const link of links) {
      const m = await this.loggedModels.get(caller, link.model_id, true).catch((err: unknown) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      if (m)
        models.push({
          modelId: m.modelId,
          name: m.name,
          direction: link.direction,
          step: link.step,
          artifactUri: m.artifactUri,
        });
    }
    const produced = models.find((m) => m.direction === 'output');
    return {
      runId,
      runName: run.info.runName,
      experimentId: run.info.experimentId,
      user: run.info.userId,
      status: run.info.status,
      startTime: run.info.startTime,
      endTime: run.info.endTime,
      parentRunId: tagOf(tags, 'mlflow.parentRunId'),
      code: {
        sourceType: tagOf(tags, 'mlflow.source.type'),
        entryPoint: tagOf(tags, 'mlflow.source.name'),
        gitCommit: tagOf(tags, 'mlflow.source.git.commit'),
        gitRepoUrl: tagOf(tags, 'mlflow.source.git.repoURL'),
        gitBranch: tagOf(tags, 'mlflow.source.git.branch'),
      },
      params: run.data.params,
      environment: await this.environmentOf(caller, run.info.artifactUri, produced),
      datasets: (inputs.get(runId) ?? []).map((i) => ({
        datasetId: i.dataset.datasetId,
        name: i.dataset.name,
        digest: i.dataset.digest,
        context: i.context,
        source: i.dataset.source,
      })),
      models,
    };
  }

  /**
   * The run's own environment files win: a run that logs no model (or whose model was made
   * elsewhere) can still record what it ran in.
   */
  private async environmentOf(
    caller: Caller,
    runArtifactUri: string,
    produced: { modelId: string; artifactUri: string } | undefined,
  ): Promise<ReproducibilityRecord['environment']> {
    const own = await this.environmentFiles(caller, `${storePathOf(runArtifactUri)}/${RUN_ENVIRONMENT_FOLDER}`);
    if (own.python !== null || own.requirements.length > 0) return { source: 'run', fromModelId: null, ...own };
    if (!produced) return { source: null, fromModelId: null, python: null, requirements: [] };
    const files = await this.environmentFiles(caller, storePathOf(produced.artifactUri));
    return { source: 'model', fromModelId: produced.modelId, ...files };
  }

  private async environmentFiles(
    caller: Caller,
    root: string,
  ): Promise<{ python: string | null; requirements: string[] }> {
    const read = async (name: string): Promise<string | null> => {
      try {
        const file = await this.artifacts.get(caller, `${root}/${name}`, { start: 0, end: MAX_ENV_FILE_BYTES - 1 });
        const chunks: Buffer[] = [];
        for await (const c of file.stream) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      } catch (err) {
        // Missing, or empty (no byte range to read): no environment from that file.
        if (err instanceof NotFoundError || err instanceof RangeNotSatisfiableError) return null;
        throw err;
      }
    };
    const [pythonEnv, requirements] = await Promise.all([read('python_env.yaml'), read('requirements.txt')]);
    return {
      python: /^python:\s*["']?([\w.+-]+)/m.exec(pythonEnv ?? '')?.[1] ?? null,
      requirements: (requirements ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    };
  }
}
