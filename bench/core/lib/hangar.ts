import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer, type Child } from './children.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const HANGAR_BIN = path.join(REPO_ROOT, 'packages/server/dist/bin.js');

let built = false;

/**
 * Builds packages/server so the benchmark measures the current source (tsc -b is incremental). A type
 * error elsewhere in the package (say, in a test being written) still leaves a runnable dist: then the
 * benchmark says so and goes on with it, rather than measuring nothing.
 */
export function buildServer(): void {
  if (built) return; // once per process: run-all calls it for every benchmark
  built = true;
  process.stdout.write('building packages/server (tsc -b) ...\n');
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/server'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  } catch (err) {
    if (!existsSync(HANGAR_BIN)) throw err;
    const at = statSync(HANGAR_BIN).mtime.toISOString();
    process.stdout.write(`WARNING: tsc -b reported errors (above); measuring the dist as it is (bin.js built ${at})\n`);
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `hangar-bench-${prefix}-`));
}

export interface HangarOptions {
  name?: string;
  dataDir: string;
  /** 0 (the default) lets the kernel pick a free port; the URL is read from the ready banner. */
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  cpus?: string;
  /** Flags for node itself, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/** Spawns `node packages/server/dist/bin.js` exactly as an operator would; does not wait. */
export function spawnHangar(options: HangarOptions): Child {
  const args = [
    ...(options.nodeArgs ?? []),
    HANGAR_BIN,
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    options.dataDir,
    '--log-level',
    'warn',
    ...(options.args ?? []),
  ];
  // Only the variables we set: a stray HANGAR_* in the caller's shell must not change what is measured.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  return spawnServer(options.name ?? 'hangar', process.execPath, args, { cwd: REPO_ROOT, env, cpus: options.cpus });
}

/** Resolves with the base URL once the server has printed its ready banner (listening, roles started). */
export async function waitForBanner(child: Child, timeoutMs = 30_000): Promise<string> {
  const m = await child.waitFor(/ready at (http:\/\/127\.0\.0\.1:\d+)\//, timeoutMs);
  return m[1]!;
}

export async function startHangar(options: HangarOptions): Promise<{ child: Child; url: string }> {
  const child = spawnHangar(options);
  return { child, url: await waitForBanner(child) };
}
