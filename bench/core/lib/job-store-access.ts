import { randomBytes } from 'node:crypto';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { buildApp } from '../../../packages/server/src/app.js';
import { loadConfig } from '../../../packages/server/src/config/config.js';
import { systemClock } from '../../../packages/server/src/core/clock.js';
import { JobStore } from '../../../packages/server/src/jobs/job-store.js';

/*
 * Direct access to a Hangar store for the job-queue benchmark: seeding jobs and counting them by
 * state. Seeding bypasses the HTTP API on purpose, so the measurement is the workers' alone.
 */

/**
 * Opens the store the way the server does (migrations, first admin), enqueues `n` no-op jobs in one
 * transaction through the queue's own JobStore, and closes it again, releasing the SQLite lock for the
 * worker process.
 */
export async function seedNoopJobs(dataDir: string, db: string | undefined, n: number): Promise<void> {
  const argv = ['--data-dir', dataDir, '--role', 'api', '--log-level', 'warn', ...(db ? ['--db', db] : [])];
  const app = await buildApp(loadConfig({ argv, env: {} }));
  try {
    const jobs = new JobStore(app.database.db, app.database.engine, systemClock);
    await jobs.enqueueMany(Array.from({ length: n }, () => ({ kind: 'system.noop', payload: {} })));
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
