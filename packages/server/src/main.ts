import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp, type HangarApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { UnavailableError } from './core/errors.js';
import { keepNextTickShapeAlive } from './core/next-tick-shape.js';
import { StoreLockedError } from './db/database.js';
import { VERSION } from './version.js';

function banner(app: HangarApp, config: Config, url: string): string {
  const lines = [`Hangar ${VERSION} ready at ${url}/  (roles: ${config.role}; store: ${app.database.description})`];
  if (config.role === 'all' || config.role === 'api') {
    lines.push(`  Portal: ${url}/`);
    if (app.bootstrap.generatedPassword) {
      lines.push(`  Log in as "admin" with password: ${app.bootstrap.generatedPassword}`);
      lines.push('  (shown once, now; set HANGAR_ADMIN_PASSWORD before the first start to choose it)');
    } else {
      lines.push('  Log in as "admin" with the password set at first start (HANGAR_ADMIN_PASSWORD),');
      lines.push(`  or from a shell: npx hangar login --url ${url} --username admin`);
    }
  }
  return lines.join('\n');
}

/**
 * Runs `hangar server`: loads and validates the configuration, opens the store, listens, starts the
 * background roles and shuts down gracefully on SIGTERM/SIGINT (stop claiming jobs, drain requests,
 * close the store, exit 0). Returns the exit code for startup failures instead of throwing.
 */
export async function runServer(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  keepNextTickShapeAlive();
  let config: Config;
  try {
    config = loadConfig({ argv, env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hangar server: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  mkdirSync(config.dataDir, { recursive: true });
  if (config.artifacts.startsWith('file://')) mkdirSync(fileURLToPath(config.artifacts), { recursive: true });
  let app: HangarApp;
  try {
    app = await buildApp(config);
  } catch (err) {
    if (err instanceof StoreLockedError || err instanceof UnavailableError) {
      process.stderr.write(`hangar server: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // Handlers go in before listening: a signal that arrives while we start must still drain cleanly.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`hangar server: second ${signal}, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    app.http.log.info({ signal }, 'shutting down: draining requests and jobs');
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        app.http.log.error({ err }, 'unclean shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const address = await app.http.listen({ host: config.host, port: config.port });
  if (stopping) return null;
  app.start();
  process.stderr.write(`${banner(app, config, address)}\n`);
  return null;
}
