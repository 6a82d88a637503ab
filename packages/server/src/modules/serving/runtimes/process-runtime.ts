import { spawn, type ChildProcess } from 'node:child_process';
import { open, mkdir, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeUnavailableError, type ModelMetadata, type ModelRuntime, type RuntimeKind } from '../runtime.js';
import type { Tensor, TensorSpec } from '../tensors.js';
import { checkInputs, checkOutputs, specMap } from './check-inputs.js';
import { alignOutputs, OipClient } from './oip-client.js';

/** What a model server process's virtualenv needs besides the model's own requirements. */
export const MLSERVER_REQUIREMENTS: string[] = ['mlserver==1.7.1', 'mlserver-mlflow==1.7.1'];

export interface ProcessRuntimeEvent {
  type: 'started' | 'exited' | 'restarting' | 'failed';
  detail: string;
}

export interface ProcessRuntimeOptions {
  /** A local folder with an MLflow model (MLmodel file etc.). */
  modelDir: string;
  /** The model name MLServer serves it under. */
  name: string;
  /** The python of a virtualenv with MLSERVER_REQUIREMENTS and the model's requirements. */
  python: string;
  /** Where the settings files and the log go. */
  workDir: string;
  /** MLServer's inference runtime class. Default `mlserver_mlflow.MLflowRuntime`. */
  implementation?: string;
  /** From spawning to the model answering ready. Default 120 s. */
  startTimeoutMs?: number;
  /** Restarts allowed within `restartWindowMs`; one more crash and the runtime has failed. Default 5. */
  maxRestarts?: number;
  /** Default 10 minutes. */
  restartWindowMs?: number;
  /** The first restart waits this long, each further one twice as long, up to 30 s. Default 1 s. */
  restartBackoffMs?: number;
  /** How long close() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
  /** Readiness is polled this often; three failures in a row and the process is killed and restarted. Default 5 s. */
  healthIntervalMs?: number;
  /** Per inference request. Default 30 s. */
  requestTimeoutMs?: number;
  /** The log file is rotated (one old file kept) past this size. Default 4 MiB. */
  maxLogBytes?: number;
  onEvent?: (e: ProcessRuntimeEvent) => void;
}

type State = 'starting' | 'ready' | 'restarting' | 'failed' | 'closed';

const MAX_BACKOFF_MS = 30_000;
const HEALTH_FAILURES_TO_RESTART = 3;
const LOG_TAIL_BYTES = 8 * 1024;

/*
 * Runs MLServer's CLI in the child, after starting a thread that watches stdin: Hangar holds the
 * other end of that pipe, so end-of-file means Hangar is gone (even by kill -9) and the server's
 * whole process group is stopped rather than left orphaned. `python -m mlserver` does not exist
 * (the package has no __main__), so the CLI's entry function is called directly.
 */
const BOOTSTRAP = `
import os, signal, sys, threading, time

def _watch_parent(grace):
    # os.read, not sys.stdin: a daemon thread blocked inside the buffered reader holds its lock,
    # and the interpreter aborts at exit when it finds that lock taken.
    try:
        while os.read(0, 4096):
            pass
    except Exception:
        pass
    os.killpg(0, signal.SIGTERM)
    time.sleep(grace)
    os.killpg(0, signal.SIGKILL)

threading.Thread(target=_watch_parent, args=(float(sys.argv[2]),), daemon=True).start()
sys.argv = ["mlserver", "start", sys.argv[1]]
from mlserver.cli.main import main
main()
`;

/**
 * A model served by a supervised MLServer process (any MLflow flavor with a python_function, via
 * mlserver-mlflow) speaking the Open Inference Protocol on a loopback port. The process runs in
 * its own process group with a minimal environment; its output goes to a size-bounded log in
 * `workDir`. If it exits while the runtime is open, requests get RuntimeUnavailableError while it
 * is restarted with exponential backoff; more than `maxRestarts` crashes within the window and the
 * runtime has failed for good. close() stops the whole process group (SIGTERM, then SIGKILL).
 */
