import '../../core/fastify-types.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/auth.js';
import { InputError } from '../../core/errors.js';
import { callerOf } from '../../core/request.js';
import type { DatasetInput, DatasetsService } from '../datasets/service.js';
import { modelMetricOf, type LoggedModel, type LoggedModelsService } from '../logged-models/service.js';
import type { RunModelRow } from '../logged-models/store.js';
import type { ViewType } from '../tracking/search/index.js';
import type { TrackingSearchService } from '../tracking/search-service.js';
import type { Experiment, Metric, MetricInput, Run, RunInfo, TrackingService } from '../tracking/service.js';
import { endpointNotFound, mlflowErrorHandler } from './errors.js';
import { cachedRunSearch } from './run-search-page.js';

/*
 * MLflow's tracking REST API (the subset the MLflow client calls for tracking), as a thin adapter
 * over the tracking service: requests are translated to service calls and answers to MLflow's JSON
 * shapes (snake_case; NaN and infinities as strings, as MLflow's server writes them). Bodies are
 * validated by the service, so both front doors share one set of rules and messages.
 */

export type Body = Record<string, unknown>;

const PREFIX = '/api/2.0/mlflow';
/** Where MLflow clients look for endpoints, and on a miss expect ENDPOINT_NOT_FOUND to fall back. */
const CLIENT_PREFIXES = [PREFIX, '/api/3.0/mlflow'];

export function body(req: FastifyRequest): Body {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new InputError('Request body must be a JSON object');
  return b as Body;
}

export function query(req: FastifyRequest): Record<string, string | undefined> {
  return req.query as Record<string, string | undefined>;
}

export function str(b: Body, key: string, required = true): string | undefined {
  const v = b[key];
  if (v === undefined || v === null || v === '') {
    if (required)
      throw new InputError(
        `Missing value for required parameter '${key}'. See the API docs for more information about request parameters.`,
        key,
      );
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new InputError(`Invalid value ${JSON.stringify(v)} for parameter '${key}' supplied: expected a string`, key);
  return String(v);
}

export function list<T>(b: Body, key: string): T[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InputError(`Invalid value for parameter '${key}': expected a list`, key);
  for (const item of v) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new InputError(`Invalid value for parameter '${key}': expected a list of objects`, key);
    }
  }
  return v as T[];
}

const num = (v: number): number | string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;

export const experimentJson = (e: Experiment) => ({
  experiment_id: e.experimentId,
  name: e.name,
  artifact_location: e.artifactLocation,
  lifecycle_stage: e.lifecycleStage,
  creation_time: e.creationTime,
  last_update_time: e.lastUpdateTime,
  tags: e.tags,
});

const metricJson = (m: Metric) => ({ key: m.key, value: num(m.value), timestamp: m.timestamp, step: m.step });

const runInfoJson = (i: RunInfo) => ({
  run_id: i.runId,
  run_uuid: i.runId,
  run_name: i.runName,
  experiment_id: i.experimentId,
  user_id: i.userId,
  status: i.status,
  start_time: i.startTime,
  ...(i.endTime !== null ? { end_time: i.endTime } : {}),
  artifact_uri: i.artifactUri,
  lifecycle_stage: i.lifecycleStage,
});

/** What a run consumed and produced, for MLflow's `inputs` and `outputs` of a run. */
interface RunIo {
  datasets: Map<string, DatasetInput[]>;
  models: RunModelRow[];
}

export const runJson = (r: Run, io?: RunIo) => {
  const models = io?.models.filter((m) => m.run_id === r.info.runId) ?? [];
  return {
    info: runInfoJson(r.info),
    data: { metrics: r.data.metrics.map(metricJson), params: r.data.params, tags: r.data.tags },
    inputs: {
      dataset_inputs: (io?.datasets.get(r.info.runId) ?? []).map((d) => ({
        tags: d.tags,
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.sourceType,
          source: d.dataset.source,
          ...(d.dataset.schema !== null ? { schema: d.dataset.schema } : {}),
          ...(d.dataset.profile !== null ? { profile: d.dataset.profile } : {}),
        },
      })),
      model_inputs: models.filter((m) => m.direction === 'input').map((m) => ({ model_id: m.model_id })),
    },
    outputs: {
      model_outputs: models
        .filter((m) => m.direction === 'output')
        .map((m) => ({ model_id: m.model_id, step: m.step })),
    },
  };
};

const STATUS_TO_MLFLOW = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};
const STATUS_FROM_MLFLOW: Record<string, string> = {
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
  // The enum's numbers, which some clients send.
  '1': 'PENDING',
  '2': 'READY',
  '3': 'FAILED',
};

