import type { Generated } from 'kysely';

/*
 * Table types shared by both engines. Portable column choices (see docs/adr/0002-store.md):
 * timestamps are epoch milliseconds in BIGINT, flags are 0/1 integers, JSON is TEXT. That keeps
 * values identical on SQLite and PostgreSQL so no store code branches on the engine.
 */

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Null: the token acts in every project its owner may; otherwise only in this one. */
  project_id: string | null;
}

export type TeamRole = 'member' | 'lead';
export type ProjectRole = 'viewer' | 'developer' | 'maintainer' | 'admin';

export interface TeamsTable {
  id: string;
  name: string;
  display_name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  role: TeamRole;
  added_at: number;
}

export interface ProjectsTable {
  id: string;
  name: string;
  display_name: string;
  description: string;
  team_id: string;
  created_at: number;
  updated_at: number;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: ProjectRole;
  added_at: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  revoked_at: number | null;
}

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditEventsTable {
  id: string;
  seq: number | null;
  at: number;
  actor_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target: string;
  project_id: string | null;
  outcome: AuditOutcome;
  request_id: string | null;
  ip: string | null;
  details: string;
  prev_hash: string | null;
  hash: string | null;
}

export interface AuditChainTable {
  id: number;
  seq: number;
  hash: string;
}

export interface SecretsTable {
  id: string;
  project_id: string;
  name: string;
  ciphertext: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export type LifecycleStage = 'active' | 'deleted';
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface ExperimentsTable {
  id: Generated<number>;
  project_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  created_at: number;
  updated_at: number;
}

export interface KeyValueTable {
  key: string;
  value: string;
}

export interface ExperimentTagsTable extends KeyValueTable {
  experiment_id: number;
}

export interface RunsTable {
  /** 32 lower-case hex characters, like MLflow's run ids. */
  id: string;
  experiment_id: number;
  name: string;
  user_id: string | null;
  username: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: LifecycleStage;
  artifact_uri: string;
  parent_run_id: string | null;
  // SQLite also has `rev`, a revision that triggers renew whenever anything a search returns for
  // the run changes (migration 0011). Only raw SQL reads it (searchRunRevisions), so it is not
  // declared here, where every run row written or read would have to carry it.
}

export interface RunParamsTable extends KeyValueTable {
  run_id: string;
}

export interface RunTagsTable extends KeyValueTable {
  run_id: string;
}

export interface MetricRowFields {
  run_id: string;
  key: string;
  /** 0 when is_nan = 1. */
  value: number;
  is_nan: number;
  step: number;
  timestamp: number;
}

export interface MetricsTable extends MetricRowFields {
  id: Generated<number>;
}

export type LatestMetricsTable = MetricRowFields;

export interface DatasetsTable {
  id: string;
  project_id: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  created_by: string;
  created_at: number;
}

export interface RunInputsTable {
  run_id: string;
  dataset_id: string;
  context: string | null;
  /** JSON array of {key, value}. */
  tags: string;
  created_at: number;
}

export type LoggedModelStatus = 'PENDING' | 'READY' | 'FAILED';

export interface LoggedModelsTable {
  id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  status: LoggedModelStatus;
  status_message: string | null;
  model_type: string | null;
  source_run_id: string | null;
  user_id: string | null;
  username: string;
  lifecycle_stage: LifecycleStage;
  created_at: number;
  updated_at: number;
}

export interface LoggedModelKeyValueTable extends KeyValueTable {
  model_id: string;
}

export interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  value: number;
  is_nan: number;
  step: number;
  timestamp: number;
  run_id: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
}

export interface RunModelsTable {
  run_id: string;
  model_id: string;
  direction: 'input' | 'output';
  step: number;
}

export type RiskTier = 'low' | 'critical';
export type ModelVersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
/** MLflow's model version stages (kept for compatibility; releases supersede them). */
export type ModelStage = 'None' | 'Staging' | 'Production' | 'Archived';

export interface RegisteredModelsTable {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  /** Null: the project's team owns the model. */
  owner_team_id: string | null;
  risk_tier: RiskTier;
  /** The last version number handed out (0 before the first). */
  last_version: number;
  user_id: string | null;
  username: string;
  created_at: number;
  updated_at: number;
}

export interface RegisteredModelTagsTable extends KeyValueTable {
  model_id: string;
}

export interface ModelVersionsTable {
  model_id: string;
  version: number;
  source: string;
  storage_location: string;
  run_id: string | null;
  logged_model_id: string | null;
  run_link: string | null;
  status: ModelVersionStatus;
  status_message: string | null;
  stage: ModelStage;
  description: string | null;
  user_id: string | null;
  username: string;
  created_at: number;
  updated_at: number;
  /** JSON {inputs, outputs, params}. */
  signature: string | null;
  framework: string | null;
  format: string | null;
  size_bytes: number | null;
  file_count: number | null;
  checksum: string | null;
}

export interface ModelVersionTagsTable extends KeyValueTable {
  model_id: string;
  version: number;
}

