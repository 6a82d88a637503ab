import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawnServer, type Child } from './children.js';
import { REPO_ROOT } from './hangar.js';

const VENV = path.join(REPO_ROOT, 'bench/.venv');
const MLFLOW = path.join(VENV, 'bin/mlflow');

/** Installs MLflow into bench/.venv on first use (bench/setup.sh) and returns its version line. */
export function ensureMlflow(): string {
  if (!existsSync(MLFLOW)) {
    process.stdout.write('installing MLflow into bench/.venv (bench/setup.sh) ...\n');
    execFileSync('bash', [path.join(REPO_ROOT, 'bench/setup.sh')], { stdio: 'inherit' });
  }
  return execFileSync(MLFLOW, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * `mlflow server` as its docs suggest for a single machine: SQLite backend, local artifacts. One
 * uvicorn worker, since Hangar is one process too. MLflow 3.x also starts huey job-consumer processes
 * by default; they are part of what a user gets, so they are measured with the rest of the tree.
 */
export function spawnMlflow(dir: string, port: number): Child {
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--backend-store-uri',
    `sqlite:///${path.join(dir, 'mlflow.db')}`,
    '--default-artifact-root',
    path.join(dir, 'art'),
    '--workers',
    '1',
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: `${path.join(VENV, 'bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    VIRTUAL_ENV: VENV,
  };
  return spawnServer('mlflow', MLFLOW, args, { cwd: dir, env });
}
