import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Engine } from '../db/dialect.js';

/**
 * The PostgreSQL server tests run against. `npm test` always provides one (scripts/with-postgres.mjs
 * starts an ephemeral server), so a missing URL is a setup error, never a reason to skip.
 */
export function testPgUrl(): string {
  const url = process.env.HANGAR_TEST_PG_URL;
  if (!url) throw new Error('HANGAR_TEST_PG_URL is not set: run tests with `npm test`, which starts PostgreSQL');
  return url;
}

export interface TestStore {
  engine: Engine;
  /** Store URL for buildApp / openDatabase. */
  url: string;
  /** A scratch directory for data dirs and artifacts. */
  dir: string;
  cleanup(): Promise<void>;
}

/** A fresh, empty store of the given engine: a new SQLite file or a new PostgreSQL database. */
export async function createTestStore(engine: Engine): Promise<TestStore> {
  const dir = mkdtempSync(path.join(tmpdir(), `hangar-${engine}-`));
  if (engine === 'sqlite') {
    return {
      engine,
      url: `sqlite:${path.join(dir, 'hangar.db')}`,
      dir,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const admin = new pg.Client({ connectionString: testPgUrl() });
  await admin.connect();
  const name = `t_${path
    .basename(dir)
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(testPgUrl());
  url.pathname = `/${name}`;
  return {
    engine,
    url: url.toString(),
    dir,
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: testPgUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export const ENGINES: Engine[] = ['sqlite', 'postgres'];
