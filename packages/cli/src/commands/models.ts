import type { GetLineageResponse, LineageNode, ModelVersion, RegisteredModel, Release } from '@hangar/sdk';
import { Option, type Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, cell, formatKeyValues, formatTable, formatTime } from '../output.js';
import { collectPages } from '../paging.js';

export const RELEASE_STATUSES = [
  'gate',
  'approval',
  'approved',
  'deploying',
  'done',
  'rejected',
  'blocked',
  'rolled_back',
  'cancelled',
] as const satisfies readonly Release['status'][];
export const ENVIRONMENTS = ['staging', 'production'] as const satisfies readonly Release['environment'][];
export const DIRECTIONS = ['upstream', 'downstream', 'both'] as const;

interface ProjectFlags extends GlobalFlags {
  project: string;
}

/** Every page of an MLflow-style listing (pageToken / nextPageToken), or the first `max` items. */
async function tokenPages<T>(
  fetchPage: (pageToken: string | undefined) => Promise<{ items: T[]; nextPageToken: string | null }>,
  opts: { all: boolean },
): Promise<{ items: T[]; nextPageToken: string | null }> {
  const items: T[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.nextPageToken ?? undefined;
    // A server that hands back the same token twice would keep us here forever.
    if (token !== undefined) {
      if (seen.has(token)) throw new CliError(`the server returned page token ${token} twice`);
      seen.add(token);
    }
  } while (opts.all && token);
  return { items, nextPageToken: token ?? null };
}

/** A version number argument: a whole number from 1. */
function versionNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`version must be a whole number from 1, not ${JSON.stringify(value)}`);
  }
  return n;
}

const gateOf = (v: ModelVersion) => (v.gate ? `${v.gate.status}${v.gate.overridden ? ' (overridden)' : ''}` : null);
const aliasesOf = (v: ModelVersion) => (v.aliases.length ? v.aliases.join(',') : null);

// ---- list, versions ----

export interface ModelsListFlags extends ProjectFlags {
  filter?: string;
  maxResults?: number;
  all?: boolean;
}

/** `hangar models list`: a project's registered models, filtered with MLflow's grammar. */
export async function listModels(ctx: CliContext, flags: ModelsListFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await tokenPages(
    (pageToken) =>
      client.listRegisteredModels({
        project: flags.project,
        ...(flags.filter ? { filter: flags.filter } : {}),
        maxResults: flags.maxResults ?? (flags.all ? 1000 : 100),
        ...(pageToken ? { pageToken } : {}),
      }),
    { all: flags.all === true },
  );
  const out = new Output(ctx, flags.json === true);
  out.result(r, () =>
    r.items.length === 0
      ? `No registered models in ${flags.project}${flags.filter ? ' match' : ''}.\n`
      : formatTable(
          ['name', 'risk', 'owner', 'aliases', 'latest', 'updated'],
          r.items.map((m: RegisteredModel) => [
            m.name,
            m.riskTier,
            m.ownerTeam,
            m.aliases.map((a) => `${a.alias}=v${a.version}`).join(',') || null,
            m.latestVersions.map((v) => `v${v.version}${v.stage === 'None' ? '' : ` ${v.stage}`}`).join(', ') || null,
            formatTime(m.updatedAt),
          ]),
        ),
  );
  if (r.nextPageToken && !out.json) out.note(`(${r.items.length} shown; more with --all)`);
}

export interface VersionsFlags extends ProjectFlags {
  maxResults?: number;
  all?: boolean;
}

/** `hangar models versions <name>`: a model's versions, newest first, with stage, aliases and gate. */
export async function listVersions(ctx: CliContext, name: string, flags: VersionsFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await tokenPages(
    (pageToken) =>
      client.listModelVersions({
        project: flags.project,
        name,
        maxResults: flags.maxResults ?? (flags.all ? 1000 : 100),
        ...(pageToken ? { pageToken } : {}),
      }),
    { all: flags.all === true },
  );
  const out = new Output(ctx, flags.json === true);
  out.result(r, () =>
    r.items.length === 0
      ? `Model ${name} has no versions.\n`
      : formatTable(
          ['version', 'stage', 'aliases', 'gate', 'created', 'source'],
          r.items.map((v) => [v.version, v.stage, aliasesOf(v), gateOf(v), formatTime(v.createdAt), v.source]),
        ),
  );
  if (r.nextPageToken && !out.json) out.note(`(${r.items.length} shown; more with --all)`);
}

