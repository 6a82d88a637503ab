import { sql, type Kysely } from 'kysely';
import type { Engine } from '../dialect.js';

/**
 * The prediction log's tensor columns hold bytes in the log's own encoding
 * (modules/serving/logged-tensors.ts, ADR 0015) instead of JSON text. Rows written before keep
 * their JSON, as its UTF-8 bytes: a reader tells the two apart by the first byte.
 *
 * PostgreSQL changes the columns' type to bytea. SQLite cannot change a column's type, so each
 * column is replaced by a blob column of the same name, which moves it to the end of the table
 * (nothing reads the table by column position).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  for (const column of ['inputs', 'outputs', 'shadow_outputs']) {
    const c = sql.ref(column);
    if (engine === 'postgres') {
      await sql`alter table predictions alter column ${c} type bytea using convert_to(${c}, 'UTF8')`.execute(db);
      continue;
    }
    const bytes = `${column}_bytes`;
    await db.schema.alterTable('predictions').addColumn(bytes, 'blob').execute();
    await sql`update predictions set ${sql.ref(bytes)} = cast(${c} as blob)`.execute(db);
    await db.schema.alterTable('predictions').dropColumn(column).execute();
    await db.schema.alterTable('predictions').renameColumn(bytes, column).execute();
  }
}
