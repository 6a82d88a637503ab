import { randomBytes } from 'node:crypto';
import { requireAuth, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.js';
import { isUniqueViolation, rethrowUnique } from '../../db/dialect.js';
import type { LifecycleStage, RunStatus } from '../../db/schema.js';
import type { AuditLog } from '../audit/log.js';
import type { AccessService } from '../projects/access.js';
import type { ProjectStore } from '../projects/store.js';
import { DEFAULT_PROJECT } from '../identity/users-service.js';
import {
  LIMITS,
  parseInteger,
  parseMetricValue,
  validateExperimentName,
  validateKey,
  validateValue,
} from './limits.js';
import type { ExperimentRow, KeyValue, MetricRow, RunRow, TrackingStore } from './store.js';

export const DEFAULT_EXPERIMENT_ID = 0;
const MODEL_HISTORY_TAG = 'mlflow.log-model.history';
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;

export interface Experiment {
  experimentId: string;
  projectId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: KeyValue[];
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] };
}

export interface MetricInput {
  key: unknown;
  value: unknown;
  timestamp?: unknown;
  step?: unknown;
}

export interface BatchInput {
  metrics?: MetricInput[];
  params?: { key: unknown; value: unknown }[];
  tags?: { key: unknown; value: unknown }[];
}

/** Where experiment artifacts live, as MLflow's artifact proxy addresses them. */
const artifactLocationOf = (id: number) => `mlflow-artifacts:/${id}`;
const runNotFound = (id: string) => new NotFoundError(`Run with id=${id} not found`);
const experimentNotFound = (id: string | number) => new NotFoundError(`No Experiment with id=${id} exists`);

function experimentView(e: ExperimentRow, tags: KeyValue[]): Experiment {
  return {
    experimentId: String(e.id),
    projectId: e.project_id,
    name: e.name,
    artifactLocation: e.artifact_location,
    lifecycleStage: e.lifecycle_stage,
    creationTime: e.created_at,
    lastUpdateTime: e.updated_at,
    tags,
  };
}

export function runInfoView(r: RunRow): RunInfo {
  return {
    runId: r.id,
    runName: r.name,
    experimentId: String(r.experiment_id),
    userId: r.username,
    status: r.status,
    startTime: r.start_time,
    endTime: r.end_time,
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage,
  };
}

const RUN_NAME_RULE = `run_name must be a string of at most ${LIMITS.runNameLength} characters, without NUL`;
const validRunName = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= LIMITS.runNameLength && !v.includes('\u0000');

const metricOf = (m: Pick<MetricRow, 'key' | 'value' | 'is_nan' | 'step' | 'timestamp'>): Metric => ({
  key: m.key,
  value: m.is_nan ? Number.NaN : m.value,
  timestamp: m.timestamp,
  step: m.step,
});

/**
 * Experiment tracking: one set of rules behind both the native API and the MLflow adapter.
 * Reads need the viewer role in the experiment's project, writes the developer role. Creating,
 * renaming, deleting and restoring experiments and runs is audited; the high-volume logging of
 * metrics, params and tags is not (the run it belongs to is).
 */
