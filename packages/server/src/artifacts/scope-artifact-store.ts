import type { Readable } from 'node:stream';
import { joinArtifactPath, normalizeArtifactPath } from './safe-path.js';
import type {
  ArtifactEntry,
  ArtifactStat,
  ArtifactStore,
  ByteRange,
  DeleteResult,
  GetResult,
  ListOptions,
  PutOptions,
  PutResult,
} from './types.js';

/**
 * A view of `store` rooted at the folder `prefix` (e.g. one run's `<experiment>/<run>/artifacts`):
 * paths given to and returned by the view are relative to `prefix`. Paths are checked before they
 * are joined, so nothing reaches above `prefix`. `delete('')` on the view deletes everything under
 * `prefix`. `close()` leaves the underlying store open.
 */
export function scopeArtifactStore(store: ArtifactStore, prefix: string): ArtifactStore {
  const base = normalizeArtifactPath(prefix, { field: 'prefix' });
  const inner = (p: string, allowRoot = false) =>
    joinArtifactPath(base, normalizeArtifactPath(p, allowRoot ? { allowRoot } : {}));
  const strip = (p: string) => (p === base ? '' : p.slice(base.length + 1));
  return {
    uri: `${store.uri.replace(/\?.*$/, '').replace(/\/$/, '')}/${base}`,
    async put(p: string, body: Readable, opts?: PutOptions): Promise<PutResult> {
      const res = await store.put(inner(p), body, opts);
      return { ...res, path: strip(res.path) };
    },
    async get(p: string, range?: ByteRange): Promise<GetResult> {
      return store.get(inner(p), range);
    },
    async stat(p: string): Promise<ArtifactStat> {
      const st = await store.stat(inner(p));
      return { ...st, path: strip(st.path) };
    },
    async exists(p: string): Promise<boolean> {
      return store.exists(inner(p));
    },
    async list(p: string, opts?: ListOptions): Promise<ArtifactEntry[]> {
      const entries = await store.list(inner(p, true), opts);
      return entries.map((e) => ({ ...e, path: strip(e.path) }));
    },
    async delete(p: string): Promise<DeleteResult> {
      return store.delete(inner(p, true));
    },
    async close(): Promise<void> {},
  };
}
