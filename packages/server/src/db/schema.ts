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

export interface DB {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  jobs: JobsTable;
  job_logs: JobLogsTable;
}
