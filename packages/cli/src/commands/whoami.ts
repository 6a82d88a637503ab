import type { CliContext, GlobalFlags } from '../cli-context.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues } from '../output.js';

/** `hangar whoami`: the user behind the current credentials, and the server they apply to. */
export async function whoami(ctx: CliContext, flags: GlobalFlags): Promise<void> {
  const { url, client } = resolveConnection(flags, ctx.env);
  const me = await client.whoami();
  new Output(ctx, flags.json === true).result(me, () =>
    formatKeyValues([
      ['username', me.username],
      ['name', me.displayName],
      ['email', me.email],
      ['admin', me.isAdmin ? 'yes' : 'no'],
      ['auth', me.tokenId ? `token ${me.tokenId}` : 'password'],
      ['server', url],
    ]),
  );
}
