import { HangarApiError } from '@hangar/sdk';

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The API refused the request, the server could not be reached, or a job failed. */
  error: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** No stored login, or the server did not accept the credentials. */
  auth: 3,
} as const;

/** An expected failure: printed as one line on stderr (no stack trace) and turned into `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

export class NotLoggedInError extends CliError {
  constructor(message: string) {
    super(message, EXIT.auth);
    this.name = 'NotLoggedInError';
  }
}

/**
 * Turns anything a command threw into the one line shown to the user (without the `hangar: `
 * prefix) and an exit code. API errors show status, code, message and request id; unreachable
 * servers show the SDK's "cannot reach URL: reason"; a 401 exits 3 with a hint to log in again
 * (except during `login` itself, where the hint would be circular). Unknown errors are bugs: they
 * keep their message, and their stack only when HANGAR_DEBUG is set.
 */
export function describeError(
  err: unknown,
  options: { duringLogin?: boolean; debug?: boolean } = {},
): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof HangarApiError) {
    if (err.status === 0) return { message: err.message, exitCode: EXIT.error };
    const rid = err.requestId ? ` (request id ${err.requestId})` : '';
    const line = `${err.status} ${err.code}: ${err.message}${rid}`;
    if (err.status === 401) {
      return { message: options.duringLogin ? line : `${line}; log in again with: hangar login`, exitCode: EXIT.auth };
    }
    return { message: line, exitCode: EXIT.error };
  }
  const message = err instanceof Error ? err.message : String(err);
  const stack = options.debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return { message: `unexpected error: ${message}${stack}`, exitCode: EXIT.error };
}
