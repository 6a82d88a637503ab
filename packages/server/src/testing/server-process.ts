import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from './test-app.js';

// From source (tests run through tsx) start the server's source; from dist, the built entry.
const FROM_SOURCE = import.meta.filename.endsWith('.ts');
const DEFAULT_ENTRY = FROM_SOURCE
  ? ['--import', 'tsx', path.resolve(import.meta.dirname, '../bin.ts')]
  : [path.resolve(import.meta.dirname, '../bin.js')];

export interface StartServerOptions {
  /** Node arguments that run the server (default: the server's own entry); e.g. the CLI's bin plus `server`. */
  entry?: string[];
  /** The complete environment (default: this process's, plus the test admin's password and token). */
  env?: NodeJS.ProcessEnv;
}

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  /** The end of its stdout: the structured log, at warn level and above. */
  logs: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | string>;
}

function spawnServer(args: string[], options: StartServerOptions) {
  const proc = spawn(
    process.execPath,
    [...(options.entry ?? DEFAULT_ENTRY), '--port', '0', '--log-level', 'warn', ...args],
    {
      env: options.env ?? { ...process.env, HANGAR_ADMIN_TOKEN: ADMIN_TOKEN, HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let logs = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (logs = (logs + d).slice(-MAX_LOG_CHARS)));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { proc, exited, stderr: () => stderr, logs: () => logs };
}

const MAX_LOG_CHARS = 64 * 1024;

/**
 * Starts `hangar server` on a free loopback port in a child process and resolves once its ready
 * banner names the URL. Callers pass `--data-dir` (and `--db`) and must `stop()` it.
 */
export async function startServer(args: string[], options: StartServerOptions = {}): Promise<ServerProcess> {
  const { proc, exited, stderr, logs } = spawnServer(args, options);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 30 s:\n${stderr()}`)), 30_000);
    const check = () => {
      const m = /ready at (https?:\/\/[^/\s]+)\//.exec(stderr());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready:\n${stderr()}`));
    });
  });
  return {
    proc,
    url,
    stderr,
    logs,
    exited,
    stop: () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `hangar server` expecting it to fail at startup; returns its exit code, stderr and duration. */
export async function runServerExpectingFailure(args: string[], options: StartServerOptions = {}) {
  const started = Date.now();
  const { proc, exited, stderr } = spawnServer(args, { env: process.env, ...options });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(killer);
  return { code, stderr: stderr(), ms: Date.now() - started };
}

/** A loopback port nothing listens on (bound, then released): for "server unreachable" tests. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
