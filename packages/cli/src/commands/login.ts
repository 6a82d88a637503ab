import { HangarClient } from '@hangar/sdk';
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../cli-error.js';
import { normalizeServerUrl } from '../connection.js';
import { readCredentials, writeCredentials, type Credentials } from '../credentials.js';
import { Output, formatKeyValues } from '../output.js';
import { promptHidden, readStdinSecret } from '../prompt.js';

export interface LoginFlags {
  url?: string;
  token?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

async function passwordFor(ctx: CliContext, flags: LoginFlags): Promise<string> {
  if (flags.password !== undefined && flags.passwordStdin)
    throw new UsageError('pass --password or --password-stdin, not both');
  if (flags.password !== undefined) return flags.password;
  if (flags.passwordStdin) {
    const pw = await readStdinSecret(ctx.stdin);
    if (!pw) throw new UsageError('--password-stdin: stdin was empty');
    return pw;
  }
  if (ctx.stdin.isTTY) return promptHidden(`Password for ${flags.username}: `, ctx.stdin, ctx.stderr);
  throw new UsageError('no password: pass --password-stdin (or --password), or run in a terminal to be asked');
}

/** Best effort: a token an earlier `login` minted for the same server would otherwise linger. */
async function revokeReplaced(previous: Credentials | null, next: Credentials): Promise<void> {
  if (!previous?.tokenId || previous.tokenId === next.tokenId) return;
  if (normalizeServerUrl(previous.url) !== next.url) return;
  try {
    await new HangarClient({ baseUrl: next.url, token: previous.token, timeoutMs: 5000 }).revokeToken({
      id: previous.tokenId,
    });
  } catch {
    // Already revoked, expired, or the old token no longer works: nothing left to clean up.
  }
}

/**
 * `hangar login`: with `--token`, checks the token with whoami and stores it; with `--username`,
 * authenticates with HTTP Basic (password from --password, --password-stdin or a hidden prompt),
 * creates a token named `cli@<hostname>`, checks it with whoami and stores only the token, never
 * the password. The stored file is `$HANGAR_CONFIG_DIR/credentials.json`, mode 0600.
 */
export async function login(ctx: CliContext, flags: LoginFlags): Promise<void> {
  const rawUrl = flags.url ?? (ctx.env.HANGAR_URL || undefined);
  if (!rawUrl)
    throw new UsageError(
      'login needs --url (or HANGAR_URL), e.g. hangar login --url http://127.0.0.1:8080 --token TOKEN',
    );
  const url = normalizeServerUrl(rawUrl);
  if (flags.token !== undefined && flags.username !== undefined)
    throw new UsageError('pass --token or --username, not both');
  if (flags.token === undefined && flags.username === undefined)
    throw new UsageError('login needs --token TOKEN or --username USER');
  if (flags.token !== undefined && (flags.password !== undefined || flags.passwordStdin)) {
    throw new UsageError('--password and --password-stdin go with --username, not --token');
  }

  let token: string;
  let tokenId: string | undefined;
  if (flags.token !== undefined) {
    if (!flags.token) throw new UsageError('--token is empty');
    token = flags.token;
  } else {
    const password = await passwordFor(ctx, flags);
    const basic = new HangarClient({ baseUrl: url, username: flags.username!, password });
    // Token names are limited to 100 characters; long host names are cut, not refused.
    const created = await basic.createToken({ body: { name: `cli@${ctx.hostname}`.slice(0, 100) } });
    token = created.token;
    tokenId = created.id;
  }
  const me = await new HangarClient({ baseUrl: url, token }).whoami();
  const previous = (() => {
    try {
      return readCredentials(ctx.env);
    } catch {
      return null;
    }
  })();
  const credentials: Credentials = { url, token, username: me.username, ...(tokenId ? { tokenId } : {}) };
  const file = writeCredentials(ctx.env, credentials);
  await revokeReplaced(previous, credentials);

  new Output(ctx, flags.json === true).result(
    { url, username: me.username, isAdmin: me.isAdmin, credentialsFile: file },
    () =>
      formatKeyValues([
        ['logged in to', url],
        ['as', `${me.username}${me.isAdmin ? ' (admin)' : ''}`],
        ['token saved in', file],
      ]),
  );
}
