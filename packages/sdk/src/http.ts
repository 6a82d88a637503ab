// The hand-written runtime under the generated HangarClient: URL building, auth, JSON in/out,
// streamed bodies in both directions, timeouts and error mapping. Web-platform APIs only (fetch,
// streams, URLSearchParams, AbortController, TextEncoder, btoa) so the same code runs in Node 20
// and in browsers.
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

/**
 * A request body the streaming methods send as they read it, so it is never held whole in memory:
 * a web `ReadableStream`, any async iterable of byte chunks (a Node `Readable` such as
 * `fs.createReadStream(file)` is one), or a `Blob` (a browser `File`, or Node's `fs.openAsBlob`).
 * Bytes already in memory are sent as they are.
 */
export type StreamBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Blob | ArrayBuffer | Uint8Array;

/** Per-call settings of the streaming methods (`...Stream`, {@link HttpClient.requestStream}). */
export interface StreamOptions extends RequestOptions {
  /**
   * An idle limit in ms, not a limit on the whole transfer: the call fails with code `timeout` when
   * no bytes move for this long (the body is not being sent, or the answer sends nothing while it is
   * being read). A consumer that reads slowly is never counted against it. Default: the client's
   * `timeoutMs`; 0 disables it.
   */
  timeoutMs?: number;
  /**
   * The exact size of a streamed request body, sent as `Content-Length` so the server can check it
   * (without it the body goes chunked). A body of another length fails the call and stores
   * nothing. `Blob` bodies carry their size; browsers compute the header themselves.
   */
  contentLength?: number;
  /** Asks for part of the answer (HTTP `Range: bytes=start-end`, `end` inclusive; to the end when omitted). */
  range?: { start: number; end?: number };
}

/** A successful answer whose body has not been read yet. */
export interface StreamResponse {
  /** 200, or 206 for a range. */
  status: number;
  headers: Headers;
  /** How many bytes `body` will yield (of the range, for a 206), or null when the server did not say. */
  contentLength: number | null;
  /** For a 206: the bytes sent (`end` inclusive) and the size of the whole file; otherwise null. */
  range: { start: number; end: number; size: number } | null;
  /**
   * The body, delivered as it arrives. Read it to the end or cancel it (which closes the
   * connection). It fails with a {@link HangarApiError} of status 0 when the connection breaks,
   * stalls past `timeoutMs`, is aborted, or ends before `contentLength` bytes (`network_error`).
   */
  body: ReadableStream<Uint8Array>;
}

/**
 * An {@link OperationRequest} for {@link HttpClient.requestStream}: a body that is a
 * {@link StreamBody} is streamed, and `response: 'stream'` leaves the answer's body unread.
 */
export interface StreamRequest extends Omit<OperationRequest, 'response'> {
  response: ResponseKind | 'stream';
}

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
 * The life of one call: its abort controller, the caller's signal, and a timer that is either a
 * limit on the whole call or, for streams, an idle limit re-armed whenever bytes move.
 */
class CallControl {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  /** Set when the caller's own request body failed; that error is rethrown as it is. */
  sourceError: unknown;

  constructor(
    readonly method: string,
    readonly url: string,
    private readonly timeoutMs: number,
    private readonly idle: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal?.aborted) this.controller.abort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = () => this.controller.abort();

