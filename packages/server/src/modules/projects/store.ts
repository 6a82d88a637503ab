import type { Kysely, Selectable, Updateable } from 'kysely';
import type { DB, ProjectRole, ProjectsTable, TeamRole } from '../../db/schema.js';

export type ProjectRow = Selectable<ProjectsTable>;

export interface ProjectMemberRow {
  user_id: string;
  username: string;
  display_name: string;
  role: ProjectRole;
  added_at: number;
}

export interface RoleSources {
  /** The role granted to the user on the project itself. */
  direct: ProjectRole | null;
  /** The user's role in the team that owns the project. */
  team: TeamRole | null;
}

/** SQL for projects, their direct members, and the facts an access decision needs. */
export class ProjectStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): ProjectStore {
    return new ProjectStore(tx);
  }

  byName(name: string) {
    return this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  }

  byId(id: string) {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list() {
    return this.db.selectFrom('projects').selectAll().orderBy('name').execute();
  }

  /** Projects the user belongs to directly or through the owning team. */
  listForUser(userId: string) {
    return this.db
      .selectFrom('projects as p')
      .selectAll('p')
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('project_members as pm')
              .select('pm.user_id')
              .whereRef('pm.project_id', '=', 'p.id')
              .where('pm.user_id', '=', userId),
          ),
          eb.exists(
            eb
              .selectFrom('team_members as tm')
              .select('tm.user_id')
              .whereRef('tm.team_id', '=', 'p.team_id')
              .where('tm.user_id', '=', userId),
          ),
        ]),
      )
      .orderBy('p.name')
      .execute();
  }

  async insert(p: ProjectRow) {
    await this.db.insertInto('projects').values(p).execute();
  }

  async update(id: string, patch: Updateable<ProjectsTable>) {
    await this.db.updateTable('projects').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string) {
    await this.db.deleteFrom('projects').where('id', '=', id).execute();
  }

  async roleSources(projectId: string, userId: string): Promise<RoleSources> {
    const [direct, team] = await Promise.all([
      this.db
        .selectFrom('project_members')
        .select('role')
        .where('project_id', '=', projectId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
      this.db
        .selectFrom('projects as p')
        .innerJoin('team_members as tm', 'tm.team_id', 'p.team_id')
        .select('tm.role')
        .where('p.id', '=', projectId)
        .where('tm.user_id', '=', userId)
        .executeTakeFirst(),
    ]);
    return { direct: direct?.role ?? null, team: team?.role ?? null };
  }

  members(projectId: string): Promise<ProjectMemberRow[]> {
    return this.db
      .selectFrom('project_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.username', 'u.display_name', 'm.role', 'm.added_at'])
      .where('m.project_id', '=', projectId)
      .orderBy('u.username')
      .execute();
  }

  /** Members of the owning team (their project role comes from their team role). */
  teamMembers(projectId: string) {
    return this.db
      .selectFrom('projects as p')
      .innerJoin('team_members as tm', 'tm.team_id', 'p.team_id')
      .innerJoin('users as u', 'u.id', 'tm.user_id')
      .select(['tm.user_id', 'u.username', 'u.display_name', 'tm.role'])
      .where('p.id', '=', projectId)
      .execute();
  }

  /** Inserts or changes a direct membership; returns the previous role (null when new). */
  async setMember(projectId: string, userId: string, role: ProjectRole, at: number): Promise<ProjectRole | null> {
    const before = await this.db
      .selectFrom('project_members')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!before) {
      await this.db
        .insertInto('project_members')
        .values({ project_id: projectId, user_id: userId, role, added_at: at })
        .execute();
    } else if (before.role !== role) {
      await this.db
        .updateTable('project_members')
        .set({ role })
        .where('project_id', '=', projectId)
        .where('user_id', '=', userId)
        .execute();
    }
    return before?.role ?? null;
  }

  async removeMember(projectId: string, userId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('project_members')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
