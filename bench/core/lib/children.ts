import { spawn, type ChildProcess } from 'node:child_process';
import { groupMembers } from './proc.js';

/*
 * Every server a benchmark starts goes through here, so all of them are stopped at the end, on an
 * error, and on Ctrl-C. Each is spawned detached, i.e. as the leader of its own process group: MLflow
 * forks uvicorn and job-consumer processes, and signalling the group reaches all of them.
 */

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** The last 64 KiB of stdout + stderr, for error messages. */
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first or time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const live = new Set<Child>();
const MAX_OUTPUT = 64 * 1024;

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** taskset CPU list to run the server on, e.g. "1"; omitted = any CPU. */
  cpus?: string;
}

export function spawnServer(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const [cmd, argv] = options.cpus ? ['taskset', ['-c', options.cpus, command, ...args]] : [command, args];
  const proc = spawn(cmd, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  let text = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-MAX_OUTPUT);
    for (const w of watchers) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    output: () => text,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        const check = () => {
          const m = re.exec(text);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${re} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        watchers.add(check);
        void exited.then((code) => {
          if (!watchers.has(check)) return;
          done();
          reject(new Error(`${name} exited (code ${code}) before printing ${re}; output:\n${text}`));
        });
        check();
      });
    },
  };
  live.add(child);
  return child;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** SIGTERM to the whole group (graceful shutdown), SIGKILL to whatever is left after `graceMs`. */
export async function stopServer(child: Child, graceMs = 10_000): Promise<void> {
  signalGroup(child.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(child.pid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (groupMembers(child.pid).length > 0) signalGroup(child.pid, 'SIGKILL');
  live.delete(child);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopServer(c)));
}

// Last resort when a benchmark dies or is interrupted: no server may outlive it.
function killAllNow(): void {
  for (const c of live) signalGroup(c.pid, 'SIGKILL');
  live.clear();
}
process.once('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllNow();
    process.exit(130);
  });
}
