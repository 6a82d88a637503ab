#!/usr/bin/env node
// Runs a command with HANGAR_TEST_PG_URL pointing at a PostgreSQL server: the given one, or an
// ephemeral local one started for the command (installed with apt if missing) and removed after.
// Usage: node scripts/with-postgres.mjs <command> [args...]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const pgScript = path.resolve(import.meta.dirname, 'services/postgres.sh');
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: with-postgres.mjs <command> [args...]');
  process.exit(2);
}
const env = { ...process.env };
let dir = null;
if (!env.HANGAR_TEST_PG_URL) {
  dir = mkdtempSync(path.join(tmpdir(), 'hangar-pg-'));
  env.HANGAR_TEST_PG_URL = execFileSync('bash', [pgScript, 'start', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
let status = 1;
try {
  status = spawnSync(cmd, args, { stdio: 'inherit', env }).status ?? 1;
} finally {
  if (dir) {
    spawnSync('bash', [pgScript, 'stop', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(status);