export const loggedModelJson = (m: LoggedModel) => ({
  info: {
    model_id: m.modelId,
    experiment_id: m.experimentId,
    name: m.name,
    creation_timestamp_ms: m.creationTimestamp,
    last_updated_timestamp_ms: m.lastUpdatedTimestamp,
    artifact_uri: m.artifactUri,
    status: STATUS_TO_MLFLOW[m.status],
    creator_id: 0,
    ...(m.modelType !== null ? { model_type: m.modelType } : {}),
    ...(m.sourceRunId !== null ? { source_run_id: m.sourceRunId } : {}),
    ...(m.statusMessage !== null ? { status_message: m.statusMessage } : {}),
    tags: m.tags,
  },
  data: {
    params: m.params,
    metrics: m.metrics.map((x) => ({
      key: x.key,
      value: num(x.value),
      timestamp: x.timestamp,
      step: x.step,
      model_id: m.modelId,
      ...(x.runId !== null ? { run_id: x.runId } : {}),
      ...(x.datasetName !== null ? { dataset_name: x.datasetName } : {}),
      ...(x.datasetDigest !== null ? { dataset_digest: x.datasetDigest } : {}),
    })),
  },
});

type Handler = (caller: Caller, b: Body, q: Record<string, string | undefined>) => Promise<unknown>;

export interface MlflowServices {
  tracking: TrackingService;
  search: TrackingSearchService;
  loggedModels: LoggedModelsService;
  datasets: DatasetsService;
}

