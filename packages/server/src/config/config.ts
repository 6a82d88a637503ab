import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { literalUnion } from '../core/schema.js';

export const ROLES = ['all', 'api', 'serving', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The whole configuration surface. Each key can come from a JSON config file, an environment
 * variable `HANGAR_<SNAKE_CASE>` or a flag `--kebab-case`; later sources win in that order.
 */
const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Interface to listen on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    dataDir: Type.String({ minLength: 1 }),
    role: literalUnion(ROLES),
    db: Type.String({ pattern: '^(sqlite:|postgres://|postgresql://)' }),
    artifacts: Type.String({ pattern: '^(file://|s3://)' }),
    logLevel: literalUnion(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    sqliteSynchronous: Type.Union([Type.Literal('full'), Type.Literal('normal')]),
    bodyLimitBytes: Type.Integer({ minimum: 1024 }),
    requestTimeoutMs: Type.Integer({ minimum: 100 }),
    shutdownGraceMs: Type.Integer({ minimum: 0 }),
    metricsPublic: Type.Boolean(),
    authCacheTtlMs: Type.Integer({ minimum: 0 }),
    workerConcurrency: Type.Integer({ minimum: 1, maximum: 1024 }),
    workerPollMs: Type.Integer({ minimum: 1 }),
    jobLeaseMs: Type.Integer({ minimum: 1000 }),
    jobMaxLogBytes: Type.Integer({ minimum: 1024 }),
    adminPassword: Type.Optional(Type.String({ minLength: 8 })),
    adminToken: Type.Optional(
      Type.String({
        pattern: '^hgr_[A-Za-z0-9_-]{16,}$',
        description: 'hgr_ followed by at least 16 URL-safe characters',
      }),
    ),
    pythonEnvsDir: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Behind a reverse proxy: take the client address (audit log, login throttling) from
     * X-Forwarded-For. Only enable it when a proxy you run sets that header.
     */
    trustProxy: Type.Boolean(),
    /** Browser sessions end this long after login (and at logout). */
    sessionTtlMinutes: Type.Integer({ minimum: 5, maximum: 60 * 24 * 30 }),
    /** PEM files; with both set the server speaks HTTPS only and session cookies are Secure. */
    tlsCert: Type.Optional(Type.String({ minLength: 1 })),
    tlsKey: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Encrypts stored secrets (AES-256-GCM). When unset, a random key is generated once into
     * <dataDir>/secret.key; servers sharing one PostgreSQL must all be given the same key.
     */
    secretKey: Type.Optional(
      Type.String({ minLength: 32, description: 'at least 32 characters, e.g. openssl rand -base64 32' }),
    ),
    /**
     * Lets webhooks target loopback, private, link-local and other non-public addresses (an admin
     * decision: it opens the server's network to anyone who can create a webhook). Off by default.
     */
    webhooksAllowPrivateTargets: Type.Boolean(),
    /**
     * Lets deployments with the external runtime point at loopback, private and link-local
     * addresses (the same admin decision as for webhooks, for model servers). Off by default.
     */
    servingAllowPrivateTargets: Type.Boolean(),
    /**
     * Approved releases deploy on their own: packaged, tested on the model's staging deployment and
     * rolled out to production by canary. Off: releases stop at approved; teams deploy by hand.
     */
    releaseAutoDeploy: Type.Boolean(),
    /** How often a serving process polls the store for deployments changed elsewhere. */
    servingPollMs: Type.Integer({ minimum: 100 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigInput = Partial<Record<keyof Config, unknown>>;

const KEYS = Object.keys(ConfigSchema.properties) as (keyof Config)[];

/** Raised once at boot with every problem found, so an operator fixes them in one pass. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function defaultConfig(dataDir = '.hangar'): Config {
  const dir = path.resolve(dataDir);
  return {
    host: '127.0.0.1',
    port: 8080,
    dataDir: dir,
    role: 'all',
    db: `sqlite:${path.join(dir, 'hangar.db')}`,
    artifacts: pathToFileURL(path.join(dir, 'artifacts')).href,
    logLevel: 'info',
    sqliteSynchronous: 'full',
    bodyLimitBytes: 10 * 1024 * 1024,
    requestTimeoutMs: 30_000,
    shutdownGraceMs: 10_000,
    metricsPublic: true,
    authCacheTtlMs: 5_000,
    workerConcurrency: 8,
    workerPollMs: 200,
    jobLeaseMs: 30_000,
    jobMaxLogBytes: 1024 * 1024,
    sessionTtlMinutes: 12 * 60,
    trustProxy: false,
    webhooksAllowPrivateTargets: false,
    servingAllowPrivateTargets: false,
    servingPollMs: 1000,
    releaseAutoDeploy: true,
  };
}

/** Keys whose values never appear in messages. */
const SECRET_KEYS = new Set<string>(['adminPassword', 'adminToken', 'secretKey']);

const toKebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const toEnv = (k: string) => `HANGAR_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Parses `--key value` / `--key=value` / `--flag` pairs; unknown flags are reported, not ignored. */
export function parseFlags(argv: string[]): { values: ConfigInput; configFile?: string; problems: string[] } {
  const byFlag = new Map(KEYS.map((k) => [toKebab(k), k]));
  const values: ConfigInput = {};
  const problems: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i];
    if (name === 'config') {
      configFile = value;
      continue;
    }
    const key = byFlag.get(name);
    if (!key) {
      problems.push(`--${name}: unknown option`);
      continue;
    }
    values[key] = value ?? 'true';
  }
  return { values, configFile, problems };
}

/** Env strings and flags arrive as text; coerce toward the schema's type so validation can judge them. */
function coerce(input: ConfigInput): ConfigInput {
  const out: ConfigInput = {};
  for (const [k, v] of Object.entries(input) as [keyof Config, unknown][]) {
    const kind = (ConfigSchema.properties[k] as { type?: string }).type;
    if (typeof v === 'string' && kind === 'integer' && /^-?\d+$/.test(v.trim())) out[k] = Number(v);
    else if (typeof v === 'string' && kind === 'boolean' && /^(true|false|1|0)$/.test(v))
      out[k] = v === 'true' || v === '1';
    else out[k] = v;
  }
  return out;
}

export interface LoadConfigOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigInput;
}

/**
 * Builds the configuration from defaults, an optional JSON file (`--config F` or `HANGAR_CONFIG`),
 * `HANGAR_*` variables and flags, then validates it once. Throws a {@link ConfigError} that lists
 * every bad key and where it came from; never returns a partially valid config.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const flags = parseFlags(options.argv ?? []);
  const problems = [...flags.problems];
  const sources: [string, ConfigInput][] = [];

  const file = flags.configFile ?? env.HANGAR_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      const known: ConfigInput = {};
      for (const [k, v] of Object.entries(parsed)) {
        if ((KEYS as string[]).includes(k)) known[k as keyof Config] = v;
        else problems.push(`${file}: unknown key "${k}"`);
      }
      sources.push([file, known]);
    } catch (err) {
      problems.push(`config file ${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: ConfigInput = {};
  for (const k of KEYS) if (env[toEnv(k)] !== undefined) fromEnv[k] = env[toEnv(k)];
  sources.push(['env', fromEnv], ['flags', flags.values], ['overrides', options.overrides ?? {}]);

  const merged: ConfigInput = {};
  const origin = new Map<string, string>();
  for (const [name, values] of sources) {
    for (const [k, v] of Object.entries(coerce(values))) {
      merged[k as keyof Config] = v;
      origin.set(k, name === 'env' ? toEnv(k) : name === 'flags' ? `--${toKebab(k)}` : name);
    }
  }
  // The data dir decides the defaults of the paths under it, so resolve it first.
  const dataDir = typeof merged.dataDir === 'string' && merged.dataDir ? merged.dataDir : '.hangar';
  const candidate = { ...defaultConfig(dataDir), ...merged } as Record<string, unknown>;
  if (typeof candidate.dataDir === 'string') candidate.dataDir = path.resolve(candidate.dataDir);

  for (const e of Value.Errors(ConfigSchema, candidate)) {
    const key = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (!key) continue;
    const from = origin.get(key);
    const got = SECRET_KEYS.has(key) ? '(value hidden)' : JSON.stringify(e.value);
    problems.push(`${key}${from ? ` (from ${from})` : ''}: ${e.message}; got ${got}`);
  }
  if ((candidate.tlsCert === undefined) !== (candidate.tlsKey === undefined)) {
    problems.push('tlsCert and tlsKey: give both (HTTPS) or neither (HTTP)');
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return candidate as Config;
}

export function hasRole(config: Pick<Config, 'role'>, role: Exclude<Role, 'all'>): boolean {
  return config.role === 'all' || config.role === role;
}
