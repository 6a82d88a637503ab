import './core/fastify-types.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifySwagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type HookHandlerDoneFunction,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify';

import { hasRole, type Config } from './config/config.js';
import { authenticationRequired, type Caller } from './core/auth.js';
import { systemClock, type Clock } from './core/clock.js';
import { ForbiddenError, TooManyRequestsError } from './core/errors.js';
import { newUuidV7 } from './core/ids.js';
import { closeInactiveSockets } from './core/inactive-sockets.js';
import { lazySerializers } from './core/lazy-serializers.js';
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
import { AuditLog } from './modules/audit/log.js';
import { auditRoutes } from './modules/audit/routes.js';
import { AuditService } from './modules/audit/service.js';
import { AuditStore } from './modules/audit/store.js';
import { Authenticator, type SessionAuth } from './modules/identity/authenticator.js';
import { bootstrapStore, type BootstrapResult } from './modules/identity/bootstrap.js';
import { readCookie, SESSION_COOKIE } from './modules/identity/credentials.js';
import { LoginThrottle } from './modules/identity/login-throttle.js';
import { identityRoutes } from './modules/identity/routes.js';
import { csrfMatches, SessionsService } from './modules/identity/sessions-service.js';
import { IdentityStore } from './modules/identity/store.js';
import { TokensService } from './modules/identity/tokens-service.js';
import { UsersService } from './modules/identity/users-service.js';
import { jobRoutes } from './modules/jobs/routes.js';
import { lineageRoutes } from './modules/lineage/routes.js';
import { LineageService } from './modules/lineage/service.js';
import { LineageStore } from './modules/lineage/store.js';
import { VersionReproducibilityService } from './modules/lineage/version-reproducibility.js';
import { mlflowArtifactRoutes } from './modules/mlflow/artifact-routes.js';
import { mlflowRegistryRoutes } from './modules/mlflow/registry-routes.js';
import { mlflowRoutes } from './modules/mlflow/routes.js';
import { AccessService } from './modules/projects/access.js';
import { projectRoutes } from './modules/projects/routes.js';
import { ProjectsService } from './modules/projects/service.js';
import { ProjectStore } from './modules/projects/store.js';
import { secretRoutes } from './modules/secrets/routes.js';
import { loadSecretKey, SecretBox } from './modules/secrets/secret-box.js';
import { SecretsService } from './modules/secrets/service.js';
import { SecretStore } from './modules/secrets/store.js';
import { teamRoutes } from './modules/teams/routes.js';
import { TeamsService } from './modules/teams/service.js';
import { TeamStore } from './modules/teams/store.js';
import { artifactRoutes } from './modules/artifacts/routes.js';
import { ArtifactsService } from './modules/artifacts/service.js';
import { datasetRoutes } from './modules/datasets/routes.js';
import { DatasetsService } from './modules/datasets/service.js';
import { DatasetStore } from './modules/datasets/store.js';
import { loggedModelRoutes } from './modules/logged-models/routes.js';
import { LoggedModelsService } from './modules/logged-models/service.js';
import { LoggedModelStore } from './modules/logged-models/store.js';
import { registryRoutes } from './modules/registry/routes.js';
import { RegistryService } from './modules/registry/service.js';
import { RegistryStore } from './modules/registry/store.js';
import { reproducibilityRoutes } from './modules/reproducibility/routes.js';
import { EventLog } from './modules/events/event-log.js';
import { gateHandler } from './modules/gates/handler.js';
import { gateRoutes } from './modules/gates/routes.js';
import { GatesService } from './modules/gates/service.js';
import { GateStore } from './modules/gates/store.js';
import { eventRoutes } from './modules/events/routes.js';
import { EventsService } from './modules/events/service.js';
import { EventStore } from './modules/events/store.js';
import { releaseRoutes } from './modules/releases/routes.js';
import { inferenceRoutes } from './modules/serving/inference-routes.js';
import { ServingPlane } from './modules/serving/plane.js';
import { PredictionLog } from './modules/serving/prediction-log.js';
import { storeSink, writerThreadSink } from './modules/serving/prediction-sink.js';
import { servingRoutes } from './modules/serving/routes.js';
import { ServingMetrics } from './modules/serving/serving-metrics.js';
import { ServingService } from './modules/serving/service.js';
import { DeploymentStore } from './modules/serving/store.js';
import { ArtifactVersionLoader } from './modules/serving/version-loader.js';
import { releaseDeployer, releaseDeployHandler } from './modules/serving/release-deployer.js';
import { BundlesService } from './modules/serving/bundles.js';
import { ConversionService, conversionHandler } from './modules/serving/conversion.js';
import { ReleasesService } from './modules/releases/service.js';
import { ReleaseStore } from './modules/releases/store.js';
import { webhookDeliveryHandler } from './modules/webhooks/delivery-handler.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { WebhooksService } from './modules/webhooks/service.js';
import { WebhookStore } from './modules/webhooks/store.js';
import { ReproducibilityService } from './modules/reproducibility/service.js';
import { trackingRoutes } from './modules/tracking/routes.js';
import { TrackingSearchService } from './modules/tracking/search-service.js';
import { TrackingService } from './modules/tracking/service.js';
import { TrackingStore } from './modules/tracking/store.js';
import { openArtifactStore } from './artifacts/index.js';
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

