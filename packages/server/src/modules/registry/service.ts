import { requireAuth, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { joinArtifactPath, normalizeArtifactPath } from '../../artifacts/index.js';
import { rethrowUnique } from '../../db/dialect.js';
import type { Kysely } from 'kysely';
import type { DB, GateStatus, ModelStage, ModelVersionStatus, ProjectRole, RiskTier } from '../../db/schema.js';
import type { AuditLog } from '../audit/log.js';
import type { EventSink } from '../events/types.js';
import { PROXY_SCHEME, storePathOf, type ArtifactsService } from '../artifacts/service.js';
import type { LoggedModel, LoggedModelsService } from '../logged-models/service.js';
import type { AccessService, ProjectAccess } from '../projects/access.js';
import { fingerprint } from '../tracking/search/keyset.js';
import {
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
} from '../tracking/search/index.js';
import type { TrackingService } from '../tracking/service.js';
import type { KeyValue } from '../tracking/store.js';
import {
  ACTIVE_STAGES,
  REGISTRY_LIMITS,
  STAGES,
  canonicalStage,
  optionalString,
  parseVersion,
  validateAlias,
  validateDescription,
  validateModelName,
  validateRiskTier,
  validateTag,
  validateTags,
} from './limits.js';
import { inspectModelFiles, type ModelFacts, type ModelFileSource, type ModelSignature } from './model-files.js';
import type { ModelVersionRow, ModelVersionWithName, RegisteredModelRow, RegistryStore } from './store.js';

/** A version's gate in one line: its newest gate's status, and whether an admin overrode a failure. */
export interface GateSummary {
  status: GateStatus;
  overridden: boolean;
}

/**
 * What the registry needs of the evaluation gate (modules/gates implements it): a gate for every
 * new version, created in the version's transaction; gate summaries for version views; and the
 * rule that refuses promotions a failed gate (or a missing approval) forbids.
 */
export interface VersionGates {
  createIn(tx: Kysely<DB>, v: { modelId: string; version: number }): Promise<{ gateId: string; status: GateStatus }>;
  /** After the creating transaction committed (wakes the worker). */
  created(modelId: string, version: number, status: GateStatus): void;
  summaries(keys: { modelId: string; version: number }[]): Promise<Map<string, GateSummary>>;
  assertPromotable(
    tx: Kysely<DB>,
    m: { id: string; name: string; riskTier: RiskTier },
    version: number,
    stage: ModelStage,
  ): Promise<void>;
}

/** A project by id (MLflow calls, which land in the caller's project) or by name (the native API). */
export type ProjectRef = { id: string } | { name: string };

export interface ModelVersion {
  modelId: string;
  /** The registered model's name. */
  name: string;
  version: number;
  source: string;
  /** Where the files are: an mlflow-artifacts:/ location of this server (MLflow's download URI). */
  storageLocation: string;
  runId: string | null;
  loggedModelId: string | null;
  runLink: string | null;
  status: ModelVersionStatus;
  statusMessage: string | null;
  stage: ModelStage;
  description: string | null;
  creator: string;
  createdAt: number;
  updatedAt: number;
  signature: ModelSignature | null;
  framework: string | null;
  format: string | null;
  sizeBytes: number | null;
  fileCount: number | null;
  checksum: string | null;
  tags: KeyValue[];
  aliases: string[];
  /** The version's gate result in brief; null for versions registered before gates existed. */
  gate: GateSummary | null;
}

export interface RegisteredModel {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  /** The owning team's name (the project's team unless another was named). */
  ownerTeam: string;
  riskTier: RiskTier;
  creator: string;
  createdAt: number;
  updatedAt: number;
  tags: KeyValue[];
  aliases: { alias: string; version: number }[];
  /** The newest version in each stage. */
  latestVersions: ModelVersion[];
}

export interface SearchInput {
  filter?: string | null;
  orderBy?: readonly string[] | null;
  maxResults?: number | null;
  pageToken?: string | null;
}

/** The native models list adds what MLflow's grammar lacks: the owner team and a stage. */
export interface ModelSearchInput extends SearchInput {
  /** A team's name: models it owns (a model without an owner team is its project team's). */
  ownerTeam?: string | null;
  /** Models with a version in this stage (any case, as MLflow reads stages). */
  stage?: string | null;
}

/** MLflow's search limits (mlflow/store/model_registry/__init__.py). */
export const SEARCH_LIMITS = {
  models: { default: 100, max: 1000 },
  versions: { default: 10_000, max: 200_000 },
} as const;

/** Where a version's files are, resolved from the source the client named. */
interface ResolvedSource {
  storePath: string;
  runId: string | null;
  loggedModelId: string | null;
}

const modelNotFound = (name: string) => new NotFoundError(`Registered Model with name=${name} not found`);
const versionNotFound = (name: string, version: number | string) =>
  new NotFoundError(`Model Version (name=${name}, version=${version}) not found`);
const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;
const RUN_ID = /^[0-9a-f]{32}$/;

function boolish(value: unknown, path: string): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true' || value === 'True') return true;
  if (value === false || value === 'false' || value === 'False') return false;
  throw new InputError(`Invalid value ${JSON.stringify(value)} for parameter '${path}': expected a boolean`, path);
}

