import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { UnavailableError } from '../core/errors.js';
import type { Engine } from './dialect.js';
import { migrationsFor } from './migrations/index.js';
import type { DB } from './schema.js';

export interface DatabaseOptions {
  /** `sqlite:/path/file.db`, `sqlite::memory:` or `postgres://...` */
  url: string;
  sqliteSynchronous?: 'full' | 'normal';
  /** Upper bound for connecting to PostgreSQL before failing with a clear error. */
  connectTimeoutMs?: number;
  poolSize?: number;
  /** PostgreSQL aborts any statement running longer than this, so no request waits forever. */
  statementTimeoutMs?: number;
}

/** An open store: the Kysely handle plus the engine it talks to. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  /** Where the store lives, with any password removed; for messages. */
  readonly description: string;
  ping(): Promise<void>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when another live process already owns a SQLite data file. */
export class StoreLockedError extends Error {
  constructor(file: string, pid: string | undefined) {
    super(
      `the SQLite store ${file} is in use by another Hangar server${pid ? ` (pid ${pid})` : ''}; ` +
        'stop it, or give this one another --data-dir (several servers need PostgreSQL: --db postgres://...)',
    );
    this.name = 'StoreLockedError';
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Holds an exclusive lock on `<file>.lock` for the life of the process. The lock is SQLite's own
 * file lock, so the kernel releases it when the holder dies (even by kill -9): no stale pid files.
 */
function lockSqliteFile(file: string): () => void {
  const lockPath = `${file}.lock`;
  const pidPath = `${file}.pid`;
  const lock = new SqliteDatabase(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = exclusive');
    lock.exec('begin exclusive');
  } catch {
    lock.close();
    let pid: string | undefined;
    try {
      pid = readFileSync(pidPath, 'utf8').trim();
    } catch {
      pid = undefined;
    }
    throw new StoreLockedError(file, pid);
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return () => {
    lock.close();
    rmSync(pidPath, { force: true });
  };
}

/**
 * Kysely's SQLite driver calls `prepare()` for every query, and preparing costs more than running a
 * typical point query. Statements are reusable, so keep the most recently used ones (bounded LRU).
 * Safe because we never stream (iterate) a statement: a cached statement is always run to the end.
 */
function withStatementCache(raw: SqliteDatabase.Database, max = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(sqlText: string) {
      // Kysely opens transactions with a deferred BEGIN. A second connection writes to this file
      // (the prediction log's worker thread), and a deferred transaction that read before that
      // commit cannot then write (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out).
      // IMMEDIATE takes the write lock up front, waiting for the other writer instead.
      if (sqlText === 'begin') sqlText = 'begin immediate';
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = raw.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

function openSqlite(url: string, synchronous: 'full' | 'normal'): Database {
  const file = url.slice('sqlite:'.length);
  const memory = file === ':memory:' || file === '';
  let unlock = () => {};
  if (!memory) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    unlock = lockSqliteFile(path.resolve(file));
  }
  const raw = new SqliteDatabase(memory ? ':memory:' : file);
  // WAL lets readers proceed during writes. synchronous=FULL fsyncs the WAL on every commit, so an
  // acknowledged write survives power loss, not only a process crash (docs/adr/0002-store.md).
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return makeDatabase(db, 'sqlite', memory ? 'sqlite (in memory)' : `sqlite:${path.resolve(file)}`, async () => {
    await db.destroy();
    unlock();
  });
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  // Loaded here, not at the top: a server on the embedded SQLite store does not pay the driver's memory.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs,
    // Epoch-millisecond BIGINTs fit in a double; parse them as numbers on this pool only.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its server must not crash the process; queries on it report the error.
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const database = makeDatabase(db, 'postgres', redact(url), () => db.destroy());
  try {
    await database.ping();
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

function makeDatabase(db: Kysely<DB>, engine: Engine, description: string, close: () => Promise<void>): Database {
  let closed = false;
  return {
    db,
    engine,
    description,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        throw new UnavailableError(`cannot reach the store ${description}: ${(err as Error).message}`);
      }
    },
    async migrate() {
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve(migrationsFor(engine)) },
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        throw new Error(`migration ${failed ?? ''} failed on ${description}: ${(error as Error).message}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

/**
 * Opens the store named by `options.url`. SQLite files are locked to this process; PostgreSQL is
 * pinged with a bounded timeout, so an unreachable server fails fast with a clear message.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url.startsWith('sqlite:')) return openSqlite(options.url, options.sqliteSynchronous ?? 'full');
  if (/^postgres(ql)?:\/\//.test(options.url)) return openPostgres(options.url, options);
  throw new Error(`unsupported store URL ${redact(options.url)}: use sqlite:<file> or postgres://...`);
}
