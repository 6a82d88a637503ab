import { sql, type Insertable, type Kysely, type SqlBool } from 'kysely';
import type { AuditEventsTable, DB } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import { eventHash, GENESIS_HASH, type AuditRow } from './chain.js';

export interface AuditFilter {
  actor?: string;
  target?: string;
  action?: string;
  outcome?: string;
  /** Only these projects (non-admin readers see the projects they maintain). */
  projectIds?: string[];
  sinceMs?: number;
  untilMs?: number;
  /** Events with ids below this (newest first paging). */
  beforeId?: string;
}

/** SQL of the audit log: appends, the chainer's linking, queries and the verifier's walk. */
export class AuditStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly engine: Engine,
  ) {}

  /** Appends unlinked events with `executor`, which may be the caller's transaction. */
  async append(executor: Kysely<DB>, events: Insertable<AuditEventsTable>[]): Promise<void> {
    if (events.length) await executor.insertInto('audit_events').values(events).execute();
  }

  /**
   * Links up to `limit` unlinked events to the chain, oldest id first, in one transaction that
   * holds the chain head's row lock (PostgreSQL) or the write lock (SQLite), so concurrent
   * chainers in several processes take turns and never fork the chain. Returns how many it linked.
   */
  async link(limit: number): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      let q = tx.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', 1);
      if (this.engine === 'postgres') q = q.forUpdate();
      let head = await q.executeTakeFirst();
      if (!head) {
        // First use: SQLite takes its write lock on this insert; PostgreSQL racers conflict on the key.
        await tx
          .insertInto('audit_chain')
          .values({ id: 1, seq: 0, hash: GENESIS_HASH })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        let again = tx.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', 1);
        if (this.engine === 'postgres') again = again.forUpdate();
        head = await again.executeTakeFirstOrThrow();
      } else if (this.engine === 'sqlite') {
        // Take SQLite's write lock before reading the pending events (a no-op update).
        await tx.updateTable('audit_chain').set({ seq: head.seq }).where('id', '=', 1).execute();
      }
      const pending = await tx
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', 'is', null)
        .orderBy('id')
        .limit(limit)
        .execute();
      let { seq, hash } = head;
      for (const e of pending) {
        seq += 1;
        const prev = hash;
        hash = eventHash(prev, seq, e);
        await tx.updateTable('audit_events').set({ seq, prev_hash: prev, hash }).where('id', '=', e.id).execute();
      }
      if (pending.length) await tx.updateTable('audit_chain').set({ seq, hash }).where('id', '=', 1).execute();
      return pending.length;
    });
  }

  head(): Promise<{ seq: number; hash: string } | undefined> {
    return this.db.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  }

  /** Linked events with seq > `afterSeq`, in chain order. */
  linkedAfter(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  async countUnlinked(): Promise<number> {
    const r = await this.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('seq', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Newest first. */
  list(filter: AuditFilter, limit: number): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
    if (filter.target !== undefined) q = q.where('target', '=', filter.target);
    if (filter.action !== undefined) {
      // "project.*" selects a family of actions; `_` (allowed in action names) is escaped, as
      // the route's pattern admits no other LIKE wildcard.
      const family = `${filter.action.slice(0, -1).replace(/_/g, '\\_')}%`;
      q = filter.action.endsWith('.*')
        ? q.where(sql<SqlBool>`action like ${family} escape '\\'`)
        : q.where('action', '=', filter.action);
    }
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome as AuditRow['outcome']);
    if (filter.projectIds) {
      const ids = filter.projectIds;
      if (ids.length === 0) return Promise.resolve([]);
      q = q.where('project_id', 'in', ids);
    }
    if (filter.sinceMs !== undefined) q = q.where('at', '>=', filter.sinceMs);
    if (filter.untilMs !== undefined) q = q.where('at', '<', filter.untilMs);
    if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }
}
