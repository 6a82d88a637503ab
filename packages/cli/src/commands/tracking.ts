import type { Experiment, GetRunResponse, HangarClient, Run, SearchRunsBody } from '@hangar/sdk';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatDuration, formatKeyValues, formatTable } from '../output.js';

const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

function describeExperiment(e: Experiment): string {
  return formatKeyValues([
    ['id', e.experimentId],
    ['name', e.name],
    ['state', e.lifecycleStage],
    ['created', time(e.creationTime)],
    ['updated', time(e.lastUpdateTime)],
    ['artifacts', e.artifactLocation],
    ...e.tags.map((t): [string, unknown] => [`tag ${t.key}`, t.value]),
  ]);
}

function describeRun(r: GetRunResponse): string {
  const i = r.info;
  const head = formatKeyValues([
    ['run', i.runId],
    ['name', i.runName],
    ['experiment', i.experimentId],
    ['status', i.status],
    ['user', i.userId],
    ['started', time(i.startTime)],
    ['ended', time(i.endTime)],
    ['artifacts', i.artifactUri],
  ]);
  const section = (title: string, rows: unknown[][], headers: string[]) =>
    rows.length === 0 ? `${title}: none\n` : `${title}:\n${formatTable(headers, rows)}`;
  return [
    head,
    section(
      'params',
      r.data.params.map((p) => [p.key, p.value]),
      ['key', 'value'],
    ),
    section(
      'metrics (latest)',
      r.data.metrics.map((m) => [m.key, m.value, m.step]),
      ['key', 'value', 'step'],
    ),
    section(
      'tags',
      r.data.tags.map((t) => [t.key, t.value]),
      ['key', 'value'],
    ),
  ].join('\n');
}

/** `hangar experiments list --project P [--view active|deleted|all]`. */
export async function listExperiments(
  ctx: CliContext,
  flags: GlobalFlags & { project: string; view?: 'active' | 'deleted' | 'all' },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listExperiments({ project: flags.project, view: flags.view });
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? `No experiments in ${flags.project}.\n`
      : formatTable(
          ['id', 'name', 'state', 'created'],
          items.map((e) => [e.experimentId, e.name, e.lifecycleStage, time(e.creationTime)]),
        ),
  );
}

export async function getExperiment(ctx: CliContext, id: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const e = await client.getExperiment({ id });
  new Output(ctx, flags.json === true).result(e, () => describeExperiment(e));
}

export async function getRun(ctx: CliContext, id: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.getRun({ id });
  new Output(ctx, flags.json === true).result(r, () => describeRun(r));
}

/** The API's largest page of runs. */
const MAX_RUNS_PAGE = 50_000;
/** Experiments one search may cover (the API's limit). */
const MAX_SEARCH_EXPERIMENTS = 100;

const VIEWS = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' } as const;
type View = keyof typeof VIEWS;

/** A column of `runs list`: its header and how to get its cell from a run. */
export interface RunColumn {
  header: string;
  value: (run: Run) => unknown;
}

const ATTRIBUTE_COLUMNS: Record<string, RunColumn['value']> = {
  run: (r) => r.info.runId,
  name: (r) => r.info.runName,
  experiment: (r) => r.info.experimentId,
  status: (r) => r.info.status,
  user: (r) => r.info.userId,
  started: (r) => time(r.info.startTime),
  ended: (r) => time(r.info.endTime),
  duration: (r) => (r.info.endTime === null ? null : formatDuration(r.info.endTime - r.info.startTime)),
  lifecycle: (r) => r.info.lifecycleStage,
  artifacts: (r) => r.info.artifactUri,
};

/** MLflow's attribute names for the same columns, so `--columns run_id,start_time` works too. */
const ALIASES: Record<string, string> = {
  id: 'run',
  run_id: 'run',
  run_name: 'name',
  experiment_id: 'experiment',
  user_id: 'user',
  start_time: 'started',
  end_time: 'ended',
  lifecycle_stage: 'lifecycle',
  artifact_uri: 'artifacts',
};

export const DEFAULT_RUN_COLUMNS = ['run', 'name', 'experiment', 'status', 'started', 'duration'];

const DATA_PREFIXES = {
  params: 'params',
  param: 'params',
  metrics: 'metrics',
  metric: 'metrics',
  tags: 'tags',
  tag: 'tags',
} as const;

