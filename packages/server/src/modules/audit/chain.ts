import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AuditEventsTable } from '../../db/schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

/** The hash the chain starts from (what the first event's prev_hash is). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one linked event: sha256 over the previous hash and every recorded field in a fixed
 * order, so changing any field, reordering events or removing one breaks every later link.
 */
export function eventHash(prevHash: string, seq: number, e: AuditRow): string {
  const fields = [
    seq,
    e.id,
    e.at,
    e.actor_id,
    e.actor,
    e.action,
    e.target_type,
    e.target,
    e.project_id,
    e.outcome,
    e.request_id,
    e.ip,
    e.details,
  ];
  return createHash('sha256').update(prevHash).update(JSON.stringify(fields)).digest('hex');
}
