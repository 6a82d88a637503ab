import { HangarApiError, type User } from '@hangar/sdk';
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable, formatTime } from '../output.js';
import { collectPages } from '../paging.js';
import { promptHidden, readStdinSecret } from '../prompt.js';

/** The API's largest page of users. */
const MAX_PAGE = 500;

function describeUser(u: User): string {
  return formatKeyValues([
    ['username', u.username],
    ['name', u.displayName],
    ['email', u.email],
    ['admin', u.isAdmin ? 'yes' : 'no'],
    ['status', u.disabled ? 'disabled' : 'active'],
    ['created', formatTime(u.createdAt)],
    ['id', u.id],
  ]);
}

/** `--email ''` clears the address. */
function email(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return value.trim() === '' ? null : value;
}

export interface ListUsersFlags extends GlobalFlags {
  query?: string;
  all?: boolean;
  limit?: number;
  cursor?: string;
}

/** `hangar users list`: the directory by username; `--all` includes disabled accounts. */
export async function listUsers(ctx: CliContext, flags: ListUsersFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items, nextCursor } = await collectPages(
    (cursor, limit) => client.listUsers({ query: flags.query, includeDisabled: flags.all === true, cursor, limit }),
    { max: flags.limit ?? 100, pageSize: MAX_PAGE, cursor: flags.cursor },
  );
  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextCursor: nextCursor ?? null }, () =>
    items.length === 0
      ? 'No users.\n'
      : formatTable(
          ['username', 'name', 'email', 'admin', 'status', 'created'],
          items.map((u) => [
            u.username,
            u.displayName,
            u.email,
            u.isAdmin ? 'yes' : 'no',
            u.disabled ? 'disabled' : 'active',
            formatTime(u.createdAt),
          ]),
        ),
  );
  if (nextCursor && !out.json) out.note(`(${items.length} shown; more with --limit, or --cursor ${nextCursor})`);
}

/** `hangar users get U`. */
export async function getUser(ctx: CliContext, username: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const user = await client.getUser({ username });
  new Output(ctx, flags.json === true).result(user, () => describeUser(user));
}

export interface CreateUserFlags extends GlobalFlags {
  displayName?: string;
  email?: string;
  passwordStdin?: boolean;
  admin?: boolean;
}

/**
 * `hangar users create U`: with `--password-stdin` the password is read from stdin; without it the
 * server generates one, which is printed here once and never again.
 */
export async function createUser(ctx: CliContext, username: string, flags: CreateUserFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  let password: string | undefined;
  if (flags.passwordStdin) {
    password = await readStdinSecret(ctx.stdin);
    if (!password) throw new UsageError('--password-stdin: stdin was empty');
  }
  const created = await client.createUser({
    body: {
      username,
      displayName: flags.displayName,
      email: email(flags.email),
      password,
      isAdmin: flags.admin === true ? true : undefined,
    },
  });
  const out = new Output(ctx, flags.json === true);
  out.result(created, () => {
    const text = describeUser(created.user);
    return created.generatedPassword === null
      ? text
      : `${text}${formatKeyValues([['password', created.generatedPassword]])}`;
  });
  if (created.generatedPassword !== null && !out.json) {
    out.note(`hangar: the generated password is shown only this once; pass it on to ${username} securely`);
  }
}

export interface UpdateUserFlags extends GlobalFlags {
  displayName?: string;
  email?: string;
}

/** `hangar users update U --display-name N --email E` (your own profile, or anyone's as an admin). */
export async function updateUser(ctx: CliContext, username: string, flags: UpdateUserFlags): Promise<void> {
  if (flags.displayName === undefined && flags.email === undefined) {
    throw new UsageError('nothing to change: pass --display-name and/or --email');
  }
  await patchUser(ctx, username, flags, { displayName: flags.displayName, email: email(flags.email) }, 'Updated user');
}

/** The PATCH behind update, disable, enable and set-admin; prints `done` and the user. */
async function patchUser(
  ctx: CliContext,
  username: string,
  flags: GlobalFlags,
  body: { displayName?: string; email?: string | null; isAdmin?: boolean; disabled?: boolean },
  done: string,
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const user = await client.updateUser({ username, body });
  new Output(ctx, flags.json === true).result(user, () => `${done} ${user.username}.\n${describeUser(user)}`);
}

/** `hangar users disable U` / `enable U`: a disabled user can no longer sign in or use tokens. */
export async function setUserDisabled(
  ctx: CliContext,
  username: string,
  disabled: boolean,
  flags: GlobalFlags,
): Promise<void> {
  await patchUser(ctx, username, flags, { disabled }, disabled ? 'Disabled user' : 'Enabled user');
}

/** `hangar users set-admin U true|false` (or `--admin` / `--no-admin`). */
export async function setUserAdmin(
  ctx: CliContext,
  username: string,
  value: boolean | undefined,
  flags: GlobalFlags & { admin?: boolean },
): Promise<void> {
  if (value !== undefined && flags.admin !== undefined && value !== flags.admin) {
    throw new UsageError(`set-admin: ${value} contradicts --${flags.admin ? '' : 'no-'}admin`);
  }
  const isAdmin = value ?? flags.admin;
  if (isAdmin === undefined) throw new UsageError('set-admin needs true or false (or --admin / --no-admin)');
  await patchUser(
    ctx,
    username,
    flags,
    { isAdmin },
    isAdmin ? 'Granted platform admin to' : 'Took platform admin from',
  );
}

/**
 * The passwords `users set-password` sends. Changing your own password needs the current one
 * too: at a terminal both are asked for; with --password-stdin, stdin holds the current password
 * on its first line and the new one on the second.
 */
