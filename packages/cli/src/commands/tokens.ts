import type { Token } from '@hangar/sdk';
import { Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable, formatTime } from '../output.js';

function status(t: Token, now: number): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** `hangar tokens list [--user U]`: your API tokens (platform admins: anyone's); never the secrets. */
export async function listTokens(ctx: CliContext, flags: GlobalFlags & { user?: string }): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listTokens({ user: flags.user });
  const now = Date.now();
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? 'No tokens.\n'
      : formatTable(
          ['id', 'name', 'prefix', 'project', 'status', 'created', 'expires', 'last used'],
          items.map((t) => [
            t.id,
            t.name,
            t.prefix,
            t.project ?? '(all)',
            status(t, now),
            formatTime(t.createdAt),
            t.expiresAt ? formatTime(t.expiresAt) : 'never',
            formatTime(t.lastUsedAt),
          ]),
        ),
  );
}

export interface CreateTokenFlags extends GlobalFlags {
  project?: string;
  expiresInDays?: number;
}

/**
 * `hangar tokens create NAME [--project P] [--expires-in-days N]`: prints the new secret, the only
 * time it can be read (the server keeps a hash). With --json the secret is the `token` field.
 */
export async function createToken(ctx: CliContext, name: string, flags: CreateTokenFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const created = await client.createToken({
    body: { name, project: flags.project, expiresInDays: flags.expiresInDays },
  });
  const out = new Output(ctx, flags.json === true);
  out.result(created, () =>
    formatKeyValues([
      ['id', created.id],
      ['name', created.name],
      ['project', created.project ?? '(all your projects)'],
      ['expires', created.expiresAt ? formatTime(created.expiresAt) : 'never'],
      ['token', created.token],
    ]),
  );
  out.note(
    `hangar: copy the token now: it will not be shown again (revoke it with: hangar tokens revoke ${created.id})`,
  );
}

/** `hangar tokens revoke ID`: yours (platform admins: anyone's); revoking twice is fine. */
export async function revokeToken(ctx: CliContext, id: string, flags: GlobalFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await client.revokeToken({ id });
  new Output(ctx, flags.json === true).result({ revoked: true, id }, () => `Revoked token ${id}.\n`);
}

/** Adds `hangar tokens ...` to `program`. */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('list, create and revoke API tokens');
  withGlobalOptions(
    tokens
      .command('list')
      .description('list your API tokens, revoked ones included (never their secrets)')
      .option('--user <username>', "another user's tokens (platform admins)"),
  ).action(async (_opts: unknown, cmd: Command) => listTokens(ctx, flagsOf<GlobalFlags & { user?: string }>(cmd)));

  withGlobalOptions(
    tokens
      .command('create')
      .description('create an API token for yourself; the secret is printed once')
      .argument('<name>', 'what the token is for, e.g. ci-deploy')
      .option('--project <project>', 'confine the token to one project')
      .option('--expires-in-days <n>', 'expire after n days (default: never)', positiveInt(3650)),
  ).action(async (name: string, _opts: unknown, cmd: Command) =>
    createToken(ctx, name, flagsOf<CreateTokenFlags>(cmd)),
  );

  withGlobalOptions(
    tokens.command('revoke').description('revoke an API token').argument('<id>', 'token id (see tokens list)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => revokeToken(ctx, id, flagsOf<GlobalFlags>(cmd)));
}
