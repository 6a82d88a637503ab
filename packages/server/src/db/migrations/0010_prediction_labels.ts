import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * Ground truth that arrives after the prediction (a churned customer, a confirmed fraud), keyed by
 * the request id the data plane returned. A canary's step analysis joins them with the prediction
 * log to compare the candidate's live accuracy (or error) with the stable version's; the
 * monitoring of performance with late labels reads the same table. One label per request: a later
 * one replaces it (labels get corrected).
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema
    .createTable('prediction_labels')
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('request_id', 'text', (c) => c.notNull())
    // A class (compared with a classifier's output label) or a number (a regressor's output value).
    .addColumn('label', 'text')
    .addColumn('value', 'double precision')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('prediction_labels_pk', ['deployment_id', 'request_id'])
    .execute();
}
