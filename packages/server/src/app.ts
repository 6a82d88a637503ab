import './core/fastify-types.js';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifySwagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { hasRole, type Config } from './config/config.js';
import { authenticationRequired } from './core/auth.js';
import { systemClock, type Clock } from './core/clock.js';
import { ErrorBodySchema, toHttpError } from './core/http-errors.js';
import { validatorCompiler } from './core/validation.js';
import { createMetrics } from './core/metrics.js';
import { openDatabase, type Database } from './db/database.js';
import { execHandler, noopHandler } from './jobs/builtin-handlers.js';
import { LocalProcessExecutor, PythonEnvManager } from './jobs/executor/index.js';
import type { Executor } from './jobs/executor/types.js';
import { JobHandlerRegistry } from './jobs/job-handler.js';
import { JobStore } from './jobs/job-store.js';
import { Worker } from './jobs/worker.js';
import { identityRoutes } from './modules/identity/routes.js';
import { IdentityService, type BootstrapResult } from './modules/identity/service.js';
import { SqlIdentityStore } from './modules/identity/store.js';
import { jobRoutes } from './modules/jobs/routes.js';
import { JobService } from './modules/jobs/service.js';
import { systemRoutes } from './modules/system/routes.js';
import { VERSION } from './version.js';

export interface BuildOptions {
  clock?: Clock;
  /** Use this logger instead of building one from the config (tests pass a silent one). */
  logger?: FastifyBaseLogger;
  /** Extra job handlers (tests, later modules). */
  handlers?: JobHandlerRegistry;
  /** Where the built portal lives; defaults to packages/web/dist beside this package. */
  portalDir?: string;
  workerBackoffMs?: { base: number; max: number };
}