export class ProcessRuntime implements ModelRuntime {
  readonly kind: RuntimeKind = 'process';
  private state: State = 'starting';
  private child: ChildProcess | null = null;
  private childExit: Promise<void> = Promise.resolve();
  private client: OipClient | null = null;
  private meta: ModelMetadata = { platform: '', inputs: [], outputs: [] };
  private inputSpecs = new Map<string, TensorSpec>();
  private outputSpecs = new Map<string, TensorSpec>();
  private readonly restarts: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private healthFailures = 0;
  private polling = false;
  private closing: Promise<void> | null = null;
  private readonly log: BoundedLog;
  private readonly configDir: string;

  private constructor(private readonly opts: ProcessRuntimeOptions) {
    this.configDir = path.join(opts.workDir, 'mlserver');
    this.log = new BoundedLog(path.join(opts.workDir, 'mlserver.log'), opts.maxLogBytes ?? 4 * 1024 ** 2);
  }

  /**
   * Starts MLServer for the model and resolves once the model answers ready, with its metadata
   * read. Rejects (leaving no process behind) when the options are unusable, when the process
   * cannot be spawned, exits early (e.g. the model fails to load) or is not ready within
   * `startTimeoutMs`; the message carries the end of its log.
   */
  static async start(opts: ProcessRuntimeOptions): Promise<ProcessRuntime> {
    if (opts.name === '' || /[/\\]/.test(opts.name))
      throw new Error(`name "${opts.name}" must be non-empty without slashes`);
    const dir = await stat(opts.modelDir).catch(() => null);
    if (!dir?.isDirectory()) throw new Error(`modelDir ${opts.modelDir} is not a folder`);
    const python = await stat(opts.python).catch(() => null);
    if (!python?.isFile()) throw new Error(`python ${opts.python} does not exist`);
    const rt = new ProcessRuntime(opts);
    try {
      await mkdir(rt.configDir, { recursive: true });
      await rt.log.open();
      await rt.launchWithPortRetry();
      const meta = await rt.client!.metadata();
      rt.meta = {
        platform: meta.platform || rt.implementation.split('.')[0]!,
        inputs: meta.inputs,
        outputs: meta.outputs,
      };
      rt.inputSpecs = specMap(meta.inputs);
      rt.outputSpecs = specMap(meta.outputs);
      // An exit while starting is not supervised (onExit leaves it to the launch): catch it here.
      if (rt.child === null)
        throw new Error(`MLServer exited right after ${opts.name} was ready; its log ends:\n${rt.log.tail()}`);
    } catch (err) {
      await rt.close();
      throw err;
    }
    rt.state = 'ready';
    rt.healthTimer = setInterval(() => void rt.checkHealth(), opts.healthIntervalMs ?? 5_000);
    rt.healthTimer.unref();
    rt.emit('started', `MLServer (pid ${rt.child?.pid}) serves ${opts.name} at ${rt.client!.baseUrl}`);
    return rt;
  }

  /** The model server's process id (its process group's too); undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The model server's base URL while one runs (it moves to fresh ports on each restart). */
  get url(): string | undefined {
    return this.child !== null ? this.client?.baseUrl : undefined;
  }

  /** The end of the model server's log, for diagnostics. */
  logTail(): string {
    return this.log.tail();
  }

  metadata(): ModelMetadata {
    return this.meta;
  }

  ready(): boolean {
    return this.state === 'ready';
  }