/** The services, for tests and embedding; HTTP routes are thin wrappers over these. */
export interface Services {
  authenticator: Authenticator;
  access: AccessService;
  audit: AuditLog;
  users: UsersService;
  tokens: TokensService;
  sessions: SessionsService;
  teams: TeamsService;
  projects: ProjectsService;
  secrets: SecretsService;
  auditQueries: AuditService;
  tracking: TrackingService;
  trackingSearch: TrackingSearchService;
  artifacts: ArtifactsService;
  loggedModels: LoggedModelsService;
  datasets: DatasetsService;
  registry: RegistryService;
  /** Evaluation specs and gates; `gates.setListener(...)` wires who hears of settled gates. */
  gates: GatesService;
  jobs: JobService;
  /** The domain event log (EventSink) every module emits into, inside its own transactions. */
  eventLog: EventLog;
  events: EventsService;
  releases: ReleasesService;
  webhooks: WebhooksService;
  /** Deployments and rollouts (the control plane of serving). */
  serving: ServingService;
  /** This process's inference data plane; null without the serving role. */
  plane: ServingPlane | null;
}

export interface HangarApp {
  http: FastifyInstance;
  database: Database;
  worker: Worker | null;
  services: Services;
  bootstrap: BootstrapResult;
  /** Compiles every response serializer now (each compiles on its route's first answer); returns how many. */
  compileSerializers(): number;
  /** Starts background roles (the worker); call after listening. */
  start(): void;
  /** Stops the worker (grace period), the HTTP server and the store, in that order. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function logsRequests(level: string, given: FastifyBaseLogger | undefined): boolean {
  return ['info', 'debug', 'trace'].includes(given?.level ?? level);
}
type HookDone = HookHandlerDoneFunction;
/** A route's hooks option as a list (Fastify accepts one function or an array). */
const hooksOf = <T>(h: T | T[] | undefined): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

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
  const tls =
    config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const perRequestLoggers = logsRequests(config.logLevel, options.logger);
  const serializers = lazySerializers();
  const http = Fastify({
    ...(tls ? { https: tls } : {}),
    loggerInstance: options.logger,
    logger: options.logger ? undefined : { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    // Path parameters carry registered model names: up to 256 characters, percent-encoded.
    routerOptions: { maxParamLength: 4096 },
    requestTimeout: config.requestTimeoutMs,
    // Silent connections are closed by closeInactiveSockets below, not by connectionTimeout.
    forceCloseConnections: 'idle',
    // We write one line per request ourselves (onResponse) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A per-request child logger (bound to the request id) is only worth its cost when requests
    // are logged; otherwise req.log is the server's logger and errors name their request id.
    childLoggerFactory: (logger, bindings, opts) => (perRequestLoggers ? logger.child(bindings, opts) : logger),
    return503OnClosing: true,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    schemaController: { compilersFactory: { buildSerializer: serializers.factory } },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newUuidV7();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  http.setValidatorCompiler(validatorCompiler());
  // Silent connections, idle keep-alives included, are closed by one sweep. Node's keepAliveTimeout
  // would arm a timer after each answer and clear it at the next request; Fastify reads a 0 in its
  // options as "use the default", so it is switched off on the server itself.
  const stopSocketSweep = closeInactiveSockets(http.server, config.requestTimeoutMs);
  http.server.keepAliveTimeout = 0;
  // Declared up front so every request object has the same shape (assigning an undeclared property
  // per request changes V8's hidden class and slows every request).
  http.decorateRequest('auth', null);

  const portalDir = options.portalDir ?? path.resolve(import.meta.dirname, '../../web/dist');
  const portalIndex =
    hasRole(config, 'api') && existsSync(path.join(portalDir, 'index.html'))
      ? readFileSync(path.join(portalDir, 'index.html'))
      : null;
  const metrics = createMetrics();
  const identityStore = new IdentityStore(database.db);
  const projectStore = new ProjectStore(database.db);
  const teamStore = new TeamStore(database.db);
  const audit = new AuditLog(database.db, new AuditStore(database.db, database.engine), clock, http.log);
  const authenticator = new Authenticator(identityStore, new LoginThrottle(clock), clock, config.authCacheTtlMs);
  const access = new AccessService(projectStore, audit, clock, config.authCacheTtlMs);
  const bootstrap = await bootstrapStore(identityStore, clock, {
    adminPassword: config.adminPassword,
    adminToken: config.adminToken,
  });
  const secretBox = new SecretBox(loadSecretKey(config.secretKey, config.dataDir));

  const jobStore = new JobStore(database.db, database.engine, clock);
  metrics.jobsByState(() => jobStore.countByState());
  // One manager for jobs and gates: both build venvs in the same cache, keyed by requirements.
  const pythonEnvs = new PythonEnvManager({ root: config.pythonEnvsDir ?? path.join(config.dataDir, 'python-envs') });
  const executors = new Map<string, Executor>([
    [
      'local',
      new LocalProcessExecutor({
        workRoot: path.join(config.dataDir, 'work'),
        pythonEnvs,
        maxLogBytes: config.jobMaxLogBytes,
      }),
    ],
  ]);
  const handlers = options.handlers ?? new JobHandlerRegistry();
  handlers.register(noopHandler).register(execHandler(executors));
  const webhooks = new WebhooksService(new WebhookStore(database.db), secretBox, access, audit, clock, {
    allowPrivateTargets: config.webhooksAllowPrivateTargets,
  });
  handlers.register(webhookDeliveryHandler(webhooks));
  // Deliveries are enqueued in the emitter's transaction; nudge this process's worker soon after.
  const eventLog = new EventLog(database.db, jobStore, clock, () => setTimeout(() => worker?.wake(), 20).unref());
  const releases = new ReleasesService(
    new ReleaseStore(database.db, database.engine),
    access,
    audit,
    eventLog,
    clock,
    http.log,
  );
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
  const trackingStore = new TrackingStore(database.db);
  const tracking = new TrackingService(trackingStore, projectStore, access, audit, clock);
  const artifactStore = await openArtifactStore(config.artifacts);
  const artifacts = new ArtifactsService(artifactStore, tracking, audit);
  const loggedModels = new LoggedModelsService(
    new LoggedModelStore(database.db, database.engine),
    tracking,
    audit,
    clock,
  );
  artifacts.setOwners({ loggedModelExperiment: (id) => loggedModels.experimentOf(id) });
  const datasets = new DatasetsService(
    new DatasetStore(database.db, database.engine),
    tracking,
    artifacts,
    access,
    audit,
    clock,
  );
  const registryStore = new RegistryStore(database.db, database.engine);
  const gateStore = new GateStore(database.db);
  const gates = new GatesService({
    db: database.db,
    store: gateStore,
    registry: registryStore,
    access,
    datasets,
    audit,
    jobs: jobStore,
    events: eventLog,
    clock,
    wake: () => worker?.wake(),
    onListenerError: (err) => http.log.error({ err }, 'a gate listener failed'),
  });
  handlers.register(
    gateHandler({
      gates,
      store: gateStore,
      artifacts: artifactStore,
      pythonEnvs,
      workRoot: path.join(config.dataDir, 'work', 'gates'),
    }),
  );
  // Settled gates advance the releases waiting on them.
  gates.setListener(releases);
  const deploymentStore = new DeploymentStore(database.db);
  const servingMetrics = new ServingMetrics(metrics.registry);
  const newPlane = () =>
    new ServingPlane(
      deploymentStore,
      new ArtifactVersionLoader({
        artifacts: artifactStore,
        pythonEnvs,
        workRoot: path.join(config.dataDir, 'work', 'serving'),
        log: (msg, details) => http.log.info(details, msg),
      }),
      new PredictionLog(
        config.db === 'sqlite::memory:'
          ? storeSink(deploymentStore)
          : writerThreadSink(
              database.engine === 'sqlite'
                ? { engine: 'sqlite', file: config.db.slice('sqlite:'.length) }
                : { engine: 'postgres', url: config.db, statementTimeoutMs: config.requestTimeoutMs },
            ),
        http.log,
        { onDropped: (n) => servingMetrics.logDropped(n) },
      ),
      servingMetrics,
      clock,
      http.log,
      { pollMs: config.servingPollMs },
    );
  const plane = hasRole(config, 'serving') ? newPlane() : null;
  // A worker without the serving role runs the staging tests of releases on a plane of its own,
  // which loads only the deployment under test, and only for the test.
  const releasePlane = plane ?? (hasRole(config, 'worker') ? newPlane() : null);
  const serving = new ServingService({
    db: database.db,
    store: deploymentStore,
    access,
    audit,
    clock,
    logger: http.log,
    plane,
    allowPrivateTargets: config.servingAllowPrivateTargets,
  });
  // Approved releases deploy through serving; a release's canary reports its end back.
  if (config.releaseAutoDeploy) releases.setDeployer(releaseDeployer({ jobs: jobStore, wake: () => worker?.wake() }));
  serving.setReleaseListener((releaseId, outcome, reason) =>
    releases.deploymentStep(
      releaseId,
      outcome === 'promoted' ? 'done' : 'rolled_back',
      outcome === 'promoted' ? `canary promoted: ${reason}` : `canary aborted: ${reason}`,
    ),
  );
  handlers.register(
    releaseDeployHandler({
      releases,
      serving,
      store: deploymentStore,
      gates: gateStore,
      artifacts: artifactStore,
      plane: releasePlane,
      privatePlane: releasePlane !== null && releasePlane !== plane,
      jobs: jobStore,
      wake: () => worker?.wake(),
    }),
  );
  const services: Services = {
    authenticator,
    access,
    audit,
    users: new UsersService(identityStore, teamStore, authenticator, access, audit, clock, config.authCacheTtlMs),
    tokens: new TokensService(identityStore, authenticator, access, audit, clock),
    sessions: new SessionsService(identityStore, authenticator, audit, clock, config.sessionTtlMinutes * 60_000),
    teams: new TeamsService(teamStore, identityStore, access, audit, clock),
    projects: new ProjectsService(projectStore, teamStore, identityStore, access, audit, clock),
    secrets: new SecretsService(new SecretStore(database.db), secretBox, access, audit, clock),
    auditQueries: new AuditService(audit, access, projectStore),
    tracking,
    artifacts,
    loggedModels,
    datasets,
    registry: new RegistryService(
      registryStore,
      access,
      tracking,
      loggedModels,
      artifacts,
      audit,
      clock,
      eventLog,
      gates,
    ),
    gates,
    trackingSearch: new TrackingSearchService(
      database.db,
      database.engine,
      trackingStore,
      tracking,
      projectStore,
      access,
      datasets.searchCondition,
    ),
    jobs: new JobService(
      jobStore,
      handlers,
      clock,
      { enqueued: () => worker?.wake(), cancelRequested: (id) => worker?.cancelRequested(id) },
      audit,
      http.log,
    ),
    eventLog,
    events: new EventsService(new EventStore(database.db), access),
    releases,
    webhooks,
    serving,
    plane,
  };
  await services.tracking.ensureDefaultExperiment();
  const conversion = new ConversionService({
    db: database.db,
    store: deploymentStore,
    access,
    audit,
    jobs: jobStore,
    wake: () => worker?.wake(),
    registry: services.registry,
    gates: gateStore,
    artifacts: artifactStore,
    pythonEnvs,
    workRoot: path.join(config.dataDir, 'work', 'conversions'),
  });
  handlers.register(conversionHandler(conversion));

  /**
   * A browser session may act when the request cannot have been forged by another site: safe
   * methods always; others only with the session's CSRF token in x-csrf-token and, when the browser
   * says where the request comes from, from this origin.
   */
  const sessionMayAct = (req: FastifyRequest, s: SessionAuth): string | null => {
    if (SAFE_METHODS.has(req.method)) return null;
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        return 'the Origin header is malformed';
      }
      if (host !== req.host) return `cross-origin request from ${origin} refused`;
    }
    const given = req.headers['x-csrf-token'];
    return csrfMatches(s.csrf, typeof given === 'string' ? given : undefined)
      ? null
      : 'missing or wrong x-csrf-token header (read it from GET /api/v1/session)';
  };
  const callerFrom = (req: FastifyRequest, auth: Caller['auth']): Caller => ({ auth, requestId: req.id, ip: req.ip });

  // Callback-style hooks with a synchronous fast path: on a warm credential cache a request creates
  // no promise here, which is measurable at tens of thousands of requests per second.
  // Authentication happens at the edge so no body of an anonymous caller is parsed; services
  // still authorize every action themselves.
  const authenticate = (req: FastifyRequest, reply: FastifyReply, open: boolean, done: HookDone) => {
    reply.header('x-request-id', req.id);
    // Public routes learn who calls when credentials are sent, but never fail because of them.
    const header = req.headers.authorization;
    if (header) {
      req.auth = authenticator.cachedAuth(header);
      if (req.auth) return done();
      authenticator.authenticate(header, req.ip).then(
        (auth) => {
          req.auth = auth;
          done();
        },
        // A locked-out login stays an error even on public routes, so the client learns why.
        (err: Error) => (open && !(err instanceof TooManyRequestsError) ? done() : done(err)),
      );
      return;
    }
    const cookie = req.headers.cookie ? readCookie(req.headers.cookie, SESSION_COOKIE) : null;
    if (!cookie) return open ? done() : done(authenticationRequired());
    const accept = (s: SessionAuth | null) => {
      if (!s) return open ? done() : done(authenticationRequired());
      const refusal = sessionMayAct(req, s);
      if (refusal === null) {
        req.auth = s.auth;
        return done();
      }
      // On public routes (login, logout) the request goes on anonymously; nothing was refused.
      if (open) return done();
      audit.recordDenied(
        callerFrom(req, s.auth),
        'session.csrf',
        { type: 'route', name: `${req.method} ${req.url.split('?')[0]}` },
        refusal,
      );
      return done(new ForbiddenError(refusal));
    };
    const hit = authenticator.cachedSession(cookie);
    if (hit) return accept(hit);
    authenticator.session(cookie).then(accept, (err: Error) => done(err));
  };
  const logRequests = logsRequests(http.log.level, undefined);
  const observer = (route: string) => {
    const record = metrics.httpRoute(route);
    return (req: FastifyRequest, reply: FastifyReply) => {
      record(req.method, reply.statusCode, reply.elapsedTime / 1000);
      if (logRequests) {
        req.log.info(
          { method: req.method, url: req.url, route, status: reply.statusCode, ms: reply.elapsedTime },
          'request',
        );
      }
    };
  };
  // The hooks are attached to each route as it is declared, with what they need of the route
  // captured, rather than as global hooks reading request.routeOptions: that getter builds and
  // freezes a new object on every access, a measurable share of a cheap request's cost.
  http.addHook('onRoute', (route) => {
    // Read when a request comes: plugins declared later (the portal's) may still mark the route public.
    const auth: onRequestHookHandler = (req, reply, done) =>
      authenticate(req, reply, (route.config as { public?: boolean } | undefined)?.public === true, done);
    const observe = observer(route.url);
    const done: onResponseHookHandler = (req, reply, next) => {
      observe(req, reply);
      next();
    };
    route.onRequest = [auth, ...hooksOf(route.onRequest)];
    route.onResponse = [...hooksOf(route.onResponse), done];
  });
  // Requests that match no route (which no route hook sees) are served anonymously if need be; the
  // 404 handlers decide what to answer.
  http.addHook('onRequest', (req, reply, done) => (req.is404 ? authenticate(req, reply, true, done) : done()));
  const observeUnmatched = observer('unmatched');
  http.addHook('onResponse', (req, reply, done) => {
    if (req.is404) observeUnmatched(req, reply);
    done();
  });
  http.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err, req.id);
    if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
    if (status >= 500) req.log.error({ err, reqId: req.id }, 'request failed');
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
    const message = `no route ${req.method} ${req.url.split('?')[0]}`;
    // The Open Inference Protocol's error shape under its prefix: its clients read a string there.
    if (req.url.startsWith('/v2/')) return reply.code(404).send({ error: message });
    return reply.code(404).send({ error: { code: 'not_found', message, requestId: req.id } });
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
      const { public: isPublic, rawUpload } = (route.config ?? {}) as { public?: boolean; rawUpload?: boolean };
      const documented = {
        ...schema,
        ...(rawUpload ? { body: { type: 'string', format: 'binary' }, consumes: ['application/octet-stream'] } : {}),
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
    await http.register(
      identityRoutes({
        users: services.users,
        tokens: services.tokens,
        sessions: services.sessions,
        secureCookies: tls !== null,
      }),
    );
    await http.register(teamRoutes(services.teams));
    await http.register(projectRoutes(services.projects));
    await http.register(secretRoutes(services.secrets));
    await http.register(auditRoutes(services.auditQueries));
    await http.register(jobRoutes(services.jobs));
    await http.register(trackingRoutes(services.tracking, services.trackingSearch));
    await http.register(
      mlflowRoutes({
        tracking: services.tracking,
        search: services.trackingSearch,
        loggedModels: services.loggedModels,
        datasets: services.datasets,
      }),
    );
    await http.register(mlflowRegistryRoutes(services.registry));
    await http.register(registryRoutes(services.registry));
    await http.register(gateRoutes(services.gates));
    await http.register(releaseRoutes(services.releases));
    await http.register(
      servingRoutes(services.serving, new BundlesService(artifactStore, deploymentStore, access, audit), conversion),
    );
    await http.register(eventRoutes(services.events));
    await http.register(webhookRoutes(services.webhooks));
    await http.register(loggedModelRoutes(services.loggedModels));
    await http.register(datasetRoutes(services.datasets));
    await http.register(
      reproducibilityRoutes(
        new ReproducibilityService(services.tracking, services.datasets, services.loggedModels, services.artifacts),
      ),
    );
    {
      const lineageStore = new LineageStore(database.db);
      const lineage = new LineageService(lineageStore, services.access);
      const runRecords = new ReproducibilityService(
        services.tracking,
        services.datasets,
        services.loggedModels,
        services.artifacts,
      );
      await http.register(
        lineageRoutes(
          lineage,
          new VersionReproducibilityService(services.registry, runRecords, services.artifacts, lineage, lineageStore),
        ),
      );
    }
    await http.register(artifactRoutes(services.artifacts));
    await http.register(mlflowArtifactRoutes(services.artifacts));
    if (portalIndex) await registerPortal(http, portalDir);
  }

