import { isPlatformAdmin, requireAuth, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { rethrowUnique } from '../../db/dialect.js';
import type { ProjectRole } from '../../db/schema.js';
import type { AuditLog } from '../audit/log.js';
import type { IdentityStore } from '../identity/store.js';
import { iso } from '../identity/views.js';
import type { TeamStore } from '../teams/store.js';
import type { AccessService } from './access.js';
import { roleFromTeam, strongest } from './roles.js';
import type { ProjectRow, ProjectStore } from './store.js';

export interface ProjectView {
  id: string;
  name: string;
  displayName: string;
  description: string;
  /** The owning team's name. */
  team: string;
  /** The caller's effective role. */
  role: ProjectRole;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectMemberView {
  username: string;
  displayName: string;
  /** Effective role: the stronger of the direct grant and what the owning team gives. */
  role: ProjectRole;
  /** Granted on the project itself (null: none, the role comes from the team only). */
  directRole: ProjectRole | null;
  /** Role in the owning team, if a member. */
  teamRole: 'member' | 'lead' | null;
}

/**
 * Projects: the unit experiments, models, deployments, pipelines and features live in. Platform
 * admins and leads of the owning team create them; project admins manage members and settings.
 */
export class ProjectsService {
  constructor(
    private readonly store: ProjectStore,
    private readonly teams: TeamStore,
    private readonly users: IdentityStore,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** The projects the caller has a role in (platform admins: all). */
  async list(caller: Caller): Promise<ProjectView[]> {
    const a = requireAuth(caller);
    const rows = isPlatformAdmin(a)
      ? await this.store.list()
      : a.projectId !== null
        ? [await this.store.byId(a.projectId)].filter((p) => p !== undefined)
        : await this.store.listForUser(a.userId);
    const teamNames = await this.teamNames();
    const out: ProjectView[] = [];
    for (const p of rows) {
      const role = await this.access.roleIn(a, p);
      if (role) out.push(this.view(p, role, teamNames));
    }
    return out;
  }

  async get(caller: Caller, name: string): Promise<ProjectView> {
    const { project, role } = await this.access.requireProject(caller, name, 'viewer', null);
    return this.view(project, role, await this.teamNames());
  }

  async create(
    caller: Caller,
    input: { name: string; team: string; displayName?: string; description?: string },
  ): Promise<ProjectView> {
    const a = requireAuth(caller);
    const team = await this.teams.byName(input.team);
    if (!team) throw new NotFoundError(`no team "${input.team}"`);
    const lead = a.projectId === null && (await this.teams.memberRole(team.id, a.userId)) === 'lead';
    if (!isPlatformAdmin(a) && !lead) {
      const reason = `creating a project for team "${input.team}" needs a lead of that team or a platform admin`;
      this.audit.recordDenied(caller, 'project.create', { type: 'project', name: input.name }, reason);
      throw new ForbiddenError(reason);
    }
    const now = this.clock.now();
    const row: ProjectRow = {
      id: newId(now),
      name: input.name,
      display_name: input.displayName?.trim() || input.name,
      description: input.description ?? '',
      team_id: team.id,
      created_at: now,
      updated_at: now,
    };
    if (await this.store.byName(row.name)) throw new ConflictError(`project "${row.name}" already exists`);
    await this.audit
      .change(caller, async (tx, record) => {
        await this.store.with(tx).insert(row);
        record(
          'project.create',
          { type: 'project', name: row.name },
          { projectId: row.id, details: { team: team.name } },
        );
      })
      .catch(rethrowUnique(`project "${row.name}" already exists`));
    this.access.invalidate();
    return this.view(row, (await this.access.roleIn(a, row)) ?? 'admin', new Map([[team.id, team.name]]));
  }

  /** Project admins edit the description; moving a project to another team needs a platform admin. */
  async update(
    caller: Caller,
    name: string,
    input: { displayName?: string; description?: string; team?: string },
  ): Promise<ProjectView> {
    const { auth, project, role } = await this.access.requireProject(caller, name, 'admin', 'project.update');
    let teamId = project.team_id;
    if (input.team !== undefined) {
      this.access.requireAdmin(caller, 'project.update', { type: 'project', name });
      const team = await this.teams.byName(input.team);
      if (!team) throw new NotFoundError(`no team "${input.team}"`);
      teamId = team.id;
    }
    const patch = {
      ...(input.displayName !== undefined ? { display_name: input.displayName.trim() || project.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      team_id: teamId,
      updated_at: this.clock.now(),
    };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).update(project.id, patch);
      record(
        'project.update',
        { type: 'project', name },
        { projectId: project.id, details: { changed: Object.keys(input) } },
      );
    });
    this.access.invalidate();
    const updated = { ...project, ...patch };
    return this.view(updated, (await this.access.roleIn(auth, updated)) ?? role, await this.teamNames());
  }

  async delete(caller: Caller, name: string): Promise<void> {
    const { project } = await this.access.requireProject(caller, name, 'viewer', 'project.delete');
    this.access.requireAdmin(caller, 'project.delete', { type: 'project', name });
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).delete(project.id);
      record('project.delete', { type: 'project', name }, { projectId: project.id });
    });
    this.access.invalidate();
  }

  /** Everyone with a role here: direct members and members of the owning team. */
  async members(caller: Caller, name: string): Promise<ProjectMemberView[]> {
    const { project } = await this.access.requireProject(caller, name, 'viewer', null);
    const [direct, team] = await Promise.all([this.store.members(project.id), this.store.teamMembers(project.id)]);
    const byUser = new Map<string, ProjectMemberView>();
    for (const m of team) {
      byUser.set(m.user_id, {
        username: m.username,
        displayName: m.display_name,
        role: roleFromTeam(m.role)!,
        directRole: null,
        teamRole: m.role,
      });
    }
    for (const m of direct) {
      const seen = byUser.get(m.user_id);
      byUser.set(m.user_id, {
        username: m.username,
        displayName: m.display_name,
        role: strongest(m.role, seen?.role ?? null)!,
        directRole: m.role,
        teamRole: seen?.teamRole ?? null,
      });
    }
    return [...byUser.values()].sort((x, y) => x.username.localeCompare(y.username));
  }

  /** Grants a role on the project. Only project admins (and platform admins) may. */
  async setMember(caller: Caller, name: string, username: string, role: ProjectRole): Promise<ProjectMemberView> {
    const { project } = await this.access.requireProject(caller, name, 'admin', 'project.member.set');
    const user = await this.users.userByUsername(username);
    if (!user) throw new NotFoundError(`no user "${username}"`);
    await this.audit.change(caller, async (tx, record) => {
      const before = await this.store.with(tx).setMember(project.id, user.id, role, this.clock.now());
      record(
        'project.member.set',
        { type: 'project', name },
        { projectId: project.id, details: { user: username, role, before } },
      );
    });
    this.access.invalidate();
    return (await this.members(caller, name)).find((m) => m.username === username)!;
  }

  async removeMember(caller: Caller, name: string, username: string): Promise<void> {
    const { project } = await this.access.requireProject(caller, name, 'admin', 'project.member.remove');
    const user = await this.users.userByUsername(username);
    if (!user) throw new NotFoundError(`no user "${username}"`);
    await this.audit.change(caller, async (tx, record) => {
      const removed = await this.store.with(tx).removeMember(project.id, user.id);
      if (!removed) throw new NotFoundError(`"${username}" has no direct role in project "${name}"`);
      record(
        'project.member.remove',
        { type: 'project', name },
        { projectId: project.id, details: { user: username } },
      );
    });
    this.access.invalidate();
  }

  private async teamNames(): Promise<Map<string, string>> {
    return new Map((await this.teams.list()).map((t) => [t.id, t.name]));
  }

  private view(p: ProjectRow, role: ProjectRole, teamNames: Map<string, string>): ProjectView {
    return {
      id: p.id,
      name: p.name,
      displayName: p.display_name,
      description: p.description,
      team: teamNames.get(p.team_id) ?? '',
      role,
      createdAt: iso(p.created_at)!,
      updatedAt: iso(p.updated_at)!,
    };
  }
}
