import { randomBytes } from 'node:crypto';
import { requireAuth, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import type { LoggedModelStatus } from '../../db/schema.js';
import type { AuditLog } from '../audit/log.js';
import { LIMITS, parseInteger, parseMetricValue, validateKey, validateValue } from '../tracking/limits.js';
import { parseLoggedModelFilter } from '../tracking/search/index.js';
import type { TrackingService } from '../tracking/service.js';
import type { KeyValue } from '../tracking/store.js';
import {
  ATTRIBUTE_COLUMNS,
  type LoggedModelMetricRow,
  type LoggedModelOrder,
  type LoggedModelRow,
  type LoggedModelStore,
  type RunModelRow,
} from './store.js';

export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'FAILED'] as const;

export interface LoggedModelMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  runId: string | null;
  datasetName: string | null;
  datasetDigest: string | null;
}

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactUri: string;
  status: LoggedModelStatus;
  statusMessage: string | null;
  modelType: string | null;
  sourceRunId: string | null;
  creator: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  lifecycleStage: 'active' | 'deleted';
  tags: KeyValue[];
  params: KeyValue[];
  metrics: LoggedModelMetric[];
}

export interface LoggedModelSearchInput {
  experimentIds: readonly string[];
  filter?: string | null;
  orderBy?: readonly { fieldName: unknown; ascending?: unknown; datasetName?: unknown; datasetDigest?: unknown }[];
  maxResults?: number | null;
  pageToken?: string | null;
}

/** A metric of a log-batch call that names the logged model it measures (MLflow 3). */
export interface ModelMetricInput {
  modelId: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  datasetName?: string | null;
  datasetDigest?: string | null;
}

export const SEARCH_DEFAULT = 100;
export const SEARCH_MAX = 1000;
const BAD_NAME_CHARACTERS = ['/', ':', '.', '%', '"', "'"];
const ORDER_ATTRIBUTES: Record<string, Extract<LoggedModelOrder, { type: 'attribute' }>['column']> = {
  ...ATTRIBUTE_COLUMNS,
  // MLflow's aliases.
  creation_time: 'created_at',
  last_updated_time: 'updated_at',
};

const notFound = (id: string) => new NotFoundError(`Logged model with ID '${id}' not found.`);

function keyValues(kind: 'param' | 'tag', items: { key: unknown; value: unknown }[] | undefined): KeyValue[] {
  return (items ?? []).map((t) => {
    const key = validateKey(kind, t.key);
    return { key, value: validateValue(kind, key, t.value) };
  });
}

/**
 * MLflow 3 logged models: a model logged from (or outside of) a run, with its own params, tags,
 * metrics and artifact folder (`<experiment>/models/<id>/artifacts`). Access follows the
 * experiment's project like runs: viewers read, developers write. Creation and deletion are
 * audited; the rest is as frequent as run logging and is not.
 */
