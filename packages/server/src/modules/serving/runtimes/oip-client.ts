import http from 'node:http';
import https from 'node:https';
import { encodeInferRequestJson, InferResponseError, isDatatype, parseInferResponse } from '../oip/codec.js';
import { RuntimeInputError, RuntimeUnavailableError, type ModelMetadata } from '../runtime.js';
import type { Tensor, TensorSpec } from '../tensors.js';

export interface OipClientOptions {
  /** The server's base URL (http or https), e.g. `http://127.0.0.1:8080`; a path prefix is kept. */
  url: string;
  model: string;
  version?: string;
  /** Per request, from sending to the last byte of the answer. Default 30 s. */
  timeoutMs?: number;
  /** Sent with every request (e.g. authorization for an external server). */
  headers?: Record<string, string>;
  /** Concurrent connections to the server. Default 64. */
  maxSockets?: number;
  /** Larger answers are refused. Default 64 MiB. */
  maxResponseBytes?: number;
}

/** What `GET /v2/models/{m}` says, as far as Hangar uses it. */
export interface OipModelMetadata extends ModelMetadata {
  name: string;
  versions: string[];
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 ** 2;
// Below uvicorn's 5 s keep-alive timeout, so an idle connection is dropped here before the server
// drops it under a request being sent.
const IDLE_SOCKET_MS = 4_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A small Open Inference Protocol v2 REST client for one model on one server: metadata, readiness
 * and JSON inference over keep-alive connections. Failures are sorted the way `ModelRuntime`
 * promises: the server unreachable, timing out, answering 404 for the model or 502/503/504 ->
 * RuntimeUnavailableError; 400 and other 4xx -> RuntimeInputError with the server's `error` text;
 * 500 -> a plain Error (the model failed); an answer that is no OIP response -> a plain Error.
 */
export class OipClient {
  readonly baseUrl: string;
  private readonly modelPath: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: OipClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error(`url "${opts.url}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`url "${opts.url}" must be http or https`);
    }
    if (opts.model === '') throw new Error('model must not be empty');
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.modelPath =
      `/v2/models/${encodeURIComponent(opts.model)}` +
      (opts.version !== undefined && opts.version !== '' ? `/versions/${encodeURIComponent(opts.version)}` : '');
    this.transport = url.protocol === 'https:' ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, timeout: IDLE_SOCKET_MS };
    this.agent = url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.headers = { ...opts.headers };
  }

  /** The model as the server names it, with its version if one was given (for messages). */
  get modelLabel(): string {
    return this.opts.version ? `${this.opts.model} version ${this.opts.version}` : this.opts.model;
  }

  /**
   * `GET /v2/models/{m}[/versions/{v}]`: the model's declared inputs and outputs. Rejects with
   * RuntimeUnavailableError when the server cannot be reached, and with an Error saying so when
   * the server does not know the model or its answer is not OIP model metadata.
   */
  async metadata(): Promise<OipModelMetadata> {
    const where = `${this.baseUrl}${this.modelPath}`;
    const reply = await this.request('GET', this.modelPath);
    if (reply.status === 404) throw new Error(`${where} answered 404: ${errorText(reply)}`);
    if (reply.status !== 200) throw new Error(`${where} answered ${reply.status}: ${errorText(reply)}`);
    let doc: unknown;
    try {
      doc = JSON.parse(reply.body.toString('utf8'));
    } catch {
      throw new Error(`${where} is not an Open Inference Protocol server: its answer is not JSON`);
    }
    const notOip = (why: string) => new Error(`${where} is not an Open Inference Protocol server: ${why}`);
    if (!isObject(doc)) throw notOip('its answer is not a JSON object');
    const inputs = specs(doc.inputs ?? [], 'inputs', notOip);
    const outputs = specs(doc.outputs ?? [], 'outputs', notOip);
    if (typeof doc.name !== 'string') throw notOip('the model metadata has no "name"');
    const versions = Array.isArray(doc.versions) ? doc.versions.map(String) : [];
    const platform = typeof doc.platform === 'string' ? doc.platform : '';
    return { name: doc.name, versions, platform, inputs, outputs };
  }

  /**
   * `GET /v2/models/{m}[/versions/{v}]/ready`: true on 200; false on anything else, unreachable or
   * not answering within `timeoutMs` (default: the client's request timeout) included.
   */
  async isReady(timeoutMs = this.timeoutMs): Promise<boolean> {
    try {
      return (await this.request('GET', `${this.modelPath}/ready`, undefined, timeoutMs)).status === 200;
    } catch {
      return false;
    }
  }

  /**
   * `POST /v2/models/{m}[/versions/{v}]/infer` with JSON tensors; resolves with the answer's
   * outputs as the server named them. Errors as the class describes.
   */
  async infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    const body = encodeInferRequestJson({
      inputs,
      ...(outputs !== undefined && outputs.length > 0 ? { outputs: [...outputs] } : {}),
    });
    const reply = await this.request('POST', `${this.modelPath}/infer`, body);
    if (reply.status === 200) {
      const header = reply.headers['inference-header-content-length'];
      try {
        const headerLength = typeof header === 'string' ? Number(header) : undefined;
        return parseInferResponse(reply.body, headerLength, { maxElements: this.maxResponseBytes }).outputs;
      } catch (err) {
        if (err instanceof InferResponseError) {
          throw new Error(`the model server's answer could not be decoded: ${err.message}`);
        }
        throw err;
      }
    }
    const text = errorText(reply);
    if (reply.status === 404) {
      throw new RuntimeUnavailableError(`the model server has no model ${this.modelLabel}: ${text}`);
    }
    if (reply.status >= 400 && reply.status < 500) throw new RuntimeInputError(text);
    if (reply.status === 500) throw new Error(`the model failed: ${text}`);
    throw new RuntimeUnavailableError(`the model server answered ${reply.status}: ${text}`);
  }

  /** Closes the kept-alive connections. The client is unusable afterwards. */
  close(): void {
    this.agent.destroy();
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer,
    timeoutMs = this.timeoutMs,
  ): Promise<Reply> {
    try {
      return await this.once(method, path, body, timeoutMs);
    } catch (err) {
      // A kept-alive connection the server closed just as we reused it: the request never reached
      // the server (Node's documented pattern), so sending it again on a fresh connection is safe.
      if ((err as { retryable?: boolean }).retryable === true) return await this.once(method, path, body, timeoutMs);
      throw err;
    }
  }

  private once(method: 'GET' | 'POST', path: string, body: Buffer | undefined, timeoutMs: number): Promise<Reply> {
    const url = this.baseUrl + path;
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const headers: Record<string, string | number> = { ...this.headers, accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = body.length;
      }
      const req = this.transport.request(url, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            fail(new Error(`the answer of ${url} is larger than ${this.maxResponseBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) });
        });
        res.on('error', (err) => fail(unavailable(url, err)));
        res.on('aborted', () => fail(new RuntimeUnavailableError(`the connection to ${url} broke mid-answer`)));
      });
      const timer = setTimeout(() => {
        fail(new RuntimeUnavailableError(`${url} did not answer within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const e = unavailable(url, err);
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          (e as { retryable?: boolean }).retryable = true;
        }
        fail(e);
      });
      req.end(body);
    });
  }
}

