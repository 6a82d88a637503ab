// Credentials at the edge: passwords, tokens (Bearer and MLflow-style Basic), expiry, revocation,
// disabled users and malformed Authorization headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditedEvent,
  basic,
  bearer,
  call,
  createToken,
  createUser,
  expectStatus,
  login,
  TestClock,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const DAY = 86_400_000;

for (const engine of ENGINES) {
  describe(`credentials (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    const clock = new TestClock();
    let alice: TestUser;
    let bob: TestUser;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, {}, { clock });
      await app.http.ready();
      app.start();
      alice = await createUser(app, 'alice');
      bob = await createUser(app, 'bob');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const me = (headers: Record<string, string>) => call(app, 'GET', '/api/v1/me', headers);

    test('a wrong password is a 401, and a failed login is audited as session.login denied', async () => {
      const res = await call(
        app,
        'POST',
        '/api/v1/session',
        { 'x-request-id': 'wrong-pw-1' },
        {
          username: 'alice',
          password: 'not her password',
        },
      );
      expectStatus(res, 401);
      assert.equal(res.json().error.code, 'unauthenticated');
      assert.ok(!('set-cookie' in res.headers), 'no cookie for a failed login');
      const event = await auditedEvent(
        app,
        'action=session.login&outcome=denied',
        (e) => e.requestId === 'wrong-pw-1',
        'denied login',
      );
      assert.equal(event.target, 'alice');
      assert.equal(event.actor, 'anonymous');
      assert.equal(event.ip, '127.0.0.1');
      assert.match(String(event.details.reason), /wrong username or password/);
      // Basic with a wrong password is refused the same way.
      expectStatus(await me(basic('alice', 'not her password')), 401);
      // An unknown user gets the same answer as a wrong password.
      const unknown = await call(app, 'POST', '/api/v1/session', {}, { username: 'nobody', password: 'whatever1' });
      expectStatus(unknown, 401);
      assert.equal(unknown.json().error.message, res.json().error.message);
    });

    test('Basic accepts username + password and username + token (MLflow clients)', async () => {
      const withPassword = await me(basic('alice', alice.password));
      expectStatus(withPassword, 200);
      assert.equal(withPassword.json().username, 'alice');
      assert.equal(withPassword.json().tokenId, null);
      const withToken = await me(basic('alice', alice.token));
      expectStatus(withToken, 200);
      assert.equal(withToken.json().username, 'alice');
      assert.notEqual(withToken.json().tokenId, null);
      // The scheme name is case-insensitive.
      const lower = `basic ${Buffer.from(`alice:${alice.token}`).toString('base64')}`;
      expectStatus(await me({ authorization: lower }), 200);
    });

    test('a token in the Basic password slot must belong to the named user', async () => {
      for (const username of ['bob', 'admin', '']) {
        const res = await me(basic(username, alice.token));
        expectStatus(res, 401, `Basic ${username}:<alice's token>`);
        assert.match(res.json().error.message, /does not belong/);
      }
      // Bob's own token still works in his name.
      expectStatus(await me(basic('bob', bob.token)), 200);
    });

    test('an expired token is refused, also when it was cached just before', async () => {
      const { token } = await createToken(app, alice.auth, { name: 'one-day', expiresInDays: 1 });
      expectStatus(await me(bearer(token)), 200);
      expectStatus(await me(basic('alice', token)), 200);
      clock.advance(DAY - 1000);
      expectStatus(await me(bearer(token)), 200, 'a second before expiry');
      clock.advance(1001);
      for (const headers of [bearer(token), basic('alice', token)]) {
        const res = await me(headers);
        expectStatus(res, 401, 'after expiry');
        assert.match(res.json().error.message, /expired/);
      }
      // Tokens without expiry are unaffected by time.
      expectStatus(await me(alice.auth), 200);
    });

    test('a revoked token is refused at once in every form it was used', async () => {
      const { id, token } = await createToken(app, alice.auth, { name: 'to-revoke' });
      // Warm the credential cache under both header forms.
      expectStatus(await me(bearer(token)), 200);
      expectStatus(await me(basic('alice', token)), 200);
      expectStatus(await call(app, 'DELETE', `/api/v1/tokens/${id}`, alice.auth), 204);
      for (const headers of [bearer(token), basic('alice', token)]) {
        const res = await me(headers);
        expectStatus(res, 401, 'after revoke');
        assert.match(res.json().error.message, /revoked/);
      }
    });

    test("a user cannot revoke someone else's token (404, nothing revoked)", async () => {
      const { id, token } = await createToken(app, bob.auth, { name: 'bobs' });
      expectStatus(await call(app, 'DELETE', `/api/v1/tokens/${id}`, alice.auth), 404);
      expectStatus(await me(bearer(token)), 200);
    });

    test("a disabled user's tokens, password and sessions are refused; enabling restores tokens only", async () => {
      const carol = await createUser(app, 'carol');
      const session = await login(app, 'carol', carol.password);
      // Every credential works (and is cached) before.
      expectStatus(await me(carol.auth), 200);
      expectStatus(await me(basic('carol', carol.password)), 200);
      expectStatus(await me(basic('carol', carol.token)), 200);
      expectStatus(await me(session.get), 200);
      expectStatus(await call(app, 'PATCH', '/api/v1/users/carol', adminAuth, { disabled: true }), 200);
      for (const [what, headers] of [
        ['bearer token', carol.auth],
        ['basic password', basic('carol', carol.password)],
        ['basic token', basic('carol', carol.token)],
        ['session', session.get],
      ] as const) {
        expectStatus(await me(headers), 401, `${what} of a disabled user`);
      }
      const relogin = await call(app, 'POST', '/api/v1/session', {}, { username: 'carol', password: carol.password });
      expectStatus(relogin, 401, 'login of a disabled user');
      assert.match(relogin.json().error.message, /disabled/);

      expectStatus(await call(app, 'PATCH', '/api/v1/users/carol', adminAuth, { disabled: false }), 200);
      expectStatus(await me(carol.auth), 200, 'token after enabling');
      expectStatus(await me(session.get), 401, 'sessions ended by disabling stay ended');
    });

    test('malformed Authorization headers are 401 JSON, never 500', async () => {
      const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
      const headers = [
        alice.token, // no scheme
        'Bearer',
        'Bearer ',
        'Bearer    ',
        'Bearer not-a-hangar-token',
        'Bearer hgr_',
        `Bearer hgr_${'x'.repeat(4000)}`,
        'Basic',
        'Basic ',
        'Basic %%%not base64%%%',
        'Basic ====',
        `Basic ${b64('no-colon-here')}`,
        `Basic ${b64(':')}`,
        `Basic ${b64(':hgr_whatever')}`,
        `Basic ${b64('\u0000\u00ff\u00fe:\u0001\u0002')}`,
        `Basic ${Buffer.from([0xc3, 0x28, 0x3a, 0xa0, 0xa1]).toString('base64')}`, // invalid UTF-8 around ':'
        'Digest username="alice"',
        'Token abc',
        `Bearer ${alice.token} trailing`,
      ];
      for (const authorization of headers) {
        const res = await me({ authorization });
        expectStatus(res, 401, JSON.stringify(authorization.slice(0, 60)));
        assert.equal(res.json().error.code, 'unauthenticated');
        assert.ok(res.json().error.requestId);
      }
      // Public routes ignore bad credentials rather than failing.
      expectStatus(await call(app, 'GET', '/healthz', { authorization: 'Basic %%%' }), 200);
    });
  });
}
