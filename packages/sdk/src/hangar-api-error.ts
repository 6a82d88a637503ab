/**
 * Every failure of an SDK call: a non-2xx answer (`status` is the HTTP status, `code` the server's
 * stable error code such as `not_found`), or no answer at all (`status` 0, `code` one of
 * `network_error`, `timeout`, `aborted`, or `invalid_response` for a 2xx body that is not what the
 * spec promises).
 */
export class HangarApiError extends Error {
  /** HTTP status, or 0 when no HTTP answer was received. */
  readonly status: number;
  /** The server's machine-readable error code (e.g. `unauthenticated`, `not_found`, `invalid_input`). */
  readonly code: string;
  /** The server's request id, to quote to an operator; null when there was no answer. */
  readonly requestId: string | null;
  /** Extra structured information from the server, e.g. `{ field: 'body.name' }` for bad input. */
  readonly details: Record<string, unknown> | undefined;
  /** The method and URL of the failed request. */
  readonly method: string;
  readonly url: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    requestId?: string | null;
    details?: Record<string, unknown>;
    method: string;
    url: string;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'HangarApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.details = init.details;
    this.method = init.method;
    this.url = init.url;
  }
}
