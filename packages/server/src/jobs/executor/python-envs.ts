import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readProcessStartTime } from './process-tree-monitor.js';
import type { OutputSink } from './types.js';

/** A ready virtualenv. */
export interface PythonEnv {
  /** Content hash of the normalised requirements and the base interpreter. */
  key: string;
  /** The venv directory (`<root>/<key>`). */
  dir: string;
  /** `<dir>/bin/python`. */
  python: string;
  /** False only for the call that actually built the env. */
  reused: boolean;
}

/** Anything that can hand out a ready virtualenv; `PythonEnvManager` is the real one. */
export interface PythonEnvProvider {
  ensure(requirements: string[], onOutput?: OutputSink): Promise<PythonEnv>;
}

export interface PythonEnvManagerOptions {
  /** Directory holding one sub-directory per env plus `<key>.lock` directories. */
  root: string;
  /** Base interpreter used for `-m venv`; resolved through the build env's PATH. */
  python?: string;
  /** Kill `pip install` (whole process group) after this long. Default 15 minutes. */
  pipTimeoutMs?: number;
  /**
   * Environment for the interpreter probe, venv creation and pip. Default: PATH, HOME, LANG,
   * TMPDIR plus pip's own configuration (`PIP_*`, proxy and CA-bundle variables) from the
   * server's environment — pip needs those to reach the index; nothing else is passed on.
   */
  env?: Record<string, string>;
  /** How often a caller waiting for another builder checks for the ready marker. Default 250. */
  pollIntervalMs?: number;
  /** A lock directory with no readable owner file older than this is stale. Default 30 s. */
  ownerlessLockStaleMs?: number;
}

const MARKER = '.hangar-ready';
const OWNER_FILE = 'owner.json';
const TAIL_BYTES = 4000;
const execFileAsync = promisify(execFile);

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  startTime: number | null;
  since: string;
}

/**
 * Validates and canonicalises pip requirement lines: trims them, drops blank lines and comments
 * (whole-line `#` and pip's inline ` #`), sorts and deduplicates, so that equal sets in any order
 * produce the same list. Throws an Error naming the offending line for anything that would let a
 * job author steer pip beyond "install this package": lines containing a line break or NUL,
 * lines starting with `-` (pip options such as `--index-url`, `-e`, `-r`), lines ending in `\`
 * (pip joins them with the next line, which after sorting is arbitrary), and lines containing
 * `${` (pip expands environment variables in requirement files, which could leak the build
 * env's index credentials into a URL). URL and path requirements (`pkg @ https://…`) are allowed.
 */
export function normalizeRequirements(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of lines) {
    if (typeof raw !== 'string') throw new Error(`requirement lines must be strings, got ${typeof raw}`);
    const bad = (why: string): Error => new Error(`invalid requirement line ${JSON.stringify(raw)}: ${why}`);
    if (/[\r\n\0]/.test(raw)) throw bad('contains a line break or NUL');
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('-')) throw bad('pip options are not allowed');
    if (line.endsWith('\\')) throw bad('line continuations are not allowed');
    if (line.includes('${')) throw bad('environment variable references are not allowed');
    out.add(line);
  }
  return [...out].sort();
}

function defaultBuildEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  const passThrough =
    /^(HOME|TMPDIR|PIP_\w+|(HTTPS?|NO|ALL)_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|XDG_(CONFIG|CACHE)_HOME)$/i;
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && passThrough.test(name)) env[name] = value;
  }
  return env;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ToolResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  tail: string;
}

/**
 * Runs a build tool in its own process group, forwarding output and keeping a short tail for
 * error messages. Rejects only when the program could not be started.
 */
