import type { Kysely, Selectable, Updateable } from 'kysely';
import type { DB, TeamRole, TeamsTable } from '../../db/schema.js';

export type TeamRow = Selectable<TeamsTable>;

export interface TeamMemberRow {
  user_id: string;
  username: string;
  display_name: string;
  role: TeamRole;
  added_at: number;
}

/** SQL for teams and their members. `with(tx)` binds it to a transaction. */
export class TeamStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): TeamStore {
    return new TeamStore(tx);
  }

  byName(name: string) {
    return this.db.selectFrom('teams').selectAll().where('name', '=', name).executeTakeFirst();
  }

  list() {
    return this.db.selectFrom('teams').selectAll().orderBy('name').execute();
  }

  /** Member counts per team id. */
  async memberCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('team_members')
      .select(['team_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('team_id')
      .execute();
    return new Map(rows.map((r) => [r.team_id, Number(r.n)]));
  }

  async insert(team: TeamRow) {
    await this.db.insertInto('teams').values(team).execute();
  }

  async update(id: string, patch: Updateable<TeamsTable>) {
    await this.db.updateTable('teams').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string) {
    await this.db.deleteFrom('teams').where('id', '=', id).execute();
  }

  async projectCount(teamId: string) {
    const r = await this.db
      .selectFrom('projects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('team_id', '=', teamId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  members(teamId: string): Promise<TeamMemberRow[]> {
    return this.db
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.username', 'u.display_name', 'm.role', 'm.added_at'])
      .where('m.team_id', '=', teamId)
      .orderBy('u.username')
      .execute();
  }

  async memberRole(teamId: string, userId: string): Promise<TeamRole | null> {
    const r = await this.db
      .selectFrom('team_members')
      .select('role')
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return r?.role ?? null;
  }

  /** Inserts or changes a membership; returns the previous role (null when new). */
  async setMember(teamId: string, userId: string, role: TeamRole, at: number): Promise<TeamRole | null> {
    const before = await this.memberRole(teamId, userId);
    if (before === null) {
      await this.db
        .insertInto('team_members')
        .values({ team_id: teamId, user_id: userId, role, added_at: at })
        .execute();
    } else if (before !== role) {
      await this.db
        .updateTable('team_members')
        .set({ role })
        .where('team_id', '=', teamId)
        .where('user_id', '=', userId)
        .execute();
    }
    return before;
  }

  async removeMember(teamId: string, userId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('team_members')
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async countLeads(teamId: string) {
    const r = await this.db
      .selectFrom('team_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('team_id', '=', teamId)
      .where('role', '=', 'lead')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  teamsOfUser(userId: string) {
    return this.db
      .selectFrom('team_members as m')
      .innerJoin('teams as t', 't.id', 'm.team_id')
      .select(['t.id', 't.name', 't.display_name', 'm.role'])
      .where('m.user_id', '=', userId)
      .orderBy('t.name')
      .execute();
  }
}
