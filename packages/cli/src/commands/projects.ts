import type { Project, ProjectMember } from '@hangar/sdk';
import { Argument, Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { UsageError } from '../cli-error.js';
import { flagsOf, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable, formatTime } from '../output.js';
import { confirmByName, promptHidden, readStdinSecret } from '../prompt.js';

export const PROJECT_ROLES = [
  'viewer',
  'developer',
  'maintainer',
  'admin',
] as const satisfies readonly ProjectMember['role'][];

function describeProject(p: Project): string {
  return formatKeyValues([
    ['name', p.name],
    ['display name', p.displayName],
    ['description', p.description || '-'],
    ['team', p.team],
    ['your role', p.role],
    ['created', formatTime(p.createdAt)],
    ['updated', formatTime(p.updatedAt)],
    ['id', p.id],
  ]);
}

/** `hangar projects list`: the projects you have a role in (platform admins: all). */
export async function listProjects(ctx: CliContext, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listProjects();
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? 'No projects.\n'
      : formatTable(
          ['name', 'team', 'role', 'display name', 'created'],
          items.map((p) => [p.name, p.team, p.role, p.displayName, formatTime(p.createdAt)]),
        ),
  );
}

/** `hangar projects get P`. */
export async function getProject(ctx: CliContext, name: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const project = await client.getProject({ project: name });
  new Output(ctx, flags.json === true).result(project, () => describeProject(project));
}

export interface ProjectFlags extends GlobalFlags {
  team?: string;
  displayName?: string;
  description?: string;
}

/** `hangar projects create P --team T` (the team's leads, platform admins). */
export async function createProject(
  ctx: CliContext,
  name: string,
  flags: ProjectFlags & { team: string },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const project = await client.createProject({
    body: { name, team: flags.team, displayName: flags.displayName, description: flags.description },
  });
  new Output(ctx, flags.json === true).result(
    project,
    () => `Created project ${project.name}.\n${describeProject(project)}`,
  );
}

/** `hangar projects update P` (project admins; `--team` moves it: platform admins). */
export async function updateProject(ctx: CliContext, name: string, flags: ProjectFlags): Promise<void> {
  if (flags.displayName === undefined && flags.description === undefined && flags.team === undefined) {
    throw new UsageError('nothing to change: pass --display-name, --description and/or --team');
  }
  const { client } = resolveConnection(flags, ctx.env);
  const project = await client.updateProject({
    project: name,
    body: { displayName: flags.displayName, description: flags.description, team: flags.team },
  });
  new Output(ctx, flags.json === true).result(
    project,
    () => `Updated project ${project.name}.\n${describeProject(project)}`,
  );
}

/** `hangar projects delete P [--yes]`: the project and everything in it (platform admins). */
export async function deleteProject(
  ctx: CliContext,
  name: string,
  flags: GlobalFlags & { yes?: boolean },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await confirmByName(ctx, { yes: flags.yes, what: `delete project "${name}" and everything in it`, name });
  await client.deleteProject({ project: name });
  new Output(ctx, flags.json === true).result({ deleted: true, project: name }, () => `Deleted project ${name}.\n`);
}

/** `hangar projects members P`: everyone with a role, direct or through the owning team. */
export async function listProjectMembers(ctx: CliContext, project: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listProjectMembers({ project });
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? 'No members.\n'
      : formatTable(
          ['username', 'role', 'direct role', 'team role', 'name'],
          items.map((m) => [m.username, m.role, m.directRole, m.teamRole, m.displayName]),
        ),
  );
}

/** `hangar projects grant P U ROLE` (project admins). */
export async function grantProjectRole(
  ctx: CliContext,
  project: string,
  username: string,
  role: ProjectMember['role'],
  flags: GlobalFlags,
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const member = await client.setProjectMember({ project, username, body: { role } });
  new Output(ctx, flags.json === true).result(member, () => {
    const effective = member.role !== role ? ` (effective role ${member.role}, as team ${member.teamRole})` : '';
    return `Granted ${role} in project ${project} to ${member.username}${effective}.\n`;
  });
}

/** `hangar projects revoke P U`: removes a direct grant; a role through the owning team stays. */
export async function revokeProjectRole(
  ctx: CliContext,
  project: string,
  username: string,
  flags: GlobalFlags,
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await client.removeProjectMember({ project, username });
  new Output(ctx, flags.json === true).result(
    { revoked: true, project, username },
    () => `Revoked the direct role of ${username} in project ${project}.\n`,
  );
}

/** `hangar projects secrets list P`: names and dates, never values. */
export async function listSecrets(ctx: CliContext, project: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listSecrets({ project });
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? 'No secrets.\n'
      : formatTable(
          ['name', 'updated', 'created', 'created by'],
          items.map((s) => [s.name, formatTime(s.updatedAt), formatTime(s.createdAt), s.createdBy]),
        ),
  );
}

/**
 * `hangar projects secrets set P NAME [--value-stdin]`: the value comes from stdin or a hidden
 * prompt, never from the command line (where the process list would show it), and is never printed.
 */
