import { createHook } from 'node:async_hooks';

/*
 * A workaround for a performance cliff of Node 20 (V8 11.3), found by profiling the request path.
 *
 * `process.nextTick` builds each queue entry as an object literal with two symbol keys
 * (`{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`). V8 holds the hidden
 * classes of such a literal only weakly: once no entry is alive, a full garbage collection frees
 * them, and the next entry gets new ones. The literal's property-definition caches then see a
 * second set of hidden classes and turn megamorphic, for the rest of the process. From then on every
 * entry defines its properties through V8's runtime. Node's streams queue several entries per HTTP
 * request, so a cheap request costs about 10 % more CPU.
 *
 * One full GC while the queue is empty is enough, so whether a server process is hit depends on
 * timing: it happened in about one start of three under the benchmarks here. Keeping a single entry
 * alive for the life of the process keeps its hidden classes alive, and the caches stay
 * monomorphic. The entry is reached through an async hook, enabled only for one nextTick call.
 */

let kept: object | null = null;

/** Keeps one nextTick queue entry (and with it the entries' hidden classes) alive; idempotent. */
export function keepNextTickShapeAlive(): void {
  if (kept) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') kept ??= resource;
    },
  }).enable();
  try {
    process.nextTick(() => {});
  } finally {
    hook.disable();
  }
}
