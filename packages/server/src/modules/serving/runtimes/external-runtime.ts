import { RuntimeUnavailableError, type ModelMetadata, type ModelRuntime, type RuntimeKind } from '../runtime.js';
import type { Tensor, TensorSpec } from '../tensors.js';
import { checkInputs, checkOutputs, specMap } from './check-inputs.js';
import { alignOutputs, OipClient } from './oip-client.js';

export interface ExternalRuntimeOptions {
  /** The server's base URL, e.g. `http://models.internal:8000`. */
  url: string;
  /** The model's name on that server. */
  model: string;
  version?: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /** Sent with every request (e.g. authorization). */
  headers?: Record<string, string>;
  /** How often readiness is polled while open. Default 5 s. */
  healthIntervalMs?: number;
}

/**
 * A model served by any Open Inference Protocol v2 server Hangar does not run itself. Requests go
 * over JSON with kept-alive connections; inputs are checked against the metadata the server
 * declares before they are sent (a server's own validation may be a bare 500); readiness follows
 * the server's `/ready`, polled in the background, and drops at once when a request finds the
 * server unreachable.
 */
export class ExternalRuntime implements ModelRuntime {
  readonly kind: RuntimeKind = 'external';
  private healthy: boolean;
  private closed = false;
  private polling = false;
  private readonly timer: NodeJS.Timeout;
  private readonly inputSpecs: Map<string, TensorSpec>;
  private readonly outputSpecs: Map<string, TensorSpec>;

  private constructor(
    private readonly client: OipClient,
    private readonly meta: ModelMetadata,
    ready: boolean,
    private readonly healthIntervalMs: number,
  ) {
    this.healthy = ready;
    this.inputSpecs = specMap(meta.inputs);
    this.outputSpecs = specMap(meta.outputs);
    this.timer = setInterval(() => void this.poll(), healthIntervalMs);
    // A health poll never keeps the process alive on its own.
    this.timer.unref();
  }

  /**
   * Connects to the model on the server: reads its metadata (`GET /v2/models/{m}[/versions/{v}]`)
   * and readiness. Rejects with RuntimeUnavailableError when the server cannot be reached, and
   * with an Error when it does not know the model or is not an Open Inference Protocol server.
   * A model that exists but is not ready yet opens, not ready.
   */
  static async open(opts: ExternalRuntimeOptions): Promise<ExternalRuntime> {
    const client = new OipClient(opts);
    try {
      const meta = await client.metadata();
      const ready = await client.isReady();
      return new ExternalRuntime(
        client,
        { platform: meta.platform || 'external', inputs: meta.inputs, outputs: meta.outputs },
        ready,
        opts.healthIntervalMs ?? 5_000,
      );
    } catch (err) {
      client.close();
      if (err instanceof RuntimeUnavailableError) {
        throw new RuntimeUnavailableError(`cannot open model ${client.modelLabel}: ${err.message}`);
      }
      throw err;
    }
  }

  metadata(): ModelMetadata {
    return this.meta;
  }

  ready(): boolean {
    return !this.closed && this.healthy;
  }

  async infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    if (this.closed) throw new RuntimeUnavailableError(`the runtime of ${this.client.modelLabel} is closed`);
    checkInputs(this.inputSpecs, inputs, { squeezeTrailingOnes: true });
    checkOutputs(this.outputSpecs, outputs);
    try {
      const got = await this.client.infer(inputs, outputs);
      this.healthy = true;
      return alignOutputs(this.meta.outputs, outputs, got);
    } catch (err) {
      if (err instanceof RuntimeUnavailableError) this.healthy = false;
      throw err;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.client.close();
    return Promise.resolve();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      // A poll never outlasts its interval by much: a hung server reads as not ready.
      const ready = await this.client.isReady(Math.max(1_000, this.healthIntervalMs));
      if (!this.closed) this.healthy = ready;
    } finally {
      this.polling = false;
    }
  }
}
