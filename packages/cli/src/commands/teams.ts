import type { GetTeamResponse, Team, TeamMember } from '@hangar/sdk';
import { Argument, Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { UsageError } from '../cli-error.js';
import { flagsOf, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable, formatTime } from '../output.js';
import { confirmByName } from '../prompt.js';

export const TEAM_ROLES = ['member', 'lead'] as const satisfies readonly TeamMember['role'][];

function describeTeam(t: Team): string {
  return formatKeyValues([
    ['name', t.name],
    ['display name', t.displayName],
    ['description', t.description || '-'],
    ['members', t.memberCount],
    ['created', formatTime(t.createdAt)],
    ['id', t.id],
  ]);
}

function membersTable(members: TeamMember[]): string {
  return members.length === 0
    ? 'No members.\n'
    : formatTable(
        ['username', 'name', 'role', 'added'],
        members.map((m) => [m.username, m.displayName, m.role, formatTime(m.addedAt)]),
      );
}

/** `hangar teams list`. */
export async function listTeams(ctx: CliContext, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listTeams();
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? 'No teams.\n'
      : formatTable(
          ['name', 'display name', 'members', 'created'],
          items.map((t) => [t.name, t.displayName, t.memberCount, formatTime(t.createdAt)]),
        ),
  );
}

/** `hangar teams get T`: the team and its members. */
export async function getTeam(ctx: CliContext, name: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const team: GetTeamResponse = await client.getTeam({ team: name });
  new Output(ctx, flags.json === true).result(team, () => `${describeTeam(team)}\n${membersTable(team.members)}`);
}

export interface TeamFlags extends GlobalFlags {
  displayName?: string;
  description?: string;
}

/** `hangar teams create T` (platform admins). */
export async function createTeam(ctx: CliContext, name: string, flags: TeamFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const team = await client.createTeam({
    body: { name, displayName: flags.displayName, description: flags.description },
  });
  new Output(ctx, flags.json === true).result(team, () => `Created team ${team.name}.\n${describeTeam(team)}`);
}

/** `hangar teams update T` (team leads, platform admins). */
export async function updateTeam(ctx: CliContext, name: string, flags: TeamFlags): Promise<void> {
  if (flags.displayName === undefined && flags.description === undefined) {
    throw new UsageError('nothing to change: pass --display-name and/or --description');
  }
  const { client } = resolveConnection(flags, ctx.env);
  const team = await client.updateTeam({
    team: name,
    body: { displayName: flags.displayName, description: flags.description },
  });
  new Output(ctx, flags.json === true).result(team, () => `Updated team ${team.name}.\n${describeTeam(team)}`);
}

/** `hangar teams delete T [--yes]`: only a team that owns no projects (platform admins). */
export async function deleteTeam(ctx: CliContext, name: string, flags: GlobalFlags & { yes?: boolean }): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await confirmByName(ctx, { yes: flags.yes, what: `delete team "${name}"`, name });
  await client.deleteTeam({ team: name });
  new Output(ctx, flags.json === true).result({ deleted: true, team: name }, () => `Deleted team ${name}.\n`);
}

/** `hangar teams add-member T U [--lead]` and `set-role T U ROLE`: both set the member's role. */
export async function setTeamMember(
  ctx: CliContext,
  team: string,
  username: string,
  role: TeamMember['role'],
  flags: GlobalFlags,
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const member = await client.setTeamMember({ team, username, body: { role } });
  new Output(ctx, flags.json === true).result(
    member,
    () => `${member.username} is now ${member.role === 'lead' ? 'a lead' : 'a member'} of team ${team}.\n`,
  );
}

/** `hangar teams remove-member T U`. */
export async function removeTeamMember(
  ctx: CliContext,
  team: string,
  username: string,
  flags: GlobalFlags,
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await client.removeTeamMember({ team, username });
  new Output(ctx, flags.json === true).result(
    { removed: true, team, username },
    () => `Removed ${username} from team ${team}.\n`,
  );
}

/** Adds `hangar teams ...` to `program`. */
export function registerTeamCommands(program: Command, ctx: CliContext): void {
  const teams = program.command('teams').description('list, create and manage teams and their members');
  withGlobalOptions(teams.command('list').description('list all teams')).action(async (_opts: unknown, cmd: Command) =>
    listTeams(ctx, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(teams.command('get').description('show a team and its members').argument('<team>')).action(
    async (team: string, _opts: unknown, cmd: Command) => getTeam(ctx, team, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    teams
      .command('create')
      .description('create a team (platform admins)')
      .argument('<team>', 'lower-case letters, digits and "-"')
      .option('--display-name <name>', 'the name people see (default: the team name)')
      .option('--description <text>', 'what the team does'),
  ).action(async (team: string, _opts: unknown, cmd: Command) => createTeam(ctx, team, flagsOf<TeamFlags>(cmd)));

  withGlobalOptions(
    teams
      .command('update')
      .description("change a team's display name or description (team leads, platform admins)")
      .argument('<team>')
      .option('--display-name <name>', 'the new display name')
      .option('--description <text>', 'the new description'),
  ).action(async (team: string, _opts: unknown, cmd: Command) => updateTeam(ctx, team, flagsOf<TeamFlags>(cmd)));

  withGlobalOptions(
    teams
      .command('delete')
      .description('delete a team that owns no projects (platform admins)')
      .argument('<team>')
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)'),
  ).action(async (team: string, _opts: unknown, cmd: Command) =>
    deleteTeam(ctx, team, flagsOf<GlobalFlags & { yes?: boolean }>(cmd)),
  );

  withGlobalOptions(
    teams
      .command('add-member')
      .description('add a user to a team, or change their role (team leads, platform admins)')
      .argument('<team>')
      .argument('<username>')
      .option('--lead', 'as a team lead (default: member)'),
  ).action(async (team: string, username: string, _opts: unknown, cmd: Command) => {
    const flags = flagsOf<GlobalFlags & { lead?: boolean }>(cmd);
    await setTeamMember(ctx, team, username, flags.lead ? 'lead' : 'member', flags);
  });

  withGlobalOptions(
    teams
      .command('set-role')
      .description("change a member's role in a team (team leads, platform admins)")
      .argument('<team>')
      .argument('<username>')
      .addArgument(new Argument('<role>', 'member or lead').choices(TEAM_ROLES)),
  ).action(async (team: string, username: string, role: TeamMember['role'], _opts: unknown, cmd: Command) =>
    setTeamMember(ctx, team, username, role, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    teams
      .command('remove-member')
      .description('remove a user from a team (team leads, platform admins)')
      .argument('<team>')
      .argument('<username>'),
  ).action(async (team: string, username: string, _opts: unknown, cmd: Command) =>
    removeTeamMember(ctx, team, username, flagsOf<GlobalFlags>(cmd)),
  );
}
