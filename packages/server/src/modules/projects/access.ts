import { isPlatformAdmin, requireAuth, type AuthContext, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { ProjectRole } from '../../db/schema.js';
import type { AuditLog, AuditTarget } from '../audit/log.js';
import { atLeast, roleFromTeam, strongest } from './roles.js';
import type { ProjectRow, ProjectStore } from './store.js';

export interface ProjectAccess {
  auth: AuthContext;
  project: ProjectRow;
  /** The caller's effective role (platform admins: admin). */
  role: ProjectRole;
}

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * Every authorization decision about projects goes through here, from the first line of each
 * service method, so the REST API, the MLflow adapter and background jobs share one set of rules.
 *
 * Projects by name and roles by (user, project) are cached for the same bounded time as
 * credentials (authCacheTtlMs), so a permission check on a warm path costs two map lookups; any
 * change to projects or memberships made through this process clears the cache at once, and
 * other processes see it within the TTL (the same bound as token revocation).
 *
 * A refusal of a state-changing action is written to the audit log here, at the point of decision.
 */
export class AccessService {
  private readonly projects = new Map<string, Cached<ProjectRow>>();
  private readonly projectsById = new Map<string, Cached<ProjectRow>>();
  private readonly roles = new Map<string, Cached<ProjectRole | null>>();

  constructor(
    private readonly store: ProjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** Drops cached projects and roles; call after any change to projects, teams or memberships. */
  invalidate(): void {
    this.projects.clear();
    this.projectsById.clear();
    this.roles.clear();
  }

  /**
   * A platform admin with an unscoped credential, or ForbiddenError (audited under `action` when
   * the action changes something).
   */
  requireAdmin(caller: Caller, action: string, target: AuditTarget, audited = true): AuthContext {
    const a = requireAuth(caller);
    if (isPlatformAdmin(a)) return a;
    const reason = a.isAdmin
      ? 'this token is scoped to one project; platform actions need an unscoped credential'
      : 'this action needs a platform admin';
    if (audited) this.audit.recordDenied(caller, action, target, reason);
    throw new ForbiddenError(reason);
  }

  /**
   * Resolves a project by name and checks the caller holds at least `min` there. Callers with no
   * role at all get NotFound (a project's existence is not disclosed to outsiders); a token scoped
   * to another project and a too-weak role get Forbidden. `action` names the audit entry of a
   * refusal; pass null for reads, whose refusals are not audited.
   */
  async requireProject(caller: Caller, name: string, min: ProjectRole, action: string | null): Promise<ProjectAccess> {
    const auth = requireAuth(caller);
    const project = await this.project(name);
    if (!project) throw new NotFoundError(`no project "${name}"`);
    if (auth.projectId !== null && auth.projectId !== project.id) {
      // Whether the project exists is disclosed only to those whose owner has a role there.
      if ((await this.roleIn({ ...auth, projectId: null }, project)) === null)
        throw new NotFoundError(`no project "${name}"`);
      const reason = `this token is scoped to another project and cannot act in "${name}"`;
      if (action) this.audit.recordDenied(caller, action, { type: 'project', name }, reason, project.id);
      throw new ForbiddenError(reason);
    }
    const role = await this.roleIn(auth, project);
    if (role === null) throw new NotFoundError(`no project "${name}"`);
    if (!atLeast(role, min)) {
      const reason = `this action needs the ${min} role in project "${name}"; you are ${role}`;
      if (action) this.audit.recordDenied(caller, action, { type: 'project', name }, reason, project.id);
      throw new ForbiddenError(reason);
    }
    return { auth, project, role };
  }

  /**
   * {@link requireProject} for a project known by id (resources such as experiments point at their
   * project by id). Refusals name the project; unknown ids and outsiders get `notFound`.
   */
  async requireProjectId(
    caller: Caller,
    projectId: string,
    min: ProjectRole,
    action: string | null,
    notFound: () => Error,
  ): Promise<ProjectAccess> {
    requireAuth(caller);
    const project = await this.projectById(projectId);
    if (!project) throw notFound();
    try {
      return await this.requireProject(caller, project.name, min, action);
    } catch (err) {
      // Outsiders learn nothing about the resource, not even which project holds it.
      if (err instanceof NotFoundError) throw notFound();
      throw err;
    }
  }

  /**
   * {@link requireProject} answered from the cache alone, without a promise: the access when the
   * project and the caller's role are cached and the role suffices, else null, and the caller takes
   * the full path (which also makes any refusal). For per-request checks on the data plane.
   */
  cachedAccess(caller: Caller, name: string, min: ProjectRole): ProjectAccess | null {
    const auth = caller.auth;
    if (!auth) return null;
    const now = this.clock.now();
    const hit = this.projects.get(name);
    if (!hit || hit.until <= now) return null;
    const project = hit.value;
    const role = this.cachedRole(auth, project, now);
    if (!role || !atLeast(role, min)) return null;
    return { auth, project, role };
  }

  /** The caller's effective role in a project, or null for none. */
  async roleIn(auth: AuthContext, project: ProjectRow): Promise<ProjectRole | null> {
    const now = this.clock.now();
    const cached = this.cachedRole(auth, project, now);
    if (cached !== undefined) return cached;
    const sources = await this.store.roleSources(project.id, auth.userId);
    const role = strongest(sources.direct, roleFromTeam(sources.team));
    this.remember(this.roles, roleKey(auth, project), role, now);
    return role;
  }

  /** The role when it needs no lookup (scoped elsewhere, admin, or cached); undefined when it does. */
  private cachedRole(auth: AuthContext, project: ProjectRow, now: number): ProjectRole | null | undefined {
    if (auth.projectId !== null && auth.projectId !== project.id) return null;
    if (auth.isAdmin) return 'admin';
    const hit = this.roles.get(roleKey(auth, project));
    return hit && hit.until > now ? hit.value : undefined;
  }

  private async projectById(id: string): Promise<ProjectRow | null> {
    const now = this.clock.now();
    const hit = this.projectsById.get(id);
    if (hit && hit.until > now) return hit.value;
    const row = await this.store.byId(id);
    if (!row) return null;
    this.remember(this.projectsById, id, row, now);
    return row;
  }

  private async project(name: string): Promise<ProjectRow | null> {
    const now = this.clock.now();
    const hit = this.projects.get(name);
    if (hit && hit.until > now) return hit.value;
    const row = await this.store.byName(name);
    // Misses are not cached, so a project created by another process is usable at once.
    if (!row) return null;
    this.remember(this.projects, name, row, now);
    return row;
  }

  private remember<T>(map: Map<string, Cached<T>>, key: string, value: T, now: number): void {
    if (this.ttlMs <= 0) return;
    if (map.size > 50_000) map.clear();
    map.set(key, { value, until: now + this.ttlMs });
  }
}

const roleKey = (auth: AuthContext, project: ProjectRow): string => `${auth.userId}\n${project.id}`;
