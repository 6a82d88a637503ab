// Shared by the migration tests: a fresh database per engine with a migrator that can stop at any
// migration, and rows inserted with foreign keys unchecked, so a test of one table need not build
// everything that table references.
import { after, describe, test } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { createTestStore, ENGINES } from './engines.js';
import { openDatabase } from '../db/database.js';
import type { Engine } from '../db/dialect.js';
import { migrationsFor } from '../db/migrations/index.js';

/** One test per engine, each on a fresh, unmigrated database it closes afterwards. */
export function migrationTest(
  migration: string,
  title: string,
  body: (db: Kysely<unknown>, migrator: Migrator, engine: Engine) => Promise<void>,
): void {
  for (const engine of ENGINES) {
    describe(`migration ${migration} on ${engine}`, () => {
      const cleanups: (() => Promise<void>)[] = [];
      after(async () => {
        for (const c of cleanups.reverse()) await c();
      });
      test(title, async () => {
        const store = await createTestStore(engine);
        cleanups.push(() => store.cleanup());
        const database = await openDatabase({ url: store.url });
        cleanups.push(() => database.close());
        const db = database.db as unknown as Kysely<unknown>;
        const migrations = migrationsFor(engine);
        await body(db, new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } }), engine);
      });
    });
  }
}

/** Runs `insert` on one connection with foreign keys unchecked, after a deployment 'd1' to log under. */
export async function withDeployment(
  db: Kysely<unknown>,
  engine: Engine,
  insert: (c: Kysely<unknown>) => Promise<void>,
): Promise<void> {
  await db.connection().execute(async (c) => {
    await sql
      .raw(engine === 'sqlite' ? 'pragma foreign_keys = off' : 'set session_replication_role = replica')
      .execute(c);
    await sql`insert into deployments (id, name, project_id, model_id, environment, runtime, traffic, stable_version, status, revision, created_by, created_at, updated_at)
      values ('d1', 'dep', 'p1', 'm1', 'production', 'onnx', '[]', 1, 'ready', 1, 'u', 0, 0)`.execute(c);
    await insert(c);
    await sql
      .raw(engine === 'sqlite' ? 'pragma foreign_keys = on' : 'set session_replication_role = origin')
      .execute(c);
  });
}
