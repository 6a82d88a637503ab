// Browser sessions: cookie attributes, CSRF and Origin checks, session fixation, logout, expiry,
// login throttling, and password changes ending other sessions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  auditedEvent,
  basic,
  call,
  countRows,
  createUser,
  expectStatus,
  login,
  TestClock,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { buildTestApp } from '../../testing/test-app.js';

const HOST = 'hangar.test';

for (const engine of ENGINES) {
  describe(`browser sessions (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    const clock = new TestClock();
    let alice: TestUser;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store, { sessionTtlMinutes: 60 }, { clock });
      await app.http.ready();
      app.start();
      alice = await createUser(app, 'alice');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    const me = (headers: Record<string, string>) => call(app, 'GET', '/api/v1/me', headers);
    const newToken = (headers: Record<string, string>, name: string) =>
      call(app, 'POST', '/api/v1/tokens', { host: HOST, ...headers }, { name });

    test('login sets an HttpOnly, SameSite=Strict cookie (not Secure without TLS) and returns no cookie value', async () => {
      const s = await login(app, 'alice', alice.password);
      const attrs = s.setCookie.split(';').map((p) => p.trim());
      assert.ok(attrs.includes('HttpOnly'), s.setCookie);
      assert.ok(attrs.includes('SameSite=Strict'), s.setCookie);
      assert.ok(attrs.includes('Path=/'), s.setCookie);
      assert.ok(attrs.includes('Max-Age=3600'), s.setCookie);
      assert.ok(!attrs.includes('Secure'), 'plain HTTP cannot carry a Secure cookie');
      assert.ok(s.cookie.length >= 40, 'the cookie carries at least 32 random bytes');
      assert.notEqual(s.csrf, s.cookie);
      // Only a hash of the cookie is stored.
      const stored = await app.database.db.selectFrom('sessions').select('id_hash').execute();
      assert.ok(!JSON.stringify(stored).includes(s.cookie));
      // The session works for reads without a CSRF token.
      const who = await me(s.get);
      expectStatus(who, 200);
      assert.equal(who.json().username, 'alice');
      const current = await call(app, 'GET', '/api/v1/session', s.get);
      expectStatus(current, 200);
      assert.equal(current.json().csrfToken, s.csrf);
    });

    test('a state change with a session needs the CSRF token, from this origin; refusals are audited', async () => {
      const s = await login(app, 'alice', alice.password);
      const tokensBefore = await countRows(app, 'api_tokens');

      const missing = await newToken({ ...s.get, 'x-request-id': 'csrf-missing' }, 'no-csrf');
      expectStatus(missing, 403, 'no x-csrf-token');
      assert.match(missing.json().error.message, /x-csrf-token/);
      const event = await auditedEvent(
        app,
        'action=session.csrf',
        (e) => e.requestId === 'csrf-missing',
        'CSRF refusal',
      );
      assert.equal(event.outcome, 'denied');
      assert.equal(event.actor, 'alice');
      assert.equal(event.target, 'POST /api/v1/tokens');

      expectStatus(await newToken({ ...s.get, 'x-csrf-token': 'wrong' }, 'bad-csrf'), 403, 'wrong x-csrf-token');
      expectStatus(
        // Its last character changed (to one it is not: a fixed 'A' would equal the token 1 time in 64).
        await newToken(
          { ...s.get, 'x-csrf-token': `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}` },
          'near-csrf',
        ),
        403,
        'nearly right x-csrf-token',
      );
      const other = await login(app, 'alice', alice.password);
      expectStatus(
        await newToken({ ...s.get, 'x-csrf-token': other.csrf }, 'other-csrf'),
        403,
        "another session's token",
      );

      const crossSite = await newToken({ ...s.act, origin: 'https://evil.example' }, 'cross');
      expectStatus(crossSite, 403, 'cross-origin');
      assert.match(crossSite.json().error.message, /cross-origin/);
      expectStatus(await newToken({ ...s.act, origin: 'not a url' }, 'bad-origin'), 403, 'malformed Origin');
      expectStatus(await newToken({ ...s.act, origin: `http://${HOST}.evil.example` }, 'suffix'), 403, 'suffix origin');
      assert.equal(await countRows(app, 'api_tokens'), tokensBefore, 'refused requests write nothing');

      expectStatus(await newToken(s.act, 'with-csrf'), 201, 'right token, no Origin');
      expectStatus(
        await newToken({ ...s.act, origin: `http://${HOST}` }, 'same-origin'),
        201,
        'right token, same origin',
      );
      assert.equal(await countRows(app, 'api_tokens'), tokensBefore + 2);
    });

    test('session fixation: login never adopts a cookie the browser brings, and ends it', async () => {
      const planted = await call(
        app,
        'POST',
        '/api/v1/session',
        { cookie: 'hangar_session=attacker-chosen-value' },
        {
          username: 'alice',
          password: alice.password,
        },
      );
      expectStatus(planted, 200);
      assert.doesNotMatch(String(planted.headers['set-cookie']), /attacker-chosen-value/);
      expectStatus(await me({ cookie: 'hangar_session=attacker-chosen-value' }), 401);

      // An attacker's own valid session planted in the victim's browser is ended by the victim's login.
      const first = await login(app, 'alice', alice.password);
      const second = await login(app, 'alice', alice.password, first.get);
      assert.notEqual(second.cookie, first.cookie);
      assert.notEqual(second.csrf, first.csrf);
      expectStatus(await me(first.get), 401, 'the cookie sent to login is dead');
      expectStatus(await me(second.get), 200);
    });

    test('logout ends the session at once; the same cookie is then refused', async () => {
      const s = await login(app, 'alice', alice.password);
      expectStatus(await me(s.get), 200); // cached now
      const out = await call(app, 'DELETE', '/api/v1/session', s.act);
      expectStatus(out, 204);
      assert.match(String(out.headers['set-cookie']), /hangar_session=;.*Max-Age=0/);
      expectStatus(await me(s.get), 401, 'after logout');
      expectStatus(await call(app, 'GET', '/api/v1/session', s.get), 401);
      expectStatus(await newToken(s.act, 'after-logout'), 401);
    });

    test('logout without the CSRF token does not report success while the session lives on', async () => {
      const s = await login(app, 'alice', alice.password);
      const out = await call(app, 'DELETE', '/api/v1/session', s.get);
      if (out.statusCode === 204) expectStatus(await me(s.get), 401, 'logout said 204, so the session must be over');
      else expectStatus(out, 403, 'logout without x-csrf-token');
    });

    test('sessions end when they expire', async () => {
      const s = await login(app, 'alice', alice.password);
      expectStatus(await me(s.get), 200);
      clock.advance(60 * 60_000 - 1000);
      expectStatus(await me(s.get), 200, 'a second before the end');
      clock.advance(1000);
      expectStatus(await me(s.get), 401, 'at the end');
    });

    test('a password change ends every other session of the user', async () => {
      const bob = await createUser(app, 'bob');
      const here = await login(app, 'bob', bob.password);
      const elsewhere = await login(app, 'bob', bob.password);
      expectStatus(await me(elsewhere.get), 200);
      // The current password is required, and a wrong one is refused and changes nothing.
      const wrong = await call(app, 'PUT', '/api/v1/users/bob/password', here.act, {
        currentPassword: 'not-it-at-all',
        newPassword: 'a brand new password',
      });
      expectStatus(wrong, 400);
      expectStatus(await me(elsewhere.get), 200);
      const changed = await call(app, 'PUT', '/api/v1/users/bob/password', here.act, {
        currentPassword: bob.password,
        newPassword: 'a brand new password',
      });
      expectStatus(changed, 204);
      expectStatus(await me(elsewhere.get), 401, 'the other session ended');
      expectStatus(await me(here.get), 200, 'the session that changed it goes on');
      expectStatus(await me(basic('bob', bob.password)), 401, 'old password');
      expectStatus(await me(basic('bob', 'a brand new password')), 200, 'new password');
      // An admin's reset (no session of bob's involved) ends all of them.
      const reset = await call(app, 'PUT', '/api/v1/users/bob/password', basic('admin', 'correct horse battery'), {
        newPassword: 'reset by the admin',
      });
      expectStatus(reset, 204);
      expectStatus(await me(here.get), 401, 'after an admin reset');
    });

    test('login throttling: after 5 failures even the right password gets 429 with Retry-After', async () => {
      const carol = await createUser(app, 'carol');
      const attempt = (password: string) => call(app, 'POST', '/api/v1/session', {}, { username: 'carol', password });
      for (let i = 0; i < 5; i++) expectStatus(await attempt(`guess-${i}-wrong`), 401, `guess ${i}`);
      const locked = await attempt(carol.password);
      expectStatus(locked, 429, 'right password while locked');
      assert.equal(locked.json().error.code, 'too_many_requests');
      assert.ok(Number(locked.headers['retry-after']) === 30, `Retry-After ${locked.headers['retry-after']}`);
      // Basic with the password is locked the same way once its earlier success has left the
      // credential cache; the user's token is not a password and still works.
      clock.advance(10_000);
      const basicLocked = await me(basic('carol', carol.password));
      expectStatus(basicLocked, 429, 'Basic while locked');
      const retryAfter = Number(basicLocked.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 20, `Retry-After ${basicLocked.headers['retry-after']}`);
      expectStatus(await me(carol.auth), 200, 'token while locked');
      // Other users are not locked out by carol's lock.
      expectStatus(await me(basic('alice', alice.password)), 200);
      // After the lock, the right password works and clears the count.
      clock.advance(retryAfter * 1000);
      expectStatus(await attempt(carol.password), 200, 'after the lock');
      expectStatus(await attempt('one more wrong'), 401, 'a fresh count after success');
    });
  });
}
