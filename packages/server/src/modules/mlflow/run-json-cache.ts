/**
 * MLflow's JSON of runs as last built (UTF-8 bytes, ready to write), one entry per run, filed
 * under the run's revision (SQLite's `runs.rev`, renewed by triggers with every change to what the
 * JSON holds). An entry serves only while the run's current revision is the one it was filed
 * under, so there is nothing to invalidate: a change makes the old entry unreachable, and the next
 * search replaces it.
 *
 * The entry may have been built from data newer than its revision (a write can commit between the
 * search that read the revision and the reads that build the JSON); that is safe because
 * revisions are random, so the old one never becomes current again. Bounded by the total size of
 * the JSON kept; the least recently served runs go first.
 */
export class RunJsonCache {
  private readonly entries = new Map<string, { rev: number; json: Buffer }>();
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  get(id: string, rev: number): Buffer | undefined {
    const e = this.entries.get(id);
    if (e?.rev !== rev) return undefined;
    // Map keeps insertion order: moving a served entry to the end makes the first the eldest.
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.json;
  }

  set(id: string, rev: number, json: Buffer): void {
    this.remove(id);
    if (json.length > this.maxBytes) return;
    this.entries.set(id, { rev, json });
    this.size += json.length;
    for (const eldest of this.entries.keys()) {
      if (this.size <= this.maxBytes) break;
      this.remove(eldest);
    }
  }

  /** Bytes of JSON held. */
  get bytes(): number {
    return this.size;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.size -= e.json.length;
  }
}