export interface HangarApp {
  http: FastifyInstance;
  database: Database;
  worker: Worker | null;
  identity: IdentityService;
  jobs: JobService;
  bootstrap: BootstrapResult;
  /** Starts background roles (the worker); call after listening. */
  start(): void;
  /** Stops the worker (grace period), the HTTP server and the store, in that order. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Paths that are never portal routes, so a typo there stays a JSON 404. */
const API_PREFIX = /^\/(api|v1|v2|metrics|healthz|readyz|version|openapi\.json)(\/|\?|$)/;

/**
 * Serves the built portal: hashed assets cached for a year (their names change with their content),
 * the HTML shell never cached, so a deploy is picked up on the next load.
 */
async function registerPortal(http: FastifyInstance, portalDir: string): Promise<void> {
  await http.register(async (scope) => {
    // The portal shell must load before anyone has logged in.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), public: true } as never;
    });
    await scope.register(fastifyStatic, {
      root: portalDir,
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (res, file) => {
        res.setHeader('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    });
  });
}

/**
 * Wires every module for the given configuration: opens and migrates the store, bootstraps the first
 * admin, registers the routes of the configured roles and creates (but does not start) the worker.
 * Does not listen; `main.ts` does, and tests use `http.inject()`.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<HangarApp> {
  const clock = options.clock ?? systemClock;
  const database = await openDatabase({
    url: config.db,
    sqliteSynchronous: config.sqliteSynchronous,
    statementTimeoutMs: config.requestTimeoutMs,
  });
  try {
    await database.migrate();
    return await wire(config, options, clock, database);
  } catch (err) {
    // Release the store (and the SQLite data-dir lock) when startup fails half-way.
    await database.close();
    throw err;
  }
}

async function wire(config: Config, options: BuildOptions, clock: Clock, database: Database): Promise<HangarApp> {
  let started = false;
  const http = Fastify({
    loggerInstance: options.logger,
    logger: options.logger ? undefined : { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    forceCloseConnections: 'idle',
    // We write one line per request ourselves (onResponse) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  http.setValidatorCompiler(validatorCompiler());
  // Declared up front so every request object has the same shape (assigning an undeclared property
  // per request changes V8's hidden class and slows every request).
  http.decorateRequest('auth', null);

  const portalDir = options.portalDir ?? path.resolve(import.meta.dirname, '../../web/dist');
  const portalIndex =
    hasRole(config, 'api') && existsSync(path.join(portalDir, 'index.html'))
      ? readFileSync(path.join(portalDir, 'index.html'))
      : null;
  const metrics = createMetrics();
  const identityStore = new SqlIdentityStore(database.db);
  const identity = new IdentityService(identityStore, clock, config.authCacheTtlMs);
  const bootstrap = await identity.bootstrap({ adminPassword: config.adminPassword, adminToken: config.adminToken });

  const jobStore = new JobStore(database.db, database.engine, clock);
  metrics.jobsByState(() => jobStore.countByState());
  const executors = new Map<string, Executor>([
    [
      'local',
      new LocalProcessExecutor({
        workRoot: path.join(config.dataDir, 'work'),
        pythonEnvs: new PythonEnvManager({ root: config.pythonEnvsDir ?? path.join(config.dataDir, 'python-envs') }),
        maxLogBytes: config.jobMaxLogBytes,
      }),
    ],
  ]);
  const handlers = options.handlers ?? new JobHandlerRegistry();
  handlers.register(noopHandler).register(execHandler(executors));
  const worker = hasRole(config, 'worker')
    ? new Worker({
        store: jobStore,
        handlers,
        logger: http.log,
        concurrency: config.workerConcurrency,
        pollMs: config.workerPollMs,
        leaseMs: config.jobLeaseMs,
        maxLogBytes: config.jobMaxLogBytes,
        baseBackoffMs: options.workerBackoffMs?.base,
        maxBackoffMs: options.workerBackoffMs?.max,
        onSettled: (j) => metrics.jobsSettled.inc({ kind: j.kind, outcome: j.type }),
      })
    : null;
  const jobs = new JobService(jobStore, handlers, clock, {
    enqueued: () => worker?.wake(),
    cancelRequested: (id) => worker?.cancelRequested(id),
  });

  // Callback-style hooks with a synchronous fast path: on a warm authentication cache a request
  // creates no promise here, which is measurable at tens of thousands of requests per second.
  http.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    const header = req.headers.authorization;
    // Public routes learn who calls when credentials are sent, but never fail because of them.
    const open = req.routeOptions.config.public === true || req.is404;
    req.auth = header ? identity.cachedAuth(header) : null;
    if (req.auth || (open && !header)) return done();
    // Authenticate at the edge so no body of an anonymous caller is parsed; services still authorize.
    if (!header) return done(authenticationRequired());
    identity.authenticate(header).then(
      (auth) => {
        req.auth = auth;
        done();
      },
      (err: Error) => (open ? done() : done(err)),
    );
  });
  const logRequests = ['info', 'debug', 'trace'].includes(http.log.level);
  http.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.observeHttp(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (logRequests) {
      req.log.info(
        { method: req.method, url: req.url, route, status: reply.statusCode, ms: reply.elapsedTime },
        'request',
      );
    }
    done();
  });
  http.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err, req.id);
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send(body);
  });
  http.setNotFoundHandler((req, reply) => {
    // Client-side routes of the portal (e.g. /jobs/123) load the shell; the SPA resolves them.
    if (
      portalIndex &&
      req.method === 'GET' &&
      !API_PREFIX.test(req.url) &&
      (req.headers.accept ?? '').includes('text/html')
    ) {
      return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(portalIndex);
    }
    return reply.code(404).send({
      error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, requestId: req.id },
    });
  });

  await http.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Hangar API', version: VERSION, description: 'Self-service MLOps platform' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (hgr_...)' },
          basic: { type: 'http', scheme: 'basic', description: 'username + password, or username + API token' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    // Shared schemas are named by their $id, so component names do not depend on registration order.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transform: ({ schema, url, route }) => {
      // Routes marked public need no credentials; say so in the spec. Every route may answer with
      // the one error shape; it is documented here rather than repeated in each route's schema.
      const isPublic = (route.config as { public?: boolean } | undefined)?.public;
      const documented = {
        ...schema,
        response: { ...(schema?.response as object), '4XX': ErrorBodySchema, '5XX': ErrorBodySchema },
      };
      return { schema: isPublic ? { ...documented, security: [] } : documented, url } as never;
    },
  });

  await http.register(
    systemRoutes(
      {
        database,
        metrics: metrics.registry,
        version: VERSION,
        roles: config.role === 'all' ? ['api', 'serving', 'worker'] : [config.role],
        isStarted: () => started,
        openapi: () => http.swagger(),
      },
      config.metricsPublic,
    ),
  );
  if (hasRole(config, 'api')) {
    await http.register(identityRoutes(identity));
    await http.register(jobRoutes(jobs));
    if (portalIndex) await registerPortal(http, portalDir);
  }

  const flushTimer = setInterval(
    () => void identity.flushTokenUses().catch((err: unknown) => http.log.warn({ err }, 'token use flush failed')),
    10_000,
  );
  flushTimer.unref();

  let closing: Promise<void> | null = null;
  return {
    http,
    database,
    worker,
    identity,
    jobs,
    bootstrap,
    start() {
      worker?.start();
      started = true;
    },
    close() {
      closing ??= (async () => {
        started = false;
        clearInterval(flushTimer);
        await worker?.stop(config.shutdownGraceMs);
        await http.close();
        await identity.flushTokenUses().catch(() => {});
        await database.close();
      })();
      return closing;
    },
  };
}
