// Names and free-text fields under attack: SQL-looking and look-alike names, path traversal in
// route parameters, oversized fields, control and bidi characters. Each is a 400 that names the
// field and writes nothing; ordinary unicode text is welcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  call,
  createUser,
  expectStatus,
  identityCounts,
  type Headers,
  type TestUser,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface BadRequest {
  what: string;
  method: Method;
  url: string;
  body?: unknown;
  /** The field the 400 must name (e.g. body.username). */
  field: string;
  headers?: Headers;
}

const SQLISH = "x'; drop table users;--";
const CYRILLIC_A = '\u0430'; // looks like "a"
const RLO = '\u202e';
const LRI = '\u2066';

for (const engine of ENGINES) {
  describe(`names and fields (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let alice: TestUser;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      alice = await createUser(app, 'alice');
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('bad names and fields are a 400 naming the field, and write nothing', async () => {
      const bad: BadRequest[] = [
        // Usernames: ASCII only, bounded, no SQL or path characters.
        {
          what: 'sql username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: SQLISH },
          field: 'body.username',
        },
        {
          what: 'homoglyph username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: `${CYRILLIC_A}dmin` },
          field: 'body.username',
        },
        {
          what: 'upper-case username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'Admin' },
          field: 'body.username',
        },
        {
          what: 'accented username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'zoë' },
          field: 'body.username',
        },
        {
          what: '65-char username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'a'.repeat(65) },
          field: 'body.username',
        },
        {
          what: 'path username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: '../admin' },
          field: 'body.username',
        },
        {
          what: 'empty username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: '' },
          field: 'body.username',
        },
        {
          what: 'nul username',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'ab\u0000c' },
          field: 'body.username',
        },
        // Display names: unicode welcome, but bounded and free of control and bidi characters.
        {
          what: '10k display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'longname', displayName: 'x'.repeat(10_000) },
          field: 'body.displayName',
        },
        {
          what: 'bell in display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'bell', displayName: 'ding\u0007' },
          field: 'body.displayName',
        },
        {
          what: 'newline in display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'nl', displayName: 'a\nb' },
          field: 'body.displayName',
        },
        {
          what: 'nul in display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'nul', displayName: 'a\u0000b' },
          field: 'body.displayName',
        },
        {
          what: 'C1 control in display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'cone', displayName: 'a\u0085b' },
          field: 'body.displayName',
        },
        {
          what: 'RLO in display name',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'rlo', displayName: `admin${RLO}nimda` },
          field: 'body.displayName',
        },
        {
          what: 'LRI in display name',
          method: 'PATCH',
          url: '/api/v1/users/alice',
          body: { displayName: `x${LRI}y` },
          field: 'body.displayName',
          headers: alice.auth,
        },
        {
          what: 'nul in email',
          method: 'POST',
          url: '/api/v1/users',
          body: { username: 'mail', email: 'a\u0000@b.c' },
          field: 'body.email',
        },
        {
          what: 'control in email',
          method: 'PATCH',
          url: '/api/v1/users/alice',
          body: { email: 'a\u0007@b.c' },
          field: 'body.email',
          headers: alice.auth,
        },
        // Project and team names.
        {
          what: 'sql project',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: SQLISH, team: 'default' },
          field: 'body.name',
        },
        {
          what: 'homoglyph project',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: `def${CYRILLIC_A}ult`, team: 'default' },
          field: 'body.name',
        },
        {
          what: 'fullwidth project',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: '\uff44efault', team: 'default' },
          field: 'body.name',
        },
        {
          what: 'traversal project',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: '../default', team: 'default' },
          field: 'body.name',
        },
        {
          what: 'long project',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: 'p'.repeat(64), team: 'default' },
          field: 'body.name',
        },
        {
          what: 'bidi project display',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: 'bidi', team: 'default', displayName: `a${RLO}b` },
          field: 'body.displayName',
        },
        {
          what: 'bidi project description',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: 'bidid', team: 'default', description: `safe${RLO}txt.exe` },
          field: 'body.description',
        },
        {
          what: 'nul project description',
          method: 'POST',
          url: '/api/v1/projects',
          body: { name: 'nuld', team: 'default', description: 'a\u0000b' },
          field: 'body.description',
        },
        {
          what: 'long project description',
          method: 'PATCH',
          url: '/api/v1/projects/default',
          body: { description: 'd'.repeat(10_000) },
          field: 'body.description',
        },
        { what: 'sql team', method: 'POST', url: '/api/v1/teams', body: { name: SQLISH }, field: 'body.name' },
        {
          what: 'nul team description',
          method: 'POST',
          url: '/api/v1/teams',
          body: { name: 'nult', description: 'a\u0000b' },
          field: 'body.description',
        },
        // Route parameters: encoded traversal and SQL never reach a store.
        {
          what: 'traversal project param',
          method: 'GET',
          url: '/api/v1/projects/..%2F..%2Fetc',
          field: 'params.project',
        },
        {
          what: 'traversal project param (patch)',
          method: 'PATCH',
          url: '/api/v1/projects/..%2Fdefault',
          body: { description: 'x' },
          field: 'params.project',
        },

        { what: 'traversal user param', method: 'GET', url: '/api/v1/users/..%2F..%2Fadmin', field: 'params.username' },
        {
          what: 'sql user param',
          method: 'PATCH',
          url: `/api/v1/users/${encodeURIComponent(SQLISH)}`,
          body: { displayName: 'x' },
          field: 'params.username',
        },
        {
          what: 'traversal member param',
          method: 'PUT',
          url: '/api/v1/projects/default/members/..%2Fadmin',
          body: { role: 'admin' },
          field: 'params.username',
        },
        {
          what: 'traversal team param',
          method: 'PUT',
          url: '/api/v1/teams/default%2F..%2Fx/members/alice',
          body: { role: 'lead' },
          field: 'params.team',
        },
        {
          what: 'traversal secret name',
          method: 'PUT',
          url: '/api/v1/projects/default/secrets/..%2F..%2Fx',
          body: { value: 'v' },
          field: 'params.name',
        },
        {
          what: 'unicode in role',
          method: 'PUT',
          url: '/api/v1/projects/default/members/alice',
          body: { role: `${CYRILLIC_A}dmin` },
          field: 'body.role',
        },
        // Token names and query strings.
        {
          what: 'control in token name',
          method: 'POST',
          url: '/api/v1/tokens',
          body: { name: 'ci\u001b[31m' },
          field: 'body.name',
        },
        {
          what: 'bidi in token name',
          method: 'POST',
          url: '/api/v1/tokens',
          body: { name: `ci${RLO}gpj.exe` },
          field: 'body.name',
        },
        {
          what: 'homoglyph token project',
          method: 'POST',
          url: '/api/v1/tokens',
          body: { name: 'x', project: `def${CYRILLIC_A}ult` },
          field: 'body.project',
        },
        { what: 'nul in user search', method: 'GET', url: '/api/v1/users?query=a%00b', field: 'querystring.query' },
        { what: 'nul in audit actor', method: 'GET', url: '/api/v1/audit?actor=a%00b', field: 'querystring.actor' },
        { what: 'nul in audit target', method: 'GET', url: '/api/v1/audit?target=a%00b', field: 'querystring.target' },
        {
          what: 'sql in audit action',
          method: 'GET',
          url: `/api/v1/audit?action=${encodeURIComponent("x' or 1=1")}`,
          field: 'querystring.action',
        },
        {
          what: 'like wildcard in audit action',
          method: 'GET',
          url: '/api/v1/audit?action=%25',
          field: 'querystring.action',
        },
        {
          what: 'control in login username',
          method: 'POST',
          url: '/api/v1/session',
          body: { username: 'ad\u0000min', password: 'whatever1' },
          field: 'body.username',
        },
      ];
      const before = await identityCounts(app);
      // Every case is tried, so one run lists every field that lets bad input through.
      const wrong: string[] = [];
      for (const r of bad) {
        const res = await call(app, r.method, r.url, r.headers ?? adminAuth, r.body);
        const error = res.statusCode === 400 ? res.json().error : null;
        if (error?.code !== 'invalid_input' || error.details?.field !== r.field)
          wrong.push(`${r.what}: ${res.statusCode} ${res.body.slice(0, 300)}`);
      }
      assert.deepEqual(wrong, []);
      // Give any off-path audit write a moment, then check nothing at all was written.
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await identityCounts(app), before);
    });

    test('NUL bytes in credentials are refused as credentials, not crashes', async () => {
      const before = await identityCounts(app);
      const b64 = Buffer.from('ad\u0000min:some password').toString('base64');
      const res = await call(app, 'GET', '/api/v1/me', { authorization: `Basic ${b64}` });
      expectStatus(res, 401, 'Basic with a NUL in the username');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await identityCounts(app), before);
    });

    test('SQL in search and filter values is data, not code', async () => {
      const users = await call(app, 'GET', `/api/v1/users?query=${encodeURIComponent("' or '1'='1")}`, adminAuth);
      expectStatus(users, 200);
      assert.deepEqual(users.json().items, []);
      const wildcard = await call(app, 'GET', `/api/v1/users?query=${encodeURIComponent('%')}`, adminAuth);
      expectStatus(wildcard, 200);
      const audit = await call(app, 'GET', `/api/v1/audit?actor=${encodeURIComponent("admin' or 1=1 --")}`, adminAuth);
      expectStatus(audit, 200);
      assert.deepEqual(audit.json().items, []);
      // The tables are all still there.
      assert.ok((await identityCounts(app)).users >= 2);
    });

    test('unicode display names and descriptions are accepted and returned exactly', async () => {
      const name = 'Zoë 山田';
      const created = await call(app, 'POST', '/api/v1/users', adminAuth, { username: 'zoe', displayName: name });
      expectStatus(created, 201);
      assert.equal(created.json().user.displayName, name);
      assert.equal((await call(app, 'GET', '/api/v1/users/zoe', adminAuth)).json().displayName, name);
      const others = ['Ünïcødé 🚀', 'مرحبا بالعالم', 'Ελληνικά', 'नमस्ते'];
      for (const displayName of others) {
        const res = await call(app, 'PATCH', '/api/v1/users/alice', alice.auth, { displayName });
        expectStatus(res, 200, displayName);
        assert.equal(res.json().displayName, displayName);
      }
      const project = await call(app, 'POST', '/api/v1/projects', adminAuth, {
        name: 'modeles',
        team: 'default',
        displayName: 'Modèles 山田',
        description: 'Zeilen mit Umlauten: äöü\nund einer zweiten Zeile\tmit Tab.',
      });
      expectStatus(project, 201);
      assert.equal(project.json().displayName, 'Modèles 山田');
      assert.match(project.json().description, /\n/);
      // A 64-character username is the longest accepted.
      expectStatus(await call(app, 'POST', '/api/v1/users', adminAuth, { username: `a${'b'.repeat(63)}` }), 201);
    });
  });
}
