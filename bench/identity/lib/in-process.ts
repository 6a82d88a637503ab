import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Insertable } from 'kysely';
import { buildApp, type HangarApp } from '../../../packages/server/src/app.js';
import { loadConfig } from '../../../packages/server/src/config/config.js';
import type { Caller } from '../../../packages/server/src/core/auth.js';
import { newId } from '../../../packages/server/src/core/ids.js';
import type { AuditEventsTable, ProjectRole } from '../../../packages/server/src/db/schema.js';
import { AuditStore } from '../../../packages/server/src/modules/audit/store.js';
import { ProjectStore } from '../../../packages/server/src/modules/projects/store.js';
import { tempDir } from '../../core/lib/hangar.js';
import { waitForQuiet } from '../../core/lib/quiet.js';
import { median } from '../../core/lib/report.js';

/*
 * The pieces of an authenticated request, timed inside one process through the server's own
 * classes (no HTTP): the credential cache lookup, the project permission check, and the audit
 * append. Over HTTP these are a few microseconds inside a request of tens; here they are isolated.
 */

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

export interface AuthPathFigures {
  /** Authenticator.cachedAuth(header) on a warm cache. */
  cachedAuthNs: number;
  /** AccessService.requireProject(viewer) for a non-admin with a project-scoped token (role from the team). */
  requireProjectDevNs: number;
  /** The same for the platform admin (no role lookup). */
  requireProjectAdminNs: number;
}

export interface AuditFigures {
  synchronous: 'full' | 'normal';
  iterations: number;
  /** One transaction changing a membership, no audit row (median per transaction). */
  plainUs: number;
  /** The same transaction plus one unlinked audit row (what AuditLog.change commits). */
  appendUs: number;
  /** Linking those events into the hash chain afterwards, per event (one batched pass). */
  linkPerEventUs: number;
  /** AuditLog.change as shipped, background linking included (total time incl. draining / n). */
  changeMeanUs: number;
  /** The same without audit, as a mean, to compare with changeMeanUs. */
  plainMeanUs: number;
}

interface Fixture {
  app: HangarApp;
  dataDir: string;
  admin: Caller;
  dev: Caller;
  adminHeader: string;
  devHeader: string;
  projectId: string;
  targetUserId: string;
}

async function fixture(synchronous: 'full' | 'normal'): Promise<Fixture> {
  const dataDir = tempDir(`identity-${synchronous}`);
  const adminToken = `hgr_${randomBytes(24).toString('base64url')}`;
  const config = loadConfig({
    argv: ['--data-dir', dataDir, '--role', 'api', '--log-level', 'silent', '--sqlite-synchronous', synchronous],
    env: {},
    overrides: { adminToken },
  });
  const app = await buildApp(config);
  const s = app.services;
  const caller = (auth: Caller['auth']): Caller => ({ auth, requestId: null, ip: '127.0.0.1' });
  const adminHeader = `Bearer ${adminToken}`;
  const admin = caller(await s.authenticator.authenticate(adminHeader, null));
  await s.users.create(admin, { username: 'bench-dev', password: 'bench-dev-password' });
  const target = await s.users.create(admin, { username: 'bench-target', password: 'bench-target-password' });
  const devByPassword = caller(await s.authenticator.authenticate(basic('bench-dev', 'bench-dev-password'), null));
  const { token } = await s.tokens.create(devByPassword, { name: 'bench', project: 'default' });
  const devHeader = `Bearer ${token}`;
  const dev = caller(await s.authenticator.authenticate(devHeader, null));
  const project = await s.projects.get(admin, 'default');
  return { app, dataDir, admin, dev, adminHeader, devHeader, projectId: project.id, targetUserId: target.user.id };
}

async function close(f: Fixture): Promise<void> {
  await f.app.close();
  rmSync(f.dataDir, { recursive: true, force: true });
}

/** Nanoseconds per call of `fn`, median of 5 batches after a warm-up batch. */
async function nsPerOp(n: number, fn: () => unknown): Promise<number> {
  const batch = async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    return Number(process.hrtime.bigint() - t0) / n;
  };
  await batch();
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) xs.push(await batch());
  return median(xs);
}

