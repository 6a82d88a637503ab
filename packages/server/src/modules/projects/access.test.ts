// Project-scoped tokens and role escalation attempts: each refusal is the right status with a
// clear message, state-changing refusals are audited as denied, and nothing changes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import type { Caller } from '../../core/auth.js';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditedEvent,
  bearer,
  call,
  createProject,
  createTeam,
  createToken,
  createUser,
  expectStatus,
  grant,
  identityCounts,
  setTeamMember,
  type Headers,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

for (const engine of ENGINES) {
  describe(`project access (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let maya: TestUser; // maintainer of alpha and beta
    let dev: TestUser; // developer of alpha
    let viewer: TestUser; // viewer of alpha
    let outsider: TestUser; // no role in alpha or beta
    let member: TestUser; // member (not lead) of team ml
    let alphaId: string;
    let betaId: string;
    /** Maya's token confined to alpha. */
    let mayaAlpha: Headers;
    /** The admin's token confined to alpha. */
    let adminAlpha: Headers;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      await createTeam(app, 'ml');
      alphaId = (await createProject(app, 'alpha', 'ml')).id;
      betaId = (await createProject(app, 'beta', 'ml')).id;
      maya = await createUser(app, 'maya');
      dev = await createUser(app, 'dev');
      viewer = await createUser(app, 'viewer');
      outsider = await createUser(app, 'outsider');
      member = await createUser(app, 'member');
      await grant(app, 'alpha', 'maya', 'maintainer');
      await grant(app, 'beta', 'maya', 'maintainer');
      await grant(app, 'alpha', 'dev', 'developer');
      await grant(app, 'alpha', 'viewer', 'viewer');
      await setTeamMember(app, 'ml', 'member', 'member');
      mayaAlpha = bearer((await createToken(app, maya.auth, { name: 'alpha-only', project: 'alpha' })).token);
      adminAlpha = bearer((await createToken(app, adminAuth, { name: 'admin-alpha', project: 'alpha' })).token);
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    /** Sends a request that must be refused with `status`, writes nothing, and (if `action`) is audited as denied. */
    async function refused(
      what: string,
      status: number,
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      headers: Headers,
      body: unknown,
      expect: { message?: RegExp; action?: string; projectId?: string | null } = {},
    ) {
      const before = await identityCounts(app);
      const requestId = `refused-${Math.random().toString(36).slice(2)}`;
      const res = await call(app, method, url, { ...headers, 'x-request-id': requestId }, body);
      expectStatus(res, status, what);
      if (expect.message) assert.match(res.json().error.message, expect.message, what);
      if (expect.action) {
        const e = await auditedEvent(
          app,
          `action=${expect.action}&outcome=denied`,
          (x) => x.requestId === requestId,
          what,
        );
        assert.equal(e.outcome, 'denied');
        assert.ok(typeof e.details.reason === 'string' && e.details.reason.length > 0, what);
        if (expect.projectId !== undefined) assert.equal(e.projectId, expect.projectId, what);
        // The denial is the only thing written.
        assert.deepEqual(await identityCounts(app), { ...before, audit_events: before.audit_events + 1 }, what);
      } else {
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(await identityCounts(app), before, what);
      }
      return res;
    }

    test('a token scoped to project A works in A, and cannot read or act in project B', async () => {
      expectStatus(await call(app, 'GET', '/api/v1/projects/alpha', mayaAlpha), 200);
      expectStatus(await call(app, 'PUT', '/api/v1/projects/alpha/secrets/OK', mayaAlpha, { value: 'v' }), 200);
      const scoped = /scoped to another project/;
      await refused('read beta', 403, 'GET', '/api/v1/projects/beta', mayaAlpha, undefined, { message: scoped });
      await refused('list beta secrets', 403, 'GET', '/api/v1/projects/beta/secrets', mayaAlpha, undefined, {
        message: scoped,
      });
      await refused(
        'set a beta secret',
        403,
        'PUT',
        '/api/v1/projects/beta/secrets/X',
        mayaAlpha,
        { value: 'v' },
        {
          message: scoped,
          action: 'secret.set',
          projectId: betaId,
        },
      );
      await refused(
        'grant in beta',
        403,
        'PUT',
        '/api/v1/projects/beta/members/dev',
        mayaAlpha,
        { role: 'viewer' },
        {
          message: scoped,
          action: 'project.member.set',
          projectId: betaId,
        },
      );
      await refused('read beta audit', 403, 'GET', '/api/v1/audit?project=beta', mayaAlpha, undefined, {
        message: scoped,
      });
      // Listing shows only its own project, though maya maintains beta too.
      const listed = await call(app, 'GET', '/api/v1/projects', mayaAlpha);
      assert.deepEqual(
        listed.json<{ items: { name: string }[] }>().items.map((p) => p.name),
        ['alpha'],
      );
      // The same token used MLflow-style (Basic) is just as confined.
      const asBasic = {
        authorization: `Basic ${Buffer.from(`maya:${mayaAlpha.authorization!.slice(7)}`).toString('base64')}`,
      };
      await refused('read beta (Basic)', 403, 'GET', '/api/v1/projects/beta', asBasic, undefined, { message: scoped });
    });

    test('a scoped token of an admin has no platform powers', async () => {
      const platform = /scoped to one project/;
      await refused(
        'create user',
        403,
        'POST',
        '/api/v1/users',
        adminAlpha,
        { username: 'sneaky' },
        {
          message: platform,
          action: 'user.create',
        },
      );
      await refused(
        'create team',
        403,
        'POST',
        '/api/v1/teams',
        adminAlpha,
        { name: 'sneaky' },
        {
          message: platform,
          action: 'team.create',
        },
      );
      await refused(
        'make someone admin',
        403,
        'PATCH',
        '/api/v1/users/dev',
        adminAlpha,
        { isAdmin: true },
        {
          message: platform,
          action: 'user.update',
        },
      );
      await refused('delete its own project', 403, 'DELETE', '/api/v1/projects/alpha', adminAlpha, undefined, {
        message: platform,
        action: 'project.delete',
      });
      await refused(
        'create a project',
        403,
        'POST',
        '/api/v1/projects',
        adminAlpha,
        { name: 'sneaky', team: 'ml' },
        {
          action: 'project.create',
        },
      );
      await refused('verify audit chain', 403, 'GET', '/api/v1/audit/verify', adminAlpha, undefined, {
        message: platform,
      });
      await refused("list another user's tokens", 403, 'GET', '/api/v1/tokens?user=dev', adminAlpha, undefined, {
        message: platform,
      });
      await refused('read beta', 403, 'GET', '/api/v1/projects/beta', adminAlpha, undefined);
      // Inside its project it keeps the owner's (admin) role.
      expectStatus(
        await call(app, 'PUT', '/api/v1/projects/alpha/members/outsider', adminAlpha, { role: 'viewer' }),
        200,
      );
      expectStatus(await call(app, 'DELETE', '/api/v1/projects/alpha/members/outsider', adminAlpha), 204);
    });

    test('a scoped token cannot mint an unscoped token or one for another project', async () => {
      await refused(
        'unscoped from scoped',
        403,
        'POST',
        '/api/v1/tokens',
        mayaAlpha,
        { name: 'wider' },
        {
          message: /only create tokens for its own project/,
          action: 'token.create',
        },
      );
      await refused(
        'beta from alpha',
        403,
        'POST',
        '/api/v1/tokens',
        mayaAlpha,
        { name: 'beta', project: 'beta' },
        {
          action: 'token.create',
          projectId: betaId,
        },
      );
      await refused(
        'admin: unscoped from scoped',
        403,
        'POST',
        '/api/v1/tokens',
        adminAlpha,
        { name: 'root' },
        {
          action: 'token.create',
        },
      );
      const same = await call(app, 'POST', '/api/v1/tokens', mayaAlpha, { name: 'alpha-too', project: 'alpha' });
      expectStatus(same, 201);
      const child = bearer(same.json().token);
      const me = (await call(app, 'GET', '/api/v1/me', child)).json();
      assert.equal(me.projectId, alphaId, 'a token minted from a scoped one is scoped the same');
    });

    test('a developer cannot grant itself maintainer', async () => {
      await refused(
        'self-promotion',
        403,
        'PUT',
        '/api/v1/projects/alpha/members/dev',
        dev.auth,
        { role: 'maintainer' },
        {
          message: /needs the admin role in project "alpha"; you are developer/,
          action: 'project.member.set',
          projectId: alphaId,
        },
      );
      await refused(
        'promote to admin',
        403,
        'PUT',
        '/api/v1/projects/alpha/members/dev',
        dev.auth,
        { role: 'admin' },
        {
          action: 'project.member.set',
        },
      );
      await refused(
        'grant a friend',
        403,
        'PUT',
        '/api/v1/projects/alpha/members/outsider',
        dev.auth,
        { role: 'viewer' },
        {
          action: 'project.member.set',
        },
      );
      await refused(
        'remove the maintainer',
        403,
        'DELETE',
        '/api/v1/projects/alpha/members/maya',
        dev.auth,
        undefined,
        {
          action: 'project.member.remove',
        },
      );
      // A maintainer cannot promote itself either (granting needs the admin role).
      await refused(
        'maintainer to admin',
        403,
        'PUT',
        '/api/v1/projects/alpha/members/maya',
        maya.auth,
        { role: 'admin' },
        {
          action: 'project.member.set',
        },
      );
      const members = (await call(app, 'GET', '/api/v1/projects/alpha/members', adminAuth)).json();
      const roles = Object.fromEntries(
        members.items.map((m: { username: string; role: string }) => [m.username, m.role]),
      );
      assert.equal(roles.dev, 'developer');
      assert.equal(roles.maya, 'maintainer');
      assert.equal(roles.outsider, undefined);
    });

    test('a team member who is not a lead cannot change the team', async () => {
      const lead = /needs a lead of team "ml"/;
      await refused(
        'add a member',
        403,
        'PUT',
        '/api/v1/teams/ml/members/outsider',
        member.auth,
        { role: 'member' },
        {
          message: lead,
          action: 'team.member.set',
        },
      );
      await refused(
        'become lead',
        403,
        'PUT',
        '/api/v1/teams/ml/members/member',
        member.auth,
        { role: 'lead' },
        {
          message: lead,
          action: 'team.member.set',
        },
      );
      await refused(
        'edit the team',
        403,
        'PATCH',
        '/api/v1/teams/ml',
        member.auth,
        { description: 'mine' },
        {
          action: 'team.update',
        },
      );
      await refused(
        'create a project for the team',
        403,
        'POST',
        '/api/v1/projects',
        member.auth,
        { name: 'gamma', team: 'ml' },
        {
          action: 'project.create',
        },
      );
      const team = (await call(app, 'GET', '/api/v1/teams/ml', adminAuth)).json();
      assert.deepEqual(
        team.members.map((m: { username: string; role: string }) => [m.username, m.role]),
        [['member', 'member']],
      );
      // A lead can: the same request from a lead succeeds.
      await setTeamMember(app, 'ml', 'maya', 'lead');
      expectStatus(await call(app, 'PUT', '/api/v1/teams/ml/members/outsider', maya.auth, { role: 'member' }), 200);
      expectStatus(await call(app, 'DELETE', '/api/v1/teams/ml/members/outsider', maya.auth), 204);
      expectStatus(await call(app, 'DELETE', '/api/v1/teams/ml/members/maya', adminAuth), 204);
    });

    test('non-admins cannot make themselves admin or enable themselves, nor edit others', async () => {
      await refused(
        'self admin',
        403,
        'PATCH',
        '/api/v1/users/dev',
        dev.auth,
        { isAdmin: true },
        {
          message: /platform admin/,
          action: 'user.update',
        },
      );
      await refused(
        'self admin + profile',
        403,
        'PATCH',
        '/api/v1/users/dev',
        dev.auth,
        { displayName: 'Dev', isAdmin: true },
        {
          action: 'user.update',
        },
      );
      await refused(
        'self enable',
        403,
        'PATCH',
        '/api/v1/users/dev',
        dev.auth,
        { disabled: false },
        { action: 'user.update' },
      );
      await refused(
        "another's profile",
        403,
        'PATCH',
        '/api/v1/users/maya',
        dev.auth,
        { displayName: 'pwned' },
        {
          action: 'user.update',
        },
      );
      await refused(
        "another's password",
        403,
        'PUT',
        '/api/v1/users/maya/password',
        dev.auth,
        { newPassword: 'pwned-password' },
        {
          action: 'user.password',
        },
      );
      await refused(
        'create a user',
        403,
        'POST',
        '/api/v1/users',
        dev.auth,
        { username: 'friend', isAdmin: true },
        {
          action: 'user.create',
        },
      );
      assert.equal((await call(app, 'GET', '/api/v1/me', dev.auth)).json().isAdmin, false);
      // Their own profile is theirs to edit.
      expectStatus(await call(app, 'PATCH', '/api/v1/users/dev', dev.auth, { displayName: 'Dev Eloper' }), 200);
    });

    test('the last active admin can be neither demoted nor disabled', async () => {
      const last = /last active platform admin/;
      await refused('demote', 409, 'PATCH', '/api/v1/users/admin', adminAuth, { isAdmin: false }, { message: last });
      await refused('disable', 409, 'PATCH', '/api/v1/users/admin', adminAuth, { disabled: true }, { message: last });
      // With a second admin, one of them may go; then the other is the last again.
      const second = await createUser(app, 'second-admin', { isAdmin: true });
      expectStatus(await call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { isAdmin: false }), 200);
      await refused(
        'demote again',
        409,
        'PATCH',
        '/api/v1/users/admin',
        adminAuth,
        { isAdmin: false },
        { message: last },
      );
      // A disabled admin does not count as active.
      expectStatus(await call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { isAdmin: true }), 200);
      expectStatus(await call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { disabled: true }), 200);
      await refused(
        'demote with only a disabled other',
        409,
        'PATCH',
        '/api/v1/users/admin',
        adminAuth,
        { isAdmin: false },
        {
          message: last,
        },
      );
      expectStatus(await call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { disabled: false }), 200);
      // Two admins demoting each other at the same moment: one must fail, so an admin remains. The
      // loser gets 409 when both passed the admin check before either committed, and 403 when the
      // winner had already committed, so the loser was no longer an admin when its request arrived.
      const results = await Promise.all([
        call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { isAdmin: false }),
        call(app, 'PATCH', '/api/v1/users/admin', second.auth, { isAdmin: false }),
      ]);
      const codes = results.map((r) => r.statusCode).sort();
      const why = results.map((r) => r.body).join('\n');
      assert.equal(codes[0], 200, why);
      assert.ok(codes[1] === 403 || codes[1] === 409, why);
      const admins = await app.database.db
        .selectFrom('users')
        .select('username')
        .where('is_admin', '=', 1)
        .where('disabled', '=', 0)
        .execute();
      assert.equal(admins.length, 1);
      // Restore: the bootstrap admin stays admin for the other tests.
      if (admins[0]!.username !== 'admin') {
        expectStatus(await call(app, 'PATCH', '/api/v1/users/admin', second.auth, { isAdmin: true }), 200);
        expectStatus(await call(app, 'PATCH', '/api/v1/users/second-admin', adminAuth, { isAdmin: false }), 200);
      }
    });

    test('a viewer cannot set or read secrets', async () => {
      await refused(
        'viewer sets a secret',
        403,
        'PUT',
        '/api/v1/projects/alpha/secrets/TOKEN',
        viewer.auth,
        { value: 'v' },
        {
          message: /needs the maintainer role in project "alpha"; you are viewer/,
          action: 'secret.set',
          projectId: alphaId,
        },
      );
      await refused(
        'developer sets a secret',
        403,
        'PUT',
        '/api/v1/projects/alpha/secrets/TOKEN',
        dev.auth,
        { value: 'v' },
        {
          action: 'secret.set',
        },
      );
      await refused('viewer lists secrets', 403, 'GET', '/api/v1/projects/alpha/secrets', viewer.auth, undefined);
      await refused(
        'viewer deletes a secret',
        403,
        'DELETE',
        '/api/v1/projects/alpha/secrets/OK',
        viewer.auth,
        undefined,
        {
          action: 'secret.delete',
        },
      );
      expectStatus(await call(app, 'GET', '/api/v1/projects/alpha/secrets', dev.auth), 200, 'developers list names');
    });

    test('a user with no role in a project gets 404, exactly as for a project that does not exist', async () => {
      const cases: [string, 'GET' | 'PUT' | 'PATCH' | 'DELETE', string, unknown][] = [
        ['read', 'GET', '/api/v1/projects/%s', undefined],
        ['members', 'GET', '/api/v1/projects/%s/members', undefined],
        ['secrets', 'GET', '/api/v1/projects/%s/secrets', undefined],
        ['set secret', 'PUT', '/api/v1/projects/%s/secrets/X', { value: 'v' }],
        ['grant', 'PUT', '/api/v1/projects/%s/members/outsider', { role: 'admin' }],
        ['edit', 'PATCH', '/api/v1/projects/%s', { description: 'x' }],
        ['audit', 'GET', '/api/v1/audit?project=%s', undefined],
      ];
      // An unscoped token and a token scoped to a project the user may use (the default project).
      const outsiderDefault = bearer(
        (await createToken(app, outsider.auth, { name: 'def', project: 'default' })).token,
      );
      for (const [credential, headers] of [
        ['token', outsider.auth],
        ['scoped token', outsiderDefault],
      ] as const) {
        for (const [what, method, url, body] of cases) {
          const real = await refused(
            `${what} beta (${credential})`,
            404,
            method,
            url.replace('%s', 'beta'),
            headers,
            body,
          );
          const none = await call(app, method, url.replace('%s', 'nowhere'), headers, body);
          expectStatus(none, 404);
          assert.equal(
            real.json().error.message.replace('beta', 'P'),
            none.json().error.message.replace('nowhere', 'P'),
            `${what} (${credential}): same message`,
          );
        }
      }
      const listed = (await call(app, 'GET', '/api/v1/projects', outsider.auth)).json();
      assert.deepEqual(
        listed.items.map((p: { name: string }) => p.name),
        ['default'],
      );
    });

    test('a warm permission check is answered from the cache as the full check would answer it', async () => {
      const access = app.services.access;
      const callerOf = async (h: Headers, projectId: string | null = null): Promise<Caller> => {
        const me = (await call(app, 'GET', '/api/v1/me', h)).json<{ id: string; username: string; isAdmin: boolean }>();
        const auth = { userId: me.id, username: me.username, isAdmin: me.isAdmin, tokenId: null, projectId };
        return { auth: { ...auth, sessionId: null }, requestId: null, ip: null };
      };
      const v = await callerOf(viewer.auth);
      access.invalidate();
      assert.equal(access.cachedAccess(v, 'alpha', 'viewer'), null, 'cold: the full path decides');
      await access.requireProject(v, 'alpha', 'viewer', null);
      assert.equal(access.cachedAccess(v, 'alpha', 'viewer')?.role, 'viewer', 'warm');
      assert.equal(access.cachedAccess(v, 'alpha', 'developer'), null, 'too weak: left to the full path');
      await assert.rejects(access.requireProject(v, 'alpha', 'developer', null), ForbiddenError);
      const o = await callerOf(outsider.auth);
      await assert.rejects(access.requireProject(o, 'alpha', 'viewer', null), NotFoundError);
      assert.equal(access.cachedAccess(o, 'alpha', 'viewer'), null, 'no role (cached as none)');
      const a = await callerOf(adminAuth);
      assert.equal(access.cachedAccess(a, 'alpha', 'maintainer')?.role, 'admin', 'platform admin');
      const scoped = await callerOf(maya.auth, betaId);
      assert.equal(access.cachedAccess(scoped, 'alpha', 'viewer'), null, 'a token confined to another project');
      assert.equal(access.cachedAccess({ auth: null, requestId: null, ip: null }, 'alpha', 'viewer'), null);
      access.invalidate();
      assert.equal(access.cachedAccess(v, 'alpha', 'viewer'), null, 'a membership change clears it');
    });
  });
}
