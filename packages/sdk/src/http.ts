// The hand-written runtime under the generated HangarClient: URL building, auth, JSON in/out,
// timeouts and error mapping. Web-platform APIs only (fetch, URLSearchParams, AbortController,
// TextEncoder, btoa) so the same code runs in Node 20 and in browsers.
import { HangarApiError } from './hangar-api-error.js';

/** What a `fetch` replacement must accept: the WHATWG signature, which Node and browsers share. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /**
   * Where the server lives, e.g. `http://127.0.0.1:8080` (a path prefix behind a proxy is kept).
   * In a browser, `''` or a path such as `/hangar` addresses the page's own origin.
   */
  baseUrl: string;
  /** An API token (`hgr_...`), sent as `Authorization: Bearer`. Wins over username/password. */
  token?: string;
  /** With `password`, sent as HTTP Basic. */
  username?: string;
  password?: string;
  /** A fetch implementation to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: FetchFunction;
  /** Headers sent with every request (they can override the computed ones, including auth). */
  headers?: Record<string, string>;
  /** Per-request time limit in ms, covering the whole answer; 0 disables it. Default 60 000. */
  timeoutMs?: number;
}

/** Per-call settings, the last argument of every client method. */
export interface RequestOptions {
  /** Abandons the call; it then rejects with a HangarApiError of code `aborted`. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call (long polls need more than their wait). */
  timeoutMs?: number;
  /** Extra headers for this call only, e.g. `x-request-id` to correlate with server logs. */
  headers?: Record<string, string>;
}

/** How to read a successful answer. */
export type ResponseKind = 'json' | 'text' | 'bytes' | 'none';

export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** One API call as the generated client describes it. */
export interface OperationRequest {
  method: string;
  /** The spec's path template, e.g. `/api/v1/jobs/{id}`. */
  path: string;
  pathParams?: Record<string, string | number | undefined>;
  /** Undefined and null values are left out; arrays repeat the key. */
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Media type of `body`; JSON bodies are serialized, anything else is sent as given. */
  contentType?: string;
  response: ResponseKind;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Plain-words reasons for the error codes Node's fetch (undici) reports in `cause`. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'the server sent no answer in time',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walks the `cause` chain to the most specific explanation of a failed fetch. */
function networkReason(err: unknown): string {
  let deepest = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err, depth = 0; isRecord(e) && depth < 5; e = e.cause, depth++) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
    if (typeof e.message === 'string' && e.message && e.message !== 'fetch failed') deepest = e.message;
    // Connecting to "localhost" tries every address; each failure sits in an AggregateError.
    if (Array.isArray(e.errors) && e.errors.length) {
      const first: unknown = e.errors[0];
      if (isRecord(first) && typeof first.code === 'string' && NETWORK_REASONS[first.code])
        return NETWORK_REASONS[first.code]!;
    }
  }
  return deepest;
}

/** Base64 of the UTF-8 bytes (btoa alone rejects characters above U+00FF). */
function base64Utf8(s: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(s)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function normalizeBaseUrl(baseUrl: string): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/')) return trimmed;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new TypeError(`baseUrl is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`baseUrl must be http or https, not ${parsed.protocol}`);
  }
  if (parsed.search || parsed.hash) throw new TypeError('baseUrl must not have a query or fragment');
  return trimmed;
}

/**
 * The transport the generated `HangarClient` extends: it holds the base URL and credentials and
 * performs one API call per {@link HttpClient.request}. Use `HangarClient`; this class is exported
 * for its option types and for calling routes newer than the SDK you have.
 */
