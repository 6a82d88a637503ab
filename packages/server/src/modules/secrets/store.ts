import type { Kysely, Selectable } from 'kysely';
import type { DB, SecretsTable } from '../../db/schema.js';

export type SecretRow = Selectable<SecretsTable>;

/** SQL for sealed secrets. Only ciphertext is ever stored. */
export class SecretStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): SecretStore {
    return new SecretStore(tx);
  }

  list(projectId: string) {
    return this.db
      .selectFrom('secrets as s')
      .leftJoin('users as u', 'u.id', 's.created_by')
      .select(['s.name', 's.created_at', 's.updated_at', 'u.username as created_by'])
      .where('s.project_id', '=', projectId)
      .orderBy('s.name')
      .execute();
  }

  get(projectId: string, name: string) {
    return this.db
      .selectFrom('secrets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Inserts or replaces; returns true when the name was new. */
  async upsert(row: SecretRow): Promise<boolean> {
    const existing = await this.get(row.project_id, row.name);
    if (existing) {
      await this.db
        .updateTable('secrets')
        .set({ ciphertext: row.ciphertext, updated_at: row.updated_at, created_by: row.created_by })
        .where('id', '=', existing.id)
        .execute();
      return false;
    }
    await this.db.insertInto('secrets').values(row).execute();
    return true;
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('secrets')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
