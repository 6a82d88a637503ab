import { requireAuth, isPlatformAdmin, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { rethrowUnique } from '../../db/dialect.js';
import type { TeamRole } from '../../db/schema.js';
import type { AuditLog } from '../audit/log.js';
import type { IdentityStore } from '../identity/store.js';
import { DEFAULT_TEAM } from '../identity/users-service.js';
import { iso } from '../identity/views.js';
import type { AccessService } from '../projects/access.js';
import type { TeamMemberRow, TeamRow, TeamStore } from './store.js';

export interface TeamView {
  id: string;
  name: string;
  displayName: string;
  description: string;
  memberCount: number;
  createdAt: string;
}

export interface TeamMemberView {
  username: string;
  displayName: string;
  role: TeamRole;
  addedAt: string;
}

const teamView = (t: TeamRow, memberCount: number): TeamView => ({
  id: t.id,
  name: t.name,
  displayName: t.display_name,
  description: t.description,
  memberCount,
  createdAt: iso(t.created_at)!,
});

const memberView = (m: TeamMemberRow): TeamMemberView => ({
  username: m.username,
  displayName: m.display_name,
  role: m.role,
  addedAt: iso(m.added_at)!,
});

/**
 * Teams own projects. Platform admins create and delete teams; a team's leads (and admins) manage
 * its members and settings. Membership decides project roles, so every change clears the access cache.
 */
export class TeamsService {
  constructor(
    private readonly store: TeamStore,
    private readonly users: IdentityStore,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async list(caller: Caller): Promise<TeamView[]> {
    requireAuth(caller);
    const [teams, counts] = await Promise.all([this.store.list(), this.store.memberCounts()]);
    return teams.map((t) => teamView(t, counts.get(t.id) ?? 0));
  }

  async get(caller: Caller, name: string): Promise<TeamView & { members: TeamMemberView[] }> {
    requireAuth(caller);
    const team = await this.byName(name);
    const members = await this.store.members(team.id);
    return { ...teamView(team, members.length), members: members.map(memberView) };
  }

  async create(caller: Caller, input: { name: string; displayName?: string; description?: string }): Promise<TeamView> {
    this.access.requireAdmin(caller, 'team.create', { type: 'team', name: input.name });
    const now = this.clock.now();
    const row: TeamRow = {
      id: newId(now),
      name: input.name,
      display_name: input.displayName?.trim() || input.name,
      description: input.description ?? '',
      created_at: now,
      updated_at: now,
    };
    if (await this.store.byName(row.name)) throw new ConflictError(`team "${row.name}" already exists`);
    await this.audit
      .change(caller, async (tx, record) => {
        await this.store.with(tx).insert(row);
        record('team.create', { type: 'team', name: row.name });
      })
      .catch(rethrowUnique(`team "${row.name}" already exists`));
    return teamView(row, 0);
  }

  async update(caller: Caller, name: string, input: { displayName?: string; description?: string }): Promise<TeamView> {
    const team = await this.requireLead(caller, name, 'team.update');
    const patch = {
      ...(input.displayName !== undefined ? { display_name: input.displayName.trim() || team.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      updated_at: this.clock.now(),
    };
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).update(team.id, patch);
      record('team.update', { type: 'team', name }, { details: { changed: Object.keys(input) } });
    });
    const members = await this.store.members(team.id);
    return teamView({ ...team, ...patch }, members.length);
  }

  /** Only empty-handed teams can go: a team that owns projects must hand them over first. */
  async delete(caller: Caller, name: string): Promise<void> {
    this.access.requireAdmin(caller, 'team.delete', { type: 'team', name });
    const team = await this.byName(name);
    if (name === DEFAULT_TEAM) throw new ConflictError('the default team cannot be deleted');
    const owned = await this.store.projectCount(team.id);
    if (owned > 0) throw new ConflictError(`team "${name}" owns ${owned} project(s); move or delete them first`);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).delete(team.id);
      record('team.delete', { type: 'team', name });
    });
    this.access.invalidate();
  }

  async setMember(caller: Caller, name: string, username: string, role: TeamRole): Promise<TeamMemberView> {
    const team = await this.requireLead(caller, name, 'team.member.set');
    const user = await this.users.userByUsername(username);
    if (!user) throw new NotFoundError(`no user "${username}"`);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const before = await this.store.with(tx).setMember(team.id, user.id, role, now);
      record('team.member.set', { type: 'team', name }, { details: { user: username, role, before } });
    });
    this.access.invalidate();
    return { username, displayName: user.display_name, role, addedAt: iso(now)! };
  }

  async removeMember(caller: Caller, name: string, username: string): Promise<void> {
    const team = await this.requireLead(caller, name, 'team.member.remove');
    const user = await this.users.userByUsername(username);
    if (!user) throw new NotFoundError(`no user "${username}"`);
    await this.audit.change(caller, async (tx, record) => {
      const removed = await this.store.with(tx).removeMember(team.id, user.id);
      if (!removed) throw new NotFoundError(`"${username}" is not a member of team "${name}"`);
      record('team.member.remove', { type: 'team', name }, { details: { user: username } });
    });
    this.access.invalidate();
  }

  /** The team, when the caller leads it or is a platform admin; refusals are audited. */
  private async requireLead(caller: Caller, name: string, action: string): Promise<TeamRow> {
    const a = requireAuth(caller);
    const team = await this.byName(name);
    if (isPlatformAdmin(a)) return team;
    if (a.projectId === null && (await this.store.memberRole(team.id, a.userId)) === 'lead') return team;
    const reason = `this action needs a lead of team "${name}" or a platform admin`;
    this.audit.recordDenied(caller, action, { type: 'team', name }, reason);
    throw new ForbiddenError(reason);
  }

  private async byName(name: string): Promise<TeamRow> {
    const t = await this.store.byName(name);
    if (!t) throw new NotFoundError(`no team "${name}"`);
    return t;
  }
}