export class LoggedModelsService {
  constructor(
    private readonly store: LoggedModelStore,
    private readonly tracking: TrackingService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async create(
    caller: Caller,
    input: {
      experimentId: string;
      name?: unknown;
      modelType?: unknown;
      sourceRunId?: string;
      params?: { key: unknown; value: unknown }[];
      tags?: { key: unknown; value: unknown }[];
    },
  ): Promise<LoggedModel> {
    const a = requireAuth(caller);
    const e = await this.tracking.writableExperiment(caller, input.experimentId, 'logged_model.create');
    // As for runs (and in MLflow's server): a deleted experiment takes no new models.
    if (e.lifecycle_stage !== 'active') {
      throw new InputError(
        `The experiment ${e.id} must be in the 'active' state. Current state is ${e.lifecycle_stage}.`,
        'experiment_id',
      );
    }
    const name = input.name === undefined || input.name === null || input.name === '' ? undefined : input.name;
    if (name !== undefined) {
      if (
        typeof name !== 'string' ||
        name.length > LIMITS.runNameLength ||
        BAD_NAME_CHARACTERS.some((c) => name.includes(c)) ||
        name.includes('\u0000')
      ) {
        throw new InputError(
          `Invalid model name (${JSON.stringify(name)}) provided. Model name must be a non-empty string of at most ${LIMITS.runNameLength} characters and cannot contain the following characters: ${BAD_NAME_CHARACTERS.join(' ')}`,
          'name',
        );
      }
    }
    if (
      input.modelType !== undefined &&
      input.modelType !== null &&
      // (NUL cannot be stored in a PostgreSQL text column.)
      (typeof input.modelType !== 'string' || input.modelType.length > 500 || input.modelType.includes('\u0000'))
    ) {
      throw new InputError('model_type must be a string of at most 500 characters, without NUL', 'model_type');
    }
    if (input.sourceRunId !== undefined) {
      const { run } = await this.tracking.readableRun(caller, input.sourceRunId);
      if (run.experiment_id !== e.id) {
        throw new InputError(`source run ${input.sourceRunId} is not in experiment ${e.id}`, 'source_run_id');
      }
    }
    const params = keyValues('param', input.params);
    const tags = keyValues('tag', input.tags);
    const id = `m-${randomBytes(16).toString('hex')}`;
    const now = this.clock.now();
    const row: LoggedModelRow = {
      id,
      experiment_id: e.id,
      name: (name as string | undefined) ?? `model-${id.slice(2, 10)}`,
      artifact_location: `${e.artifact_location}/models/${id}/artifacts`,
      status: 'PENDING',
      status_message: null,
      model_type: (input.modelType as string | null | undefined) ?? null,
      source_run_id: input.sourceRunId ?? null,
      user_id: a.userId,
      username: a.username,
      lifecycle_stage: 'active',
      created_at: now,
      updated_at: now,
    };
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      await s.insert(row);
      await s.insertParams(id, params);
      await s.setTags(id, tags);
      record(
        'logged_model.create',
        { type: 'logged_model', name: id },
        { projectId: e.project_id, details: { name: row.name, experimentId: String(e.id) } },
      );
    });
    return this.view(row);
  }

  async get(caller: Caller, id: string, allowDeleted = false): Promise<LoggedModel> {
    const m = await this.readable(caller, id);
    if (m.lifecycle_stage === 'deleted' && !allowDeleted) throw notFound(id);
    return this.view(m);
  }

  /** Marks the upload done (READY) or failed; MLflow calls this after writing the artifacts. */
  async finalize(caller: Caller, id: string, status: unknown): Promise<LoggedModel> {
    const m = await this.writable(caller, id);
    if (typeof status !== 'string' || !(LOGGED_MODEL_STATUSES as readonly string[]).includes(status)) {
      throw new InputError(`status must be one of ${LOGGED_MODEL_STATUSES.join(', ')}`, 'status');
    }
    const patch = { status: status as LoggedModelStatus, updated_at: this.clock.now() };
    await this.store.update(id, patch);
    return this.view({ ...m, ...patch });
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const m = await this.writable(caller, id, 'logged_model.delete');
    const { project_id } = await this.tracking.readableExperiment(caller, String(m.experiment_id));
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).update(id, { lifecycle_stage: 'deleted', updated_at: this.clock.now() });
      record('logged_model.delete', { type: 'logged_model', name: id }, { projectId: project_id });
    });
  }

  async setTags(caller: Caller, id: string, tags: { key: unknown; value: unknown }[] | undefined): Promise<void> {
    await this.writable(caller, id);
    const valid = keyValues('tag', tags);
    if (valid.length > LIMITS.paramsTagsPerBatch) {
      throw new InputError(`A request cannot set more than ${LIMITS.paramsTagsPerBatch} tags`, 'tags');
    }
    await this.store.transaction(async (s) => {
      await s.setTags(id, valid);
      await s.update(id, { updated_at: this.clock.now() });
    });
  }

  async deleteTag(caller: Caller, id: string, key: string): Promise<void> {
    await this.writable(caller, id);
    // Checked like the keys tags are set with: the key comes from the URL, and PostgreSQL cannot
    // even compare a text holding NUL (a 5xx, where this is a 400).
    validateKey('tag', key);
    if (!(await this.store.deleteTag(id, key))) {
      throw new NotFoundError(`No tag with key '${key}' found for logged model '${id}'`);
    }
  }

  /** Params of a model, immutable once set: logging another value for a key is an error. */
  async logParams(caller: Caller, id: string, params: { key: unknown; value: unknown }[] | undefined): Promise<void> {
    await this.writable(caller, id);
    const valid = keyValues('param', params);
    if (valid.length > LIMITS.paramsTagsPerBatch) {
      throw new InputError(`A request cannot log more than ${LIMITS.paramsTagsPerBatch} params`, 'params');
    }
    await this.store.transaction(async (s) => {
      await s.insertParams(id, valid);
      const stored = new Map(
        (
          await s.paramsOf(
            id,
            valid.map((p) => p.key),
          )
        ).map((p) => [p.key, p.value]),
      );
      const changed = valid.find((p) => stored.get(p.key) !== p.value);
      if (changed) {
        throw new InputError(
          `Changing param values is not allowed. Param with key='${changed.key}' was already logged with value='${stored.get(changed.key)}' for logged model ID='${id}'. Attempted logging new value '${changed.value}'.`,
          'params',
        );
      }
    });
  }

  /**
   * Checks the metrics of a run's log-batch that name a logged model (MLflow 3 logs evaluation
   * metrics to the run and the model): every named model must be writable by the caller. Returns
   * the function that records them, to be called once the run's batch is written, so that a batch
   * refused for its models writes nothing at all.
   */
  async prepareMetrics(caller: Caller, runId: string, metrics: ModelMetricInput[]): Promise<() => Promise<void>> {
    if (metrics.length === 0) return async () => {};
    for (const modelId of new Set(metrics.map((m) => m.modelId))) await this.writable(caller, modelId);
    const rows: LoggedModelMetricRow[] = metrics.map((m) => ({
      model_id: m.modelId,
      key: m.key,
      value: Number.isNaN(m.value) ? 0 : m.value,
      is_nan: Number.isNaN(m.value) ? 1 : 0,
      step: m.step,
      timestamp: m.timestamp,
      run_id: runId,
      dataset_name: m.datasetName ?? null,
      dataset_digest: m.datasetDigest ?? null,
    }));
    return () => this.store.insertMetrics(rows);
  }

  /** Links models to a run as its outputs (with the step they were logged at) or inputs. */
  async linkToRun(
    caller: Caller,
    runId: string,
    direction: 'input' | 'output',
    models: { modelId: unknown; step?: unknown }[],
  ): Promise<void> {
    const link = await this.prepareLinks(caller, runId, direction, models);
    await link();
  }

  /**
   * Checks links of models to a run (the run writable, every model readable) and returns the
   * function that stores them, for requests that write other things too (MLflow's log-inputs
   * logs datasets as well): nothing is written until every part of the request has been checked.
   */
  async prepareLinks(
    caller: Caller,
    runId: string,
    direction: 'input' | 'output',
    models: { modelId: unknown; step?: unknown }[],
  ): Promise<() => Promise<void>> {
    const { run } = await this.tracking.writableRun(caller, runId, null);
    // Models are linked to active runs only, as MLflow's server (and log-batch) has it.
    if (run.lifecycle_stage !== 'active') {
      throw new InputError(
        `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`,
        'run_id',
      );
    }
    const rows: RunModelRow[] = [];
    for (const [i, m] of models.entries()) {
      if (typeof m.modelId !== 'string') throw new InputError(`models[${i}].model_id must be a string`, 'model_id');
      await this.readable(caller, m.modelId);
      rows.push({ run_id: runId, model_id: m.modelId, direction, step: parseInteger('step', m.step, 0) });
    }
    return () => this.store.link(rows);
  }

  /** The models each run consumed and produced (for run views). */
  async linksOf(runIds: string[]) {
    return this.store.linksOf(runIds);
  }

  async search(
    caller: Caller,
    input: LoggedModelSearchInput,
  ): Promise<{ models: LoggedModel[]; nextPageToken: string | null }> {
    requireAuth(caller);
    const ids: number[] = [];
    for (const id of input.experimentIds) ids.push((await this.tracking.readableExperiment(caller, id)).id);
    const clauses = parseLoggedModelFilter(input.filter);
    const order = (input.orderBy ?? []).map((o, i) => orderOf(o, i));
    const limit = input.maxResults ?? SEARCH_DEFAULT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_MAX) {
      throw new InputError(`max_results must be between 1 and ${SEARCH_MAX}`, 'max_results');
    }
    // The token binds the offset to the query it pages, so a token cannot be replayed elsewhere.
    const query = JSON.stringify([ids, input.filter ?? '', order]);
    let offset = 0;
    if (input.pageToken) {
      let token: { offset?: unknown; query?: unknown } = {};
      try {
        token = JSON.parse(Buffer.from(input.pageToken, 'base64url').toString('utf8')) as typeof token;
      } catch {
        // falls through to the check below
      }
      // Tokens are not signed: a negative offset is refused here, not by the database (a 5xx).
      if (!Number.isSafeInteger(token.offset) || (token.offset as number) < 0 || token.query !== query) {
        throw new InputError('Invalid page token: it does not belong to this search', 'page_token');
      }
      offset = token.offset as number;
    }
    const rows = await this.store.search(ids, clauses, order, offset, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return {
      models: await this.views(page),
      nextPageToken: more ? Buffer.from(JSON.stringify({ offset: offset + limit, query })).toString('base64url') : null,
    };
  }

  /** The experiment a logged model belongs to (for the artifact service's write rule). */
  async experimentOf(modelId: string): Promise<number | undefined> {
    return (await this.store.byId(modelId))?.experiment_id;
  }

  private async readable(caller: Caller, id: string): Promise<LoggedModelRow> {
    const m = /^m-[0-9a-f]{32}$/.test(id) ? await this.store.byId(id) : undefined;
    if (!m) throw notFound(id);
    await this.tracking.readableExperiment(caller, String(m.experiment_id)).catch((err: unknown) => {
      throw err instanceof NotFoundError ? notFound(id) : err;
    });
    return m;
  }

  private async writable(caller: Caller, id: string, action: string | null = null): Promise<LoggedModelRow> {
    const m = /^m-[0-9a-f]{32}$/.test(id) ? await this.store.byId(id) : undefined;
    if (!m || m.lifecycle_stage === 'deleted') throw notFound(id);
    await this.tracking.writableExperiment(caller, String(m.experiment_id), action).catch((err: unknown) => {
      throw err instanceof NotFoundError ? notFound(id) : err;
    });
    return m;
  }

  private async view(row: LoggedModelRow): Promise<LoggedModel> {
    return (await this.views([row]))[0]!;
  }

  private async views(rows: LoggedModelRow[]): Promise<LoggedModel[]> {
    const data = await this.store.data(rows.map((r) => r.id));
    return rows.map((r) => ({
      modelId: r.id,
      experimentId: String(r.experiment_id),
      name: r.name,
      artifactUri: r.artifact_location,
      status: r.status,
      statusMessage: r.status_message,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      creator: r.username,
      creationTimestamp: r.created_at,
      lastUpdatedTimestamp: r.updated_at,
      lifecycleStage: r.lifecycle_stage,
      tags: data.tags.filter((t) => t.model_id === r.id).map(({ key, value }) => ({ key, value })),
      params: data.params.filter((t) => t.model_id === r.id).map(({ key, value }) => ({ key, value })),
      metrics: data.metrics
        .filter((m) => m.model_id === r.id)
        .map((m) => ({
          key: m.key,
          value: m.is_nan ? Number.NaN : m.value,
          timestamp: m.timestamp,
          step: m.step,
          runId: m.run_id,
          datasetName: m.dataset_name,
          datasetDigest: m.dataset_digest,
        })),
    }));
  }
}

