import { InputError } from '../../core/errors.js';

/** One version's share of a deployment's traffic, in whole percent. */
export interface TrafficSplit {
  version: number;
  weight: number;
}

/** The version that gets a copy of a share of live traffic; its answers are never returned. */
export interface ShadowPolicy {
  version: number;
  percent: number;
}

/** Where sticky A/B assignment reads its key: a request header, or an input field of records. */
export interface RoutingKey {
  header?: string;
  field?: string;
}

export const MAX_SPLITS = 10;

/**
 * Validates a traffic split: 1–10 distinct versions, integer weights 0–100 summing to exactly 100.
 * Throws InputError naming the field.
 */
export function checkTraffic(splits: readonly TrafficSplit[], field = 'versions'): TrafficSplit[] {
  if (splits.length === 0) throw new InputError(`${field} must name at least one version`, field);
  if (splits.length > MAX_SPLITS) throw new InputError(`${field} may name at most ${MAX_SPLITS} versions`, field);
  const seen = new Set<number>();
  let sum = 0;
  for (const [i, s] of splits.entries()) {
    if (!Number.isInteger(s.version) || s.version < 1)
      throw new InputError(`${field}[${i}].version must be a positive integer`, `${field}[${i}].version`);
    if (!Number.isInteger(s.weight) || s.weight < 0 || s.weight > 100)
      throw new InputError(`${field}[${i}].weight must be an integer from 0 to 100`, `${field}[${i}].weight`);
    if (seen.has(s.version)) throw new InputError(`${field} names version ${s.version} twice`, field);
    seen.add(s.version);
    sum += s.weight;
  }
  if (sum !== 100) throw new InputError(`${field} weights must sum to 100 (they sum to ${sum})`, field);
  return splits.map((s) => ({ version: s.version, weight: s.weight }));
}

/** Canary split: `percent` to the candidate, the rest to stable (one entry when either is 0). */
export function canarySplit(stable: number, candidate: number, percent: number): TrafficSplit[] {
  if (percent >= 100) return [{ version: candidate, weight: 100 }];
  if (percent <= 0) return [{ version: stable, weight: 100 }];
  return [
    { version: stable, weight: 100 - percent },
    { version: candidate, weight: percent },
  ];
}

/**
 * Picks versions for requests by weight. Built once per traffic revision: the cumulative table is
 * computed here so each request does one comparison per version. With a routing key the choice is
 * a hash of the key, so one user stays on one version while the split is unchanged (sticky A/B);
 * without one it is random.
 */
export class TrafficRouter {
  private readonly cumulative: Int32Array;
  private readonly versions: Int32Array;

  constructor(splits: readonly TrafficSplit[]) {
    const live = splits.filter((s) => s.weight > 0);
    this.versions = Int32Array.from(live, (s) => s.version);
    this.cumulative = new Int32Array(live.length);
    let acc = 0;
    live.forEach((s, i) => (this.cumulative[i] = acc += s.weight));
  }

  /** The version for a request: by `key`'s hash when given, else at random. */
  pick(key?: string): number {
    const n = this.versions.length;
    if (n === 1) return this.versions[0]!;
    const bucket = key === undefined ? Math.floor(Math.random() * 100) : hashBucket(key);
    for (let i = 0; i < n; i++) if (bucket < this.cumulative[i]!) return this.versions[i]!;
    return this.versions[n - 1]!;
  }
}

/** FNV-1a of the key, in 0..99: stable across processes and restarts, so replicas agree. */
export function hashBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}