  async infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    const client = this.client;
    if (this.state !== 'ready' || client === null) {
      throw new RuntimeUnavailableError(`the model server of ${this.opts.name} is ${this.state}`);
    }
    checkInputs(this.inputSpecs, inputs, { squeezeTrailingOnes: true });
    checkOutputs(this.outputSpecs, outputs);
    const got = await client.infer(inputs, outputs);
    return alignOutputs(this.meta.outputs, outputs, got);
  }

  /** Stops the model server's process group (SIGTERM, SIGKILL after the grace period) and waits for it. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private get implementation(): string {
    return this.opts.implementation ?? 'mlserver_mlflow.MLflowRuntime';
  }

  private async shutdown(): Promise<void> {
    this.state = 'closed';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    const child = this.child;
    if (child?.pid !== undefined) {
      killGroup(child.pid, 'SIGTERM');
      const graceful = await Promise.race([
        this.childExit.then(() => true),
        sleep(this.opts.stopGraceMs ?? 10_000, false, { ref: false }),
      ]);
      if (!graceful) killGroup(child.pid, 'SIGKILL');
      await this.childExit;
    }
    this.client?.close();
    this.client = null;
    await this.log.close();
  }

  private emit(type: ProcessRuntimeEvent['type'], detail: string): void {
    try {
      this.opts.onEvent?.({ type, detail });
    } catch {
      // A failing listener must not break supervision.
    }
  }

  /** A launch, retried once with fresh ports when another process took a port between picking and binding. */
  private async launchWithPortRetry(): Promise<void> {
    try {
      await this.launch();
    } catch (err) {
      if (this.state === 'closed' || !/address already in use|Errno 98/i.test((err as Error).message)) throw err;
      await this.launch();
    }
  }

  /** Spawns MLServer on fresh loopback ports and waits until the model answers ready. */
  private async launch(): Promise<void> {
    const [httpPort, grpcPort] = await freePorts(2);
    await writeFile(
      path.join(this.configDir, 'settings.json'),
      JSON.stringify({
        debug: false,
        host: '127.0.0.1',
        http_port: httpPort,
        // gRPC cannot be turned off in MLServer 1.7; it listens on loopback, unused.
        grpc_port: grpcPort,
        metrics_endpoint: null,
        parallel_workers: 0,
        load_models_at_startup: true,
      }),
    );
    await writeFile(
      path.join(this.configDir, 'model-settings.json'),
      JSON.stringify({
        name: this.opts.name,
        implementation: this.implementation,
        parameters: { uri: path.resolve(this.opts.modelDir) },
      }),
    );
    const env: Record<string, string> = {
      // Only what Python needs: the server runs model code, which has no business with Hangar's
      // secrets, and MLSERVER_* variables would override the settings above.
      PATH: `${path.dirname(this.opts.python)}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? '/tmp',
      PYTHONUNBUFFERED: '1',
    };
    for (const key of ['LANG', 'LC_ALL', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
    const graceSeconds = String((this.opts.stopGraceMs ?? 10_000) / 1000);
    this.log.write(`--- hangar: starting MLServer for ${this.opts.name} on 127.0.0.1:${httpPort}\n`);
    const child = spawn(this.opts.python, ['-c', BOOTSTRAP, this.configDir, graceSeconds], {
      cwd: this.configDir,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null = null;
    this.child = child;
    this.childExit = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        // Spawning failed: no process, no exit event to wait for.
        exited ??= { code: null, signal: null, error };
        if (this.child === child) this.child = null;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exited ??= { code, signal };
        this.onExit(child, code, signal);
        resolve();
      });
    });
    // Nothing is ever written to stdin; it only signals this process's death. EPIPE is expected.
    child.stdin!.on('error', () => {});
    child.stdout!.pipe(this.log.stream, { end: false });
    child.stderr!.pipe(this.log.stream, { end: false });
    const client = new OipClient({
      url: `http://127.0.0.1:${httpPort}`,
      model: this.opts.name,
      timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
    });
    this.client?.close();
    this.client = client;
    const timeoutMs = this.opts.startTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited !== null) {
        const e = exited as { code: number | null; signal: NodeJS.Signals | null; error?: Error };
        if (e.error) throw new Error(`cannot start ${this.opts.python}: ${e.error.message}`);
        throw new Error(
          `MLServer exited (${describeExit(e.code, e.signal)}) before ${this.opts.name} was ready; its log ends:\n${this.log.tail()}`,
        );
      }
      if (this.state === 'closed') throw new Error(`the runtime of ${this.opts.name} was closed while starting`);
      if (await client.isReady(2_000)) return;
      if (Date.now() > deadline) {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
        await this.childExit;
        throw new Error(
          `MLServer did not get ${this.opts.name} ready within ${timeoutMs / 1000} s; its log ends:\n${this.log.tail()}`,
        );
      }
      await sleep(200);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    // Whatever the leader left running in its group (a model's own subprocesses) goes with it.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    if (child !== this.child) return;
    this.child = null;
    this.log.write(`--- hangar: MLServer exited (${describeExit(code, signal)})\n`);
    if (this.state !== 'ready') return; // closing, or a launch in progress notices by itself
    this.state = 'restarting';
    this.emit('exited', `MLServer for ${this.opts.name} exited (${describeExit(code, signal)})`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const now = Date.now();
    const window = this.opts.restartWindowMs ?? 10 * 60_000;
    while (this.restarts.length > 0 && this.restarts[0]! < now - window) this.restarts.shift();
    const max = this.opts.maxRestarts ?? 5;
    if (this.restarts.length >= max) {
      this.state = 'failed';
      this.emit(
        'failed',
        `MLServer for ${this.opts.name} crashed more than ${max} times in ${window / 1000} s; it stays down. Its log ends:\n${this.log.tail()}`,
      );
      return;
    }
    this.restarts.push(now);
    const delay = Math.min((this.opts.restartBackoffMs ?? 1_000) * 2 ** (this.restarts.length - 1), MAX_BACKOFF_MS);
    this.emit('restarting', `restart ${this.restarts.length} of ${max} in ${delay} ms`);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    this.restartTimer = null;
    if (this.state !== 'restarting') return;
    try {
      await this.launchWithPortRetry();
    } catch (err) {
      if (this.state !== 'restarting') return;
      this.emit('exited', (err as Error).message);
      this.scheduleRestart();
      return;
    }
    if (this.state !== 'restarting') return; // closed meanwhile: shutdown() stops the new process
    this.state = 'ready';
    this.healthFailures = 0;
    this.emit('started', `MLServer (pid ${this.child?.pid}) serves ${this.opts.name} again`);
  }

  /** A server that stops answering readiness (hung, not dead) is killed; the exit restarts it. */
  private async checkHealth(): Promise<void> {
    if (this.state !== 'ready' || this.polling || this.client === null) return;
    this.polling = true;
    try {
      const interval = this.opts.healthIntervalMs ?? 5_000;
      const ok = await this.client.isReady(Math.max(1_000, Math.min(interval, 5_000)));
      this.healthFailures = ok ? 0 : this.healthFailures + 1;
      const pid = this.child?.pid;
      if (this.healthFailures >= HEALTH_FAILURES_TO_RESTART && this.state === 'ready' && pid !== undefined) {
        this.log.write(
          `--- hangar: ${this.opts.name} failed ${this.healthFailures} readiness checks; killing MLServer\n`,
        );
        this.healthFailures = 0;
        killGroup(pid, 'SIGKILL');
      }
    } finally {
      this.polling = false;
    }
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `code ${code}`;
}

