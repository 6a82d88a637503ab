/**
 * Executor contract shared by every place Hangar can run a job. The job queue hands an
 * {@link Executor} a {@link ProcessSpec} and receives a streamed log plus one {@link ExecResult};
 * it never learns where the process ran. The local implementation is
 * `LocalProcessExecutor`. A Ray executor would map the same spec onto the Ray Jobs REST API:
 * `POST /api/jobs/` with `entrypoint` set to the shell-quoted `command`, `runtime_env` carrying
 * `env_vars: spec.env`, `working_dir` and `pip: spec.python.requirements` (Ray builds and caches
 * the virtualenv on the cluster, so no `PythonEnvManager` is needed), then poll
 * `GET /api/jobs/{id}` until the status is terminal (SUCCEEDED / FAILED / STOPPED), forward new
 * text from `GET /api/jobs/{id}/logs` (it returns the whole log, so track an offset, or use the
 * `/logs/tail` websocket) into `onOutput('stdout', ...)` under the same byte cap, translate the
 * AbortSignal and `timeoutMs` into `POST /api/jobs/{id}/stop`, and fill `usage` from what the
 * cluster reports (wall time from `start_time`/`end_time`; CPU and RSS only if Ray's metrics are
 * scraped, otherwise zero, which callers must treat as "unknown"). A Kubernetes executor would
 * create a `batch/v1` Job with `backoffLimit: 0`, `activeDeadlineSeconds` from `timeoutMs`, the
 * argv as the container `command`, `env` as container env vars and the requirements installed by
 * an init container into a shared `emptyDir` venv; it would watch the Job's pod, stream
 * `GET .../pods/{pod}/log?follow=true`, delete the Job with `propagationPolicy: Foreground` on
 * cancellation, and read the container's `terminated.exitCode` / `reason` (e.g. `OOMKilled`)
 * for the result. In every implementation `run` resolves for whatever the process did and
 * rejects only when the executor itself could not set the run up.
 */

/** What to run. */
export interface ProcessSpec {
  /**
   * argv; `command[0]` is resolved through the PATH of the process's own environment (so a
   * venv's `bin` wins when `python` is set). Must be non-empty.
   */
  command: string[];
  /**
   * Merged over a minimal base environment (PATH, HOME, LANG, TMPDIR). The server's own
   * environment is deliberately not inherited because it holds secrets.
   */
  env?: Record<string, string>;
  /**
   * Working directory. Default: a fresh per-run directory under the executor's work root,
   * removed after the run. A directory given here is used as-is and never removed.
   */
  cwd?: string;
  /** Run inside a managed virtualenv built from these pip requirement lines. */
  python?: { requirements: string[] };
  /**
   * Kill the whole process tree after this many milliseconds of run time (virtualenv build
   * time is not counted; the env manager has its own pip timeout).
   */
  timeoutMs?: number;
}

/** Where a chunk of log text came from; 'system' lines are written by the executor itself. */
export type OutputStream = 'stdout' | 'stderr' | 'system';

/** Receives log text as it is produced; chunks are UTF-8-safe but not line-aligned. */
export type OutputSink = (stream: OutputStream, chunk: string) => void;

/** Resources used by the whole process tree of one run. Zero means "not measured". */
export interface ResourceUsage {
  wallSeconds: number;
  /** User + system CPU of the process and all its descendants. */
  cpuSeconds: number;
  /** Peak of the summed resident set size of the live process tree. */
  peakRssBytes: number;
}

/** Outcome of one run. */
export interface ExecResult {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  logsTruncated: boolean;
  usage: ResourceUsage;
}

/** Per-run context supplied by the job queue. */
export interface ExecRunOptions {
  jobId: string;
  signal: AbortSignal;
  onOutput: OutputSink;
}

/**
 * An executor runs one process spec somewhere (this machine, a Ray cluster via the Ray Jobs REST
 * API, a Kubernetes Job) and reports its outcome. The job queue only ever sees this interface.
 * `run` resolves for anything the process did (non-zero exit, crash, timeout, cancellation,
 * command not found → exit code 127 with a 'system' line) and rejects only when the executor
 * could not set the run up (invalid spec, virtualenv build failed, spawn of the wrapper failed).
 */
export interface Executor {
  /** 'local', later 'ray', 'kubernetes'. */
  readonly name: string;
  run(spec: ProcessSpec, options: ExecRunOptions): Promise<ExecResult>;
}