async function passwordsFor(
  ctx: CliContext,
  username: string,
  self: boolean,
  passwordStdin: boolean,
): Promise<{ currentPassword?: string; newPassword: string }> {
  if (passwordStdin) {
    const text = await readStdinSecret(ctx.stdin);
    if (!text) throw new UsageError('--password-stdin: stdin was empty');
    if (!self) return { newPassword: text };
    const lines = text.split(/\r?\n/);
    if (lines.length !== 2 || !lines[0] || !lines[1]) {
      throw new UsageError(
        '--password-stdin: changing your own password needs two lines on stdin, the current password and then the new one',
      );
    }
    return { currentPassword: lines[0], newPassword: lines[1] };
  }
  if (!ctx.stdin.isTTY) {
    throw new UsageError('no password: pass --password-stdin, or run in a terminal to be asked');
  }
  const currentPassword = self ? await promptHidden('Current password: ', ctx.stdin, ctx.stderr) : undefined;
  const newPassword = await promptHidden(`New password for ${username}: `, ctx.stdin, ctx.stderr);
  const again = await promptHidden('Repeat the new password: ', ctx.stdin, ctx.stderr);
  if (newPassword !== again) throw new CliError('the passwords do not match; nothing was changed');
  if (!newPassword) throw new UsageError('the new password is empty');
  return { currentPassword, newPassword };
}

/** `hangar users set-password U [--password-stdin]`: your own (give the current one) or, as an admin, anyone's. */
export async function setUserPassword(
  ctx: CliContext,
  username: string,
  flags: GlobalFlags & { passwordStdin?: boolean },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const me = await client.whoami();
  const body = await passwordsFor(ctx, username, me.username === username, flags.passwordStdin === true);
  try {
    await client.setPassword({ username, body });
  } catch (err) {
    if (err instanceof HangarApiError && err.status === 400 && body.currentPassword !== undefined) {
      throw new CliError(`${err.message}; nothing was changed`);
    }
    throw err;
  }
  new Output(ctx, flags.json === true).result({ username, passwordChanged: true }, () =>
    me.username === username
      ? `Changed your password; your other browser sessions were signed out.\n`
      : `Changed the password of ${username}; their browser sessions were signed out.\n`,
  );
}

function boolArg(value: string): boolean {
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

/** Adds `hangar users ...` to `program`. */
export function registerUserCommands(program: Command, ctx: CliContext): void {
  const users = program.command('users').description('list, create and manage user accounts');
  withGlobalOptions(
    users
      .command('list')
      .description('list users by username')
      .option('-q, --query <text>', 'only users whose username or display name contains this')
      .option('-a, --all', 'include disabled users')
      .option('--limit <n>', 'show at most n users (default 100)', positiveInt(1_000_000))
      .option('--cursor <cursor>', 'continue after a previous listing (its nextCursor)'),
  ).action(async (_opts: unknown, cmd: Command) => listUsers(ctx, flagsOf<ListUsersFlags>(cmd)));

  withGlobalOptions(users.command('get').description("show one user's profile").argument('<username>')).action(
    async (username: string, _opts: unknown, cmd: Command) => getUser(ctx, username, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    users
      .command('create')
      .description('create a user (platform admins); without --password-stdin a password is generated and shown once')
      .argument('<username>', 'lower-case letters, digits, ".", "_" and "-"')
      .option('--display-name <name>', 'the name people see (default: the username)')
      .option('--email <email>', 'e-mail address')
      .option('--password-stdin', 'read the password from stdin (at least 8 characters)')
      .option('--admin', 'make the user a platform admin'),
  ).action(async (username: string, _opts: unknown, cmd: Command) =>
    createUser(ctx, username, flagsOf<CreateUserFlags>(cmd)),
  );

  withGlobalOptions(
    users
      .command('update')
      .description("change a display name or e-mail (your own; anyone's as a platform admin)")
      .argument('<username>')
      .option('--display-name <name>', 'the new display name')
      .option('--email <email>', 'the new e-mail address ("" removes it)'),
  ).action(async (username: string, _opts: unknown, cmd: Command) =>
    updateUser(ctx, username, flagsOf<UpdateUserFlags>(cmd)),
  );

  withGlobalOptions(
    users
      .command('disable')
      .description('disable an account: it can no longer log in or use its tokens (platform admins)')
      .argument('<username>'),
  ).action(async (username: string, _opts: unknown, cmd: Command) =>
    setUserDisabled(ctx, username, true, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    users.command('enable').description('enable a disabled account (platform admins)').argument('<username>'),
  ).action(async (username: string, _opts: unknown, cmd: Command) =>
    setUserDisabled(ctx, username, false, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    users
      .command('set-admin')
      .description('grant or take away platform admin (platform admins)')
      .argument('<username>')
      .argument('[value]', 'true or false', boolArg)
      .option('--admin', 'make the user a platform admin')
      .option('--no-admin', 'take platform admin away'),
  ).action(async (username: string, value: boolean | undefined, _opts: unknown, cmd: Command) =>
    setUserAdmin(ctx, username, value, flagsOf<GlobalFlags & { admin?: boolean }>(cmd)),
  );

  withGlobalOptions(
    users
      .command('set-password')
      .description("change your password (asks for the current one) or, as a platform admin, anyone's")
      .argument('<username>')
      .option(
        '--password-stdin',
        'read the new password from stdin (for your own: the current password, a line break, then the new one)',
      ),
  ).action(async (username: string, _opts: unknown, cmd: Command) =>
    setUserPassword(ctx, username, flagsOf<GlobalFlags & { passwordStdin?: boolean }>(cmd)),
  );
}
