import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnServer, type Child } from '../../core/lib/children.js';
import { REPO_ROOT } from '../../core/lib/hangar.js';
import { ensureMlflow } from '../../core/lib/mlflow.js';

const VENV = path.join(REPO_ROOT, 'bench/.venv');
const MLFLOW = path.join(VENV, 'bin/mlflow');
const PYTHON = path.join(VENV, 'bin/python');

export const MLFLOW_ADMIN = { username: 'admin', password: 'bench-admin-password-1' };

/**
 * MLflow in bench/.venv (bench/setup.sh) plus its `auth` extra: the basic-auth app refuses to start
 * without Flask-WTF, which plain `pip install mlflow` does not bring. Installed once, pinned to the
 * MLflow version already there. Returns MLflow's version line.
 */
export function ensureMlflowAuth(): string {
  const version = ensureMlflow();
  try {
    execFileSync(PYTHON, ['-c', 'import flask_wtf'], { stdio: 'ignore' });
  } catch {
    const v = /(\d+\.\d+\.\d+\S*)/.exec(version)?.[1];
    const spec = v ? `mlflow[auth]==${v}` : 'mlflow[auth]';
    process.stdout.write(`installing ${spec} into bench/.venv (the basic-auth app needs Flask-WTF) ...\n`);
    execFileSync(path.join(VENV, 'bin/pip'), ['install', '--quiet', spec], { stdio: 'inherit' });
  }
  return version;
}

export interface MlflowServerOptions {
  /** Run `--app-name basic-auth` (MLflow's built-in authentication and per-resource permissions). */
  auth: boolean;
  /**
   * MLflow's opt-in credential cache (auth_cache_ttl_seconds; 0 = off, MLflow's default). With it
   * off, every request verifies the Basic password against its werkzeug scrypt hash.
   */
  authCacheTtlS?: number;
  cpus?: string;
}

/**
 * `mlflow server` on SQLite with one uvicorn worker, as the core benchmarks run it, optionally with
 * the basic-auth app. The auth config file is written into `dir`: its own SQLite user store, admin
 * credentials for the bootstrap, default permission NO_PERMISSIONS (so a non-admin's read goes
 * through a real permission lookup, not a default). Uvicorn's access log is turned off, as Hangar
 * runs at --log-level warn (no line per request).
 */
export function spawnMlflowServer(dir: string, port: number, o: MlflowServerOptions): Child {
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
    '--uvicorn-opts=--no-access-log',
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: `${path.join(VENV, 'bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    VIRTUAL_ENV: VENV,
  };
  if (o.auth) {
    const ini = path.join(dir, 'basic_auth.ini');
    writeFileSync(
      ini,
      [
        '[mlflow]',
        'default_permission = NO_PERMISSIONS',
        `database_uri = sqlite:///${path.join(dir, 'basic_auth.db')}`,
        `admin_username = ${MLFLOW_ADMIN.username}`,
        `admin_password = ${MLFLOW_ADMIN.password}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        `auth_cache_ttl_seconds = ${o.authCacheTtlS ?? 0}`,
        '',
      ].join('\n'),
    );
    args.push('--app-name', 'basic-auth');
    env.MLFLOW_AUTH_CONFIG_PATH = ini;
    // The basic-auth app's CSRF protection (for its UI forms) needs a fixed Flask secret.
    env.MLFLOW_FLASK_SERVER_SECRET_KEY = 'hangar-bench-not-a-secret';
  }
  return spawnServer(o.auth ? 'mlflow-basic-auth' : 'mlflow', MLFLOW, args, { cwd: dir, env, cpus: o.cpus });
}

export const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