function pageSize(value: number | null | undefined, limits: { default: number; max: number }): number {
  if (value === undefined || value === null) return limits.default;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InputError(
      `Invalid value for max_results. It must be a positive integer, but got ${String(value)}`,
      'max_results',
    );
  }
  if (value > limits.max) {
    throw new InputError(
      `Invalid value for request parameter max_results. It must be at most ${limits.max}, but got value ${value}`,
      'max_results',
    );
  }
  return value;
}

/** Offset page tokens bound to the search they page (filter, order, project), so none is replayed elsewhere. */
function readPageToken(token: string | null | undefined, query: string): number {
  if (!token) return 0;
  let parsed: { offset?: unknown; query?: unknown } = {};
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    // refused below
  }
  if (!Number.isSafeInteger(parsed.offset) || (parsed.offset as number) < 0 || parsed.query !== query) {
    throw new InputError('Invalid page token: pass back the next_page_token of the same search', 'page_token');
  }
  return parsed.offset as number;
}

const writePageToken = (offset: number, query: string) =>
  Buffer.from(JSON.stringify({ offset, query })).toString('base64url');

/**
 * The model registry: registered models in a project (owner team, risk tier, tags, aliases) and
 * their versions (source, files' signature, framework, format, size and checksum, MLflow stage,
 * tags). One set of rules behind the native API and the MLflow adapter:
 *
 * - viewers of the project read everything;
 * - developers create models and versions, edit descriptions, tags and aliases, rename models and
 *   move versions between MLflow stages;
 * - maintainers change a model's risk tier or owner team and delete models and versions.
 *
 * Every change is audited in the transaction that makes it. A version's source must be readable
 * by the caller and lie in the model's project.
 */
export class RegistryService {
  constructor(
    private readonly store: RegistryStore,
    private readonly access: AccessService,
    private readonly tracking: Pick<TrackingService, 'projectForCaller' | 'readableRun' | 'readableExperiment'>,
    private readonly loggedModels: Pick<LoggedModelsService, 'get' | 'search'>,
    private readonly artifacts: Pick<ArtifactsService, 'list' | 'get'>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly events: EventSink,
    private readonly gates: VersionGates,
  ) {}

  /**
   * The project MLflow registry calls land in: the token's project for a project-scoped token,
   * otherwise the default project (as for experiments; see TrackingService.projectForCaller).
   */
  async mlflowProject(caller: Caller): Promise<ProjectRef> {
    return { id: await this.tracking.projectForCaller(caller) };
  }

  // ---- registered models ----

  async createModel(
    caller: Caller,
    ref: ProjectRef,
    input: { name: unknown; description?: unknown; tags?: unknown; riskTier?: unknown; ownerTeam?: unknown },
  ): Promise<RegisteredModel> {
    const a = requireAuth(caller);
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.create');
    const name = validateModelName(input.name);
    const description = validateDescription(input.description);
    const tags = validateTags(input.tags);
    const riskTier = input.riskTier === undefined || input.riskTier === null ? 'low' : validateRiskTier(input.riskTier);
    const ownerTeamId =
      input.ownerTeam === undefined || input.ownerTeam === null ? null : await this.teamId(input.ownerTeam);
    const exists = () => new ConflictError(`Registered Model (name=${name}) already exists.`);
    if (await this.store.modelByName(project.id, name)) throw exists();
    const now = this.clock.now();
    const row: RegisteredModelRow = {
      id: newId(now),
      project_id: project.id,
      name,
      description,
      owner_team_id: ownerTeamId,
      risk_tier: riskTier,
      last_version: 0,
      user_id: a.userId,
      username: a.username,
      created_at: now,
      updated_at: now,
    };
    await this.audit
      .change(caller, async (tx, record) => {
        const s = this.store.with(tx);
        await s.insertModel(row);
        await s.setModelTags(row.id, tags);
        record('registered_model.create', this.target(row), {
          projectId: project.id,
          details: { name, riskTier, ...(input.ownerTeam ? { ownerTeam: input.ownerTeam } : {}) },
        });
      })
      .catch(rethrowUnique(exists().message));
    return this.modelView(row, project.team_id);
  }