// ---- alias ----

/** `hangar models alias <name> <alias> <version>` or `... <alias> --delete`. */
export async function alias(
  ctx: CliContext,
  name: string,
  aliasName: string,
  version: string | undefined,
  flags: ProjectFlags & { delete?: boolean },
): Promise<void> {
  if (flags.delete && version !== undefined)
    throw new UsageError('give a version to set the alias, or --delete, not both');
  if (!flags.delete && version === undefined) {
    throw new UsageError('say which version the alias points to (hangar models alias NAME ALIAS VERSION), or --delete');
  }
  const { client } = resolveConnection(flags, ctx.env);
  const out = new Output(ctx, flags.json === true);
  if (flags.delete) {
    await client.deleteModelAlias({ project: flags.project, name, alias: aliasName });
    out.result({ model: name, alias: aliasName, deleted: true }, () => `Deleted alias ${aliasName} of ${name}.\n`);
    return;
  }
  const n = versionNumber(version!);
  const m = await client.setModelAlias({ project: flags.project, name, alias: aliasName, body: { version: n } });
  out.result(m, () => `${name}@${aliasName} -> version ${n}\n`);
}

// ---- lineage ----

export interface LineageFlags extends ProjectFlags {
  direction?: (typeof DIRECTIONS)[number];
  depth?: number;
  maxNodes?: number;
}

/** The few facts worth a glance, per kind of node. */
function factsOf(n: LineageNode): string {
  const a = n.attributes;
  const parts: string[] = [];
  const add = (label: string, v: unknown) => {
    if (v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) {
      parts.push(`${label}${label ? ' ' : ''}${cell(Array.isArray(v) ? v.join(',') : v)}`);
    }
  };
  switch (n.kind) {
    case 'dataset':
      add('digest', a.digest);
      break;
    case 'run':
      add('', a.status);
      add('commit', typeof a.codeCommit === 'string' ? a.codeCommit.slice(0, 12) : null);
      add('params', a.paramsCount);
      break;
    case 'logged_model':
      add('', a.status);
      break;
    case 'model_version':
      add('stage', a.stage);
      add('aliases', a.aliases);
      add('gate', a.gateStatus);
      add('checksum', typeof a.checksum === 'string' ? `${a.checksum.slice(0, 19)}…` : null);
      break;
    case 'release':
      add('', a.environment);
      add('', a.status);
      break;
    case 'deployment':
      add('', a.environment);
      add('', a.status);
      add('traffic', a.traffic);
      break;
  }
  return parts.join(', ');
}

/**
 * The graph as indented trees for people: the root, then what it came from (upstream, `<-`) and
 * what came from it (downstream, `->`), one line per link with its relation. A node reached twice
 * is printed again with "(see above)" and not expanded again.
 */
export function formatLineage(g: GetLineageResponse): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const describe = (id: string) => {
    const n = byId.get(id);
    if (!n) return id;
    const facts = factsOf(n);
    return `${cell(n.label)}  [${cell(n.id)}]${facts ? `  ${facts}` : ''}`;
  };
  const lines = [describe(g.root)];
  for (const dir of ['upstream', 'downstream'] as const) {
    const children = (id: string) =>
      g.edges.filter((e) => (dir === 'upstream' ? e.to === id : e.from === id) && e.from !== e.to);
    if (children(g.root).length === 0) continue;
    lines.push(dir === 'upstream' ? 'upstream (what it came from):' : 'downstream (what came from it):');
    const shown = new Set([g.root]);
    const walk = (id: string, indent: string) => {
      for (const e of children(id)) {
        const next = dir === 'upstream' ? e.from : e.to;
        const arrow = dir === 'upstream' ? '<-' : '->';
        const relation = `${e.relation}${e.context ? ` (${cell(e.context)})` : ''}`;
        const again = shown.has(next);
        lines.push(`${indent}${arrow} ${relation}: ${describe(next)}${again ? '  (see above)' : ''}`);
        if (!again) {
          shown.add(next);
          walk(next, `${indent}   `);
        }
      }
    };
    walk(g.root, '  ');
  }
  return `${lines.join('\n')}\n`;
}

