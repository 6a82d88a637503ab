import type { ModelMetadata, ModelRuntime, RuntimeKind } from './runtime.js';
import type { Tensor, TensorData } from './tensors.js';

export interface BatchingPolicy {
  maxBatchSize: number;
  maxDelayMs: number;
}

export const BATCHING_LIMITS = { maxBatchSize: 1024, maxDelayMs: 1000 } as const;

interface Pending {
  inputs: Tensor[];
  outputs: readonly string[] | undefined;
  rows: number;
  resolve: (t: Tensor[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Dynamic batching in front of a runtime: concurrent requests are held up to `maxDelayMs` and run
 * as one call of up to `maxBatchSize` rows, then each caller gets its rows back. Requests can share
 * a call only when they have the same inputs (names, datatypes, trailing dimensions) and ask for
 * the same outputs; others run in their own call. Outputs are split along the first dimension,
 * which must equal the batch's row count (a model whose outputs are not per-row is not batchable:
 * the call then fails, so leave batching off for it).
 */
export class BatchingRuntime implements ModelRuntime {
  readonly kind: RuntimeKind;
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  batches = 0;

  constructor(
    private readonly inner: ModelRuntime,
    private readonly policy: BatchingPolicy,
  ) {
    this.kind = inner.kind;
  }

  metadata(): ModelMetadata {
    return this.inner.metadata();
  }

  ready(): boolean {
    return this.inner.ready();
  }

  infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    const rows = stackableRows(inputs);
    if (rows === null || rows >= this.policy.maxBatchSize) {
      return this.inner.infer(inputs, outputs);
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      if (this.queuedRows + rows > this.policy.maxBatchSize) this.dispatch();
      this.queue.push({ inputs, outputs, rows, resolve, reject });
      this.queuedRows += rows;
      if (this.queuedRows >= this.policy.maxBatchSize) this.dispatch();
      else if (!this.timer) this.timer = setTimeout(() => this.dispatch(), this.policy.maxDelayMs);
    });
  }

  async close(): Promise<void> {
    this.dispatch();
    await this.inner.close();
  }

  private dispatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const queue = this.queue;
    this.queue = [];
    this.queuedRows = 0;
    // Group by shape signature: only requests that look alike can be stacked.
    const groups = new Map<string, Pending[]>();
    for (const p of queue) {
      const key = signature(p);
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    }
    for (const group of groups.values()) void this.run(group);
  }

  private async run(group: Pending[]): Promise<void> {
    if (group.length === 1) {
      const p = group[0]!;
      this.inner.infer(p.inputs, p.outputs).then(p.resolve, p.reject);
      return;
    }
    this.batches++;
    const stacked = stack(group);
    let parts: Tensor[][];
    try {
      parts = split(await this.inner.infer(stacked.inputs, group[0]!.outputs), stacked.total, group);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    group.forEach((p, i) => p.resolve(parts[i]!));
  }
}

/** What a request must share with others to go in one call: input names, datatypes, trailing dimensions, outputs. */
export function signature(p: { inputs: readonly Tensor[]; outputs: readonly string[] | undefined }): string {
  const inputs = p.inputs.map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`).join(',');
  return `${inputs}|${p.outputs?.join(',') ?? '*'}`;
}

/** Rows of a request that can be stacked (every input has the same first dimension), else null. */
export function stackableRows(inputs: readonly Tensor[]): number | null {
  const rows = inputs[0]?.shape[0];
  if (rows === undefined || inputs.some((t) => t.shape[0] !== rows)) return null;
  return rows;
}

/** The requests' inputs (same signature) stacked along the first dimension. */
export function stack(group: readonly { inputs: readonly Tensor[]; rows: number }[]): {
  inputs: Tensor[];
  total: number;
} {
  const total = group.reduce((n, p) => n + p.rows, 0);
  const inputs = group[0]!.inputs.map((t, i) => ({
    name: t.name,
    datatype: t.datatype,
    shape: [total, ...t.shape.slice(1)],
    data: concat(group.map((p) => p.inputs[i]!.data)),
  }));
  return { inputs, total };
}

/**
 * Each request's rows of a stacked call's outputs, in order. Throws when an output is not per-row
 * (its first dimension is not the batch's row count): such a model is not batchable.
 */
export function split(out: readonly Tensor[], total: number, group: readonly { rows: number }[]): Tensor[][] {
  let offset = 0;
  return group.map((p) => {
    const part = out.map((t) => sliceRows(t, total, offset, p.rows));
    offset += p.rows;
    return part;
  });
}

function concat(parts: TensorData[]): TensorData {
  const first = parts[0]!;
  if (Array.isArray(first)) return (parts as Buffer[][]).flat();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = first.constructor as new (n: number) => Exclude<TensorData, Buffer[]>;
  const out = new Ctor(total);
  let at = 0;
  for (const p of parts as Exclude<TensorData, Buffer[]>[]) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, at);
    at += p.length;
  }
  return out;
}

function sliceRows(t: Tensor, total: number, offset: number, rows: number): Tensor {
  if (t.shape[0] !== total) {
    throw new Error(`output "${t.name}" has ${t.shape[0]} rows for a batch of ${total}: the model is not batchable`);
  }
  const per = total === 0 ? 0 : t.data.length / total;
  const data = Array.isArray(t.data)
    ? t.data.slice(offset * per, (offset + rows) * per)
    : t.data.slice(offset * per, (offset + rows) * per);
  return { name: t.name, datatype: t.datatype, shape: [rows, ...t.shape.slice(1)], data };
}
