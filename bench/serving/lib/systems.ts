import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnServer, type Child } from '../../core/lib/children.js';
import { REPO_ROOT } from '../../core/lib/hangar.js';
import { waitFor200 } from '../../core/lib/http.js';
import { freePort } from '../../core/lib/proc.js';

/*
 * The systems Hangar is compared with, each started as a user would start it, as its own process
 * group (so bench/core/lib/children.ts stops all of it), optionally pinned with taskset.
 */

export const VENV = path.join(REPO_ROOT, 'bench/serving/.venv');
export const PYTHON = path.join(VENV, 'bin/python');
const HERE = path.join(REPO_ROOT, 'bench/serving');

/** Builds bench/serving/.venv on first use (setup.sh, idempotent) and returns its version line. */
export function ensureVenv(): string {
  return execFileSync('bash', [path.join(HERE, 'setup.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** Runs make_model.py into `out` (hangar/, mlflow/, mlserver/, sample.json); returns its summary line. */
export function makeModel(out: string): string {
  return execFileSync(PYTHON, [path.join(HERE, 'make_model.py'), out], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // Saving a model logs nothing; cwd is the output folder all the same, so no stray file lands in the repo.
    cwd: out,
    env: { PATH: `${path.join(VENV, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME },
  }).trim();
}

const pythonEnv = (): NodeJS.ProcessEnv => ({
  // `mlflow models serve` execs `uvicorn` by name: the venv's bin must come first on PATH.
  PATH: `${path.join(VENV, 'bin')}:${process.env.PATH}`,
  HOME: process.env.HOME,
  VIRTUAL_ENV: VENV,
});

/**
 * `mlflow models serve -m <dir> --env-manager local` with its defaults otherwise (one uvicorn worker,
 * uvicorn's access log on). Ready when GET /ping answers 200.
 */
export async function startMlflowServe(
  modelDir: string,
  cpus: string | undefined,
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnServer(
    'mlflow models serve',
    path.join(VENV, 'bin/mlflow'),
    ['models', 'serve', '-m', modelDir, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)],
    { cwd: path.dirname(modelDir), env: pythonEnv(), cpus },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/ping`, child, performance.now(), 120_000, 100);
  return { child, url };
}

/**
 * `mlserver start <dir>` with mlserver-sklearn's SKLearnModel (the model-settings.json make_model.py
 * wrote). settings.json: loopback ports, metrics server off, and parallel_workers 0, i.e. inference in
 * the server process. MLServer's default (one inference worker process) fails to start with the
 * uvloop pip installs today (`RuntimeError: There is no current event loop` in the worker), and on
 * one core a worker process adds a hop, not CPU. Ready when the model answers ready.
 */
export async function startMlserver(
  modelDir: string,
  cpus: string | undefined,
): Promise<{ child: Child; url: string }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(
    path.join(modelDir, 'settings.json'),
    JSON.stringify({
      debug: false,
      host: '127.0.0.1',
      http_port: httpPort,
      grpc_port: grpcPort,
      metrics_endpoint: null,
      parallel_workers: 0,
    }),
  );
  const child = spawnServer('mlserver', path.join(VENV, 'bin/mlserver'), ['start', modelDir], {
    cwd: modelDir,
    env: pythonEnv(),
    cpus,
  });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitFor200(`${url}/v2/models/bc/ready`, child, performance.now(), 120_000, 100);
  return { child, url };
}

/** bench/serving/bare-infer.ts answering `response` (JSON text) to every POST on the infer path. */
export async function startBare(response: string, cpus: string | undefined): Promise<{ child: Child; url: string }> {
  const child = spawnServer('bare fastify', process.execPath, ['--import', 'tsx', path.join(HERE, 'bare-infer.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BARE_RESPONSE: response },
    cpus,
  });
  const m = await child.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+)\//, 30_000);
  return { child, url: m[1]! };
}

export interface Floor {
  callsPerS: number;
  usPerCall: number;
  cpuUsPerCall: number;
  calls: number;
}

/** One run of bench/serving/floor.ts (raw session.run in a loop), pinned like the servers. */
export async function runFloor(
  modelPath: string,
  row: number[],
  s: { warmupS: number; durationS: number },
  cpus: string | undefined,
): Promise<Floor> {
  const child = spawnServer(
    'onnxruntime floor',
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(HERE, 'floor.ts'),
      modelPath,
      JSON.stringify(row),
      String(s.warmupS),
      String(s.durationS),
    ],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, cpus },
  );
  const m = await child.waitFor(/^(\{"callsPerS".*\})$/m, (s.warmupS + s.durationS) * 1000 + 60_000);
  await child.exited;
  return JSON.parse(m[1]!) as Floor;
}