/** cachedAuth and requireProject on a warm cache (what every authenticated request does first). */
export async function measureAuthPath(): Promise<AuthPathFigures> {
  const f = await fixture('normal');
  try {
    const { authenticator, access } = f.app.services;
    // The cache entries live authCacheTtlMs (5 s); refresh them before each measurement.
    const warm = async () => {
      await authenticator.authenticate(f.devHeader, null);
      await access.requireProject(f.dev, 'default', 'viewer', null);
      await access.requireProject(f.admin, 'default', 'viewer', null);
    };
    await waitForQuiet();
    await warm();
    const cachedAuthNs = await nsPerOp(100_000, () => authenticator.cachedAuth(f.devHeader));
    await warm();
    const requireProjectDevNs = await nsPerOp(50_000, () => access.requireProject(f.dev, 'default', 'viewer', null));
    await warm();
    const requireProjectAdminNs = await nsPerOp(50_000, () =>
      access.requireProject(f.admin, 'default', 'viewer', null),
    );
    return { cachedAuthNs, requireProjectDevNs, requireProjectAdminNs };
  } finally {
    await close(f);
  }
}

/**
 * The audit append against the same transaction without it. Each iteration flips the target user's
 * direct role (viewer <-> developer) so every transaction writes and commits (with fsync under
 * synchronous=full). Variants run in interleaved blocks so drift on a shared machine hits all alike.
 */
export async function measureAuditAppend(
  synchronous: 'full' | 'normal',
  blocks = 6,
  perBlock = 200,
): Promise<AuditFigures> {
  const f = await fixture(synchronous);
  try {
    const { db } = f.app.database;
    const projects = new ProjectStore(db);
    const auditStore = new AuditStore(db, f.app.database.engine);
    const audit = f.app.services.audit;
    let flip = 0;
    const nextRole = (): ProjectRole => (flip++ % 2 === 0 ? 'viewer' : 'developer');
    const event = (role: ProjectRole): Insertable<AuditEventsTable> => {
      const now = Date.now();
      return {
        id: newId(now),
        seq: null,
        at: now,
        actor_id: f.admin.auth!.userId,
        actor: f.admin.auth!.username,
        action: 'project.member.set',
        target_type: 'project',
        target: 'default',
        project_id: f.projectId,
        outcome: 'success',
        request_id: null,
        ip: '127.0.0.1',
        details: JSON.stringify({ user: 'bench-target', role }),
        prev_hash: null,
        hash: null,
      };
    };
    const plain = () => {
      const role = nextRole();
      return db
        .transaction()
        .execute(async (tx) => void (await projects.with(tx).setMember(f.projectId, f.targetUserId, role, Date.now())));
    };
    const append = () => {
      const role = nextRole();
      return db.transaction().execute(async (tx) => {
        await projects.with(tx).setMember(f.projectId, f.targetUserId, role, Date.now());
        await auditStore.append(tx, [event(role)]);
      });
    };
    const change = () => {
      const role = nextRole();
      return audit.change(f.admin, async (tx, record) => {
        await projects.with(tx).setMember(f.projectId, f.targetUserId, role, Date.now());
        record(
          'project.member.set',
          { type: 'project', name: 'default' },
          { projectId: f.projectId, details: { user: 'bench-target', role } },
        );
      });
    };
    const timed = async (fn: () => Promise<unknown>, out: number[]) => {
      for (let i = 0; i < perBlock; i++) {
        const t0 = process.hrtime.bigint();
        await fn();
        out.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    };
    // Warm-up: statement caches, page cache, JIT.
    for (const fn of [plain, append, change]) for (let i = 0; i < 50; i++) await fn();
    await audit.linkAll();

    const plainUs: number[] = [];
    const appendUs: number[] = [];
    const linkUs: number[] = [];
    const changeTotals: number[] = [];
    const plainTotals: number[] = [];
    for (let b = 0; b < blocks; b++) {
      await waitForQuiet(10_000);
      let t0 = process.hrtime.bigint();
      await timed(plain, plainUs);
      plainTotals.push(Number(process.hrtime.bigint() - t0) / 1000 / perBlock);
      await timed(append, appendUs);
      t0 = process.hrtime.bigint();
      const linked = await audit.linkAll();
      linkUs.push(Number(process.hrtime.bigint() - t0) / 1000 / Math.max(1, linked));
      t0 = process.hrtime.bigint();
      for (let i = 0; i < perBlock; i++) await change();
      await audit.stop(); // waits for the background chainer, then links whatever is left
      changeTotals.push(Number(process.hrtime.bigint() - t0) / 1000 / perBlock);
    }
    const verify = await audit.verify();
    if (!verify.ok) throw new Error(`audit chain does not verify after the benchmark: ${JSON.stringify(verify)}`);
    return {
      synchronous,
      iterations: blocks * perBlock,
      plainUs: median(plainUs),
      appendUs: median(appendUs),
      linkPerEventUs: median(linkUs),
      changeMeanUs: median(changeTotals),
      plainMeanUs: median(plainTotals),
    };
  } finally {
    await close(f);
  }
}
