import '../../core/fastify-types.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/auth.js';
import { InputError } from '../../core/errors.js';
import { callerOf } from '../../core/request.js';
import type { ViewType } from '../tracking/search/index.js';
import type { TrackingSearchService } from '../tracking/search-service.js';
import type { Experiment, Metric, Run, RunInfo, TrackingService } from '../tracking/service.js';
import { endpointNotFound, toMlflowError } from './errors.js';

/*
 * MLflow's tracking REST API (the subset the MLflow client calls for tracking), as a thin adapter
 * over the tracking service: requests are translated to service calls and answers to MLflow's JSON
 * shapes (snake_case; NaN and infinities as strings, as MLflow's server writes them). Bodies are
 * validated by the service, so both front doors share one set of rules and messages.
 */

type Body = Record<string, unknown>;

const PREFIX = '/api/2.0/mlflow';
/** Where MLflow clients look for endpoints, and on a miss expect ENDPOINT_NOT_FOUND to fall back. */
const CLIENT_PREFIXES = [PREFIX, '/api/3.0/mlflow'];

function body(req: FastifyRequest): Body {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new InputError('Request body must be a JSON object');
  return b as Body;
}

function query(req: FastifyRequest): Record<string, string | undefined> {
  return req.query as Record<string, string | undefined>;
}

function str(b: Body, key: string, required = true): string | undefined {
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

function list<T>(b: Body, key: string): T[] | undefined {
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

export const runJson = (r: Run) => ({
  info: runInfoJson(r.info),
  data: { metrics: r.data.metrics.map(metricJson), params: r.data.params, tags: r.data.tags },
  inputs: { dataset_inputs: [] },
});

type Handler = (caller: Caller, b: Body, q: Record<string, string | undefined>) => Promise<unknown>;

export function mlflowRoutes(tracking: TrackingService, search: TrackingSearchService) {
  return async (app: FastifyInstance) => {
    app.setErrorHandler((err, req, reply) => {
      const { status, body: b } = toMlflowError(err, req.id, app.initialConfig.bodyLimit);
      if (status >= 500) req.log.error({ err, reqId: req.id }, 'MLflow request failed');
      return reply.code(status).send(b);
    });
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
      run: runJson(await tracking.getRun(c, str(q, 'run_id', false) ?? str(q, 'run_uuid')!)),
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
      await tracking.logBatch(c, str(b, 'run_id')!, {
        metrics: list(b, 'metrics'),
        params: list(b, 'params'),
        tags: list(b, 'tags'),
      });
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

    post('runs/search', async (c, b) => {
      const r = await search.searchRuns(c, {
        experimentIds: stringList(b, 'experiment_ids', true) ?? [],
        filter: str(b, 'filter', false),
        orderBy: stringList(b, 'order_by'),
        maxResults: optionalInt(b, 'max_results'),
        pageToken: str(b, 'page_token', false),
        viewType: str(b, 'run_view_type', false) as ViewType | undefined,
      });
      return { runs: r.runs.map(runJson), ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}) };
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

/** A list of strings; with `ids`, numbers are accepted too (experiment ids written as numbers). */
function stringList(b: Body, key: string, ids = false): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  const ok = (x: unknown) => typeof x === 'string' || (ids && typeof x === 'number');
  if (!Array.isArray(v) || !v.every(ok)) {
    throw new InputError(`Invalid value for parameter '${key}': expected a list of strings`, key);
  }
  return v.map(String);
}

function optionalInt(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new InputError(`Invalid value ${JSON.stringify(v)} for parameter '${key}': expected an integer`, key);
  }
  return n;
}
