import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { constants as osConstants, homedir, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { OutputLimiter } from './output-limiter.js';
import { ProcessTreeMonitor } from './process-tree-monitor.js';
import type { PythonEnvProvider } from './python-envs.js';
import type { ExecResult, ExecRunOptions, Executor, ProcessSpec, ResourceUsage } from './types.js';

export interface LocalProcessExecutorOptions {
  /** Parent of the per-run work directories; created on demand. */
  workRoot: string;
  /** Builds the virtualenvs for specs with `python`; without it such specs reject. */
  pythonEnvs?: PythonEnvProvider;
  /** Cap on stdout+stderr bytes forwarded per run. Default 1 MiB. */
  maxLogBytes?: number;
  /** Time between SIGTERM and SIGKILL when killing a tree. Default 2000. */
  killGraceMs?: number;
  /** /proc sampling period for RSS and CPU. Default 200. */
  sampleIntervalMs?: number;
  /**
   * The base environment every run starts from. Default: PATH, HOME, LANG and TMPDIR taken from
   * the server's environment (with fallbacks), and nothing else.
   */
  baseEnv?: Record<string, string>;
}

/**
 * The wrapper makes `sh` the session leader and the waiting parent of the command, so the
 * `times` builtin can report the CPU of everything sh reaped (the command plus every descendant
 * the command itself waited for). fd 3 carries that report back and is closed for the command
 * so it cannot write into it or keep it open.
 *
 * fd 4 is a pipe the server never writes to: a watchdog subshell blocks reading it and gets EOF
 * only when the server process is gone (even after kill -9), then kills the whole process group.
 * Without it a dead worker's job trees would run on as orphans while the job is retried elsewhere.
 */
const WRAPPER =
  '( read -r _ <&4; kill -KILL 0 ) 3>&- & w=$!; exec 4<&-; ' +
  '"$@" 3>&-; rc=$?; kill $w 2>/dev/null; wait $w 2>/dev/null; times >&3; exit $rc';

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, number]) => [number, name]),
);

/** How long to wait for stdout/stderr to reach EOF once the tree is gone. */
const STREAM_DRAIN_MS = 1000;

function defaultBaseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? homedir(),
    LANG: process.env.LANG ?? 'C.UTF-8',
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
  };
}

/**
 * Parses the output of the POSIX `times` builtin (dash: `0m1.230000s 0m0.010000s`, bash:
 * `0m1.230s 0m0.010s`, one line for the shell, one for its children) and returns the children's
 * user+system seconds, or null when the text is not a complete report.
 */
