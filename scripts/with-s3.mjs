#!/usr/bin/env node
// Runs a command with HANGAR_TEST_S3_URL (an s3:// URI with ?endpoint=) and
// HANGAR_TEST_S3_ACCESS_KEY_ID / HANGAR_TEST_S3_SECRET_ACCESS_KEY pointing at an S3-compatible server:
// the given one, or an ephemeral local versitygw started for the command (built with `go install`
// and cached when missing, see scripts/services/s3.sh) and removed after.
// Usage: node scripts/with-s3.mjs <command> [args...]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const s3Script = path.resolve(import.meta.dirname, 'services/s3.sh');
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: with-s3.mjs <command> [args...]');
  process.exit(2);
}
const env = { ...process.env };
let dir = null;
if (!env.HANGAR_TEST_S3_URL) {
  dir = mkdtempSync(path.join(tmpdir(), 'hangar-s3-'));
  try {
    const out = execFileSync('bash', [s3Script, 'start', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for (const line of out.split('\n')) {
      const m = /^(HANGAR_TEST_S3_\w+)='([^']*)'$/.exec(line.trim());
      if (m) env[m[1]] = m[2];
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  if (!env.HANGAR_TEST_S3_URL) {
    console.error('with-s3.mjs: s3.sh start printed no HANGAR_TEST_S3_URL');
    process.exit(1);
  }
}
let status = 1;
try {
  status = spawnSync(cmd, args, { stdio: 'inherit', env }).status ?? 1;
} finally {
  if (dir) {
    spawnSync('bash', [s3Script, 'stop', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(status);
