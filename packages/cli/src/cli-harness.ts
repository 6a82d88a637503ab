// What the end-to-end tests of the CLI share: running the built `hangar` binary, starting a real
// server through it, and temporary folders. Test code only; nothing else imports this module.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type ServerProcess } from '@hangar/server/testing';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const BIN = path.join(ROOT, 'packages/cli/dist/bin.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tmpDirs: string[] = [];

/** A fresh temporary folder, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

/** Removes every folder {@link tempDir} made. */
export function removeTempDirs(): void {
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The environment without anything from the developer's own shell that would change the CLI's choices. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('HANGAR_')) delete env[k];
  return { ...env, ...extra };
}

/** Runs the built CLI with its own config dir; resolves when it exits. */
export function hangar(
  args: string[],
  opts: { configDir: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv({ HANGAR_CONFIG_DIR: opts.configDir, ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`hangar ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/** `hangar server` through the CLI's own binary, on a free port with a fresh data dir. */
export function startCliServer(
  admin: { password: string; token: string },
  extraArgs: string[] = [],
): Promise<ServerProcess> {
  return startServer(['--data-dir', tempDir('hangar-cli-data-'), ...extraArgs], {
    entry: [BIN, 'server'],
    env: cleanEnv({ HANGAR_ADMIN_PASSWORD: admin.password, HANGAR_ADMIN_TOKEN: admin.token }),
  });
}

/**
 * These tests run the built binary; a build older than its sources would test yesterday's code,
 * so say so instead (building here would couple the suites to every package's type errors).
 */
export function assertFreshBuild(): void {
  for (const pkg of ['cli', 'sdk']) {
    const src = path.join(ROOT, 'packages', pkg, 'src');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? walk(path.join(dir, e.name))
          : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
            ? [path.join(dir, e.name)]
            : [],
      );
    for (const file of walk(src)) {
      const built = path.join(ROOT, 'packages', pkg, 'dist', path.relative(src, file).replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs) {
        assert.fail(`${path.relative(ROOT, built)} is missing or older than its source; run: npx tsc -b packages/cli`);
      }
    }
  }
}

export function assertNoStack(r: Result): void {
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}