export function parseTimesOutput(text: string): number | null {
  const childLine = text.split('\n')[1];
  if (!childLine) return null;
  const parts = [...childLine.matchAll(/(\d+)m(\d+(?:\.\d+)?)s/g)];
  if (parts.length !== 2) return null;
  return parts.reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

type Resolution = { ok: true; path: string } | { ok: false; exitCode: number; message: string };

/**
 * Finds the executable the way execvp would, but against the child's PATH and cwd rather than
 * the server's, so a missing command can be reported as data instead of a spawn error.
 */
async function resolveExecutable(name: string, pathVar: string, cwd: string): Promise<Resolution> {
  const candidates = name.includes('/')
    ? [resolvePath(cwd, name)]
    : pathVar.split(delimiter).map((dir) => join(isAbsolute(dir) ? dir : resolvePath(cwd, dir), name));
  let notExecutable: string | null = null;
  for (const candidate of candidates) {
    try {
      if (!(await stat(candidate)).isFile()) continue;
    } catch {
      continue;
    }
    try {
      await access(candidate, fsConstants.X_OK);
      return { ok: true, path: candidate };
    } catch {
      notExecutable ??= candidate;
    }
  }
  return notExecutable
    ? { ok: false, exitCode: 126, message: `[hangar] permission denied: ${notExecutable} is not executable` }
    : {
        ok: false,
        exitCode: 127,
        message: `[hangar] command not found: ${name}${name.includes('/') ? '' : ` (PATH=${pathVar})`}`,
      };
}

function validateSpec(spec: ProcessSpec): void {
  if (!Array.isArray(spec.command) || spec.command.length === 0)
    throw new Error('spec.command must be a non-empty argv');
  for (const arg of spec.command) {
    if (typeof arg !== 'string' || arg.includes('\0'))
      throw new Error('spec.command entries must be strings without NUL');
  }
  if (spec.command[0] === '') throw new Error('spec.command[0] must not be empty');
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (name === '' || name.includes('=') || name.includes('\0') || typeof value !== 'string' || value.includes('\0')) {
      throw new Error(`invalid environment variable ${JSON.stringify(name)}`);
    }
  }
  if (spec.timeoutMs !== undefined && !(spec.timeoutMs > 0)) throw new Error('spec.timeoutMs must be positive');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function emptyUsage(): ResourceUsage {
  return { wallSeconds: 0, cpuSeconds: 0, peakRssBytes: 0 };
}

/**
 * Runs process specs as child processes of this server. Each run gets a minimal environment
 * (the base env plus `spec.env`; with `spec.python`, the venv's `bin` first on PATH and
 * VIRTUAL_ENV set), a fresh work directory under `workRoot` unless `spec.cwd` is given (removed
 * afterwards), and its own session and process group. Cancellation via the AbortSignal and
 * `timeoutMs` send SIGTERM to the whole tree and SIGKILL `killGraceMs` later; background
 * processes still alive when the command exits normally are killed the same way, so a run
 * leaks no processes except ones that escaped with their own setsid() (their pipes are
 * abandoned after a second). stdout/stderr, and the venv build's output as 'system', are
 * forwarded as UTF-8 text up to `maxLogBytes` in total; the rest is drained, counted and
 * reported in one 'system' line. `run` resolves for every process outcome: a command missing
 * from the child's PATH resolves with exit code 127 (126 when not executable) and a 'system'
 * line, without spawning anything; an abort before the process starts (also while its venv is
 * being built, which carries on for later runs) resolves as cancelled. It rejects only for an
 * invalid spec, a missing `spec.cwd`, a failed virtualenv build, or when /bin/sh itself cannot
 * be spawned. Because the command runs under `/bin/sh`, a command killed by a signal the
 * executor did not send (a crash, the OOM killer) is reported the shell's way, `exitCode:
 * 128 + n` with `signal: null`, plus a 'system' line naming the likely signal: the shell's
 * status cannot distinguish that from a program exiting with 128 + n. When the executor kills
 * the tree the shell dies by that signal too, so `signal` is exact. `argv[0]` seen by the
 * program is the resolved absolute path.
 */
export class LocalProcessExecutor implements Executor {
  readonly name = 'local';
  readonly #workRoot: string;
  readonly #pythonEnvs: PythonEnvProvider | undefined;
  readonly #maxLogBytes: number;
  readonly #killGraceMs: number;
  readonly #sampleIntervalMs: number;
  readonly #baseEnv: Record<string, string>;

  constructor(options: LocalProcessExecutorOptions) {
    this.#workRoot = options.workRoot;
    this.#pythonEnvs = options.pythonEnvs;
    this.#maxLogBytes = options.maxLogBytes ?? 1024 * 1024;
    this.#killGraceMs = options.killGraceMs ?? 2000;
    this.#sampleIntervalMs = options.sampleIntervalMs ?? 200;
    this.#baseEnv = { ...(options.baseEnv ?? defaultBaseEnv()) };
  }

  /** See the class documentation. */
  async run(spec: ProcessSpec, options: ExecRunOptions): Promise<ExecResult> {
    validateSpec(spec);
    const { signal } = options;
    const out = new OutputLimiter(options.onOutput, this.#maxLogBytes);
    const cancelledBeforeStart = (): ExecResult => {
      out.system('[hangar] cancelled before the process started');
      out.finish();
      return {
        exitCode: null,
        signal: null,
        timedOut: false,
        cancelled: true,
        logsTruncated: out.truncated,
        usage: emptyUsage(),
      };
    };
    if (signal.aborted) return cancelledBeforeStart();

    const env: Record<string, string> = { ...this.#baseEnv, ...spec.env };
    if (spec.python) {
      if (!this.#pythonEnvs) throw new Error('spec.python is set but this executor has no pythonEnvs manager');
      const building = this.#pythonEnvs.ensure(spec.python.requirements, (_stream, chunk) =>
        out.write('system', Buffer.from(chunk, 'utf8')),
      );
      // The env is shared with other runs, so cancelling this one does not abort its build; the
      // build's eventual failure is someone else's to report.
      building.catch(() => undefined);
      let onAbort = (): void => undefined;
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const venv = await Promise.race([building, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
      if (venv === 'aborted') return cancelledBeforeStart();
      env.PATH = `${join(venv.dir, 'bin')}${delimiter}${env.PATH ?? ''}`;
      env.VIRTUAL_ENV = venv.dir;
    }

    let cwd: string;
    let ownsCwd = false;
    if (spec.cwd !== undefined) {
      cwd = resolvePath(spec.cwd);
      const info = await stat(cwd).catch(() => null);
      if (!info?.isDirectory()) throw new Error(`spec.cwd ${cwd} is not a directory`);
    } else {
      await mkdir(this.#workRoot, { recursive: true });
      const safeId = options.jobId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'job';
      cwd = await mkdtemp(join(this.#workRoot, `${safeId}-`));
      ownsCwd = true;
    }
    try {
      const resolution = await resolveExecutable(spec.command[0] ?? '', env.PATH ?? '', cwd);
      if (!resolution.ok) {
        out.system(resolution.message);
        out.finish();
        return {
          exitCode: resolution.exitCode,
          signal: null,
          timedOut: false,
          cancelled: false,
          logsTruncated: out.truncated,
          usage: emptyUsage(),
        };
      }
      if (signal.aborted) return cancelledBeforeStart();
      return await this.#spawnAndWait(
        [resolution.path, ...spec.command.slice(1)],
        env,
        cwd,
        spec.timeoutMs,
        signal,
        out,
      );
    } finally {
      if (ownsCwd) await rm(cwd, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  #spawnAndWait(
    argv: string[],
    env: Record<string, string>,
    cwd: string,
    timeoutMs: number | undefined,
    abortSignal: AbortSignal,
    out: OutputLimiter,
  ): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const startedAt = performance.now();
      const child = spawn('/bin/sh', ['-c', WRAPPER, 'hangar-run', ...argv], {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      });
      const leaderPid = child.pid;
      if (leaderPid === undefined) {
        // Spawn failed; the 'error' event carries the reason.
        child.once('error', (error) => reject(new Error(`could not spawn /bin/sh: ${error.message}`)));
        return;
      }
      child.on('error', () => undefined); // Late errors (e.g. kill on a reaped pid) are irrelevant.

      const monitor = new ProcessTreeMonitor(leaderPid);
      let timesText = '';
      child.stdout?.on('data', (chunk: Buffer) => out.write('stdout', chunk));
      child.stderr?.on('data', (chunk: Buffer) => out.write('stderr', chunk));
      child.stdio[3]?.on('data', (chunk: Buffer) => {
        timesText += chunk.toString('utf8');
      });
      const closed = new Promise<void>((done) => child.once('close', () => done()));

      let stopped = false;
      let sampleTimer: NodeJS.Timeout | undefined;
      const sampleLoop = async (): Promise<void> => {
        await monitor.sample().catch(() => null);
        if (!stopped) sampleTimer = setTimeout(() => void sampleLoop(), this.#sampleIntervalMs);
      };
      void sampleLoop();

      let timedOut = false;
      let cancelled = false;
      let killing: Promise<void> | null = null;
      const killTree = (why: string): Promise<void> => {
        killing ??= (async () => {
          const live = await monitor.signalTree('SIGTERM');
          if (live === 0) return;
          out.system(`[hangar] ${why}: sent SIGTERM to ${live} process${live === 1 ? '' : 'es'}`);
          if (await monitor.waitGone(this.#killGraceMs)) return;
          const left = await monitor.signalTree('SIGKILL');
          if (left > 0)
            out.system(
              `[hangar] ${left} process${left === 1 ? '' : 'es'} still alive after ${this.#killGraceMs} ms: sent SIGKILL`,
            );
          if (!(await monitor.waitGone(5000)))
            out.system('[hangar] some processes survived SIGKILL (uninterruptible sleep?)');
        })();
        return killing;
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              if (cancelled) return;
              timedOut = true;
              void killTree(`timed out after ${timeoutMs} ms`);
            }, timeoutMs);
      const onAbort = (): void => {
        if (timedOut) return;
        cancelled = true;
        void killTree('cancelled');
      };
      abortSignal.addEventListener('abort', onAbort, { once: true });

      child.once('exit', (code, exitSignal) => {
        void (async () => {
          clearTimeout(timer);
          abortSignal.removeEventListener('abort', onAbort);
          // Background processes the command left behind belong to this run and die with it.
          await (killing ?? killTree('command exited, cleaning up background processes'));
          const endedAt = performance.now();
          const drained = await Promise.race([closed.then(() => true), sleep(STREAM_DRAIN_MS).then(() => false)]);
          if (!drained) {
            // A process that escaped the tree (own setsid) still holds a pipe; stop reading it.
            out.system('[hangar] output pipes still held open by an escaped process; stopped reading');
            for (const stream of child.stdio) stream?.destroy();
          }
          stopped = true;
          clearTimeout(sampleTimer);
          await monitor.sample();

          const timesCpu = parseTimesOutput(timesText);
          const cpuSeconds = Math.max(monitor.sampledCpuSeconds, (timesCpu ?? 0) + monitor.orphanCpuSeconds);
          if (exitSignal === null && code !== null && code > 128 && SIGNAL_NAMES.has(code - 128)) {
            out.system(
              `[hangar] exit code ${code}: the command most likely died from ${SIGNAL_NAMES.get(code - 128)} (the shell reports signal deaths as 128 + n)`,
            );
          }
          out.finish();
          resolve({
            exitCode: code,
            signal: exitSignal,
            timedOut,
            cancelled,
            logsTruncated: out.truncated,
            usage: {
              wallSeconds: (endedAt - startedAt) / 1000,
              cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
              peakRssBytes: monitor.peakRssBytes,
            },
          });
        })().catch(reject);
      });
    });
  }
}
