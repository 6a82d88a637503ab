#!/usr/bin/env node
// Runs the TypeScript test suites with node's test runner (through with-postgres.mjs and
// with-s3.mjs, so store tests can run on SQLite and PostgreSQL, and artifact tests on a local folder
// and a real S3-compatible server). Usage: npm test [-- files...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.length
  ? args
  : [...findTests(path.join(root, 'packages')), ...findTests(path.join(root, 'scripts'))].sort();
const res = spawnSync(
  process.execPath,
  [
    path.join(root, 'scripts/with-postgres.mjs'),
    process.execPath,
    path.join(root, 'scripts/with-s3.mjs'),
    process.execPath,
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(res.status ?? 1);
