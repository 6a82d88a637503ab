// Shared by the migration tests: rows inserted with foreign keys unchecked, so a test of one table
// need not build everything that table references.
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

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