export async function setSecret(
  ctx: CliContext,
  project: string,
  name: string,
  flags: GlobalFlags & { valueStdin?: boolean },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  let value: string;
  if (flags.valueStdin) {
    value = await readStdinSecret(ctx.stdin);
  } else if (ctx.stdin.isTTY) {
    value = await promptHidden(`Value of ${name}: `, ctx.stdin, ctx.stderr);
  } else {
    throw new UsageError('no value: pass --value-stdin, or run in a terminal to be asked');
  }
  if (!value) throw new UsageError('the secret value is empty');
  const secret = await client.setSecret({ project, name, body: { value } });
  new Output(ctx, flags.json === true).result(secret, () => `Stored secret ${secret.name} in project ${project}.\n`);
}

/** `hangar projects secrets delete P NAME`. */
export async function deleteSecret(ctx: CliContext, project: string, name: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await client.deleteSecret({ project, name });
  new Output(ctx, flags.json === true).result(
    { deleted: true, project, name },
    () => `Deleted secret ${name} from project ${project}.\n`,
  );
}

/** Adds `hangar projects ...` (and `projects secrets ...`) to `program`. */
export function registerProjectCommands(program: Command, ctx: CliContext): void {
  const projects = program.command('projects').description('list, create and manage projects, members and secrets');
  withGlobalOptions(
    projects.command('list').description('list the projects you have a role in (platform admins: all)'),
  ).action(async (_opts: unknown, cmd: Command) => listProjects(ctx, flagsOf<GlobalFlags>(cmd)));

  withGlobalOptions(projects.command('get').description('show one project').argument('<project>')).action(
    async (project: string, _opts: unknown, cmd: Command) => getProject(ctx, project, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('create')
      .description("create a project owned by a team (the team's leads, platform admins)")
      .argument('<project>', 'lower-case letters, digits and "-"')
      .requiredOption('--team <team>', 'the owning team; its members get roles in the project')
      .option('--display-name <name>', 'the name people see (default: the project name)')
      .option('--description <text>', 'what the project is for'),
  ).action(async (project: string, _opts: unknown, cmd: Command) =>
    createProject(ctx, project, flagsOf<ProjectFlags & { team: string }>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('update')
      .description('change a project (project admins; moving it to another team: platform admins)')
      .argument('<project>')
      .option('--display-name <name>', 'the new display name')
      .option('--description <text>', 'the new description')
      .option('--team <team>', 'move the project to this team'),
  ).action(async (project: string, _opts: unknown, cmd: Command) =>
    updateProject(ctx, project, flagsOf<ProjectFlags>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('delete')
      .description('delete a project and everything in it (platform admins)')
      .argument('<project>')
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)'),
  ).action(async (project: string, _opts: unknown, cmd: Command) =>
    deleteProject(ctx, project, flagsOf<GlobalFlags & { yes?: boolean }>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('members')
      .description('list everyone with a role in a project, direct or through the owning team')
      .argument('<project>'),
  ).action(async (project: string, _opts: unknown, cmd: Command) =>
    listProjectMembers(ctx, project, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('grant')
      .description('give a user a role in a project, or change it (project admins)')
      .argument('<project>')
      .argument('<username>')
      .addArgument(new Argument('<role>', 'viewer, developer, maintainer or admin').choices(PROJECT_ROLES)),
  ).action(async (project: string, username: string, role: ProjectMember['role'], _opts: unknown, cmd: Command) =>
    grantProjectRole(ctx, project, username, role, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    projects
      .command('revoke')
      .description("remove a user's direct role in a project (a role through the owning team stays)")
      .argument('<project>')
      .argument('<username>'),
  ).action(async (project: string, username: string, _opts: unknown, cmd: Command) =>
    revokeProjectRole(ctx, project, username, flagsOf<GlobalFlags>(cmd)),
  );

  const secrets = projects
    .command('secrets')
    .description("manage a project's secrets (values are write-only: never shown)");
  withGlobalOptions(
    secrets.command('list').description("list a project's secrets: names and dates only").argument('<project>'),
  ).action(async (project: string, _opts: unknown, cmd: Command) =>
    listSecrets(ctx, project, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    secrets
      .command('set')
      .description('store a secret, replacing any previous value (maintainers); asks for the value at a terminal')
      .argument('<project>')
      .argument('<name>', 'like an environment variable name, e.g. DB_PASSWORD')
      .option('--value-stdin', 'read the value from stdin (one trailing line break is dropped)'),
  ).action(async (project: string, name: string, _opts: unknown, cmd: Command) =>
    setSecret(ctx, project, name, flagsOf<GlobalFlags & { valueStdin?: boolean }>(cmd)),
  );

  withGlobalOptions(
    secrets.command('delete').description('delete a secret (maintainers)').argument('<project>').argument('<name>'),
  ).action(async (project: string, name: string, _opts: unknown, cmd: Command) =>
    deleteSecret(ctx, project, name, flagsOf<GlobalFlags>(cmd)),
  );
}
