import type { Kysely, Selectable } from 'kysely';
import type { ApiTokensTable, DB, UsersTable } from '../../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type TokenRow = Selectable<ApiTokensTable>;

/** Persistence for users and API tokens. */
export interface IdentityStore {
  countUsers(): Promise<number>;
  userById(id: string): Promise<UserRow | undefined>;
  userByUsername(username: string): Promise<UserRow | undefined>;
  /**
   * Inserts the first admin and its optional token atomically, unless a user with that name exists.
   * Returns false when another process got there first (servers starting together on one store).
   */
  insertFirstAdmin(user: UserRow, token: TokenRow | null): Promise<boolean>;
  tokenByHash(hash: string): Promise<TokenRow | undefined>;
  insertToken(token: TokenRow): Promise<void>;
  tokensOfUser(userId: string): Promise<TokenRow[]>;
  revokeToken(id: string, userId: string | null, at: number): Promise<boolean>;
  /** Records last use of many tokens at once (batched off the request path). */
  touchTokens(uses: Map<string, number>): Promise<void>;
}

export class SqlIdentityStore implements IdentityStore {
  constructor(private readonly db: Kysely<DB>) {}

  async countUsers() {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  userById(id: string) {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  userByUsername(username: string) {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  insertFirstAdmin(user: UserRow, token: TokenRow | null) {
    return this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('users')
        .values(user)
        .onConflict((oc) => oc.column('username').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return false;
      if (token) await tx.insertInto('api_tokens').values(token).execute();
      return true;
    });
  }

  tokenByHash(hash: string) {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async insertToken(token: TokenRow) {
    await this.db.insertInto('api_tokens').values(token).execute();
  }

  tokensOfUser(userId: string) {
    return this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute();
  }

  async revokeToken(id: string, userId: string | null, at: number) {
    // Revoking twice is fine: the first revocation time is kept.
    let q = this.db
      .updateTable('api_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id);
    if (userId) q = q.where('user_id', '=', userId);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async touchTokens(uses: Map<string, number>) {
    if (uses.size === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const [id, at] of uses)
        await tx.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    });
  }
}