/** `hangar models lineage <name> <version>`: where a version came from and where it went. */
export async function lineage(ctx: CliContext, name: string, version: string, flags: LineageFlags): Promise<void> {
  const n = versionNumber(version);
  const { client } = resolveConnection(flags, ctx.env);
  const g = await client.getLineage({
    project: flags.project,
    node: `model_version:${name}/${n}`,
    ...(flags.direction ? { direction: flags.direction } : {}),
    ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
    ...(flags.maxNodes !== undefined ? { maxNodes: flags.maxNodes } : {}),
  });
  const out = new Output(ctx, flags.json === true);
  out.result(g, () => formatLineage(g));
  if (g.truncated && !out.json) out.note(`(truncated at ${g.nodes.length} nodes; narrow --depth or raise --max-nodes)`);
}

// ---- releases ----

function describeRelease(r: Release & { gate?: { status: string } | null }): string {
  return formatKeyValues([
    ['release', r.id],
    ['model', `${r.model} v${r.version}`],
    ['environment', r.environment],
    ['status', r.status],
    ['requested by', r.requestedBy],
    ['note', r.note],
    ...(r.gate !== undefined ? ([['gate', r.gate ? r.gate.status : null]] as [string, unknown][]) : []),
    ...(r.decision
      ? ([
          ['decision', `${r.decision.decision} by ${r.decision.by} ${formatTime(r.decision.at)}`],
          ['reason', r.decision.reason],
        ] as [string, unknown][])
      : []),
    ['created', formatTime(r.createdAt)],
  ]);
}

/** `hangar models promote <name> <version> --to staging|production`: requests a release. */
export async function promote(
  ctx: CliContext,
  name: string,
  version: string,
  flags: ProjectFlags & { to: Release['environment']; note?: string },
): Promise<void> {
  const n = versionNumber(version);
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.requestRelease({
    project: flags.project,
    name,
    version: n,
    body: { environment: flags.to, ...(flags.note !== undefined ? { note: flags.note } : {}) },
  });
  new Output(ctx, flags.json === true).result(r, () => describeRelease(r));
}

/** `hangar models approve <release id>` (maintainers other than the requester). */
export async function approve(ctx: CliContext, id: string, flags: ProjectFlags & { reason?: string }): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.approveRelease({
    project: flags.project,
    id,
    body: flags.reason !== undefined ? { reason: flags.reason } : {},
  });
  new Output(ctx, flags.json === true).result(r, () => describeRelease(r));
}

/** `hangar models reject <release id> --reason R` (maintainers other than the requester). */
export async function reject(ctx: CliContext, id: string, flags: ProjectFlags & { reason: string }): Promise<void> {
  if (flags.reason.trim() === '') throw new UsageError('a rejection needs a reason (--reason)');
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.rejectRelease({ project: flags.project, id, body: { reason: flags.reason } });
  new Output(ctx, flags.json === true).result(r, () => describeRelease(r));
}

export interface ReleasesFlags extends ProjectFlags {
  status?: Release['status'];
  model?: string;
  environment?: Release['environment'];
  limit?: number;
  all?: boolean;
}

/** `hangar models releases [--status approval]`: releases of a project (the approval queue). */
export async function listReleases(ctx: CliContext, flags: ReleasesFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items, nextCursor } = await collectPages(
    (cursor, limit) =>
      client.listReleases({
        project: flags.project,
        ...(flags.status ? { status: flags.status } : {}),
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.environment ? { environment: flags.environment } : {}),
        limit,
        ...(cursor ? { cursor } : {}),
      }),
    { max: flags.all ? Number.MAX_SAFE_INTEGER : (flags.limit ?? 50), pageSize: 500 },
  );
  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextCursor: nextCursor ?? null }, () =>
    items.length === 0
      ? `No releases${flags.status ? ` in status ${flags.status}` : ''}.\n`
      : formatTable(
          ['id', 'model', 'version', 'environment', 'status', 'requested by', 'created'],
          items.map((r) => [r.id, r.model, r.version, r.environment, r.status, r.requestedBy, formatTime(r.createdAt)]),
        ),
  );
  if (nextCursor && !out.json) out.note(`(${items.length} shown; more with --all)`);
}

// ---- registration ----

const projectOption = () => new Option('-p, --project <project>', 'the project (default: default)').default('default');