  if (plane) await http.register(inferenceRoutes({ plane, access, version: VERSION }));

  const flushTimer = setInterval(
    () => void authenticator.flushTokenUses().catch((err: unknown) => http.log.warn({ err }, 'token use flush failed')),
    10_000,
  );
  flushTimer.unref();

  // Releases whose gate settled while no listener heard it (a process stopped in between) move on.
  let releaseSweep: NodeJS.Timeout | null = null;
  // Canary steps are judged by the worker role; every change is compare-and-set, so replicas may race.
  let canaryTimer: NodeJS.Timeout | null = null;
  let closing: Promise<void> | null = null;
  return {
    http,
    database,
    worker,
    services,
    bootstrap,
    compileSerializers: () => serializers.compileAll(),
    start() {
      worker?.start();
      if (worker) {
        releaseSweep = setInterval(() => void releases.reconcile(), 30_000);
        releaseSweep.unref();
        canaryTimer = setInterval(
          () => void serving.tick().catch((err: unknown) => http.log.error({ err }, 'canary analysis failed')),
          500,
        );
        canaryTimer.unref();
      }
      plane?.start();
      if (hasRole(config, 'api')) audit.start();
      started = true;
    },
    close() {
      closing ??= (async () => {
        started = false;
        clearInterval(flushTimer);
        if (releaseSweep) clearInterval(releaseSweep);
        if (canaryTimer) clearInterval(canaryTimer);
        await worker?.stop(config.shutdownGraceMs);
        // The sweep goes on while requests drain: a silent client must not hold up the shutdown.
        await http.close();
        stopSocketSweep();
        await releasePlane?.close();
        await authenticator.flushTokenUses().catch(() => {});
        await audit.stop();
        await artifactStore.close();
        await database.close();
      })();
      return closing;
    },
  };
}