export class TrackingService {
  constructor(
    private readonly store: TrackingStore,
    private readonly projects: ProjectStore,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Creates the Default experiment "0" in the default project if it is missing (bootstrap). */
  async ensureDefaultExperiment(): Promise<void> {
    if (await this.store.experimentById(DEFAULT_EXPERIMENT_ID)) return;
    const project = await this.projects.byName(DEFAULT_PROJECT);
    if (!project) return;
    const now = this.clock.now();
    await this.store
      .insertExperiment({
        id: DEFAULT_EXPERIMENT_ID,
        project_id: project.id,
        name: 'Default',
        artifact_location: artifactLocationOf(DEFAULT_EXPERIMENT_ID),
        lifecycle_stage: 'active',
        created_at: now,
        updated_at: now,
      })
      .catch((err: unknown) => {
        // Another server starting on the same store may have created it first.
        if (!isUniqueViolation(err)) throw err;
      });
  }

  /**
   * The project MLflow calls without an experiment land in: the token's project for a
   * project-scoped token, otherwise the default project.
   */
  async projectForCaller(caller: Caller): Promise<string> {
    const a = requireAuth(caller);
    if (a.projectId) return a.projectId;
    const p = await this.projects.byName(DEFAULT_PROJECT);
    if (!p) throw new NotFoundError('the default project does not exist; pass a project');
    return p.id;
  }

  /** The id of a project the caller can see, by name (the native API addresses projects by name). */
  async projectIdOf(caller: Caller, project: string): Promise<string> {
    return (await this.access.requireProject(caller, project, 'viewer', null)).project.id;
  }

  async createExperiment(
    caller: Caller,
    input: { projectId: string; name: unknown; tags?: { key: unknown; value: unknown }[] },
  ): Promise<string> {
    const { project } = await this.access.requireProjectId(
      caller,
      input.projectId,
      'developer',
      'experiment.create',
      () => new NotFoundError('no such project'),
    );
    const name = validateExperimentName(input.name);
    const tags = (input.tags ?? []).map((t) => {
      const key = validateKey('tag', t.key);
      return { key, value: validateValue('tag', key, t.value) };
    });
    if (await this.store.experimentByName(project.id, name)) {
      throw new ConflictError(`Experiment '${name}' already exists.`);
    }
    const now = this.clock.now();
    const id = await this.audit
      .change(caller, async (tx, record) => {
        const s = this.store.with(tx);
        const newId = await s.insertExperiment({
          project_id: project.id,
          name,
          artifact_location: 'pending',
          lifecycle_stage: 'active',
          created_at: now,
          updated_at: now,
        });
        await s.updateExperiment(newId, { artifact_location: artifactLocationOf(newId) });
        for (const t of tags) await s.setExperimentTag(newId, t.key, t.value);
        record(
          'experiment.create',
          { type: 'experiment', name: String(newId) },
          { projectId: project.id, details: { name } },
        );
        return newId;
      })
      .catch(rethrowUnique(`Experiment '${name}' already exists.`));
    return String(id);
  }

  /** A project's experiments, oldest first; `view` picks active, deleted or all. */
  async listExperiments(
    caller: Caller,
    project: string,
    view: 'active' | 'deleted' | 'all' = 'active',
  ): Promise<Experiment[]> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    const stages: LifecycleStage[] = view === 'all' ? ['active', 'deleted'] : [view];
    return this.withTags(await this.store.listExperiments(p.id, stages));
  }

  /**
   * Views of experiments the caller has already been allowed to read, with their tags in one
   * query for the whole list.
   */
  async withTags(rows: ExperimentRow[]): Promise<Experiment[]> {
    const tags = await this.store.experimentTags(rows.map((e) => e.id));
    return rows.map((e) =>
      experimentView(
        e,
        tags.filter((t) => t.experiment_id === e.id).map(({ key, value }) => ({ key, value })),
      ),
    );
  }

  async getExperiment(caller: Caller, id: string): Promise<Experiment> {
    const e = await this.readableExperiment(caller, id);
    return experimentView(e, await this.tagsOf(e.id));
  }

  /** Looks the name up in the caller's MLflow project (see {@link projectForCaller}). */
  async getExperimentByName(caller: Caller, name: string, projectId?: string): Promise<Experiment> {
    const pid = projectId ?? (await this.projectForCaller(caller));
    await this.access.requireProjectId(caller, pid, 'viewer', null, () => new NotFoundError('no such project'));
    // Names never hold NUL (validateExperimentName), and PostgreSQL cannot even compare one.
    const e = name.includes('\u0000') ? undefined : await this.store.experimentByName(pid, name);
    if (!e) throw new NotFoundError(`Could not find experiment with name '${name}'`);
    return experimentView(e, await this.tagsOf(e.id));
  }