/** Signals a whole process group; a group already gone is fine. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Ports free on loopback right now (the OS picks them; held together so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/**
 * The model server's output, in a file rotated past `maxBytes` (one previous file kept as `.1`),
 * with the last few KiB also kept in memory for error messages.
 */
class BoundedLog {
  readonly stream: Writable;
  private handle: FileHandle | null = null;
  private size = 0;
  private recent: Buffer = Buffer.alloc(0);
  private truncated = false;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
  ) {
    this.stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.append(chunk).then(
          () => callback(),
          () => callback(), // a log that cannot be written must not stop the server
        );
      },
    });
  }

  async open(): Promise<void> {
    this.handle = await open(this.file, 'a');
    this.size = (await this.handle.stat()).size;
  }

  write(text: string): void {
    this.stream.write(Buffer.from(text));
  }

  tail(): string {
    const text = this.recent.toString('utf8');
    // Cut where the kept bytes begin mid-line (maybe mid-character).
    return this.truncated ? text.replace(/^[^\n]*\n/, '') : text;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
    await this.handle?.close();
    this.handle = null;
  }

  private async append(chunk: Buffer): Promise<void> {
    this.recent = Buffer.concat([this.recent, chunk]);
    if (this.recent.length > LOG_TAIL_BYTES) {
      this.recent = this.recent.subarray(this.recent.length - LOG_TAIL_BYTES);
      this.truncated = true;
    }
    if (this.handle === null) return;
    if (this.size + chunk.length > this.maxBytes && this.size > 0) {
      await this.handle.close();
      await rename(this.file, `${this.file}.1`);
      this.handle = await open(this.file, 'a');
      this.size = 0;
    }
    await this.handle.write(chunk);
    this.size += chunk.length;
  }
}
