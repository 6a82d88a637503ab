import { randomBytes } from 'node:crypto';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Insertable } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../../packages/server/src/app.js';
import { loadConfig } from '../../../packages/server/src/config/config.js';
import { newId } from '../../../packages/server/src/core/ids.js';
import type { JobsTable } from '../../../packages/server/src/db/schema.js';

/*
 * Direct access to a Hangar store for the job-queue benchmark: seeding jobs and counting them by
 * state. Seeding bypasses the HTTP API on purpose, so the measurement is the workers' alone.
 */

const CHUNK = 1000; // 13 columns x 1000 rows stays well under both engines' bound-parameter limits

/**
 * A queued no-op job with the values JobStore.enqueue writes. Typed as Insertable so the nullable
 * columns (result, lease and timing fields...) are left out and stored as NULL, as enqueue stores them:
 * a column added to the table later does not break the benchmark.
 */
function noopJob(now: number): Insertable<JobsTable> {
  return {
    id: newId(now),
    kind: 'system.noop',
    state: 'queued',
    payload: '{}',
    priority: 0,
    attempt: 0,
    max_attempts: 3,
    run_at: now,
    cancel_requested: 0,
    created_at: now,
    updated_at: now,
    log_bytes: 0,
    logs_truncated: 0,
  };
}

/**
 * Opens the store the way the server does (migrations, first admin), inserts `n` queued no-op jobs in
 * one transaction and closes it again, releasing the SQLite lock for the worker process. Doing the
 * first-start work here also keeps two workers started at once on an empty PostgreSQL database from
 * racing to create the admin (one of them would crash on users_username_key).
 */
export async function seedNoopJobs(dataDir: string, db: string | undefined, n: number): Promise<void> {
  const argv = ['--data-dir', dataDir, '--role', 'api', '--log-level', 'warn', ...(db ? ['--db', db] : [])];
  const app = await buildApp(loadConfig({ argv, env: {} }));
  try {
    const now = Date.now();
    const rows = Array.from({ length: n }, () => noopJob(now));
    await app.database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += CHUNK)
        await tx
          .insertInto('jobs')
          .values(rows.slice(i, i + CHUNK))
          .execute();
    });
  } finally {
    await app.close();
  }
}

export interface JobCounter {
  byState(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const COUNT_SQL = 'select state, count(*) as n from jobs group by state';

/** A read-only connection beside the worker: WAL lets it read while the worker writes. */
export function sqliteCounter(dataDir: string): JobCounter {
  const conn = new SqliteDatabase(path.join(dataDir, 'hangar.db'), { readonly: true, fileMustExist: true });
  const stmt = conn.prepare<[], { state: string; n: number }>(COUNT_SQL);
  return {
    byState: () => Promise.resolve(Object.fromEntries(stmt.all().map((r) => [r.state, Number(r.n)]))),
    close: () => Promise.resolve(void conn.close()),
  };
}

export async function postgresCounter(url: string): Promise<JobCounter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async byState() {
      const res = await client.query<{ state: string; n: string }>(COUNT_SQL);
      return Object.fromEntries(res.rows.map((r) => [r.state, Number(r.n)]));
    },
    close: () => client.end(),
  };
}

/** A fresh database on the PostgreSQL server of `adminUrl`, so every case starts from an empty queue. */
export async function createPgDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
