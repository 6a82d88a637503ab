import type { Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { AuditLog } from '../audit/log.js';
import { iso } from '../identity/views.js';
import type { AccessService } from '../projects/access.js';
import type { SecretBox } from './secret-box.js';
import type { SecretStore } from './store.js';

export interface SecretView {
  name: string;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

const context = (projectId: string, name: string) => `${projectId}/${name}`;

/**
 * Project secrets (object-store credentials, webhook signing keys, ...): sealed at rest, written by
 * maintainers, never returned by any API after they are set; only platform code reads them
 * ({@link reveal}), e.g. to hand a credential to a job.
 */
export class SecretsService {
  constructor(
    private readonly store: SecretStore,
    private readonly box: SecretBox,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async list(caller: Caller, project: string): Promise<SecretView[]> {
    const { project: p } = await this.access.requireProject(caller, project, 'developer', null);
    return (await this.store.list(p.id)).map((s) => ({
      name: s.name,
      createdBy: s.created_by,
      createdAt: iso(s.created_at)!,
      updatedAt: iso(s.updated_at)!,
    }));
  }

  async set(caller: Caller, project: string, name: string, value: string): Promise<SecretView> {
    const { auth, project: p } = await this.access.requireProject(caller, project, 'maintainer', 'secret.set');
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      const created = await this.store.with(tx).upsert({
        id: newId(now),
        project_id: p.id,
        name,
        ciphertext: this.box.seal(value, context(p.id, name)),
        created_by: auth.userId,
        created_at: now,
        updated_at: now,
      });
      // The value is never recorded, only that it changed.
      record('secret.set', { type: 'secret', name: `${project}/${name}` }, { projectId: p.id, details: { created } });
    });
    return { name, createdBy: auth.username, createdAt: iso(now)!, updatedAt: iso(now)! };
  }

  async delete(caller: Caller, project: string, name: string): Promise<void> {
    const { project: p } = await this.access.requireProject(caller, project, 'maintainer', 'secret.delete');
    await this.audit.change(caller, async (tx, record) => {
      if (!(await this.store.with(tx).delete(p.id, name)))
        throw new NotFoundError(`no secret "${name}" in "${project}"`);
      record('secret.delete', { type: 'secret', name: `${project}/${name}` }, { projectId: p.id });
    });
  }

  /** The plaintext, for platform code acting on the caller's behalf (needs developer). Never for HTTP. */
  async reveal(caller: Caller, project: string, name: string): Promise<string> {
    const { project: p } = await this.access.requireProject(caller, project, 'developer', null);
    const row = await this.store.get(p.id, name);
    if (!row) throw new NotFoundError(`no secret "${name}" in "${project}"`);
    return this.box.open(row.ciphertext, context(p.id, name));
  }
}