export interface RegisteredModelAliasesTable {
  model_id: string;
  alias: string;
  version: number;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobsTable {
  id: string;
  kind: string;
  state: JobState;
  payload: string;
  result: string | null;
  error: string | null;
  priority: number;
  attempt: number;
  max_attempts: number;
  run_at: number;
  lease_owner: string | null;
  /** The worker that ran (or runs) the latest attempt; kept after it finishes. */
  worker: string | null;
  lease_expires_at: number | null;
  cancel_requested: number;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  wall_seconds: number | null;
  cpu_seconds: number | null;
  peak_rss_bytes: number | null;
  log_bytes: number;
  logs_truncated: number;
}

export interface JobLogsTable {
  id: Generated<number>;
  job_id: string;
  attempt: number;
  stream: string;
  data: string;
  created_at: number;
}

export type EvaluationTask = 'binary' | 'multiclass' | 'regression';

export interface EvaluationSpecsTable {
  model_id: string;
  dataset_id: string;
  task: EvaluationTask;
  label_column: string;
  /** JSON [{metric, op, threshold}]. */
  thresholds: string;
  /** JSON {metric, maxDegradation} or null. */
  champion_rule: string | null;
  updated_by: string;
  updated_at: number;
}

export type GateStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped';

export interface ModelVersionGatesTable {
  id: string;
  model_id: string;
  version: number;
  status: GateStatus;
  job_id: string | null;
  /** JSON snapshot of the spec the gate ran with. */
  spec: string | null;
  scorer: string | null;
  rows: number | null;
  /** JSON {metric: value}. */
  metrics: string | null;
  /** JSON [{metric, op, threshold, value, passed}]. */
  checks: string | null;
  champion_version: number | null;
  champion_metrics: string | null;
  reason: string | null;
  override_by: string | null;
  override_reason: string | null;
  override_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export type ReleaseEnvironment = 'staging' | 'production';
export type ReleaseStatus =
  'gate' | 'approval' | 'approved' | 'deploying' | 'done' | 'rejected' | 'blocked' | 'rolled_back' | 'cancelled';

export interface ReleasesTable {
  id: string;
  model_id: string;
  version: number;
  environment: ReleaseEnvironment;
  status: ReleaseStatus;
  requested_by: string;
  requested_by_id: string | null;
  note: string | null;
  decided_by: string | null;
  decided_by_id: string | null;
  decision: 'approved' | 'rejected' | null;
  decision_reason: string | null;
  decided_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ReleaseTransitionsTable {
  release_id: string;
  seq: number;
  status: ReleaseStatus;
  actor: string;
  reason: string | null;
  at: number;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  project_id: string;
  type: string;
  /** JSON. */
  payload: string;
  created_at: number;
}

export interface WebhooksTable {
  id: string;
  project_id: string;
  url: string;
  /** JSON array of event types, or ["*"]. */
  events: string;
  /** Sealed with the secret box. */
  secret: string;
  active: number;
  description: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  job_id: string | null;
  response_status: number | null;
  error: string | null;
  duration_ms: number | null;
  created_at: number;
  updated_at: number;
}

export type DeploymentStatus = 'deploying' | 'ready' | 'failed';
export type DeploymentRuntime = 'auto' | 'onnx' | 'process' | 'external';

export interface DeploymentsTable {
  id: string;
  name: string;
  project_id: string;
  model_id: string;
  environment: ReleaseEnvironment;
  runtime: DeploymentRuntime;
  external: string | null;
  routing_key: string | null;
  batching: string | null;
  traffic: string;
  shadow: string | null;
  stable_version: number;
  previous_version: number | null;
  status: DeploymentStatus;
  failure: string | null;
  revision: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface DeploymentRevisionsTable {
  deployment_id: string;
  revision: number;
  traffic: string;
  shadow: string | null;
  stable_version: number;
  reason: string;
  actor: string;
  at: number;
}

export type RolloutStrategy = 'canary' | 'shadow';
export type RolloutStatus = 'running' | 'paused' | 'promoted' | 'aborted' | 'stopped';

export interface RolloutsTable {
  id: string;
  deployment_id: string;
  strategy: RolloutStrategy;
  candidate_version: number;
  release_id: string | null;
  stable_version: number;
  config: string;
  status: RolloutStatus;
  step_index: number;
  step_started_at: number;
  analyses: string;
  reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export type PredictionRoute = 'stable' | 'candidate' | 'pinned';

export interface PredictionsTable {
  seq: Generated<number>;
  deployment_id: string;
  request_id: string;
  version: number;
  route: PredictionRoute;
  outcome: 'ok' | 'error';
  error: string | null;
  latency_ms: number;
  output_label: string | null;
  output_value: number | null;
  /** Tensors in the log's encoding (modules/serving/logged-tensors.ts); null when over the size bound. */
  inputs: Buffer | null;
  outputs: Buffer | null;
  created_at: number;
  /** The shadow version's answer to the same request, when one was shadowed; else all null. */
  shadow_version: number | null;
  shadow_outcome: 'ok' | 'error' | null;
  shadow_error: string | null;
  shadow_latency_ms: number | null;
  shadow_label: string | null;
  shadow_value: number | null;
  shadow_outputs: Buffer | null;
}

/** Late ground truth for a logged prediction, by request id. */
export interface PredictionLabelsTable {
  deployment_id: string;
  request_id: string;
  label: string | null;
  value: number | null;
  created_at: number;
}

export interface DB {
  deployments: DeploymentsTable;
  prediction_labels: PredictionLabelsTable;
  deployment_revisions: DeploymentRevisionsTable;
  rollouts: RolloutsTable;
  predictions: PredictionsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  jobs: JobsTable;
  job_logs: JobLogsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_chain: AuditChainTable;
  secrets: SecretsTable;
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  run_params: RunParamsTable;
  run_tags: RunTagsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  datasets: DatasetsTable;
  run_inputs: RunInputsTable;
  logged_models: LoggedModelsTable;
  logged_model_params: LoggedModelKeyValueTable;
  logged_model_tags: LoggedModelKeyValueTable;
  logged_model_metrics: LoggedModelMetricsTable;
  run_models: RunModelsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  registered_model_aliases: RegisteredModelAliasesTable;
  evaluation_specs: EvaluationSpecsTable;
  model_version_gates: ModelVersionGatesTable;
  releases: ReleasesTable;
  release_transitions: ReleaseTransitionsTable;
  events: EventsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