  async renameExperiment(caller: Caller, id: string, newName: unknown): Promise<void> {
    const e = await this.writableExperiment(caller, id, 'experiment.update');
    const name = validateExperimentName(newName);
    if (name !== e.name && (await this.store.experimentByName(e.project_id, name))) {
      throw new ConflictError(`Experiment '${name}' already exists.`);
    }
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateExperiment(e.id, { name, updated_at: this.clock.now() });
      record('experiment.update', { type: 'experiment', name: id }, { projectId: e.project_id, details: { name } });
    });
  }

  async setExperimentLifecycle(caller: Caller, id: string, stage: LifecycleStage): Promise<void> {
    const action = stage === 'deleted' ? 'experiment.delete' : 'experiment.restore';
    const e = await this.writableExperiment(caller, id, action);
    if (e.id === DEFAULT_EXPERIMENT_ID && stage === 'deleted') {
      throw new InputError(
        "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
        'experiment_id',
      );
    }
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateExperiment(e.id, { lifecycle_stage: stage, updated_at: this.clock.now() });
      record(action, { type: 'experiment', name: id }, { projectId: e.project_id });
    });
  }

  async setExperimentTag(caller: Caller, id: string, key: unknown, value: unknown): Promise<void> {
    const e = await this.writableExperiment(caller, id, null);
    const k = validateKey('tag', key);
    if (typeof value !== 'string' || value.length > LIMITS.experimentTagValueLength || value.includes('\u0000')) {
      throw new InputError(
        `Experiment tag '${k}' must have a string value of at most ${LIMITS.experimentTagValueLength} characters, without NUL`,
        'value',
      );
    }
    await this.store.setExperimentTag(e.id, k, value);
  }

  /** Removes an experiment tag; a tag that is not there is a NotFoundError, as for run tags. */
  async deleteExperimentTag(caller: Caller, id: string, key: string): Promise<void> {
    const e = await this.writableExperiment(caller, id, null);
    // The key comes from the URL; PostgreSQL cannot even compare a text holding NUL.
    validateKey('tag', key);
    if (!(await this.store.deleteExperimentTag(e.id, key))) {
      throw new NotFoundError(`No tag with name: ${key} in experiment with id ${id}`);
    }
  }

  async createRun(
    caller: Caller,
    input: {
      experimentId?: string;
      runName?: unknown;
      startTime?: unknown;
      tags?: { key: unknown; value: unknown }[];
      /** The native API's field for MLflow's `mlflow.parentRunId` tag, which it becomes. */
      parentRunId?: string;
    },
  ): Promise<Run> {
    const e = await this.writableExperiment(caller, input.experimentId ?? String(DEFAULT_EXPERIMENT_ID), 'run.create');
    const a = requireAuth(caller);
    if (e.lifecycle_stage !== 'active') {
      throw new InputError(
        `The experiment ${e.id} must be in the 'active' state. Current state is ${e.lifecycle_stage}.`,
        'experiment_id',
      );
    }
    const tags = (input.tags ?? []).map((t) => {
      const key = validateKey('tag', t.key);
      return { key, value: validateValue('tag', key, t.value) };
    });
    if (input.parentRunId !== undefined) {
      const tagged = tags.find((t) => t.key === 'mlflow.parentRunId');
      if (tagged && tagged.value !== input.parentRunId) {
        throw new InputError(
          `parentRunId ${input.parentRunId} differs from the mlflow.parentRunId tag ${tagged.value}`,
          'parentRunId',
        );
      }
      if (!tagged)
        tags.push({ key: 'mlflow.parentRunId', value: validateValue('tag', 'mlflow.parentRunId', input.parentRunId) });
    }
    const given = input.runName ?? tags.find((t) => t.key === 'mlflow.runName')?.value;
    if (given !== undefined && !validRunName(given)) {
      throw new InputError(RUN_NAME_RULE, 'run_name');
    }
    const id = randomBytes(16).toString('hex');
    const name = (given as string | undefined) || `run-${id.slice(0, 8)}`;
    const parent = tags.find((t) => t.key === 'mlflow.parentRunId')?.value ?? null;
    const row: RunRow = {
      id,
      experiment_id: e.id,
      name,
      user_id: a.userId,
      username: a.username,
      status: 'RUNNING',
      start_time: parseInteger('start_time', input.startTime, this.clock.now()),
      end_time: null,
      lifecycle_stage: 'active',
      artifact_uri: `${e.artifact_location}/${id}/artifacts`,
      parent_run_id: parent,
    };
    if (!tags.some((t) => t.key === 'mlflow.runName')) tags.push({ key: 'mlflow.runName', value: name });
    if (!tags.some((t) => t.key === 'mlflow.user')) tags.push({ key: 'mlflow.user', value: a.username });
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      await s.insertRun(row);
      await s.setTags(id, tags);
      record(
        'run.create',
        { type: 'run', name: id },
        { projectId: e.project_id, details: { experimentId: String(e.id) } },
      );
    });
    return { info: runInfoView(row), data: { metrics: [], params: [], tags } };
  }

  async getRun(caller: Caller, runId: string): Promise<Run> {
    const { run } = await this.readableRun(caller, runId);
    return (await this.withData([run]))[0]!;
  }

  async updateRun(
    caller: Caller,
    runId: string,
    input: { status?: unknown; endTime?: unknown; runName?: unknown },
  ): Promise<RunInfo> {
    const { run } = await this.writableRun(caller, runId, null);
    if (input.status !== undefined && !RUN_STATUSES.includes(input.status as RunStatus)) {
      throw new InputError(
        `Invalid run status ${JSON.stringify(input.status)}; one of ${RUN_STATUSES.join(', ')}`,
        'status',
      );
    }
    if (input.runName !== undefined && !validRunName(input.runName)) {
      throw new InputError(RUN_NAME_RULE, 'run_name');
    }
    const patch = {
      ...(input.status !== undefined ? { status: input.status as RunStatus } : {}),
      ...(input.endTime !== undefined && input.endTime !== null
        ? { end_time: parseInteger('end_time', input.endTime) }
        : {}),
      ...(typeof input.runName === 'string' && input.runName ? { name: input.runName } : {}),
    };
    await this.store.updateRun(runId, patch);
    if (patch.name) await this.store.setTags(runId, [{ key: 'mlflow.runName', value: patch.name }]);
    return runInfoView({ ...run, ...patch });
  }

  async setRunLifecycle(caller: Caller, runId: string, stage: LifecycleStage): Promise<void> {
    const action = stage === 'deleted' ? 'run.delete' : 'run.restore';
    const { run, projectId } = await this.writableRun(caller, runId, action);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateRun(run.id, { lifecycle_stage: stage });
      record(action, { type: 'run', name: run.id }, { projectId });
    });
  }

  /**
   * Logs metrics, params and tags to a run atomically (MLflow's log-batch; the single-item calls
   * are batches of one). Validated completely before anything is written: a rejected batch writes
   * nothing. A param may be logged again with the same value; a different value is an error.
   */
  async logBatch(caller: Caller, runId: string, input: BatchInput): Promise<void> {
    const { run } = await this.writableRun(caller, runId, null);
    const metricsIn = input.metrics ?? [];
    const paramsIn = input.params ?? [];
    const tagsIn = input.tags ?? [];
    // MLflow's messages (mlflow/utils/validation.py _validate_batch_limit), checked in its order.
    const tooMany = (what: string, limit: number, got: number, field: string) => {
      if (got > limit) {
        throw new InputError(
          `A batch logging request can contain at most ${limit} ${what}. Got ${got} ${what}. Please split up ${what} across multiple requests and try again.`,
          field,
        );
      }
    };
    tooMany('metrics', LIMITS.metricsPerBatch, metricsIn.length, 'metrics');
    tooMany('params', LIMITS.paramsTagsPerBatch, paramsIn.length, 'params');
    tooMany('tags', LIMITS.paramsTagsPerBatch, tagsIn.length, 'tags');
    tooMany(
      'metrics, params, and tags',
      LIMITS.entitiesPerBatch,
      metricsIn.length + paramsIn.length + tagsIn.length,
      'metrics',
    );
    if (run.lifecycle_stage !== 'active') {
      throw new InputError(
        `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`,
        'run_id',
      );
    }
    const now = this.clock.now();
    const metrics: MetricRow[] = metricsIn.map((m, i) => {
      const key = validateKey('metric', m.key, `metrics[${i}].key`);
      const value = parseMetricValue(key, m.value, `metrics[${i}].value`);
      const nan = Number.isNaN(value);
      return {
        run_id: runId,
        key,
        value: nan ? 0 : value,
        is_nan: nan ? 1 : 0,
        step: parseInteger(`metrics[${i}].step`, m.step, 0),
        timestamp: parseInteger(`metrics[${i}].timestamp`, m.timestamp, now, 0),
      };
    });
    const params = new Map<string, string>();
    for (const [i, p] of paramsIn.entries()) {
      const key = validateKey('param', p.key, `params[${i}].key`);
      const value = validateValue('param', key, typeof p.value === 'number' ? String(p.value) : p.value);
      const dup = params.get(key);
      if (dup !== undefined && dup !== value) {
        throw new InputError(
          `Duplicate parameter keys have been submitted: ['${key}']. Please ensure the request contains only one param value per param key.`,
          'params',
        );
      }
      params.set(key, value);
    }
    const tags = tagsIn.map((t, i) => {
      const key = validateKey('tag', t.key, `tags[${i}].key`);
      return { key, value: validateValue('tag', key, t.value) };
    });
    // Logging is not audited (see the class comment), so a plain transaction is enough; concurrent
    // batches share one commit where the store can (groupedTransaction).
    await this.store.groupedTransaction(async (s) => {
      await s.insertParams(
        runId,
        [...params].map(([key, value]) => ({ key, value })),
      );
      // Compared after the insert, not before: a concurrent batch may have logged the same key a
      // moment ago, and only the insert waits for it. Any difference rolls the whole batch back.
      const stored = await s.paramsOf(runId, [...params.keys()]);
      for (const e of stored) {
        const v = params.get(e.key)!;
        if (e.value !== v) {
          throw new InputError(
            `Changing param values is not allowed. Param with key='${e.key}' was already logged with value='${e.value}' for run ID='${runId}'. Attempted logging new value '${v}'.`,
            'params',
          );
        }
      }
      await s.setTags(runId, tags);
      await s.insertMetrics(metrics);
    });
  }

  async deleteTag(caller: Caller, runId: string, key: string): Promise<void> {
    await this.writableRun(caller, runId, null);
    validateKey('tag', key);
    if (!(await this.store.deleteTag(runId, key))) {
      throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`);
    }
  }

  /** A metric's full history in step order, paged (`pageToken` is opaque). */
  async metricHistory(
    caller: Caller,
    runId: string,
    key: string,
    opts: { maxResults?: number; pageToken?: string },
  ): Promise<{ metrics: Metric[]; nextPageToken: string | null }> {
    await this.readableRun(caller, runId);
    // No stored key holds NUL (keys are validated), and PostgreSQL cannot even compare one.
    if (key.includes('\u0000')) return { metrics: [], nextPageToken: null };
    const limit = Math.min(opts.maxResults ?? 25_000, 25_000);
    let offset = 0;
    if (opts.pageToken) {
      const n = Number(Buffer.from(opts.pageToken, 'base64url').toString('utf8'));
      if (!Number.isSafeInteger(n) || n < 0) throw new InputError('Invalid page token', 'page_token');
      offset = n;
    }
    const rows = await this.store.metricHistory(runId, key, offset, limit + 1);
    const more = rows.length > limit;
    return {
      metrics: rows.slice(0, limit).map(metricOf),
      nextPageToken: more ? Buffer.from(String(offset + limit)).toString('base64url') : null,
    };
  }

  /** Runs by id with their data, in no particular order; ids of runs that no longer exist are skipped. */
  async runsWithData(ids: string[]): Promise<Run[]> {
    return this.withData(await this.store.runsByIds(ids));
  }

  /** Runs with their params, tags and latest metrics, in the given order. */
  async withData(runs: RunRow[]): Promise<Run[]> {
    const data = await this.store.runData(runs.map((r) => r.id));
    const by = <T extends { run_id: string }>(rows: T[]) => {
      const m = new Map<string, T[]>();
      for (const r of rows) {
        const list = m.get(r.run_id);
        if (list) list.push(r);
        else m.set(r.run_id, [r]);
      }
      return m;
    };
    const params = by(data.params);
    const tags = by(data.tags);
    const metrics = by(data.metrics);
    return runs.map((r) => ({
      info: runInfoView(r),
      data: {
        metrics: (metrics.get(r.id) ?? []).map(metricOf),
        params: (params.get(r.id) ?? []).map(({ key, value }) => ({ key, value })),
        tags: (tags.get(r.id) ?? []).map(({ key, value }) => ({ key, value })),
      },
    }));
  }

  /**
   * MLflow 2's record of a model logged to a run: appended to the run's `mlflow.log-model.history`
   * tag (a JSON list), as MLflow's server keeps it. The tag is not bound by the tag value limit,
   * since it grows with every model logged.
   */
  async appendModelHistory(caller: Caller, runId: string, model: unknown): Promise<void> {
    await this.writableRun(caller, runId, null);
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw new InputError('model_json must be a JSON object', 'model_json');
    }
    await this.store.transaction(async (s) => {
      const current = (await s.runData([runId])).tags.find((t) => t.key === MODEL_HISTORY_TAG)?.value;
      let history: unknown[] = [];
      try {
        const parsed: unknown = current ? JSON.parse(current) : [];
        if (Array.isArray(parsed)) history = parsed;
      } catch {
        // A hand-edited tag that is not JSON is replaced.
      }
      await s.setTags(runId, [{ key: MODEL_HISTORY_TAG, value: JSON.stringify([...history, model]) }]);
    });
  }

  private async tagsOf(id: number): Promise<KeyValue[]> {
    return (await this.store.experimentTags([id])).map(({ key, value }) => ({ key, value }));
  }

  private async experiment(id: string): Promise<ExperimentRow> {
    const n = /^\d{1,15}$/.test(id) ? Number(id) : Number.NaN;
    const e = Number.isNaN(n) ? undefined : await this.store.experimentById(n);
    if (!e) throw experimentNotFound(id);
    return e;
  }

  async readableExperiment(caller: Caller, id: string): Promise<ExperimentRow> {
    requireAuth(caller);
    const e = await this.experiment(id);
    await this.access.requireProjectId(caller, e.project_id, 'viewer', null, () => experimentNotFound(id));
    return e;
  }

  async writableExperiment(caller: Caller, id: string, action: string | null): Promise<ExperimentRow> {
    requireAuth(caller);
    const e = await this.experiment(id);
    await this.access.requireProjectId(caller, e.project_id, 'developer', action ?? 'run.log', () =>
      experimentNotFound(id),
    );
    return e;
  }

  private async runAndProject(runId: string): Promise<{ run: RunRow; projectId: string }> {
    const run = /^[0-9a-f]{32}$/.test(runId) ? await this.store.runById(runId) : undefined;
    if (!run) throw runNotFound(runId);
    const e = await this.store.experimentById(run.experiment_id);
    if (!e) throw runNotFound(runId);
    return { run, projectId: e.project_id };
  }

  async readableRun(caller: Caller, runId: string) {
    requireAuth(caller);
    const r = await this.runAndProject(runId);
    await this.access.requireProjectId(caller, r.projectId, 'viewer', null, () => runNotFound(runId));
    return r;
  }

  async writableRun(caller: Caller, runId: string, action: string | null) {
    requireAuth(caller);
    const r = await this.runAndProject(runId);
    await this.access.requireProjectId(caller, r.projectId, 'developer', action ?? 'run.log', () => runNotFound(runId));
    return r;
  }
}