function orderOf(
  o: { fieldName: unknown; ascending?: unknown; datasetName?: unknown; datasetDigest?: unknown },
  i: number,
): LoggedModelOrder {
  const field = o.fieldName;
  if (typeof field !== 'string' || field === '')
    throw new InputError(`order_by[${i}].field_name is required`, 'order_by');
  // Only a boolean: the string "false" must not quietly sort ascending-or-not by accident.
  if (o.ascending !== undefined && o.ascending !== null && typeof o.ascending !== 'boolean') {
    throw new InputError(`order_by[${i}].ascending must be true or false`, 'order_by');
  }
  const ascending = o.ascending !== false;
  if (field.startsWith('metrics.')) {
    const opt = (v: unknown, name: string) => {
      if (v === undefined || v === null || v === '') return undefined;
      // (PostgreSQL cannot compare a text holding NUL; no stored dataset name or digest has one.)
      if (typeof v !== 'string' || v.includes('\u0000')) {
        throw new InputError(`order_by[${i}].${name} must be a string without NUL`, 'order_by');
      }
      return v;
    };
    const datasetName = opt(o.datasetName, 'dataset_name');
    const datasetDigest = opt(o.datasetDigest, 'dataset_digest');
    return {
      type: 'metric',
      key: validateKey('metric', field.slice('metrics.'.length)),
      ascending,
      ...(datasetName !== undefined ? { datasetName } : {}),
      ...(datasetDigest !== undefined ? { datasetDigest } : {}),
    };
  }
  const column = ORDER_ATTRIBUTES[field.replace(/^attributes?\./, '')];
  if (!column) {
    throw new InputError(
      `Invalid order by field name: ${field}. Use an attribute (${Object.keys(ORDER_ATTRIBUTES).join(', ')}) or metrics.<key>`,
      'order_by',
    );
  }
  return { type: 'attribute', column, ascending };
}

/** The metric fields MLflow 3 adds to a log-batch metric, checked (the rest is checked by tracking). */
export function modelMetricOf(m: Record<string, unknown>, i: number): ModelMetricInput | null {
  const modelId = m.model_id;
  if (modelId === undefined || modelId === null || modelId === '') return null;
  if (typeof modelId !== 'string') throw new InputError(`metrics[${i}].model_id must be a string`, 'model_id');
  const opt = (v: unknown, name: string) => {
    if (v === undefined || v === null || v === '') return null;
    // (NUL cannot be stored in a PostgreSQL text column.)
    if (typeof v !== 'string' || v.includes('\u0000')) {
      throw new InputError(`metrics[${i}].${name} must be a string without NUL`, name);
    }
    return v;
  };
  const key = validateKey('metric', m.key);
  return {
    modelId,
    key,
    value: parseMetricValue(key, m.value, `metrics[${i}].value`),
    timestamp: parseInteger('timestamp', m.timestamp, Date.now()),
    step: parseInteger('step', m.step, 0),
    datasetName: opt(m.dataset_name, 'dataset_name'),
    datasetDigest: opt(m.dataset_digest, 'dataset_digest'),
  };
}
