import { createHash, randomBytes } from 'node:crypto';
import { requireAuth, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import type { AuditLog } from '../audit/log.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { PROXY_SCHEME, storePathOf } from '../artifacts/service.js';
import type { AccessService } from '../projects/access.js';
import type { DatasetClause } from '../tracking/search/index.js';
import type { TrackingService } from '../tracking/service.js';
import type { KeyValue } from '../tracking/store.js';
import { profileDelimited, schemaOf } from './profile.js';
import type { DatasetRow, DatasetStore } from './store.js';

export interface Dataset {
  datasetId: string;
  projectId: string;
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  /** JSON text, e.g. `{"mlflow_colspec": [{"name": "x", "type": "double"}]}`. */
  schema: string | null;
  /** JSON text, e.g. `{"num_rows": 150, ...}`. */
  profile: string | null;
  createdBy: string;
  createdAt: number;
}

export interface DatasetInput {
  dataset: Dataset;
  /** The `mlflow.data.context` tag: training, validation, evaluation... */
  context: string | null;
  tags: KeyValue[];
}

/** A dataset input as MLflow's client sends it (log_input / LogInputs). */
export interface MlflowDatasetInput {
  tags?: unknown;
  dataset?: unknown;
}

/** MLflow's limits for dataset fields (mlflow/utils/validation.py). */
const LIMITS = {
  name: 500,
  digest: 36,
  sourceType: 36,
  source: 65_535,
  schema: 1_048_575,
  profile: 16_777_215,
  tagKey: 255,
  tagValue: 500,
  inputsPerRequest: 1000,
};
const CONTEXT_TAG = 'mlflow.data.context';

const notFound = (id: string) => new NotFoundError(`no dataset version ${JSON.stringify(id)}`);

/** Inputs are logged to active runs only, as MLflow's server (and log-batch) has it. */
function requireActive(run: { id: string; lifecycle_stage: string }): void {
  if (run.lifecycle_stage !== 'active') {
    throw new InputError(
      `The run ${run.id} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`,
      'run_id',
    );
  }
}

export function datasetView(d: DatasetRow): Dataset {
  return {
    datasetId: d.id,
    projectId: d.project_id,
    name: d.name,
    digest: d.digest,
    sourceType: d.source_type,
    source: d.source,
    schema: d.schema,
    profile: d.profile,
    createdBy: d.created_by,
    createdAt: d.created_at,
  };
}

function text(v: unknown, field: string, max: number, required: boolean): string | null {
  if (v === undefined || v === null || v === '') {
    if (required) throw new InputError(`${field} is required`, field);
    return null;
  }
  if (typeof v !== 'string') throw new InputError(`${field} must be a string`, field);
  if (v.length > max) throw new InputError(`${field} is longer than ${max} characters`, field);
  if (v.includes('\u0000')) throw new InputError(`${field} contains a NUL character`, field);
  return v;
}

/**
 * Dataset versions (data versioning). A version is identified by its content digest within a
 * project and name: registering identical content again returns the existing version. Versions
 * come from the MLflow client's `log_input` (the client computes the digest), or are registered
 * through the native API from artifacts (Hangar computes the digest, schema and profile by
 * streaming the files) or from an external URI with a digest the caller vouches for.
 */
export class DatasetsService {
  constructor(
    private readonly store: DatasetStore,
    private readonly tracking: TrackingService,
    private readonly artifacts: ArtifactsService,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** MLflow's LogInputs: stores each dataset version (once per content) and links it to the run. */
  async logMlflowInputs(caller: Caller, runId: string, inputs: MlflowDatasetInput[]): Promise<void> {
    const a = requireAuth(caller);
    const { run, projectId } = await this.tracking.writableRun(caller, runId, null);
    requireActive(run);
    if (inputs.length > LIMITS.inputsPerRequest) {
      throw new InputError(`A request cannot log more than ${LIMITS.inputsPerRequest} dataset inputs`, 'datasets');
    }
    const now = this.clock.now();
    const parsed = inputs.map((input, i) => {
      const d = input.dataset;
      if (typeof d !== 'object' || d === null || Array.isArray(d)) {
        throw new InputError(`datasets[${i}].dataset must be an object`, 'dataset');
      }
      const ds = d as Record<string, unknown>;
      const f = `datasets[${i}].dataset`;
      const tags = (Array.isArray(input.tags) ? input.tags : input.tags === undefined ? [] : null)?.map((t, j) => {
        const tag = (t ?? {}) as Record<string, unknown>;
        return {
          key: text(tag.key, `datasets[${i}].tags[${j}].key`, LIMITS.tagKey, true)!,
          value: text(tag.value, `datasets[${i}].tags[${j}].value`, LIMITS.tagValue, false) ?? '',
        };
      });
      if (!tags) throw new InputError(`datasets[${i}].tags must be a list`, 'tags');
      const row: DatasetRow = {
        id: `d-${randomBytes(16).toString('hex')}`,
        project_id: projectId,
        name: text(ds.name, `${f}.name`, LIMITS.name, true)!,
        digest: text(ds.digest, `${f}.digest`, LIMITS.digest, true)!,
        source_type: text(ds.source_type, `${f}.source_type`, LIMITS.sourceType, true)!,
        source: text(ds.source, `${f}.source`, LIMITS.source, true)!,
        schema: text(ds.schema, `${f}.schema`, LIMITS.schema, false),
        profile: text(ds.profile, `${f}.profile`, LIMITS.profile, false),
        created_by: a.username,
        created_at: now,
      };
      return { row, tags };
    });
    await this.store.transaction(async (s) => {
      for (const { row, tags } of parsed) {
        const stored = await s.upsert(row);
        await s.addInput({
          run_id: runId,
          dataset_id: stored.id,
          context: tags.find((t) => t.key === CONTEXT_TAG)?.value ?? null,
          tags: JSON.stringify(tags),
          created_at: now,
        });
      }
    });
  }

  /** Links a registered dataset version to a run (native API), with an optional context. */
  async linkToRun(caller: Caller, runId: string, datasetId: string, context: string | null): Promise<void> {
    const { run, projectId } = await this.tracking.writableRun(caller, runId, null);
    requireActive(run);
    const d = await this.store.byId(datasetId);
    if (!d || d.project_id !== projectId) throw notFound(datasetId);
    const ctx = text(context, 'context', LIMITS.tagValue, false);
    await this.store.addInput({
      run_id: runId,
      dataset_id: d.id,
      context: ctx,
      tags: JSON.stringify(ctx ? [{ key: CONTEXT_TAG, value: ctx }] : []),
      created_at: this.clock.now(),
    });
  }

  /** The dataset inputs of runs the caller has already been allowed to read, by run id. */
  async inputsOf(runIds: string[]): Promise<Map<string, DatasetInput[]>> {
    const out = new Map<string, DatasetInput[]>();
    for (const r of await this.store.inputsOf(runIds)) {
      const list = out.get(r.run_id) ?? [];
      list.push({ dataset: datasetView(r), context: r.context, tags: JSON.parse(r.tags) as KeyValue[] });
      out.set(r.run_id, list);
    }
    return out;
  }

  /**
   * Registers a dataset version from artifacts (`mlflow-artifacts:/<experiment>/...`, a file or a
   * folder, readable by the caller and in the same project), computing its digest and, for CSV/TSV
   * files, its schema and profile; or from an external URI whose digest the caller supplies.
   */
  async register(
    caller: Caller,
    project: string,
    input: { name: unknown; artifactUri?: unknown; uri?: unknown; digest?: unknown },
  ): Promise<{ dataset: Dataset; created: boolean }> {
    const a = requireAuth(caller);
    const { project: p } = await this.access.requireProject(caller, project, 'developer', 'dataset.register');
    const name = text(input.name, 'name', LIMITS.name, true)!;
    let row: Omit<DatasetRow, 'id' | 'created_by' | 'created_at' | 'project_id' | 'name'>;
    if (input.artifactUri !== undefined) {
      if (input.uri !== undefined || input.digest !== undefined) {
        throw new InputError('give either artifactUri, or uri with digest, not both', 'artifactUri');
      }
      const uri = text(input.artifactUri, 'artifactUri', LIMITS.source, true)!;
      if (!uri.startsWith(PROXY_SCHEME)) {
        throw new InputError(`artifactUri must start with ${PROXY_SCHEME}`, 'artifactUri');
      }
      const path = storePathOf(uri);
      const experiment = await this.tracking.readableExperiment(caller, path.split('/')[0] ?? '');
      if (experiment.project_id !== p.id) {
        throw new InputError(`the artifacts at ${uri} belong to another project`, 'artifactUri');
      }
      row = await this.describeArtifacts(caller, path, uri);
    } else {
      const uri = text(input.uri, 'uri', LIMITS.source, true)!;
      let parsed: URL;
      try {
        parsed = new URL(uri);
      } catch {
        throw new InputError(`uri ${JSON.stringify(uri)} is not a URI (e.g. s3://bucket/data.parquet)`, 'uri');
      }
      const digest = text(input.digest, 'digest', 128, true)!;
      if (!/^[A-Za-z0-9:_-]+$/.test(digest)) {
        throw new InputError('digest may only hold letters, digits and : _ -', 'digest');
      }
      row = {
        digest,
        source_type: parsed.protocol.replace(/:$/, ''),
        source: JSON.stringify({ uri }),
        schema: null,
        profile: null,
      };
    }
    const existing = await this.store.byContent(p.id, name, row.digest);
    if (existing) return { dataset: datasetView(existing), created: false };
    const full: DatasetRow = {
      ...row,
      id: `d-${randomBytes(16).toString('hex')}`,
      project_id: p.id,
      name,
      created_by: a.username,
      created_at: this.clock.now(),
    };
    const stored = await this.audit.change(caller, async (tx, record) => {
      const s = await this.store.withTx(tx).upsert(full);
      if (s.id === full.id) {
        record(
          'dataset.register',
          { type: 'dataset', name: `${name}@${full.digest}` },
          { projectId: p.id, details: { id: s.id } },
        );
      }
      return s;
    });
    return { dataset: datasetView(stored), created: stored.id === full.id };
  }

  async list(caller: Caller, project: string, name?: string): Promise<Dataset[]> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    // No stored name holds NUL (text() refuses it), and PostgreSQL cannot even compare one.
    if (name?.includes('\u0000')) return [];
    return (await this.store.list(p.id, name)).map(datasetView);
  }

  /** A dataset version and the runs that used it. */
  async get(caller: Caller, id: string) {
    const d = /^d-[0-9a-f]{32}$/.test(id) ? await this.store.byId(id) : undefined;
    if (!d) throw notFound(id);
    await this.access.requireProjectId(caller, d.project_id, 'viewer', null, () => notFound(id));
    const runs = await this.store.runsOf(id);
    return {
      dataset: datasetView(d),
      runs: runs.map((r) => ({
        runId: r.run_id,
        runName: r.run_name,
        experimentId: String(r.experiment_id),
        context: r.context,
      })),
    };
  }

  /** The runs-search condition for `datasets.*` clauses (see TrackingSearchService). */
  readonly searchCondition = (c: DatasetClause) => this.store.condition(c);

  /**
   * Digest (sha256 of a file; of a folder, over its files' paths and digests), schema and profile
   * of an artifact file or folder, streaming every byte once.
   */
  private async describeArtifacts(caller: Caller, path: string, uri: string) {
    const files = (await this.artifacts.list(caller, path, true)).filter((e) => !e.isDir);
    const single = files.length === 0;
    const targets = single
      ? [{ path, size: undefined as number | undefined }]
      : files.map((f) => ({ path: f.path, size: f.size }));
    const folder = createHash('sha256');
    let fileDigest = '';
    let totalBytes = 0;
    let table: Awaited<ReturnType<typeof profileDelimited>> | null = null;
    for (const f of targets) {
      const file = await this.artifacts.get(caller, f.path);
      totalBytes += file.size;
      const hash = createHash('sha256');
      file.stream.on('data', (chunk: Buffer) => hash.update(chunk));
      const ext = f.path.slice(f.path.lastIndexOf('.') + 1).toLowerCase();
      if (single && (ext === 'csv' || ext === 'tsv')) table = await profileDelimited(file.stream, ext);
      else for await (const _ of file.stream) void _;
      fileDigest = hash.digest('hex');
      folder.update(`${f.path.slice(path.length + 1)}\0${fileDigest}\n`);
    }
    const profile = {
      num_files: targets.length,
      num_bytes: totalBytes,
      ...(table ? { num_rows: table.numRows, num_columns: table.numColumns, columns: table.columns } : {}),
    };
    return {
      // A file's digest is the sha256 of its bytes, which anyone can check (sha256sum, the upload's
      // answer); a folder's covers each file's relative path and digest.
      digest: `sha256:${single ? fileDigest : folder.digest('hex')}`,
      source_type: 'artifact',
      source: JSON.stringify({ uri }),
      schema: table ? JSON.stringify(schemaOf(table)) : null,
      profile: JSON.stringify(profile),
    };
  }
}