/** Registers `hangar models ...`. */
export function registerModelCommands(program: Command, ctx: CliContext): void {
  const models = program
    .command('models')
    .description('registered models: list, versions, aliases, lineage, promotion and approvals');

  withGlobalOptions(
    models
      .command('list')
      .description("a project's registered models")
      .addOption(projectOption())
      .option('-f, --filter <expr>', 'MLflow filter, e.g. "name LIKE \'churn%\'" or "tags.team = \'risk\'"')
      .option('-n, --max-results <n>', 'models per page (default 100)', positiveInt(1000))
      .option('--all', 'fetch every page'),
  ).action(async (_opts: unknown, cmd: Command) => listModels(ctx, flagsOf<ModelsListFlags>(cmd)));

  withGlobalOptions(
    models
      .command('versions')
      .description("a model's versions, newest first: stage, aliases, gate result, source")
      .argument('<name>', 'the registered model')
      .addOption(projectOption())
      .option('-n, --max-results <n>', 'versions per page (default 100)', positiveInt(1000))
      .option('--all', 'fetch every page'),
  ).action(async (name: string, _opts: unknown, cmd: Command) => listVersions(ctx, name, flagsOf<VersionsFlags>(cmd)));

  withGlobalOptions(
    models
      .command('alias')
      .description('point an alias (e.g. champion) at a version, or delete it with --delete')
      .argument('<name>', 'the registered model')
      .argument('<alias>', 'the alias')
      .argument('[version]', 'the version it points to')
      .addOption(projectOption())
      .option('--delete', 'delete the alias'),
  ).action(async (name: string, a: string, version: string | undefined, _opts: unknown, cmd: Command) =>
    alias(ctx, name, a, version, flagsOf<ProjectFlags & { delete?: boolean }>(cmd)),
  );

  withGlobalOptions(
    models
      .command('lineage')
      .description("a version's lineage: datasets, runs, logged models, copies, releases, deployments")
      .argument('<name>', 'the registered model')
      .argument('<version>', 'the version number')
      .addOption(projectOption())
      .addOption(new Option('--direction <direction>', 'which way to walk').choices(DIRECTIONS).default('both'))
      .option('--depth <n>', 'links deep (default 3, at most 10)', positiveInt(10))
      .option('--max-nodes <n>', 'at most this many nodes (default and at most 500)', positiveInt(500)),
  ).action(async (name: string, version: string, _opts: unknown, cmd: Command) =>
    lineage(ctx, name, version, flagsOf<LineageFlags>(cmd)),
  );

  withGlobalOptions(
    models
      .command('promote')
      .description('request a release of a version to an environment (it passes the gate, then approval if needed)')
      .argument('<name>', 'the registered model')
      .argument('<version>', 'the version number')
      .addOption(projectOption())
      .addOption(new Option('--to <environment>', 'the target environment').choices(ENVIRONMENTS).makeOptionMandatory())
      .option('--note <text>', 'why, for the approver'),
  ).action(async (name: string, version: string, _opts: unknown, cmd: Command) =>
    promote(ctx, name, version, flagsOf<ProjectFlags & { to: Release['environment']; note?: string }>(cmd)),
  );

  withGlobalOptions(
    models
      .command('approve')
      .description('approve a release waiting for approval (maintainers; not the requester)')
      .argument('<release-id>', 'the release')
      .addOption(projectOption())
      .option('--reason <text>', 'why'),
  ).action(async (id: string, _opts: unknown, cmd: Command) =>
    approve(ctx, id, flagsOf<ProjectFlags & { reason?: string }>(cmd)),
  );

  withGlobalOptions(
    models
      .command('reject')
      .description('reject a release waiting for approval (maintainers; not the requester)')
      .argument('<release-id>', 'the release')
      .addOption(projectOption())
      .requiredOption('--reason <text>', 'why (required)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) =>
    reject(ctx, id, flagsOf<ProjectFlags & { reason: string }>(cmd)),
  );

  withGlobalOptions(
    models
      .command('releases')
      .description('releases of a project, newest first; --status approval is the approval queue')
      .addOption(projectOption())
      .addOption(new Option('--status <status>', 'only releases in this status').choices(RELEASE_STATUSES))
      .option('--model <name>', 'only releases of this model')
      .addOption(new Option('--environment <environment>', 'only this environment').choices(ENVIRONMENTS))
      .option('--limit <n>', 'show at most n releases (default 50)', positiveInt(100_000))
      .option('--all', 'show every release'),
  ).action(async (_opts: unknown, cmd: Command) => listReleases(ctx, flagsOf<ReleasesFlags>(cmd)));
}