export class HttpClient {
  /** The normalized base URL (no trailing slash). */
  readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetchFn: FetchFunction | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    if (options.token) {
      this.authorization = `Bearer ${options.token}`;
    } else if (options.username !== undefined || options.password !== undefined) {
      if (!options.username || options.password === undefined) {
        throw new TypeError('Basic authentication needs both username and password');
      }
      this.authorization = `Basic ${base64Utf8(`${options.username}:${options.password}`)}`;
    }
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs < 0)
      throw new TypeError('timeoutMs must be 0 or a positive number');
    this.fetchFn = options.fetch;
  }

  /**
   * Sends one request and returns the parsed 2xx body (JSON, text, bytes, or undefined for empty
   * answers). Rejects with a {@link HangarApiError} for any non-2xx answer, carrying the server's
   * status, code, message, request id and details; and with one of status 0 when the server cannot
   * be reached, the call times out or is aborted. Throws a TypeError for a missing path parameter.
   */
  async request<T>(req: OperationRequest, options: RequestOptions = {}): Promise<T> {
    const url = this.buildUrl(req);
    const method = req.method.toUpperCase();
    const headers = new Headers({ accept: req.response === 'json' ? 'application/json' : '*/*' });
    if (this.authorization) headers.set('authorization', this.authorization);
    let body: RequestInit['body'];
    if (req.body !== undefined) {
      const contentType = req.contentType ?? 'application/json';
      headers.set('content-type', contentType);
      const json = contentType === 'application/json' || contentType.endsWith('+json');
      body = json ? JSON.stringify(req.body) : (req.body as RequestInit['body']);
    }
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v);
    for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);

    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : undefined;
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    // Every failure before a complete answer (connect, headers, body) is a transport failure.
    const transportError = (err: unknown) => {
      if (err instanceof HangarApiError) return err;
      if (timedOut) {
        return new HangarApiError({
          status: 0,
          code: 'timeout',
          message: `no answer from ${url} within ${timeoutMs} ms`,
          method,
          url,
          cause: err,
        });
      }
      if (options.signal?.aborted) {
        return new HangarApiError({
          status: 0,
          code: 'aborted',
          message: `request to ${url} was aborted`,
          method,
          url,
          cause: err,
        });
      }
      return new HangarApiError({
        status: 0,
        code: 'network_error',
        message: `cannot reach ${url}: ${networkReason(err)}`,
        method,
        url,
        cause: err,
      });
    };

    try {
      const fetchFn = this.fetchFn ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
      const res = await fetchFn(url, { method, headers, body, signal: controller.signal });
      if (!res.ok) throw await this.apiError(res, method, url);
      return (await this.readBody(res, req.response, method, url)) as T;
    } catch (err) {
      throw transportError(err);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private buildUrl(req: OperationRequest): string {
    const path = req.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      const raw = req.pathParams?.[name];
      const value = raw === undefined ? '' : String(raw);
      if (value === '') throw new TypeError(`${req.method} ${req.path}: path parameter "${name}" is required`);
      // URL parsers collapse "." and ".." segments (even percent-encoded), which would call another route.
      if (value === '.' || value === '..')
        throw new TypeError(`${req.method} ${req.path}: path parameter "${name}" cannot be "${value}"`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value))
        for (const v of value as readonly (string | number | boolean)[]) query.append(key, String(v));
      else query.append(key, String(value));
    }
    const qs = query.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  private async readBody(res: Response, kind: ResponseKind, method: string, url: string): Promise<unknown> {
    if (kind === 'text') return res.text();
    if (kind === 'bytes') return new Uint8Array(await res.arrayBuffer());
    const text = await res.text();
    if (kind === 'none' || res.status === 204 || text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new HangarApiError({
        status: res.status,
        code: 'invalid_response',
        message: `${method} ${url} answered ${res.status} with a body that is not JSON`,
        requestId: res.headers.get('x-request-id'),
        method,
        url,
        cause: err,
      });
    }
  }

  private async apiError(res: Response, method: string, url: string): Promise<HangarApiError> {
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const e = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
    const snippet = text.trim().slice(0, 200);
    return new HangarApiError({
      status: res.status,
      code: typeof e.code === 'string' ? e.code : `http_${res.status}`,
      // A proxy in front of the server answers in its own format; keep what it said.
      message:
        typeof e.message === 'string'
          ? e.message
          : `${method} ${url} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
      requestId: typeof e.requestId === 'string' ? e.requestId : res.headers.get('x-request-id'),
      details: isRecord(e.details) ? e.details : undefined,
      method,
      url,
    });
  }
}
