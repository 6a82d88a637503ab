// The audit log: one event per state change with who, what, where from and the outcome; the hash
// chain (linking under concurrency, tamper detection); filters, paging, export and who may read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { SYSTEM_CALLER } from '../../core/auth.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditEvents,
  call,
  countRows,
  createProject,
  createTeam,
  createUser,
  expectStatus,
  grant,
  login,
  TestClock,
  type Headers,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import type { AuditEvent, VerifyResult } from './log.js';

async function verify(app: HangarApp): Promise<VerifyResult> {
  const res = await call(app, 'GET', '/api/v1/audit/verify', adminAuth);
  expectStatus(res, 200, 'verify');
  return res.json();
}

/** The chain verifies, covers every stored event, and its positions are 1..n without gaps. */
async function assertChainWhole(app: HangarApp): Promise<number> {
  const v = await verify(app);
  const total = await countRows(app, 'audit_events');
  const last = await app.database.db
    .selectFrom('audit_events')
    .select('hash')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  assert.deepEqual(v, { ok: true, checked: total, pending: 0, headSeq: total, headHash: last?.hash, problem: null });
  const seqs = (await app.database.db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map(
    (r) => r.seq,
  );
  assert.deepEqual(
    seqs,
    Array.from({ length: total }, (_, i) => i + 1),
  );
  return total;
}

for (const engine of ENGINES) {
  describe(`audit log (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    const clock = new TestClock();
    let mia: TestUser; // maintainer of alpha
    let dev: TestUser; // developer of alpha
    let alphaId: string;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, {}, { clock });
      await app.http.ready();
      app.start();
      alphaId = (await createProject(app, 'alpha')).id;
      await createProject(app, 'beta');
      mia = await createUser(app, 'mia');
      dev = await createUser(app, 'dev');
      await grant(app, 'alpha', 'mia', 'maintainer');
      await grant(app, 'alpha', 'dev', 'developer');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('every state-changing action writes exactly one event with actor, target, request id, ip and outcome', async () => {
      type Step = [
        method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
        url: string,
        body: unknown,
        action: string,
        type: string,
        target: string,
      ];
      const steps: Step[] = [
        ['POST', '/api/v1/teams', { name: 'vision' }, 'team.create', 'team', 'vision'],
        ['POST', '/api/v1/users', { username: 'uma', password: 'uma-password-1' }, 'user.create', 'user', 'uma'],
        ['PUT', '/api/v1/teams/vision/members/uma', { role: 'member' }, 'team.member.set', 'team', 'vision'],
        ['PATCH', '/api/v1/teams/vision', { description: 'sees things' }, 'team.update', 'team', 'vision'],
        ['POST', '/api/v1/projects', { name: 'gamma', team: 'vision' }, 'project.create', 'project', 'gamma'],
        ['PATCH', '/api/v1/projects/gamma', { description: 'g' }, 'project.update', 'project', 'gamma'],
        ['PUT', '/api/v1/projects/gamma/members/dev', { role: 'viewer' }, 'project.member.set', 'project', 'gamma'],
        ['DELETE', '/api/v1/projects/gamma/members/dev', undefined, 'project.member.remove', 'project', 'gamma'],
        ['PUT', '/api/v1/projects/gamma/secrets/KEY', { value: 'v' }, 'secret.set', 'secret', 'gamma/KEY'],
        ['DELETE', '/api/v1/projects/gamma/secrets/KEY', undefined, 'secret.delete', 'secret', 'gamma/KEY'],
        ['PATCH', '/api/v1/users/uma', { displayName: 'Uma' }, 'user.update', 'user', 'uma'],
        ['PATCH', '/api/v1/users/uma', { disabled: true }, 'user.disable', 'user', 'uma'],
        ['PATCH', '/api/v1/users/uma', { disabled: false }, 'user.enable', 'user', 'uma'],
        ['PUT', '/api/v1/users/uma/password', { newPassword: 'uma-password-2' }, 'user.password', 'user', 'uma'],
        ['DELETE', '/api/v1/teams/vision/members/uma', undefined, 'team.member.remove', 'team', 'vision'],
        ['DELETE', '/api/v1/projects/gamma', undefined, 'project.delete', 'project', 'gamma'],
        ['DELETE', '/api/v1/teams/vision', undefined, 'team.delete', 'team', 'vision'],
      ];
      const before = await countRows(app, 'audit_events');
      const expected = new Map<string, [string, string, string, string]>();
      for (const [i, [method, url, body, action, type, target]] of steps.entries()) {
        const requestId = `step-${i}-${action}`;
        const res = await call(app, method, url, { ...adminAuth, 'x-request-id': requestId }, body);
        assert.ok(res.statusCode < 300, `${method} ${url} -> ${res.statusCode} ${res.body}`);
        assert.equal(res.headers['x-request-id'], requestId, 'the request id is echoed');
        expected.set(requestId, [action, type, target, 'admin']);
      }
      // Tokens and sessions, by a user.
      const token = await call(
        app,
        'POST',
        '/api/v1/tokens',
        { ...mia.auth, 'x-request-id': 'tok-create' },
        { name: 'ci' },
      );
      expectStatus(token, 201);
      expected.set('tok-create', ['token.create', 'token', token.json().id, 'mia']);
      const revoke = await call(app, 'DELETE', `/api/v1/tokens/${token.json().id}`, {
        ...mia.auth,
        'x-request-id': 'tok-revoke',
      });
      expectStatus(revoke, 204);
      expected.set('tok-revoke', ['token.revoke', 'token', token.json().id, 'mia']);
      const s = await login(app, 'mia', mia.password, { 'x-request-id': 'sess-login' });
      expected.set('sess-login', ['session.login', 'user', 'mia', 'mia']);
      expectStatus(await call(app, 'DELETE', '/api/v1/session', { ...s.act, 'x-request-id': 'sess-logout' }), 204);
      expected.set('sess-logout', ['session.logout', 'user', 'mia', 'mia']);

      assert.equal(await countRows(app, 'audit_events'), before + expected.size, 'one event per action');
      const events = await auditEvents(app);
      for (const [requestId, [action, type, target, actor]] of expected) {
        const mine = events.filter((e) => e.requestId === requestId);
        assert.equal(mine.length, 1, `${requestId}: ${mine.length} events`);
        const e = mine[0]!;
        assert.deepEqual(
          [e.action, e.targetType, e.target, e.actor, e.outcome, e.ip],
          [action, type, target, actor, 'success', '127.0.0.1'],
          requestId,
        );
        assert.ok(e.actorId, `${requestId}: actor id`);
        assert.ok(!Number.isNaN(Date.parse(e.at)));
      }
      // Project events carry the project, so maintainers can be shown them.
      const gamma = events.filter((e) => e.target === 'gamma' || e.target.startsWith('gamma/'));
      assert.ok(gamma.every((e) => e.projectId !== null));
      // And every event is linked into the chain.
      await assertChainWhole(app);
      const linked = await auditEvents(app);
      assert.ok(linked.every((e) => e.seq !== null && e.hash !== null));
    });

    test('a generated request id is echoed and recorded when the client sends none (or a bad one)', async () => {
      for (const headers of [{}, { 'x-request-id': 'bad id with spaces' }] as Headers[]) {
        const res = await call(
          app,
          'POST',
          '/api/v1/teams',
          { ...adminAuth, ...headers },
          { name: `rid-${Object.keys(headers).length}` },
        );
        expectStatus(res, 201);
        const rid = String(res.headers['x-request-id']);
        assert.match(rid, /^[0-9a-f-]{36}$/);
        const events = await auditEvents(app, 'action=team.create');
        assert.equal(events.filter((e) => e.requestId === rid).length, 1);
      }
    });

    test('many concurrent writers never fork the chain', async () => {
      const requests = Array.from({ length: 80 }, (_, i) => {
        if (i % 4 === 0) return call(app, 'POST', '/api/v1/teams', adminAuth, { name: `conc-${i}` });
        if (i % 4 === 1) return call(app, 'POST', '/api/v1/tokens', mia.auth, { name: `conc-${i}` });
        if (i % 4 === 2) return call(app, 'PUT', `/api/v1/projects/alpha/secrets/S${i}`, mia.auth, { value: `${i}` });
        return call(app, 'PUT', '/api/v1/projects/alpha/members/dev', dev.auth, { role: 'admin' }); // denied
      });
      const results = await Promise.all(requests);
      assert.equal(results.filter((r) => r.statusCode === 403).length, 20);
      assert.equal(results.filter((r) => r.statusCode < 300).length, 60);
      // Denials are appended off the request path; wait for all 20.
      const deadline = Date.now() + 5000;
      while ((await auditEvents(app, 'outcome=denied&actor=dev')).length < 20 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await assertChainWhole(app);
    });

    test('filters (actor, target, action family, outcome, project, since/until) and cursor paging', async () => {
      clock.advance(60_000);
      const t1 = clock.now();
      for (let i = 0; i < 3; i++)
        expectStatus(await call(app, 'PATCH', '/api/v1/projects/alpha', adminAuth, { description: `a${i}` }), 200);
      expectStatus(await call(app, 'PUT', '/api/v1/projects/alpha/secrets/F1', mia.auth, { value: 'x' }), 200);
      clock.advance(60_000);
      const t2 = clock.now();
      expectStatus(await call(app, 'PUT', '/api/v1/projects/beta/members/mia', adminAuth, { role: 'viewer' }), 200);
      expectStatus(await call(app, 'PUT', '/api/v1/projects/alpha/secrets/F2', mia.auth, { value: 'y' }), 200);
      expectStatus(await call(app, 'PUT', '/api/v1/projects/alpha/secrets/F3', dev.auth, { value: 'z' }), 403);
      await new Promise((r) => setTimeout(r, 100)); // let the denial land
      clock.advance(60_000);

      const all = await auditEvents(app);
      const iso = (ms: number) => new Date(ms).toISOString();
      const cases: [string, (e: AuditEvent) => boolean][] = [
        ['actor=mia', (e) => e.actor === 'mia'],
        ['target=alpha', (e) => e.target === 'alpha'],
        ['target=alpha/F1', (e) => e.target === 'alpha/F1'],
        ['action=project.*', (e) => e.action.startsWith('project.')],
        ['action=project.member.*', (e) => e.action.startsWith('project.member.')],
        ['action=project.update', (e) => e.action === 'project.update'],
        ['action=secret.*&actor=mia', (e) => e.action.startsWith('secret.') && e.actor === 'mia'],
        ['outcome=denied', (e) => e.outcome === 'denied'],
        ['project=alpha', (e) => e.projectId === alphaId],
        [`since=${iso(t1)}&until=${iso(t2)}`, (e) => Date.parse(e.at) >= t1 && Date.parse(e.at) < t2],
        [`since=${iso(t2)}`, (e) => Date.parse(e.at) >= t2],
        [`until=${iso(t1)}`, (e) => Date.parse(e.at) < t1],
        [
          `project=alpha&since=${iso(t2)}&outcome=denied`,
          (e) => e.projectId === alphaId && Date.parse(e.at) >= t2 && e.outcome === 'denied',
        ],
      ];
      for (const [query, match] of cases) {
        const want = all.filter(match).map((e) => e.id);
        assert.ok(want.length > 0, `${query} should match something`);
        const got = (await auditEvents(app, query.replace(/[:+]/g, encodeURIComponent))).map((e) => e.id);
        assert.deepEqual(got, want, query);
      }
      assert.equal(all.filter((e) => Date.parse(e.at) >= t1 && Date.parse(e.at) < t2).length, 4);
      // Newest first, and paging by cursor yields exactly the whole list.
      assert.deepEqual(
        all.map((e) => e.id),
        [...all.map((e) => e.id)].sort().reverse(),
      );
      const paged: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await call(app, 'GET', `/api/v1/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, adminAuth);
        expectStatus(res, 200);
        const page = res.json<{ items: AuditEvent[]; nextCursor: string | null }>();
        assert.ok(page.items.length <= 7);
        paged.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      assert.ok(pages > 2);
      assert.deepEqual(
        paged,
        all.map((e) => e.id),
      );
      // A forged cursor is a 400, not a 500.
      expectStatus(await call(app, 'GET', '/api/v1/audit?cursor=not-a-cursor', adminAuth), 400);
    });

    test('maintainers see their projects only, developers are refused, admins see all', async () => {
      const admin = await auditEvents(app);
      assert.ok(
        admin.some((e) => e.projectId === null),
        'admins see platform events',
      );
      const mine = await call(app, 'GET', '/api/v1/audit?limit=1000', mia.auth);
      expectStatus(mine, 200);
      const items = mine.json<{ items: AuditEvent[] }>().items;
      assert.ok(items.length > 0);
      assert.ok(
        items.every((e) => e.projectId === alphaId),
        'only alpha events',
      );
      assert.deepEqual(
        items.map((e) => e.id),
        admin.filter((e) => e.projectId === alphaId).map((e) => e.id),
      );
      // mia is only a viewer of beta.
      expectStatus(await call(app, 'GET', '/api/v1/audit?project=beta', mia.auth), 403);
      expectStatus(await call(app, 'GET', '/api/v1/audit/verify', mia.auth), 403);
      const exported = await call(app, 'GET', '/api/v1/audit/export', mia.auth);
      expectStatus(exported, 200);
      const lines = exported.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEvent);
      assert.ok(lines.every((e) => e.projectId === alphaId));
      // Developers and people with no role read nothing.
      const refused = await call(app, 'GET', '/api/v1/audit', dev.auth);
      expectStatus(refused, 403);
      assert.match(refused.json().error.message, /platform admins and project maintainers/);
      expectStatus(await call(app, 'GET', '/api/v1/audit?project=alpha', dev.auth), 403);
      expectStatus(await call(app, 'GET', '/api/v1/audit/export', dev.auth), 403);
      expectStatus(await call(app, 'GET', '/api/v1/audit', {}), 401);
    });

    test('export streams every matching event as JSON lines, the same as the paged list', async () => {
      // More than one export page (1000 rows).
      for (let batch = 0; batch < 3; batch++) {
        await app.services.audit.change(SYSTEM_CALLER, async (_tx, record) => {
          for (let i = 0; i < 400; i++) record('test.bulk', { type: 'test', name: `bulk-${batch}-${i}` });
        });
      }
      const res = await call(app, 'GET', '/api/v1/audit/export', adminAuth);
      expectStatus(res, 200);
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      assert.ok(res.body.endsWith('\n'));
      const lines = res.body.split('\n').slice(0, -1);
      const parsed = lines.map((l) => JSON.parse(l) as AuditEvent);
      assert.ok(parsed.length > 1200);
      assert.deepEqual(parsed, await auditEvents(app));
      const filtered = await call(app, 'GET', '/api/v1/audit/export?action=project.*', adminAuth);
      assert.deepEqual(
        filtered.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as AuditEvent),
        await auditEvents(app, 'action=project.*'),
      );
      await assertChainWhole(app);
    });
  });

  describe(`audit chain tampering (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      for (let i = 1; i <= 8; i++) await createTeam(app, `team-${i}`);
      await createUser(app, 'someone');
      assert.equal(await assertChainWhole(app), 10);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const db = () => app.database.db;
    const row = (seq: number) =>
      db().selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();

    test('an edited field of a linked event is reported at its seq', async () => {
      const edits: Record<string, unknown> = {
        actor: 'mallory',
        actor_id: 'someone-else',
        action: 'team.update',
        target: 'team-x',
        target_type: 'project',
        project_id: 'p1',
        outcome: 'denied',
        at: 1,
        request_id: 'forged',
        ip: '10.0.0.1',
        details: '{"covered":"up"}',
        hash: 'f'.repeat(64),
      };
      for (const [column, value] of Object.entries(edits)) {
        const original = await row(4);
        await db()
          .updateTable('audit_events')
          .set({ [column]: value })
          .where('seq', '=', 4)
          .execute();
        const v = await verify(app);
        assert.equal(v.ok, false, column);
        assert.equal(v.problem?.seq, 4, column);
        assert.match(v.problem!.reason, /edited/, column);
        await db().updateTable('audit_events').set(original).where('id', '=', original.id).execute();
        assert.equal((await verify(app)).ok, true, `restored ${column}`);
      }
      // A rewritten link is reported as such.
      const original = await row(6);
      await db()
        .updateTable('audit_events')
        .set({ prev_hash: '0'.repeat(64) })
        .where('seq', '=', 6)
        .execute();
      const v = await verify(app);
      assert.deepEqual([v.ok, v.problem?.seq], [false, 6]);
      assert.match(v.problem!.reason, /link/);
      await db().updateTable('audit_events').set(original).where('id', '=', original.id).execute();
      assert.equal((await verify(app)).ok, true);
    });

    test('a deleted event in the middle (or the first) is reported missing', async () => {
      for (const seq of [5, 1]) {
        const original = await row(seq);
        await db().deleteFrom('audit_events').where('seq', '=', seq).execute();
        const v = await verify(app);
        assert.equal(v.ok, false);
        assert.equal(v.problem?.seq, seq);
        assert.match(v.problem!.reason, /missing/);
        await db().insertInto('audit_events').values(original).execute();
        assert.equal((await verify(app)).ok, true);
      }
    });

    test('events swapped in order are reported', async () => {
      const [a, b] = [await row(2), await row(3)];
      await db().updateTable('audit_events').set({ seq: -2 }).where('id', '=', a.id).execute();
      await db().updateTable('audit_events').set({ seq: 2 }).where('id', '=', b.id).execute();
      await db().updateTable('audit_events').set({ seq: 3 }).where('id', '=', a.id).execute();
      const v = await verify(app);
      assert.deepEqual([v.ok, v.problem?.seq], [false, 2]);
      await db().updateTable('audit_events').set({ seq: -3 }).where('id', '=', b.id).execute();
      await db().updateTable('audit_events').set({ seq: 2 }).where('id', '=', a.id).execute();
      await db().updateTable('audit_events').set({ seq: 3 }).where('id', '=', b.id).execute();
      assert.equal((await verify(app)).ok, true);
    });

    test('events cut from the end are reported, also after new events were linked on', async () => {
      const tail = [await row(9), await row(10)];
      await db().deleteFrom('audit_events').where('seq', '>=', 9).execute();
      const v = await verify(app);
      assert.equal(v.ok, false);
      assert.equal(v.problem?.seq, 9);
      assert.match(v.problem!.reason, /removed from the end/);
      assert.equal(v.checked, 8);
      await db().insertInto('audit_events').values(tail).execute();
      assert.equal((await verify(app)).ok, true);
      // Cut again, then let the log go on: the gap stays visible.
      await db().deleteFrom('audit_events').where('seq', '>=', 9).execute();
      await createTeam(app, 'after-the-cut');
      const later = await verify(app);
      assert.equal(later.ok, false);
      assert.equal(later.problem?.seq, 9);
      assert.match(later.problem!.reason, /missing/);
    });
  });
}

describe('audit chain with two API processes on one PostgreSQL store', () => {
  test('concurrent writes and linking in both keep one contiguous chain', async () => {
    const store = await createTestStore('postgres');
    const apps: HangarApp[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const a = await buildTestApp(store);
        await a.http.ready();
        a.start();
        apps.push(a);
      }
      const [one, two] = apps as [HangarApp, HangarApp];
      for (let round = 0; round < 3; round++) {
        const writes = Array.from({ length: 40 }, (_, i) => {
          const a = i % 2 ? one : two;
          return call(a, 'POST', '/api/v1/teams', adminAuth, { name: `r${round}-t${i}` });
        });
        // Both processes also link eagerly while the writes land.
        const links = [one.services.audit.linkAll(), two.services.audit.linkAll(), one.services.audit.linkAll()];
        const results = await Promise.all(writes);
        await Promise.all(links);
        assert.ok(results.every((r) => r.statusCode === 201));
      }
      await Promise.all(apps.map((a) => a.services.audit.linkAll()));
      const total = await assertChainWhole(one);
      assert.ok(total >= 120);
      const fromTwo = await verify(two);
      assert.equal(fromTwo.ok, true);
      assert.equal(fromTwo.checked, total);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
      await store.cleanup();
    }
  });
});
