import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import Fastify from 'fastify';
import { keepNextTickShapeAlive } from '../../packages/server/src/core/next-tick-shape.js';

/*
 * The baseline for http-overhead.ts: the framework Hangar is built on, with nothing of Hangar (no
 * hooks, auth, schemas or logging). It runs as its own process, like Hangar, and prints its URL on
 * stdout once it is listening.
 *   /healthz, /api/v1/me: static JSON. /api/v1/me answers with the same shape and size as Hangar's.
 *   /sql/me: the same answer, read by one lookup from a SQLite file set up as Hangar sets up its
 *            store (WAL) with the statement prepared once. This is the floor for an endpoint that
 *            does one SQL query per request.
 */

// The same workaround Hangar's server applies at start (see next-tick-shape.ts), so that the baseline
// never runs into the Node 20 nextTick slow path that Hangar is protected from.
keepNextTickShapeAlive();

const ME = {
  id: '06h0f3y9x3x3xjyx5ttpahfqbc',
  username: 'admin',
  displayName: 'Administrator',
  email: null,
  isAdmin: true,
  disabled: false,
  createdAt: '2026-11-23T11:19:19.092Z',
  tokenId: '06h0f3yafe9qpsvf67e01ttz00',
  projectId: null,
};

const dir = mkdtempSync(path.join(tmpdir(), 'hangar-bench-bare-'));
const db = new SqliteDatabase(path.join(dir, 'bare.db'));
db.pragma('journal_mode = WAL');
db.exec(
  'create table users (id text primary key, username text not null unique, display_name text not null, email text, is_admin integer not null)',
);
db.prepare('insert into users values (?, ?, ?, ?, ?)').run(ME.id, ME.username, ME.displayName, ME.email, 1);
const byId = db.prepare<
  [string],
  { id: string; username: string; display_name: string; email: string | null; is_admin: number }
>('select * from users where id = ?');

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/api/v1/me', async () => ME);
app.get('/sql/me', async () => {
  const u = byId.get(ME.id)!;
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    email: u.email,
    isAdmin: u.is_admin === 1,
    disabled: false,
    createdAt: ME.createdAt,
    tokenId: ME.tokenId,
    projectId: null,
  };
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bare fastify listening at ${address}/\n`);
process.once(
  'SIGTERM',
  () =>
    void app.close().then(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }),
);
