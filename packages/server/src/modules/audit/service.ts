import { isPlatformAdmin, requireAuth, type Caller } from '../../core/auth.js';
import { ForbiddenError } from '../../core/errors.js';
import type { Page } from '../../core/pagination.js';
import type { AccessService } from '../projects/access.js';
import type { ProjectStore } from '../projects/store.js';
import type { AuditEvent, AuditLog, AuditQuery, VerifyResult } from './log.js';

export interface AuditReadQuery extends AuditQuery {
  /** Only events of this project. */
  project?: string;
}

/**
 * Reading the audit log: platform admins see everything; project maintainers and admins see the
 * events of their projects. Verifying the whole chain is for platform admins.
 */
export class AuditService {
  constructor(
    private readonly log: AuditLog,
    private readonly access: AccessService,
    private readonly projects: ProjectStore,
  ) {}

  async list(caller: Caller, query: AuditReadQuery): Promise<Page<AuditEvent>> {
    return this.log.list(await this.scope(caller, query.project), query);
  }

  async export(caller: Caller, query: AuditReadQuery): Promise<AsyncGenerator<AuditEvent>> {
    return this.log.export(await this.scope(caller, query.project), query);
  }

  async verify(caller: Caller): Promise<VerifyResult> {
    this.access.requireAdmin(caller, 'audit.verify', { type: 'audit', name: 'chain' }, false);
    return this.log.verify();
  }

  /** The project ids whose events the caller may read; undefined = all. */
  private async scope(caller: Caller, project: string | undefined): Promise<string[] | undefined> {
    const a = requireAuth(caller);
    if (project !== undefined) {
      const { project: p } = await this.access.requireProject(caller, project, 'maintainer', null);
      return [p.id];
    }
    if (isPlatformAdmin(a)) return undefined;
    const ids: string[] = [];
    // A project-scoped credential reads at most its own project (as a platform admin's scoped token may).
    const candidates =
      a.projectId !== null
        ? [await this.projects.byId(a.projectId)].filter((p) => p !== undefined)
        : await this.projects.listForUser(a.userId);
    for (const p of candidates) {
      const role = await this.access.roleIn(a, p);
      if (role === 'maintainer' || role === 'admin') ids.push(p.id);
    }
    if (ids.length === 0) throw new ForbiddenError('the audit log is for platform admins and project maintainers');
    return ids;
  }
}