  /** (Re)starts the timer. */
  arm(): void {
    if (this.timeoutMs <= 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.timeoutMs);
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer and forgets the caller's signal; the call is over. */
  finish(): void {
    this.disarm();
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Every failure before a complete answer (connect, headers, body) is a transport failure. */
  error(err: unknown): unknown {
    if (err instanceof HangarApiError) return err;
    if (this.sourceError !== undefined) return this.sourceError;
    const { method, url } = this;
    if (this.timedOut) {
      return new HangarApiError({
        status: 0,
        code: 'timeout',
        message: this.idle
          ? `the transfer with ${url} stalled: nothing moved for ${this.timeoutMs} ms`
          : `no answer from ${url} within ${this.timeoutMs} ms`,
        method,
        url,
        cause: err,
      });
    }
    if (this.signal?.aborted) {
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
  }
}

function isReadableStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

function isAsyncIterable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

/**
 * A pull-driven copy of a streamed request body: each chunk is read only when fetch asks for it,
 * which also tells the call that the upload is moving. A failure of the source is remembered so
 * the caller gets its own error back rather than a "cannot reach" one.
 */
function uploadStream(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, call: CallControl) {
  let next: () => Promise<{ done?: boolean; value?: unknown }>;
  let stop: (reason: unknown) => Promise<unknown>;
  if (isReadableStream(source)) {
    const reader = source.getReader();
    next = () => reader.read();
    stop = (reason) => reader.cancel(reason);
  } else {
    const it = source[Symbol.asyncIterator]();
    next = () => it.next();
    // Ends the iterator early: a Node stream closes its file.
    stop = async () => it.return?.();
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        call.arm();
        try {
          const r = await next();
          if (r.done) {
            ctrl.close();
            return;
          }
          if (!(r.value instanceof Uint8Array))
            throw new TypeError('a streamed request body must yield Uint8Array chunks');
          ctrl.enqueue(r.value);
        } catch (err) {
          call.sourceError = err;
          ctrl.error(err);
        }
      },
      async cancel(reason) {
        await stop(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** `bytes a-b/size` of a 206 answer. */
function contentRangeOf(header: string | null): StreamResponse['range'] {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  return m ? { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) } : null;
}

/**
 * The transport the generated `HangarClient` extends: it holds the base URL and credentials and
 * performs one API call per {@link HttpClient.request} (or {@link HttpClient.requestStream} for
 * bodies too large to hold in memory). Use `HangarClient`; this class is exported for its option
 * types and for calling routes newer than the SDK you have.
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
    const headers = this.headersFor(req.response === 'json' ? 'application/json' : '*/*');
    let body: RequestInit['body'];
    if (req.body !== undefined) {
      const contentType = req.contentType ?? 'application/json';
      headers.set('content-type', contentType);
      const json = contentType === 'application/json' || contentType.endsWith('+json');
      body = json ? JSON.stringify(req.body) : (req.body as RequestInit['body']);
    }
    this.applyHeaders(headers, options);

    const call = new CallControl(method, url, options.timeoutMs ?? this.timeoutMs, false, options.signal);
    call.arm();
    try {
      const res = await this.fetch(url, { method, headers, body, signal: call.controller.signal });
      if (!res.ok) throw await this.apiError(res, method, url);
      return (await this.readBody(res, req.response, method, url)) as T;
    } catch (err) {
      throw call.error(err);
    } finally {
      call.finish();
    }
  }

  /**
   * Like {@link HttpClient.request}, for bodies too large to hold in memory. A request body that
   * is a {@link StreamBody} is sent as it is read (give `options.contentLength` for a stream of
   * known size); with `response: 'stream'` the call resolves once the headers of a 2xx answer
   * arrive, with a {@link StreamResponse} whose body is read as it comes; otherwise the answer is
   * read as `request` reads it. `options.timeoutMs` is an idle limit here, never a limit on the
   * whole transfer. Errors are those of `request`; a request body that fails rejects the call with
   * that body's own error.
   */
  async requestStream(req: StreamRequest & { response: 'stream' }, options?: StreamOptions): Promise<StreamResponse>;
  async requestStream<T>(req: StreamRequest & { response: ResponseKind }, options?: StreamOptions): Promise<T>;
  async requestStream(req: StreamRequest, options: StreamOptions = {}): Promise<unknown> {
    const url = this.buildUrl(req);
    const method = req.method.toUpperCase();
    const { contentLength, range } = options;
    if (contentLength !== undefined && (!Number.isSafeInteger(contentLength) || contentLength < 0))
      throw new TypeError('contentLength must be a whole number of bytes');
    if (
      range &&
      (!Number.isSafeInteger(range.start) ||
        range.start < 0 ||
        (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)))
    )
      throw new TypeError('range must be whole byte offsets with start <= end');

    const headers = this.headersFor(req.response === 'json' ? 'application/json' : '*/*');
    const call = new CallControl(method, url, options.timeoutMs ?? this.timeoutMs, true, options.signal);
    const init: RequestInit = { method, headers, signal: call.controller.signal };
    if (req.body !== undefined && req.body !== null) {
      const contentType = req.contentType ?? 'application/octet-stream';
      headers.set('content-type', contentType);
      let source: unknown = req.body;
      let length = contentLength;
      if (typeof Blob !== 'undefined' && source instanceof Blob) {
        length = source.size;
        source = source.stream();
      }
      if (isReadableStream(source) || isAsyncIterable(source)) {
        init.body = uploadStream(source, call);
        // Fetch requires this for a stream body: the request goes out whole before the answer is read.
        init.duplex = 'half';
        // Otherwise fetch keeps a copy of the body to follow redirects with (a tee of the stream,
        // which holds every byte sent until the call ends: the whole file). A stream cannot be sent
        // twice anyway, so a redirect fails the call instead (nodejs/undici#4058).
        init.redirect = 'error';
        init.window = null;
        if (length !== undefined) headers.set('content-length', String(length));
      } else {
        const json = contentType === 'application/json' || contentType.endsWith('+json');
        init.body = json ? JSON.stringify(source) : (source as RequestInit['body']);
      }
    }
    if (range) headers.set('range', `bytes=${range.start}-${range.end ?? ''}`);
    this.applyHeaders(headers, options);

    call.arm();
    let res: Response;
    try {
      res = await this.fetch(url, init);
      if (!res.ok) throw await this.apiError(res, method, url);
      if (req.response !== 'stream') {
        const parsed = await this.readBody(res, req.response, method, url);
        call.finish();
        return parsed;
      }
    } catch (err) {
      call.finish();
      throw call.error(err);
    }
    call.disarm();
    const length = /^\d+$/.test(res.headers.get('content-length') ?? '')
      ? Number(res.headers.get('content-length'))
      : null;
    // A compressed answer's Content-Length counts the compressed bytes, not those the body yields.
    const encoded = !['', 'identity'].includes((res.headers.get('content-encoding') ?? '').trim().toLowerCase());
    return {
      status: res.status,
      headers: res.headers,
      contentLength: encoded ? null : length,
      range: res.status === 206 ? contentRangeOf(res.headers.get('content-range')) : null,
      body: this.downloadStream(res, call, encoded ? null : length),
    } satisfies StreamResponse;
  }

  /**
   * The answer's body as a pull-driven stream: the idle timer runs only while a read waits on the
   * network, and a body shorter than announced is an error rather than a silently short file.
   */
  private downloadStream(res: Response, call: CallControl, expected: number | null): ReadableStream<Uint8Array> {
    const reader = res.body?.getReader();
    let received = 0;
    return new ReadableStream<Uint8Array>(
      {
        async pull(ctrl) {
          if (!reader) {
            call.finish();
            ctrl.close();
            return;
          }
          call.arm();
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await reader.read();
          } catch (err) {
            call.finish();
            ctrl.error(call.error(err));
            return;
          }
          call.disarm();
          if (!r.done) {
            received += r.value.byteLength;
            ctrl.enqueue(r.value);
            return;
          }
          call.finish();
          if (expected !== null && received !== expected) {
            ctrl.error(
              new HangarApiError({
                status: 0,
                code: 'network_error',
                message: `the answer from ${call.url} ended after ${received} of ${expected} bytes`,
                method: call.method,
                url: call.url,
              }),
            );
          } else ctrl.close();
        },
        async cancel(reason) {
          call.finish();
          await reader?.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  private fetch(url: string, init: RequestInit): Promise<Response> {
    return this.fetchFn ? this.fetchFn(url, init) : globalThis.fetch(url, init);
  }

  /** Accept and authorization; the caller adds its body headers, then {@link applyHeaders}. */
  private headersFor(accept: string): Headers {
    const headers = new Headers({ accept });
    if (this.authorization) headers.set('authorization', this.authorization);
    return headers;
  }

  /** The client's and the call's own headers, which may override the computed ones. */
  private applyHeaders(headers: Headers, options: RequestOptions): void {
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v);
    for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
  }

  private buildUrl(req: Pick<OperationRequest, 'method' | 'path' | 'pathParams' | 'query'>): string {
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
