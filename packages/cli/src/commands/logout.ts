import { HangarApiError, HangarClient } from '@hangar/sdk';
import type { CliContext } from '../cli-context.js';
import { describeError } from '../cli-error.js';
import { credentialsPath, deleteCredentials, readCredentials } from '../credentials.js';
import { Output } from '../output.js';

/**
 * `hangar logout`: revokes the stored token when `login` minted it (a token the user passed with
 * --token may be in use elsewhere, e.g. in CI, so it is only forgotten), then deletes the
 * credentials file. A server that cannot be reached does not stop the logout; it is reported as a
 * warning. Logging out when not logged in is not an error.
 */
export async function logout(ctx: CliContext, flags: { json?: boolean }): Promise<void> {
  const out = new Output(ctx, flags.json === true);
  let stored = null;
  try {
    stored = readCredentials(ctx.env);
  } catch {
    // A corrupt file is exactly what logout should clear.
  }
  let revoked = false;
  if (stored?.tokenId) {
    try {
      await new HangarClient({ baseUrl: stored.url, token: stored.token, timeoutMs: 10_000 }).revokeToken({
        id: stored.tokenId,
      });
      revoked = true;
    } catch (err) {
      // 401/404: the token is already gone, which is what we wanted.
      const gone = err instanceof HangarApiError && (err.status === 401 || err.status === 404);
      if (!gone)
        out.note(`hangar: warning: could not revoke the token on ${stored.url}: ${describeError(err).message}`);
    }
  }
  const existed = deleteCredentials(ctx.env);
  out.result({ loggedOut: existed, url: stored?.url ?? null, tokenRevoked: revoked }, () =>
    existed
      ? `Logged out${stored ? ` of ${stored.url}` : ''}${revoked ? '; token revoked' : ''} (removed ${credentialsPath(ctx.env)}).\n`
      : 'Not logged in.\n',
  );
}