function dataValue(run: Run, kind: 'params' | 'metrics' | 'tags', key: string): unknown {
  if (kind === 'metrics') return run.data.metrics.find((m) => m.key === key)?.value;
  return run.data[kind].find((p) => p.key === key)?.value;
}

/**
 * The columns `--columns` names, against the runs they will show: attributes (`run`, `name`,
 * `experiment`, `status`, `user`, `started`, `ended`, `duration`, `lifecycle`, `artifacts`, or
 * MLflow's `run_id`, `start_time`, ...), `params.KEY`, `metrics.KEY`, `tags.KEY`, and
 * `params.*`, `metrics.*`, `tags.*` for every key any of the runs has. A list starting with `+`
 * adds to the default columns. Throws an InvalidArgumentError naming an unknown column.
 */
export function runColumns(spec: string | undefined, runs: Run[]): RunColumn[] {
  const raw = (spec ?? '').trim();
  const names = [
    ...(raw === '' || raw.startsWith('+') ? DEFAULT_RUN_COLUMNS : []),
    ...raw
      .replace(/^\+/, '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  ];
  const columns: RunColumn[] = [];
  for (const name of names) {
    const dot = name.indexOf('.');
    const prefix = dot > 0 ? name.slice(0, dot) : '';
    if (Object.hasOwn(DATA_PREFIXES, prefix)) {
      const kind = DATA_PREFIXES[prefix as keyof typeof DATA_PREFIXES];
      const key = name.slice(dot + 1);
      if (key === '') throw new InvalidArgumentError(`column ${JSON.stringify(name)} names no key, e.g. ${kind}.lr`);
      const keys =
        key === '*'
          ? [
              ...new Set(runs.flatMap((r) => (kind === 'metrics' ? r.data.metrics : r.data[kind]).map((d) => d.key))),
            ].sort()
          : [key];
      for (const k of keys) columns.push({ header: `${kind}.${k}`, value: (r) => dataValue(r, kind, k) });
      continue;
    }
    const bare = name.replace(/^attributes?\./, '');
    const attribute = Object.hasOwn(ALIASES, bare) ? ALIASES[bare]! : bare;
    const value = Object.hasOwn(ATTRIBUTE_COLUMNS, attribute) ? ATTRIBUTE_COLUMNS[attribute] : undefined;
    if (!value) {
      throw new InvalidArgumentError(
        `unknown column ${JSON.stringify(name)}; use ${Object.keys(ATTRIBUTE_COLUMNS).join(', ')}, ` +
          'params.KEY, metrics.KEY, tags.KEY (or params.* and so on)',
      );
    }
    columns.push({ header: attribute, value });
  }
  return columns;
}

export interface RunsListFlags extends GlobalFlags {
  experimentId?: string[];
  experiment?: string[];
  project?: string;
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  all?: boolean;
  view?: View;
  columns?: string;
}

/**
 * The experiment ids to search: `--experiment-id`s as given, `--experiment` names looked up in
 * `--project` (default `default`), or every active experiment of `--project` when neither is given.
 */
async function experimentIdsOf(client: HangarClient, flags: RunsListFlags): Promise<string[]> {
  const ids = [...(flags.experimentId ?? [])];
  const names = flags.experiment ?? [];
  const project = flags.project ?? 'default';
  if (names.length || (ids.length === 0 && flags.project)) {
    const { items } = await client.listExperiments({ project, view: names.length ? 'all' : 'active' });
    if (names.length === 0) {
      if (items.length === 0) throw new CliError(`project ${project} has no experiments`);
      ids.push(...items.map((e) => e.experimentId));
    }
    for (const name of names) {
      const found = items.filter((e) => e.name === name);
      if (found.length === 0) throw new CliError(`no experiment named ${JSON.stringify(name)} in project ${project}`);
      // A deleted experiment keeps its name only until a new one takes it: prefer the active one.
      ids.push((found.find((e) => e.lifecycleStage === 'active') ?? found[0]!).experimentId);
    }
  }
  if (ids.length === 0) {
    throw new UsageError('say whose runs: --experiment-id ID, --experiment NAME [--project P], or --project P');
  }
  const unique = [...new Set(ids)];
  if (unique.length > MAX_SEARCH_EXPERIMENTS) {
    throw new UsageError(`one search covers at most ${MAX_SEARCH_EXPERIMENTS} experiments (${unique.length} given)`);
  }
  return unique;
}

/**
 * `hangar runs list`: runs of some experiments, searched with MLflow's filter grammar and
 * order_by, one page of `--max-results` (default 100) or every page with `--all`. A table of
 * `--columns` for people; `{ items, nextPageToken }` with `--json`.
 */
export async function listRuns(ctx: CliContext, flags: RunsListFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const experimentIds = await experimentIdsOf(client, flags);
  const body: SearchRunsBody = {
    experimentIds,
    ...(flags.filter ? { filter: flags.filter } : {}),
    ...(flags.orderBy?.length ? { orderBy: flags.orderBy } : {}),
    maxResults: flags.maxResults ?? (flags.all ? 1000 : 100),
    viewType: VIEWS[flags.view ?? 'active'],
  };
  const items: Run[] = [];
  let pageToken = flags.pageToken;
  const seen = new Set<string>();
  do {
    const page = await client.searchRuns({ body: { ...body, ...(pageToken ? { pageToken } : {}) } });
    items.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
    // A server that hands back the same token twice would keep us here forever.
    if (pageToken !== undefined) {
      if (seen.has(pageToken)) throw new CliError(`the server returned page token ${pageToken} twice`);
      seen.add(pageToken);
    }
  } while (flags.all && pageToken);

  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextPageToken: pageToken ?? null }, () => {
    if (items.length === 0) return 'No runs.\n';
    const columns = runColumns(flags.columns, items);
    return formatTable(
      columns.map((c) => c.header),
      items.map((r) => columns.map((c) => c.value(r))),
    );
  });
  if (pageToken && !out.json) out.note(`(${items.length} shown; more with --all, or --page-token ${pageToken})`);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerTrackingCommands(program: Command, ctx: CliContext): void {
  const experiments = program.command('experiments').description('list and inspect experiments');
  withGlobalOptions(
    experiments
      .command('list')
      .description("a project's experiments")
      .requiredOption('-p, --project <project>', 'the project')
      .option('--view <view>', 'active, deleted or all', 'active'),
  ).action(async (_opts: unknown, cmd: Command) =>
    listExperiments(ctx, flagsOf<GlobalFlags & { project: string; view?: 'active' | 'deleted' | 'all' }>(cmd)),
  );
  withGlobalOptions(experiments.command('get').description('show an experiment').argument('<id>')).action(
    async (id: string, _opts: unknown, cmd: Command) => getExperiment(ctx, id, flagsOf<GlobalFlags>(cmd)),
  );

  const runs = program.command('runs').description('search and inspect runs');
  withGlobalOptions(
    runs
      .command('list')
      .description("search runs of experiments, with MLflow's filter and order_by")
      .option('-x, --experiment-id <id>', 'an experiment id (repeatable)', collect)
      .option('-e, --experiment <name>', 'an experiment name, looked up in --project (repeatable)', collect)
      .option(
        '-p, --project <project>',
        'the project of --experiment names (default: default); alone: all its experiments',
      )
      .option('-f, --filter <expr>', 'MLflow search filter, e.g. "metrics.acc > 0.9 and params.lr = \'0.01\'"')
      .option('--order-by <clause>', 'e.g. "metrics.acc DESC" or start_time (repeatable)', collect)
      .option('-n, --max-results <n>', 'runs per page (default 100; 1000 with --all)', positiveInt(MAX_RUNS_PAGE))
      .option('--page-token <token>', 'continue after a previous page (its nextPageToken)')
      .option('--all', 'fetch every page')
      .addOption(
        new Option('--view <view>', 'active, deleted or all runs').choices(Object.keys(VIEWS)).default('active'),
      )
      .option(
        '--columns <list>',
        `table columns, comma-separated (default ${DEFAULT_RUN_COLUMNS.join(',')}); e.g. run,name,params.lr,metrics.acc, or +metrics.* to add to the default`,
        (v) => {
          runColumns(v, []);
          return v;
        },
      ),
  ).action(async (_opts: unknown, cmd: Command) => listRuns(ctx, flagsOf<RunsListFlags>(cmd)));
  withGlobalOptions(
    runs.command('get').description('show a run: params, latest metrics, tags').argument('<run-id>'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => getRun(ctx, id, flagsOf<GlobalFlags>(cmd)));
}