function runTool(
  argv: [string, ...string[]],
  env: Record<string, string>,
  timeoutMs: number | undefined,
  onOutput: OutputSink | undefined,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let timedOut = false;
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-TAIL_BYTES);
      try {
        onOutput?.(stream, text);
      } catch {
        // A broken log consumer must not break the build.
      }
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    let escalate: NodeJS.Timeout | undefined;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup('SIGTERM');
            escalate = setTimeout(() => killGroup('SIGKILL'), 2000);
          }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      clearTimeout(escalate);
      reject(new Error(`could not start ${argv[0]}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(escalate);
      // pip may leave build helpers behind in its group; they belong to this build only.
      killGroup('SIGKILL');
      resolve({ code, signal, timedOut, tail });
    });
  });
}

function describeFailure(what: string, result: ToolResult, timeoutMs: number | undefined): string {
  const how = result.timedOut
    ? `timed out after ${timeoutMs} ms`
    : result.signal
      ? `was killed by ${result.signal}`
      : `exited with code ${result.code}`;
  return `${what} ${how}; last output:\n${result.tail.trimEnd()}`;
}

/**
 * Builds and caches Python virtualenvs keyed by their requirement set, safely shared by any
 * number of processes using the same `root` on one host. `ensure(requirements)` normalises the
 * lines (see {@link normalizeRequirements}; invalid lines reject), derives the key as the first
 * 32 hex digits of sha256 over the lines and the base interpreter's `sys.version` and
 * `sys.executable` (probed once per manager), and returns the ready env: immediately when
 * `<root>/<key>/.hangar-ready` exists, otherwise after building it under an exclusive
 * `<root>/<key>.lock` directory (`python -m venv`, then `pip install -r` unless the set is
 * empty) or after waiting for whoever holds that lock. Exactly one caller builds; it gets
 * `reused: false`. A lock whose owner process is dead (same host; pid plus start time, so pid
 * reuse is detected) is taken over. A failed build removes the partial env and the lock and
 * rejects with an Error carrying the tail of the tool's output; callers waiting on it then try
 * the build themselves. Builder output goes to `onOutput` (pip's streams as 'stdout'/'stderr',
 * the manager's notes as 'system').
 */
export class PythonEnvManager implements PythonEnvProvider {
  readonly root: string;
  readonly #python: string;
  readonly #pipTimeoutMs: number;
  readonly #env: Record<string, string>;
  readonly #pollIntervalMs: number;
  readonly #ownerlessLockStaleMs: number;
  #base: Promise<{ version: string; executable: string }> | null = null;

  constructor(options: PythonEnvManagerOptions) {
    this.root = options.root;
    this.#python = options.python ?? 'python3';
    this.#pipTimeoutMs = options.pipTimeoutMs ?? 15 * 60_000;
    this.#env = options.env ?? defaultBuildEnv();
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    this.#ownerlessLockStaleMs = options.ownerlessLockStaleMs ?? 30_000;
  }

  /**
   * The key `ensure` would use for these requirements, without building anything. Rejects for
   * invalid lines or when the base interpreter cannot be probed.
   */
  async keyFor(requirements: readonly string[]): Promise<string> {
    const lines = normalizeRequirements(requirements);
    const base = await this.#baseInterpreter();
    return createHash('sha256')
      .update(JSON.stringify({ python: base.version, executable: base.executable, requirements: lines }))
      .digest('hex')
      .slice(0, 32);
  }

  /** See the class documentation. */
  async ensure(requirements: string[], onOutput?: OutputSink): Promise<PythonEnv> {
    const lines = normalizeRequirements(requirements);
    const key = await this.keyFor(lines);
    const dir = join(this.root, key);
    const lock = join(this.root, `${key}.lock`);
    const marker = join(dir, MARKER);
    const env = (reused: boolean): PythonEnv => ({ key, dir, python: join(dir, 'bin', 'python'), reused });
    const note = (text: string): void => {
      try {
        onOutput?.('system', `[hangar] ${text}\n`);
      } catch {
        // Logging only.
      }
    };
    await mkdir(this.root, { recursive: true });
    let announcedWait = false;
    for (;;) {
      if (await exists(marker)) return env(true);
      const token = randomUUID();
      if (await this.#tryLock(lock, token)) {
        try {
          // The previous holder may have finished between our marker check and mkdir.
          if (await exists(marker)) return env(true);
          await this.#build(dir, lines, onOutput, note);
          return env(false);
        } finally {
          await this.#unlock(lock, token);
        }
      }
      const owner = await this.#readOwner(lock);
      if (await this.#isStale(lock, owner)) {
        note(`taking over stale lock of python env ${key} (owner ${owner ? `pid ${owner.pid}` : 'unknown'})`);
        await this.#breakLock(lock);
        continue;
      }
      if (!announcedWait && owner) {
        note(`waiting for python env ${key} being built by pid ${owner.pid}`);
        announcedWait = true;
      }
      await sleep(this.#pollIntervalMs);
    }
  }

  #baseInterpreter(): Promise<{ version: string; executable: string }> {
    this.#base ??= (async () => {
      let stdout: string;
      try {
        ({ stdout } = await execFileAsync(this.#python, ['-c', 'import sys;print(sys.version);print(sys.executable)'], {
          env: this.#env,
          timeout: 30_000,
        }));
      } catch (error) {
        throw new Error(`probing base interpreter ${this.#python} failed: ${(error as Error).message}`);
      }
      const [version, executable] = stdout.split('\n');
      if (!version || !executable) throw new Error(`unexpected output probing ${this.#python}: ${stdout}`);
      return { version: version.trim(), executable: executable.trim() };
    })();
    // A failed probe (e.g. python3 briefly missing) must not poison the manager forever.
    this.#base.catch(() => {
      this.#base = null;
    });
    return this.#base;
  }

  async #build(
    dir: string,
    lines: string[],
    onOutput: OutputSink | undefined,
    note: (text: string) => void,
  ): Promise<void> {
    note(`creating python env ${dir} (${lines.length} requirement${lines.length === 1 ? '' : 's'})`);
    // Leftovers of a builder that crashed: venv would happily build on top of them.
    await rm(dir, { recursive: true, force: true });
    try {
      const venv = await runTool([this.#python, '-m', 'venv', dir], this.#env, 5 * 60_000, onOutput);
      if (venv.code !== 0) throw new Error(describeFailure(`python -m venv ${dir}`, venv, 5 * 60_000));
      if (lines.length > 0) {
        const file = join(dir, '.hangar-requirements.txt');
        await writeFile(file, `${lines.join('\n')}\n`);
        const pip = await runTool(
          [join(dir, 'bin', 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', file],
          this.#env,
          this.#pipTimeoutMs,
          onOutput,
        );
        if (pip.code !== 0) throw new Error(describeFailure('pip install', pip, this.#pipTimeoutMs));
      }
      // Write-then-rename so a waiter never reads a half-written marker.
      const tmp = join(dir, `${MARKER}.${process.pid}.tmp`);
      await writeFile(
        tmp,
        `${JSON.stringify({ requirements: lines, createdAt: new Date().toISOString(), builderPid: process.pid })}\n`,
      );
      await rename(tmp, join(dir, MARKER));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async #tryLock(lock: string, token: string): Promise<boolean> {
    try {
      await mkdir(lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      token,
      startTime: await readProcessStartTime(process.pid),
      since: new Date().toISOString(),
    };
    await writeFile(join(lock, OWNER_FILE), JSON.stringify(owner));
    return true;
  }

  async #unlock(lock: string, token: string): Promise<void> {
    // Only remove the lock if it is still ours; if it was (wrongly) taken over, leave it.
    if ((await this.#readOwner(lock))?.token === token) await rm(lock, { recursive: true, force: true });
  }

  async #readOwner(lock: string): Promise<LockOwner | null> {
    try {
      const owner = JSON.parse(await readFile(join(lock, OWNER_FILE), 'utf8')) as LockOwner;
      return typeof owner.pid === 'number' && typeof owner.token === 'string' ? owner : null;
    } catch {
      return null;
    }
  }

  async #isStale(lock: string, owner: LockOwner | null): Promise<boolean> {
    if (!owner) {
      // Either the owner is between mkdir and writing owner.json, or it died right there.
      try {
        return Date.now() - (await stat(lock)).mtimeMs > this.#ownerlessLockStaleMs;
      } catch {
        return false; // Lock vanished: the next loop iteration will see it.
      }
    }
    if (owner.host !== hostname()) return false; // Cannot check another host's pids.
    try {
      process.kill(owner.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
    const startTime = await readProcessStartTime(owner.pid);
    return owner.startTime !== null && startTime !== null && startTime !== owner.startTime;
  }

  async #breakLock(lock: string): Promise<void> {
    // rename is atomic, so of several waiters that all saw the stale lock exactly one moves it.
    const aside = `${lock}.stale-${randomUUID()}`;
    try {
      await rename(lock, aside);
    } catch {
      return; // Someone else broke it first.
    }
    // Between our staleness check and the rename another waiter may have broken the stale lock
    // and taken a fresh one, which we just moved; hand it back if so.
    if (!(await this.#isStale(aside, await this.#readOwner(aside)))) {
      try {
        await rename(aside, lock);
        return;
      } catch {
        // A third party already holds a new lock; the moved one's owner will find its lock
        // gone, and #unlock's token check keeps it from deleting the other's.
      }
    }
    await rm(aside, { recursive: true, force: true });
  }
}