  async getModel(caller: Caller, ref: ProjectRef, name: unknown): Promise<RegisteredModel> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    return this.modelView(await this.model(project.id, name), project.team_id);
  }

  /** MLflow's search_registered_models over one project: filter, order_by, page size and token. */
  async searchModels(
    caller: Caller,
    ref: ProjectRef,
    input: ModelSearchInput,
  ): Promise<{ models: RegisteredModel[]; nextPageToken: string | null }> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    const limit = pageSize(input.maxResults, SEARCH_LIMITS.models);
    const clauses = parseRegisteredModelFilter(input.filter);
    const order = parseRegisteredModelOrderBy(input.orderBy);
    const stage = input.stage ? canonicalStage(input.stage) : null;
    // A team that does not exist owns nothing: the filter matches no model (it is no error).
    const ownerTeamId = input.ownerTeam ? await this.store.teamIdByName(input.ownerTeam) : null;
    if (input.ownerTeam && !ownerTeamId) return { models: [], nextPageToken: null };
    const owner = ownerTeamId ? { teamId: ownerTeamId, isProjectTeam: ownerTeamId === project.team_id } : null;
    const query = fingerprint(['models', project.id, clauses, order, ownerTeamId, stage]);
    const offset = readPageToken(input.pageToken, query);
    const rows = await this.store.searchModels(project.id, clauses, order, offset, limit + 1, { owner, stage });
    const page = rows.slice(0, limit);
    return {
      models: await this.modelViews(page, project.team_id),
      nextPageToken: rows.length > limit ? writePageToken(offset + limit, query) : null,
    };
  }

  async renameModel(caller: Caller, ref: ProjectRef, name: unknown, newName: unknown): Promise<RegisteredModel> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.rename');
    const m = await this.model(project.id, name);
    const to = validateModelName(newName, 'new_name');
    const exists = () => new ConflictError(`Registered Model (name=${to}) already exists.`);
    if (to !== m.name && (await this.store.modelByName(project.id, to))) throw exists();
    const now = this.clock.now();
    await this.audit
      .change(caller, async (tx, record) => {
        await this.store.with(tx).updateModel(m.id, { name: to, updated_at: now });
        record('registered_model.rename', this.target(m), {
          projectId: project.id,
          details: { from: m.name, to },
        });
      })
      .catch(rethrowUnique(exists().message));
    return this.modelView({ ...m, name: to, updated_at: now }, project.team_id);
  }

  /**
   * Changes a model's description (developers; `null` clears it, `undefined` keeps it), risk tier
   * or owner team (maintainers: they decide which rules of release the model falls under).
   */
  async updateModel(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    input: { description?: unknown; riskTier?: unknown; ownerTeam?: unknown },
  ): Promise<RegisteredModel> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.update');
    const m = await this.model(project.id, name);
    const description = input.description === undefined ? m.description : validateDescription(input.description);
    const riskTier = input.riskTier === undefined ? m.risk_tier : validateRiskTier(input.riskTier);
    const ownerTeamId =
      input.ownerTeam === undefined
        ? m.owner_team_id
        : input.ownerTeam === null
          ? null
          : await this.teamId(input.ownerTeam);
    const governed = riskTier !== m.risk_tier || ownerTeamId !== m.owner_team_id;
    if (governed) await this.project(caller, ref, 'maintainer', 'registered_model.update');
    const now = this.clock.now();
    const patch = { description, risk_tier: riskTier, owner_team_id: ownerTeamId, updated_at: now };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateModel(m.id, patch);
      record('registered_model.update', this.target(m), {
        projectId: project.id,
        details: {
          name: m.name,
          ...(description !== m.description ? { description: true } : {}),
          ...(riskTier !== m.risk_tier ? { riskTier: { from: m.risk_tier, to: riskTier } } : {}),
          ...(ownerTeamId !== m.owner_team_id ? { ownerTeam: input.ownerTeam ?? null } : {}),
        },
      });
    });
    return this.modelView({ ...m, ...patch }, project.team_id);
  }

  /** Deletes a model with its versions, tags and aliases (maintainers). */
  async deleteModel(caller: Caller, ref: ProjectRef, name: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'maintainer', 'registered_model.delete');
    const m = await this.model(project.id, name);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).deleteModel(m.id);
      record('registered_model.delete', this.target(m), {
        projectId: project.id,
        details: { name: m.name, lastVersion: m.last_version },
      });
    });
  }

  async setModelTag(caller: Caller, ref: ProjectRef, name: unknown, key: unknown, value: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.set_tag');
    const m = await this.model(project.id, name);
    const tag = validateTag(key, value);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).setModelTags(m.id, [tag]);
      record('registered_model.set_tag', this.target(m), {
        projectId: project.id,
        details: { name: m.name, key: tag.key },
      });
    });
  }

  /** Removes a tag; a missing tag is no error (MLflow's behaviour). */
  async deleteModelTag(caller: Caller, ref: ProjectRef, name: unknown, key: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.delete_tag');
    const m = await this.model(project.id, name);
    const k = validateTag(key, '').key;
    await this.audit.change(caller, async (tx, record) => {
      if (await this.store.with(tx).deleteModelTag(m.id, k)) {
        record('registered_model.delete_tag', this.target(m), {
          projectId: project.id,
          details: { name: m.name, key: k },
        });
      }
    });
  }

  /** The newest version in each of `stages` (every stage when none is given). */
  async latestVersions(caller: Caller, ref: ProjectRef, name: unknown, stages?: unknown): Promise<ModelVersion[]> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    const m = await this.model(project.id, name);
    if (stages !== undefined && stages !== null && !Array.isArray(stages)) {
      throw new InputError("Invalid value for parameter 'stages': expected a list", 'stages');
    }
    const wanted = new Set<ModelStage>(
      Array.isArray(stages) && stages.length > 0 ? stages.map(canonicalStage) : STAGES,
    );
    const rows = (await this.store.latestPerStage([m.id])).filter((v) => wanted.has(v.stage));
    return this.versionViews(rows.map((v) => ({ ...v, model_name: m.name })));
  }

  // ---- versions ----

  /**
   * Registers a new version of a model from `source`: an `mlflow-artifacts:/` location inside a run
   * or logged model, `runs:/<run id>/<path>`, `models:/<logged model id>`, or another version
   * (`models:/<name>/<version|stage|latest>`, `models:/<name>@<alias>`). The files are read once to
   * record their size and checksum, and the MLmodel file for signature, framework and format; the
   * version number is assigned in the same transaction that stores the version.
   */
  async createVersion(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    input: {
      source: unknown;
      runId?: unknown;
      modelId?: unknown;
      runLink?: unknown;
      description?: unknown;
      tags?: unknown;
    },
  ): Promise<ModelVersion> {
    const a = requireAuth(caller);
    const { project } = await this.project(caller, ref, 'developer', 'model_version.create');
    const source = optionalString(input.source, 'source', REGISTRY_LIMITS.sourceLength);
    if (source === null) throw new InputError("Missing value for required parameter 'source'.", 'source');
    const runId = optionalString(input.runId, 'run_id', 64);
    const modelId = optionalString(input.modelId, 'model_id', 64);
    const runLink = optionalString(input.runLink, 'run_link', REGISTRY_LIMITS.runLinkLength);
    const description = validateDescription(input.description);
    const tags = validateTags(input.tags);
    const m = await this.model(project.id, name);
    const resolved = await this.resolveSource(caller, project.id, source, runId, modelId);
    const facts = await inspectModelFiles(this.files(caller), resolved.storePath);
    const now = this.clock.now();
    const { v: row, gate } = await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      const version = await s.nextVersion(m.id, now);
      if (version === undefined) throw modelNotFound(m.name);
      const v = this.versionRow(m.id, version, source, resolved, facts, {
        runLink,
        description,
        userId: a.userId,
        username: a.username,
        now,
      });
      await s.insertVersion(v, tags);
      // Every version is gated: the gate (and its job) exists exactly when the version does.
      const gate = await this.gates.createIn(tx, { modelId: m.id, version });
      await this.events.emit(tx, {
        type: 'model_version.created',
        projectId: project.id,
        payload: {
          model: m.name,
          modelId: m.id,
          version,
          projectId: project.id,
          source,
          runId: resolved.runId,
          checksum: facts.checksum,
          gate: gate.status,
          actor: a.username,
        },
      });
      record('model_version.create', this.versionTarget(m.id, version), {
        projectId: project.id,
        details: { name: m.name, version, source, checksum: facts.checksum },
      });
      return { v, gate };
    });
    this.gates.created(m.id, row.version, gate.status);
    return (await this.versionViews([{ ...row, model_name: m.name }]))[0]!;
  }

  async getVersion(caller: Caller, ref: ProjectRef, name: unknown, version: unknown): Promise<ModelVersion> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    const { m, v } = await this.version(project.id, name, version);
    return (await this.versionViews([{ ...v, model_name: m.name }]))[0]!;
  }

  /** MLflow's get-download-uri: where the version's files can be read (through this server). */
  async downloadUri(caller: Caller, ref: ProjectRef, name: unknown, version: unknown): Promise<string> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    return (await this.version(project.id, name, version)).v.storage_location;
  }

  async updateVersion(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    version: unknown,
    input: { description?: unknown },
  ): Promise<ModelVersion> {
    const { project } = await this.project(caller, ref, 'developer', 'model_version.update');
    const { m, v } = await this.version(project.id, name, version);
    const description = input.description === undefined ? v.description : validateDescription(input.description);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateVersion(m.id, v.version, { description, updated_at: now });
      record('model_version.update', this.versionTarget(m.id, v.version), {
        projectId: project.id,
        details: { name: m.name, version: v.version, description: true },
      });
    });
    return (await this.versionViews([{ ...v, description, updated_at: now, model_name: m.name }]))[0]!;
  }

  /** Deletes a version with its tags and aliases (maintainers); its number is never reused. */
  async deleteVersion(caller: Caller, ref: ProjectRef, name: unknown, version: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'maintainer', 'model_version.delete');
    const { m, v } = await this.version(project.id, name, version);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      await s.deleteVersion(m.id, v.version);
      await s.updateModel(m.id, { updated_at: now });
      record('model_version.delete', this.versionTarget(m.id, v.version), {
        projectId: project.id,
        details: { name: m.name, version: v.version, stage: v.stage, checksum: v.checksum },
      });
    });
  }

  /**
   * Moves a version to an MLflow stage. With `archiveExisting` (only for Staging and Production),
   * the model's other versions in that stage move to Archived in the same transaction.
   */
  async transitionStage(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    version: unknown,
    stage: unknown,
    archiveExisting?: unknown,
  ): Promise<ModelVersion> {
    const { project } = await this.project(caller, ref, 'developer', 'model_version.transition_stage');
    if (stage === undefined || stage === null || stage === '') {
      throw new InputError("Missing value for required parameter 'stage'.", 'stage');
    }
    const to = canonicalStage(stage);
    const archive = boolish(archiveExisting, 'archive_existing_versions');
    if (archive && !ACTIVE_STAGES.includes(to)) {
      throw new InputError(
        `Model version transition cannot archive existing model versions because '${String(stage)}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
        'archive_existing_versions',
      );
    }
    const { m, v } = await this.version(project.id, name, version);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      await this.gates.assertPromotable(tx, { id: m.id, name: m.name, riskTier: m.risk_tier }, v.version, to);
      const s = this.store.with(tx);
      const archived = archive ? await s.archiveStage(m.id, to, v.version, now) : [];
      await s.updateVersion(m.id, v.version, { stage: to, updated_at: now });
      await s.updateModel(m.id, { updated_at: now });
      record('model_version.transition_stage', this.versionTarget(m.id, v.version), {
        projectId: project.id,
        details: { name: m.name, version: v.version, from: v.stage, to, ...(archive ? { archived } : {}) },
      });
    });
    return (await this.versionViews([{ ...v, stage: to, updated_at: now, model_name: m.name }]))[0]!;
  }

  async setVersionTag(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    version: unknown,
    key: unknown,
    value: unknown,
  ): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'model_version.set_tag');
    const { m, v } = await this.version(project.id, name, version);
    const tag = validateTag(key, value);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).setVersionTags({ modelId: m.id, version: v.version }, [tag]);
      record('model_version.set_tag', this.versionTarget(m.id, v.version), {
        projectId: project.id,
        details: { name: m.name, version: v.version, key: tag.key },
      });
    });
  }

  async deleteVersionTag(
    caller: Caller,
    ref: ProjectRef,
    name: unknown,
    version: unknown,
    key: unknown,
  ): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'model_version.delete_tag');
    const { m, v } = await this.version(project.id, name, version);
    const k = validateTag(key, '').key;
    await this.audit.change(caller, async (tx, record) => {
      if (await this.store.with(tx).deleteVersionTag({ modelId: m.id, version: v.version }, k)) {
        record('model_version.delete_tag', this.versionTarget(m.id, v.version), {
          projectId: project.id,
          details: { name: m.name, version: v.version, key: k },
        });
      }
    });
  }

  /** MLflow's search_model_versions over one project (or one model of it, for the native API). */
  async searchVersions(
    caller: Caller,
    ref: ProjectRef,
    input: SearchInput & { model?: unknown },
  ): Promise<{ versions: ModelVersion[]; nextPageToken: string | null }> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    const model = input.model === undefined ? null : await this.model(project.id, input.model);
    const limit = pageSize(input.maxResults, SEARCH_LIMITS.versions);
    const clauses = parseModelVersionFilter(input.filter);
    const order = parseModelVersionOrderBy(
      input.orderBy && input.orderBy.length > 0
        ? input.orderBy
        : ['last_updated_timestamp DESC', 'name ASC', 'version_number DESC'],
    );
    const query = fingerprint(['versions', project.id, model?.id ?? null, clauses, order]);
    const offset = readPageToken(input.pageToken, query);
    const rows = await this.store.searchVersions(project.id, model?.id ?? null, clauses, order, offset, limit + 1);
    return {
      versions: await this.versionViews(rows.slice(0, limit)),
      nextPageToken: rows.length > limit ? writePageToken(offset + limit, query) : null,
    };
  }

  // ---- aliases ----

  /** Points `alias` at a version, moving it from the version it pointed at before. */
  async setAlias(caller: Caller, ref: ProjectRef, name: unknown, alias: unknown, version: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.set_alias');
    const a = validateAlias(alias, true);
    const { m, v } = await this.version(project.id, name, version);
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      const previous = await s.setAlias(m.id, a, v.version);
      await s.updateModel(m.id, { updated_at: this.clock.now() });
      record('registered_model.set_alias', this.target(m), {
        projectId: project.id,
        details: { name: m.name, alias: a, version: v.version, previous },
      });
    });
  }

  /** Removes an alias; a missing alias is no error (MLflow's behaviour). */
  async deleteAlias(caller: Caller, ref: ProjectRef, name: unknown, alias: unknown): Promise<void> {
    const { project } = await this.project(caller, ref, 'developer', 'registered_model.delete_alias');
    const a = validateAlias(alias, false);
    const m = await this.model(project.id, name);
    await this.audit.change(caller, async (tx, record) => {
      const s = this.store.with(tx);
      const version = await s.deleteAlias(m.id, a);
      if (version === null) return;
      await s.updateModel(m.id, { updated_at: this.clock.now() });
      record('registered_model.delete_alias', this.target(m), {
        projectId: project.id,
        details: { name: m.name, alias: a, version },
      });
    });
  }

  /** The version an alias points at; `latest` (any case) is the newest version. */
  async getByAlias(caller: Caller, ref: ProjectRef, name: unknown, alias: unknown): Promise<ModelVersion> {
    const { project } = await this.project(caller, ref, 'viewer', null);
    const a = validateAlias(alias, false);
    const m = await this.model(project.id, name);
    let v: ModelVersionRow | undefined;
    if (a.toLowerCase() === 'latest') {
      v = await this.store.latestVersion(m.id);
      if (!v) throw new NotFoundError(`Latest version not found for model ${m.name}.`);
    } else {
      const row = await this.store.alias(m.id, a);
      v = row ? await this.store.version(m.id, Number(row.version)) : undefined;
      if (!v) throw new NotFoundError(`Registered model alias ${a} not found.`);
    }
    return (await this.versionViews([{ ...v, model_name: m.name }]))[0]!;
  }

  // ---- internals ----

  private async project(
    caller: Caller,
    ref: ProjectRef,
    min: ProjectRole,
    action: string | null,
  ): Promise<ProjectAccess> {
    requireAuth(caller);
    return 'id' in ref
      ? this.access.requireProjectId(caller, ref.id, min, action, () => new NotFoundError('no such project'))
      : this.access.requireProject(caller, ref.name, min, action);
  }

  private async model(projectId: string, name: unknown): Promise<RegisteredModelRow> {
    if (name === undefined || name === null || name === '') {
      throw new InputError("Missing value for required parameter 'name'.", 'name');
    }
    if (typeof name !== 'string') {
      throw new InputError(`Invalid value ${JSON.stringify(name)} for parameter 'name': expected a string`, 'name');
    }
    // No stored name holds NUL or exceeds the limit (PostgreSQL cannot even compare a NUL).
    const m =
      name.includes('\u0000') || name.length > REGISTRY_LIMITS.nameLength
        ? undefined
        : await this.store.modelByName(projectId, name);
    if (!m) throw modelNotFound(name);
    return m;
  }

  private async version(
    projectId: string,
    name: unknown,
    version: unknown,
  ): Promise<{ m: RegisteredModelRow; v: ModelVersionRow }> {
    const m = await this.model(projectId, name);
    const n = parseVersion(version);
    const v = await this.store.version(m.id, n);
    if (!v) throw versionNotFound(m.name, n);
    return { m, v: { ...v, version: Number(v.version) } };
  }

  private async teamId(team: unknown): Promise<string> {
    if (typeof team !== 'string' || team === '') throw new InputError('ownerTeam must be a team name', 'ownerTeam');
    const id = await this.store.teamIdByName(team);
    if (!id) throw new InputError(`no team "${team}"`, 'ownerTeam');
    return id;
  }

  private target(m: RegisteredModelRow) {
    return { type: 'registered_model', name: m.id };
  }

  private versionTarget(modelId: string, version: number) {
    return { type: 'model_version', name: `${modelId}/${version}` };
  }

  /** The artifact service as the registry reads model files: with the caller's rights. */
  private files(caller: Caller): ModelFileSource {
    return {
      listFiles: async (path) =>
        (await this.artifacts.list(caller, path, true))
          .filter((e) => !e.isDir)
          .map((e) => ({ path: e.path, size: e.size })),
      open: async (path) => {
        const r = await this.artifacts.get(caller, path);
        return { stream: r.stream, size: r.size };
      },
    };
  }

  /**
   * Resolves a version's source to the artifact folder (or file) it names, checking that the
   * caller can read it and that it lies in the model's project; `runId` and `modelId`, when given,
   * must name the run or logged model that holds the source (MLflow's rule).
   */
  private async resolveSource(
    caller: Caller,
    projectId: string,
    source: string,
    runId: string | null,
    modelId: string | null,
  ): Promise<ResolvedSource> {
    const bad = (why: string) => new InputError(`Invalid model version source: '${source}'. ${why}`, 'source');
    const inProject = (experimentProject: string) => {
      if (experimentProject !== projectId) {
        throw bad(
          "It belongs to another project than the registered model. MLflow registry calls act in the project of a project-scoped token (else in 'default'): register with a token scoped to the source's project.",
        );
      }
    };
    const checkRun = (owner: string | null) => {
      if (runId !== null && runId !== owner) {
        throw bad('The run_id request parameter must identify the run that contains the source.');
      }
    };
    const checkModel = (owner: string | null) => {
      if (modelId !== null && modelId !== owner) {
        throw bad('The model_id request parameter must identify the logged model that contains the source.');
      }
    };
    const readableRun = async (id: string) =>
      this.tracking.readableRun(caller, id).catch((err: unknown) => {
        throw err instanceof NotFoundError ? bad(`Run ${id} does not exist.`) : err;
      });
    const loggedModel = async (id: string): Promise<LoggedModel> => {
      const lm = await this.loggedModels.get(caller, id).catch((err: unknown) => {
        throw err instanceof NotFoundError ? bad(`Logged model ${id} does not exist.`) : err;
      });
      if (lm.status === 'FAILED') throw bad(`The upload of logged model ${id} failed.`);
      if (!lm.artifactUri.startsWith(PROXY_SCHEME)) throw bad(`Logged model ${id} has no artifacts on this server.`);
      inProject((await this.tracking.readableExperiment(caller, lm.experimentId)).project_id);
      return lm;
    };
    const fromLoggedModel = async (id: string): Promise<ResolvedSource> => {
      const lm = await loggedModel(id);
      checkModel(lm.modelId);
      if (runId !== null && lm.sourceRunId !== null) checkRun(lm.sourceRunId);
      return { storePath: storePathOf(lm.artifactUri), runId: runId ?? lm.sourceRunId, loggedModelId: lm.modelId };
    };

    if (source.startsWith(PROXY_SCHEME) && !source.startsWith(`${PROXY_SCHEME}/`)) {
      const path = normalizeArtifactPath(storePathOf(source), { field: 'source' });
      const [experimentId, owner, third, fourth] = path.split('/');
      if (owner === 'models' && third && LOGGED_MODEL_ID.test(third) && fourth === 'artifacts') {
        const lm = await loggedModel(third);
        if (lm.experimentId !== experimentId) throw bad(`Logged model ${third} is not in experiment ${experimentId}.`);
        checkModel(third);
        return { storePath: path, runId: runId ?? lm.sourceRunId, loggedModelId: third };
      }
      if (owner && RUN_ID.test(owner) && third === 'artifacts') {
        const { run, projectId: runProject } = await readableRun(owner);
        if (String(run.experiment_id) !== experimentId) throw bad(`Run ${owner} is not in experiment ${experimentId}.`);
        inProject(runProject);
        checkRun(owner);
        if (modelId !== null) checkModel(null);
        return { storePath: path, runId: owner, loggedModelId: null };
      }
      throw bad("It must lie inside a run's or a logged model's artifacts (<experiment>/<run id>/artifacts/...).");
    }

    if (source.startsWith('models:/') && !source.startsWith('models://')) {
      const rest = source.slice('models:/'.length);
      if (LOGGED_MODEL_ID.test(rest)) return fromLoggedModel(rest);
      const v = await this.versionFromUri(projectId, rest).catch((err: unknown) => {
        throw err instanceof NotFoundError ? bad(err.message) : err;
      });
      checkRun(v.run_id);
      if (modelId !== null) checkModel(v.logged_model_id);
      return {
        storePath: storePathOf(v.storage_location),
        runId: runId ?? v.run_id,
        loggedModelId: modelId ?? v.logged_model_id,
      };
    }

    if (source.startsWith('runs:/') && !source.startsWith('runs://')) {
      const rest = source.slice('runs:/'.length);
      const slash = rest.indexOf('/');
      const id = slash < 0 ? rest : rest.slice(0, slash);
      const relative = normalizeArtifactPath(slash < 0 ? '' : rest.slice(slash + 1), {
        allowRoot: true,
        field: 'source',
      });
      if (!RUN_ID.test(id)) throw bad(`'${id}' is not a run id.`);
      const { run, projectId: runProject } = await readableRun(id);
      inProject(runProject);
      checkRun(id);
      const storePath = joinArtifactPath(storePathOf(run.artifact_uri), relative);
      // MLflow 3 keeps a model logged in a run under the logged model, not the run's artifacts: as
      // the client does, runs:/<run>/<name> without an MLmodel there means that run's model <name>.
      if (relative && !(await this.hasFile(caller, storePath, 'MLmodel'))) {
        const lm = await this.loggedModelOfRun(caller, String(run.experiment_id), id, relative);
        if (lm) return fromLoggedModel(lm);
      }
      if (modelId !== null) checkModel(null);
      return { storePath, runId: id, loggedModelId: null };
    }

    throw bad(
      'Use an artifact location of this server: runs:/<run id>/<path>, models:/<logged model id>, models:/<name>/<version> or mlflow-artifacts:/<path>.',
    );
  }

  /** `name/version`, `name/<stage>`, `name/latest` or `name@alias` in the project. */
  private async versionFromUri(projectId: string, rest: string): Promise<ModelVersionRow> {
    const at = rest.lastIndexOf('@');
    if (!rest.includes('/') && at > 0) {
      const m = await this.model(projectId, rest.slice(0, at));
      const alias = await this.store.alias(m.id, rest.slice(at + 1));
      const v = alias ? await this.store.version(m.id, Number(alias.version)) : undefined;
      if (!v) throw new NotFoundError(`Registered model alias ${rest.slice(at + 1)} not found.`);
      return v;
    }
    const parts = rest.split('/');
    if (parts.length !== 2 || !parts[1]) throw new InputError(`'models:/${rest}' is not a model URI`, 'source');
    const [name, suffix] = parts as [string, string];
    const m = await this.model(projectId, name);
    if (/^\d+$/.test(suffix)) {
      const v = await this.store.version(m.id, Number(suffix));
      if (!v) throw versionNotFound(name, suffix);
      return v;
    }
    const stage = suffix.toLowerCase() === 'latest' ? null : canonicalStage(suffix);
    const candidates = stage
      ? (await this.store.latestPerStage([m.id])).filter((v) => v.stage === stage)
      : [await this.store.latestVersion(m.id)].filter((v) => v !== undefined);
    const v = candidates.at(-1);
    if (!v)
      throw new NotFoundError(`No versions of model with name '${name}'${stage ? ` and stage '${stage}'` : ''} found`);
    return v;
  }

  private async hasFile(caller: Caller, folder: string, file: string): Promise<boolean> {
    const entries = await this.artifacts.list(caller, folder);
    return entries.some((e) => !e.isDir && e.path === `${folder}/${file}`);
  }

  /** The newest logged model named `name` that the run produced, if any. */
  private async loggedModelOfRun(
    caller: Caller,
    experimentId: string,
    runId: string,
    name: string,
  ): Promise<string | null> {
    // Logged model names cannot hold quotes or slashes, so such a path names none.
    if (/['"/\\]/.test(name)) return null;
    const found = await this.loggedModels.search(caller, {
      experimentIds: [experimentId],
      filter: `source_run_id = '${runId}' AND name = '${name}'`,
      maxResults: 1,
    });
    return found.models[0]?.modelId ?? null;
  }

  private versionRow(
    modelId: string,
    version: number,
    source: string,
    resolved: ResolvedSource,
    facts: ModelFacts,
    o: { runLink: string | null; description: string | null; userId: string; username: string; now: number },
  ): ModelVersionRow {
    return {
      model_id: modelId,
      version,
      source,
      storage_location: `${PROXY_SCHEME}${resolved.storePath}`,
      run_id: resolved.runId,
      logged_model_id: resolved.loggedModelId,
      run_link: o.runLink,
      status: 'READY',
      status_message: null,
      stage: 'None',
      description: o.description,
      user_id: o.userId,
      username: o.username,
      created_at: o.now,
      updated_at: o.now,
      signature: facts.signature ? JSON.stringify(facts.signature) : null,
      framework: facts.framework,
      format: facts.format,
      size_bytes: facts.sizeBytes,
      file_count: facts.fileCount,
      checksum: facts.checksum,
    };
  }

  private async modelView(row: RegisteredModelRow, projectTeamId: string): Promise<RegisteredModel> {
    return (await this.modelViews([row], projectTeamId))[0]!;
  }

  private async modelViews(rows: RegisteredModelRow[], projectTeamId: string): Promise<RegisteredModel[]> {
    const ids = rows.map((r) => r.id);
    const [tags, aliases, latest, teams] = await Promise.all([
      this.store.modelTags(ids),
      this.store.aliasesOf(ids),
      this.store.latestPerStage(ids),
      this.store.teamNames([...new Set([projectTeamId, ...rows.map((r) => r.owner_team_id ?? projectTeamId)])]),
    ]);
    const names = new Map(rows.map((r) => [r.id, r.name]));
    const versions = await this.versionViews(latest.map((v) => ({ ...v, model_name: names.get(v.model_id)! })));
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      name: r.name,
      description: r.description,
      ownerTeam: teams.get(r.owner_team_id ?? projectTeamId) ?? '',
      riskTier: r.risk_tier,
      creator: r.username,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      tags: tags.filter((t) => t.model_id === r.id).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((x) => x.model_id === r.id).map((x) => ({ alias: x.alias, version: x.version })),
      latestVersions: versions.filter((v) => v.modelId === r.id),
    }));
  }

  private async versionViews(rows: ModelVersionWithName[]): Promise<ModelVersion[]> {
    const keys = rows.map((v) => ({ modelId: v.model_id, version: Number(v.version) }));
    const [tags, aliases, gates] = await Promise.all([
      this.store.versionTags(keys),
      this.store.aliasesOf([...new Set(rows.map((v) => v.model_id))]),
      this.gates.summaries(keys),
    ]);
    const tagsOf = new Map<string, KeyValue[]>();
    for (const t of tags) {
      const k = `${t.model_id}\n${t.version}`;
      tagsOf.set(k, [...(tagsOf.get(k) ?? []), { key: t.key, value: t.value }]);
    }
    return rows.map((v) => {
      const version = Number(v.version);
      return {
        modelId: v.model_id,
        name: v.model_name,
        version,
        source: v.source,
        storageLocation: v.storage_location,
        runId: v.run_id,
        loggedModelId: v.logged_model_id,
        runLink: v.run_link,
        status: v.status,
        statusMessage: v.status_message,
        stage: v.stage,
        description: v.description,
        creator: v.username,
        createdAt: Number(v.created_at),
        updatedAt: Number(v.updated_at),
        signature: v.signature ? (JSON.parse(v.signature) as ModelSignature) : null,
        framework: v.framework,
        format: v.format,
        sizeBytes: v.size_bytes === null ? null : Number(v.size_bytes),
        fileCount: v.file_count === null ? null : Number(v.file_count),
        checksum: v.checksum,
        tags: tagsOf.get(`${v.model_id}\n${version}`) ?? [],
        aliases: aliases.filter((x) => x.model_id === v.model_id && x.version === version).map((x) => x.alias),
        gate: gates.get(`${v.model_id}\n${version}`) ?? null,
      };
    });
  }
}
