import { performance } from 'node:perf_hooks';
import { signature, split, stack, stackableRows } from './batching.js';
import type { ModelRuntime } from './runtime.js';
import type { Tensor } from './tensors.js';

/** One shadow copy; `done` gets the candidate's outputs (or its error) and the call's duration. */
export interface ShadowCopy {
  inputs: readonly Tensor[];
  outputs: readonly string[] | undefined;
  done: (result: Tensor[] | null, err: unknown, ms: number) => void;
}

interface Queued extends ShadowCopy {
  /** Rows it would add to a stacked call; null when it cannot be stacked. */
  rows: number | null;
}

type Stackable = Queued & { rows: number };
const stackable = (c: Queued): c is Stackable => c.rows !== null;

/**
 * Runs a candidate's shadow copies without a timer. When no call is running, a copy runs at once,
 * alone. Copies that arrive while a call runs wait for it and then go together as one call of up
 * to `maxRows` rows. Under light load every copy therefore runs alone, so its latency is the
 * candidate's own. Under load the candidate costs one call per batch instead of one per request,
 * which keeps a 100 % shadow cheap. A copy's latency is the duration of the call that computed it.
 * A model whose outputs are not per-row cannot be stacked; its copies then run one by one.
 */
export class ShadowRunner {
  private queue: Queued[] = [];
  private running = false;
  private unstackable = false;

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly maxRows = 64,
  ) {}

  submit(copy: ShadowCopy): void {
    const rows = stackableRows(copy.inputs);
    this.queue.push({
      inputs: copy.inputs,
      outputs: copy.outputs,
      done: copy.done,
      rows: rows !== null && rows < this.maxRows ? rows : null,
    });
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        if (batch.length === 1) {
          await this.one(batch[0]!);
          continue;
        }
        // Only copies alike in inputs and outputs can share a call; one that cannot be stacked runs alone.
        const groups = new Map<string, Stackable[]>();
        const alone: Queued[] = [];
        for (const c of batch) {
          if (!stackable(c)) {
            alone.push(c);
            continue;
          }
          const key = signature(c);
          const g = groups.get(key);
          if (g) g.push(c);
          else groups.set(key, [c]);
        }
        await Promise.all([...[...groups.values()].map((g) => this.run(g)), ...alone.map((c) => this.one(c))]);
      }
    } finally {
      this.running = false;
    }
  }

  /** The oldest copies, up to `maxRows` rows (always at least one copy). */
  private take(): Queued[] {
    let rows = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || rows + (this.queue[n]!.rows ?? 0) <= this.maxRows)) {
      rows += this.queue[n++]!.rows ?? 0;
    }
    return this.queue.splice(0, n);
  }

  private async run(group: Stackable[]): Promise<void> {
    if (group.length === 1 || this.unstackable) {
      for (const c of group) await this.one(c);
      return;
    }
    const started = performance.now();
    const stacked = stack(group);
    let out: Tensor[];
    try {
      out = await this.runtime.infer(stacked.inputs, group[0]!.outputs);
    } catch {
      // One copy may have broken the call: each runs alone, so it fails only itself.
      for (const c of group) await this.one(c);
      return;
    }
    let parts: Tensor[][];
    try {
      parts = split(out, stacked.total, group);
    } catch {
      this.unstackable = true;
      for (const c of group) await this.one(c);
      return;
    }
    const ms = performance.now() - started;
    group.forEach((c, i) => c.done(parts[i]!, null, ms));
  }

  private async one(c: Queued): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.runtime.infer([...c.inputs], c.outputs);
      c.done(result, null, performance.now() - started);
    } catch (err) {
      c.done(null, err, performance.now() - started);
    }
  }
}