function unavailable(url: string, err: NodeJS.ErrnoException): RuntimeUnavailableError {
  return new RuntimeUnavailableError(`the model server at ${url} cannot be reached: ${err.code ?? err.message}`);
}

/** The `error` of an OIP error answer, else the start of its body, else its status. */
function errorText(reply: Reply): string {
  const text = reply.body.toString('utf8', 0, Math.min(reply.body.length, 2000)).trim();
  try {
    const doc = JSON.parse(reply.body.toString('utf8')) as unknown;
    if (isObject(doc) && typeof doc.error === 'string') return doc.error;
  } catch {
    // not JSON: the text itself
  }
  return text === '' ? `HTTP ${reply.status}` : text;
}

function specs(raw: unknown, field: string, notOip: (why: string) => Error): TensorSpec[] {
  if (!Array.isArray(raw)) throw notOip(`"${field}" is not an array`);
  return raw.map((t: unknown, i) => {
    if (
      !isObject(t) ||
      typeof t.name !== 'string' ||
      !isDatatype(t.datatype) ||
      !Array.isArray(t.shape) ||
      !t.shape.every((d) => Number.isInteger(d))
    ) {
      throw notOip(`${field}[${i}] is not a tensor description (name, datatype, shape)`);
    }
    return { name: t.name, datatype: t.datatype, shape: t.shape as number[] };
  });
}

/**
 * Lines a model server's outputs up with what was declared and requested. MLServer declares its
 * single MLflow output as `output-0` and names it `output-1` in answers (and ignores requested
 * names), so a lone output takes the lone declared name; then, when outputs were requested, only
 * those are kept, in the requested order. A requested output the server left out is an Error.
 */
export function alignOutputs(
  declared: readonly TensorSpec[],
  requested: readonly string[] | undefined,
  got: Tensor[],
): Tensor[] {
  let out = got;
  if (declared.length === 1 && got.length === 1 && got[0]!.name !== declared[0]!.name) {
    out = [{ ...got[0]!, name: declared[0]!.name }];
  }
  if (requested === undefined || requested.length === 0) return out;
  return requested.map((name) => {
    const t = out.find((o) => o.name === name);
    if (t === undefined) throw new Error(`the model server did not return output "${name}"`);
    return t;
  });
}
