import pino from 'pino';
import { buildApp, type BuildOptions, type HangarApp } from '../app.js';
import { defaultConfig, type Config } from '../config/config.js';
import type { TestStore } from './engines.js';

export const ADMIN_TOKEN = 'hgr_test-admin-token-0123456789';
export const ADMIN_PASSWORD = 'correct horse battery';

/** Builds an app on a test store with a known admin token and password and a silent logger. */
export async function buildTestApp(
  store: TestStore,
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<HangarApp> {
  const config: Config = {
    ...defaultConfig(store.dir),
    db: store.url,
    logLevel: 'silent',
    adminToken: ADMIN_TOKEN,
    adminPassword: ADMIN_PASSWORD,
    workerPollMs: 20,
    ...overrides,
  };
  return buildApp(config, { logger: pino({ level: 'silent' }), portalDir: '/nonexistent', ...options });
}

export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
