import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from './test-app.js';

const BIN = path.resolve(import.meta.dirname, '../bin.ts');

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Starts `hangar server` from source in a child process and waits for its ready banner. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, HANGAR_ADMIN_TOKEN: ADMIN_TOKEN, HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 20 s:\n${err}`)), 20_000);
    const check = () => {
      const m = /ready at (http:\/\/[^/\s]+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready:\n${err}`));
    });
  });
  return { proc, url, stderr: () => err, exited };
}

/** Runs `hangar server` expecting it to fail at startup; returns its exit code, stderr and duration. */
export async function runServerExpectingFailure(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, stderr, ms: Date.now() - started };
}