export function mlflowRoutes({ tracking, search, loggedModels, datasets }: MlflowServices) {
  const ioOf = async (runs: Run[]): Promise<RunIo> => {
    const ids = runs.map((r) => r.info.runId);
    const [d, models] = await Promise.all([datasets.inputsOf(ids), loggedModels.linksOf(ids)]);
    return { datasets: d, models };
  };
  const runWithIo = async (r: Run) => runJson(r, await ioOf([r]));
  const cachedSearch = search.keepsRevisions
    ? cachedRunSearch({
        search,
        tracking,
        toJson: async (runs) => {
          const io = await ioOf(runs);
          return new Map(runs.map((r) => [r.info.runId, JSON.stringify(runJson(r, io))]));
        },
      })
    : null;
  return async (app: FastifyInstance) => {
    app.setErrorHandler(mlflowErrorHandler(app, 'MLflow request'));
    // Unknown routes under MLflow's prefixes answer as MLflow's server does (the client reads an
    // HTML 404 from it as ENDPOINT_NOT_FOUND), so clients that probe newer APIs fall back.
    for (const prefix of CLIENT_PREFIXES) {
      await app.register(
        async (scope) => {
          scope.setNotFoundHandler((req, reply) => reply.code(404).send(endpointNotFound(req.method, req.url)));
        },
        { prefix },
      );
    }
    // MLflow's own liveness route, which its tooling probes.
    app.get('/health', { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/plain').send('OK'),
    );
    const post = (path: string, h: Handler) =>
      app.post(
        `${PREFIX}/${path}`,
        { schema: { hide: true } },
        async (req) => (await h(callerOf(req), body(req), {})) ?? {},
      );
    const get = (path: string, h: Handler) =>
      app.get(
        `${PREFIX}/${path}`,
        { schema: { hide: true } },
        async (req) => (await h(callerOf(req), {}, query(req))) ?? {},
      );

    post('experiments/create', async (c, b) => ({
      experiment_id: await tracking.createExperiment(c, {
        projectId: await tracking.projectForCaller(c),
        name: b.name,
        tags: list(b, 'tags'),
      }),
    }));
    get('experiments/get', async (c, _b, q) => ({
      experiment: experimentJson(await tracking.getExperiment(c, str(q, 'experiment_id')!)),
    }));
    get('experiments/get-by-name', async (c, _b, q) => ({
      experiment: experimentJson(await tracking.getExperimentByName(c, str(q, 'experiment_name')!)),
    }));
    post('experiments/update', async (c, b) => {
      await tracking.renameExperiment(c, str(b, 'experiment_id')!, b.new_name);
    });
    post('experiments/delete', async (c, b) => {
      await tracking.setExperimentLifecycle(c, str(b, 'experiment_id')!, 'deleted');
    });
    post('experiments/restore', async (c, b) => {
      await tracking.setExperimentLifecycle(c, str(b, 'experiment_id')!, 'active');
    });
    post('experiments/set-experiment-tag', async (c, b) => {
      await tracking.setExperimentTag(c, str(b, 'experiment_id')!, b.key, b.value);
    });
    post('experiments/delete-experiment-tag', async (c, b) => {
      await tracking.deleteExperimentTag(c, str(b, 'experiment_id')!, str(b, 'key')!);
    });

    post('runs/create', async (c, b) => ({
      run: runJson(
        await tracking.createRun(c, {
          experimentId: str(b, 'experiment_id', false),
          runName: b.run_name,
          startTime: b.start_time,
          tags: list(b, 'tags'),
        }),
      ),
    }));
    get('runs/get', async (c, _b, q) => ({
      run: await runWithIo(await tracking.getRun(c, str(q, 'run_id', false) ?? str(q, 'run_uuid')!)),
    }));
    post('runs/update', async (c, b) => ({
      run_info: runInfoJson(
        await tracking.updateRun(c, str(b, 'run_id', false) ?? str(b, 'run_uuid')!, {
          status: b.status,
          endTime: b.end_time,
          runName: b.run_name,
        }),
      ),
    }));
    post('runs/delete', async (c, b) => {
      await tracking.setRunLifecycle(c, str(b, 'run_id')!, 'deleted');
    });
    post('runs/restore', async (c, b) => {
      await tracking.setRunLifecycle(c, str(b, 'run_id')!, 'active');
    });
    post('runs/log-metric', async (c, b) => {
      const runId = str(b, 'run_id', false) ?? str(b, 'run_uuid')!;
      await tracking.logBatch(c, runId, {
        metrics: [{ key: b.key, value: b.value, timestamp: b.timestamp, step: b.step }],
      });
    });
    post('runs/log-parameter', async (c, b) => {
      const runId = str(b, 'run_id', false) ?? str(b, 'run_uuid')!;
      await tracking.logBatch(c, runId, { params: [{ key: b.key, value: b.value }] });
    });
    post('runs/set-tag', async (c, b) => {
      const runId = str(b, 'run_id', false) ?? str(b, 'run_uuid')!;
      await tracking.logBatch(c, runId, { tags: [{ key: b.key, value: b.value }] });
    });
    post('runs/delete-tag', async (c, b) => {
      await tracking.deleteTag(c, str(b, 'run_id')!, str(b, 'key')!);
    });
    post('runs/log-batch', async (c, b) => {
      const runId = str(b, 'run_id')!;
      const metrics = list<Body>(b, 'metrics');
      // MLflow 3 metrics may name the logged model (and dataset) they measure: the models are
      // checked before the batch is written (a batch refused for its models writes nothing), and
      // the metrics recorded on them after it.
      const modelMetrics = (metrics ?? []).map(modelMetricOf).filter((m) => m !== null);
      const recordModelMetrics = await loggedModels.prepareMetrics(c, runId, modelMetrics);
      await tracking.logBatch(c, runId, {
        metrics: metrics as MetricInput[] | undefined,
        params: list(b, 'params'),
        tags: list(b, 'tags'),
      });
      await recordModelMetrics();
    });
    post('runs/log-inputs', async (c, b) => {
      const runId = str(b, 'run_id')!;
      const models = list<Body>(b, 'models') ?? [];
      // The models are checked before the datasets are written, so a refused request writes nothing.
      const linkModels = await loggedModels.prepareLinks(
        c,
        runId,
        'input',
        models.map((m) => ({ modelId: m.model_id })),
      );
      await datasets.logMlflowInputs(c, runId, list(b, 'datasets') ?? []);
      await linkModels();
    });
    post('runs/outputs', async (c, b) => {
      const models = list<Body>(b, 'models') ?? [];
      await loggedModels.linkToRun(
        c,
        str(b, 'run_id')!,
        'output',
        models.map((m) => ({ modelId: m.model_id, step: m.step })),
      );
    });
    // MLflow 2's record of a logged model: appended to the run's mlflow.log-model.history tag.
    post('runs/log-model', async (c, b) => {
      const runId = str(b, 'run_id')!;
      const modelJson = str(b, 'model_json')!;
      let model: unknown;
      try {
        model = JSON.parse(modelJson);
      } catch {
        throw new InputError('model_json is not valid JSON', 'model_json');
      }
      await tracking.appendModelHistory(c, runId, model);
    });
    get('metrics/get-history', async (c, _b, q) => {
      const maxResults = q.max_results === undefined ? undefined : Number(q.max_results);
      if (maxResults !== undefined && (!Number.isSafeInteger(maxResults) || maxResults < 1)) {
        throw new InputError(`Invalid value ${q.max_results} for parameter 'max_results'`, 'max_results');
      }
      const r = await tracking.metricHistory(c, str(q, 'run_id', false) ?? str(q, 'run_uuid')!, str(q, 'metric_key')!, {
        maxResults,
        pageToken: q.page_token || undefined,
      });
      return { metrics: r.metrics.map(metricJson), ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}) };
    });

    post('logged-models', async (c, b) => ({
      model: loggedModelJson(
        await loggedModels.create(c, {
          experimentId: str(b, 'experiment_id')!,
          name: b.name,
          modelType: b.model_type,
          sourceRunId: str(b, 'source_run_id', false),
          params: list(b, 'params'),
          tags: list(b, 'tags'),
        }),
      ),
    }));
    post('logged-models/search', async (c, b) => {
      const r = await loggedModels.search(c, {
        experimentIds: stringList(b, 'experiment_ids', true) ?? [],
        filter: str(b, 'filter', false),
        orderBy: (list<Body>(b, 'order_by') ?? []).map((o) => ({
          fieldName: o.field_name,
          ascending: o.ascending,
          datasetName: o.dataset_name,
          datasetDigest: o.dataset_digest,
        })),
        maxResults: optionalInt(b, 'max_results'),
        pageToken: str(b, 'page_token', false),
      });
      return {
        models: r.models.map(loggedModelJson),
        ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}),
      };
    });
    app.get(`${PREFIX}/logged-models/:modelId`, { schema: { hide: true } }, async (req) => ({
      model: loggedModelJson(
        await loggedModels.get(callerOf(req), modelIdOf(req), query(req).allow_deleted === 'true'),
      ),
    }));
    app.patch(`${PREFIX}/logged-models/:modelId`, { schema: { hide: true } }, async (req) => {
      const status = body(req).status;
      const mapped =
        typeof status === 'string' || typeof status === 'number' ? STATUS_FROM_MLFLOW[String(status)] : undefined;
      return { model: loggedModelJson(await loggedModels.finalize(callerOf(req), modelIdOf(req), mapped ?? status)) };
    });
    app.delete(`${PREFIX}/logged-models/:modelId`, { schema: { hide: true } }, async (req) => {
      await loggedModels.delete(callerOf(req), modelIdOf(req));
      return {};
    });
    app.patch(`${PREFIX}/logged-models/:modelId/tags`, { schema: { hide: true } }, async (req) => {
      await loggedModels.setTags(callerOf(req), modelIdOf(req), list(body(req), 'tags'));
      return {};
    });
    app.delete(`${PREFIX}/logged-models/:modelId/tags/:key`, { schema: { hide: true } }, async (req) => {
      await loggedModels.deleteTag(callerOf(req), modelIdOf(req), (req.params as { key: string }).key);
      return {};
    });
    app.post(`${PREFIX}/logged-models/:modelId/params`, { schema: { hide: true } }, async (req) => {
      await loggedModels.logParams(callerOf(req), modelIdOf(req), list(body(req), 'params'));
      return {};
    });

    app.post(`${PREFIX}/runs/search`, { schema: { hide: true } }, async (req, reply) => {
      const b = body(req);
      const input = {
        experimentIds: stringList(b, 'experiment_ids', true) ?? [],
        filter: str(b, 'filter', false),
        orderBy: stringList(b, 'order_by'),
        maxResults: optionalInt(b, 'max_results'),
        pageToken: str(b, 'page_token', false),
        viewType: str(b, 'run_view_type', false) as ViewType | undefined,
      };
      if (cachedSearch) return reply.type('application/json').send(await cachedSearch(callerOf(req), input));
      const r = await search.searchRuns(callerOf(req), input);
      const io = await ioOf(r.runs);
      return {
        runs: r.runs.map((run) => runJson(run, io)),
        ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}),
      };
    });
    post('experiments/search', async (c, b) => {
      const r = await search.searchExperiments(c, {
        filter: str(b, 'filter', false),
        orderBy: stringList(b, 'order_by'),
        maxResults: optionalInt(b, 'max_results'),
        pageToken: str(b, 'page_token', false),
        viewType: str(b, 'view_type', false) as ViewType | undefined,
      });
      return {
        experiments: r.experiments.map(experimentJson),
        ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}),
      };
    });
  };
}

const modelIdOf = (req: FastifyRequest) => (req.params as { modelId: string }).modelId;

/** A list of strings; with `ids`, numbers are accepted too (experiment ids written as numbers). */
export function stringList(b: Body, key: string, ids = false): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  const ok = (x: unknown) => typeof x === 'string' || (ids && typeof x === 'number');
  if (!Array.isArray(v) || !v.every(ok)) {
    throw new InputError(`Invalid value for parameter '${key}': expected a list of strings`, key);
  }
  return v.map(String);
}

export function optionalInt(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new InputError(`Invalid value ${JSON.stringify(v)} for parameter '${key}': expected an integer`, key);
  }
  return n;
}
