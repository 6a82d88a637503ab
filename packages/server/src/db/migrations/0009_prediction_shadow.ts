import { sql, type Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * A shadowed request's answer from the shadow version moves into the primary answer's row of the
 * prediction log (columns shadow_*), instead of a row of its own with route 'shadow'. Writing the
 * log is most of what serving costs per request; a second row per shadowed request made a 100 %
 * shadow cost about a quarter of the throughput, and the shadow report had to join the two rows
 * back together by request id anyway. Existing shadow rows are folded into their primaries.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  const columns: [string, 'bigint' | 'text' | 'double precision'][] = [
    ['shadow_version', 'bigint'],
    // ok | error
    ['shadow_outcome', 'text'],
    ['shadow_error', 'text'],
    ['shadow_latency_ms', 'double precision'],
    ['shadow_label', 'text'],
    ['shadow_value', 'double precision'],
    ['shadow_outputs', 'text'],
  ];
  for (const [name, type] of columns) await db.schema.alterTable('predictions').addColumn(name, type).execute();
  const from = (column: string) => sql`(
    select s.${sql.ref(column)} from predictions s
    where s.route = 'shadow' and s.deployment_id = predictions.deployment_id and s.request_id = predictions.request_id
    order by s.seq limit 1)`;
  await sql`
    update predictions set
      shadow_version = ${from('version')},
      shadow_outcome = ${from('outcome')},
      shadow_error = ${from('error')},
      shadow_latency_ms = ${from('latency_ms')},
      shadow_label = ${from('output_label')},
      shadow_value = ${from('output_value')},
      shadow_outputs = ${from('outputs')}
    where route <> 'shadow' and exists (
      select 1 from predictions s
      where s.route = 'shadow' and s.deployment_id = predictions.deployment_id and s.request_id = predictions.request_id)
  `.execute(db);
  await sql`delete from predictions where route = 'shadow'`.execute(db);
}
