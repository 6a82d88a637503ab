import type { Experiment, GetRunResponse } from '@hangar/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { flagsOf, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable } from '../output.js';

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

  const runs = program.command('runs').description('inspect runs');
  withGlobalOptions(
    runs.command('get').description('show a run: params, latest metrics, tags').argument('<run-id>'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => getRun(ctx, id, flagsOf<GlobalFlags>(cmd)));
}
