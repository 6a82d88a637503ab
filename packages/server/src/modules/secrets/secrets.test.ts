// Project secrets: sealed at rest (no plaintext anywhere in the store, nor in the audit log),
// never returned by the API, bound to their row, and unreadable with another key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { HangarApp } from '../../app.js';
import { SYSTEM_CALLER } from '../../core/auth.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import { auditEvents, call, createUser, expectStatus, grant } from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';

const KEY_A = 'key-A-0123456789abcdefghijklmnopqrstuvwxyz';
const KEY_B = 'key-B-0123456789abcdefghijklmnopqrstuvwxyz';

/** Every file under `dir`, as bytes (the SQLite database, its WAL and anything else in the data dir). */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  const out: { file: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ file: p, bytes: readFileSync(p) });
  }
  return out;
}

/** Every row of every table of the store, as text. */
async function dumpStore(app: HangarApp): Promise<string> {
  const db = app.database.db;
  const tables = await db.introspection.getTables();
  assert.ok(tables.some((t) => t.name === 'secrets'));
  let text = '';
  for (const t of tables) {
    const rows = await db
      .selectFrom(t.name as 'secrets')
      .selectAll()
      .execute();
    text += `${t.name}\n${JSON.stringify(rows)}\n`;
  }
  return text;
}

const reveal = (app: HangarApp, project: string, name: string) =>
  app.services.secrets.reveal(SYSTEM_CALLER, project, name);

for (const engine of ENGINES) {
  describe(`secrets (${engine})`, () => {
    test('values are sealed at rest, never returned and never audited', async () => {
      const store: TestStore = await createTestStore(engine);
      const app = await buildTestApp(store, { secretKey: KEY_A });
      try {
        await app.http.ready();
        app.start();
        const maya = await createUser(app, 'maya');
        await grant(app, 'default', 'maya', 'maintainer');
        const value = `plaintext-${randomBytes(12).toString('hex')}`;
        const set = await call(app, 'PUT', '/api/v1/projects/default/secrets/S3_KEY', maya.auth, { value });
        expectStatus(set, 200);
        assert.ok(!set.body.includes(value), 'the response does not echo the value');
        assert.deepEqual(Object.keys(set.json()).sort(), ['createdAt', 'createdBy', 'name', 'updatedAt']);
        // Replacing keeps one secret.
        const value2 = `replaced-${randomBytes(12).toString('hex')}`;
        expectStatus(
          await call(app, 'PUT', '/api/v1/projects/default/secrets/S3_KEY', maya.auth, { value: value2 }),
          200,
        );

        const list = await call(app, 'GET', '/api/v1/projects/default/secrets', maya.auth);
        expectStatus(list, 200);
        assert.deepEqual(
          list.json().items.map((s: Record<string, unknown>) => [s.name, s.createdBy, Object.keys(s).sort()]),
          [['S3_KEY', 'maya', ['createdAt', 'createdBy', 'name', 'updatedAt']]],
        );
        for (const v of [value, value2]) assert.ok(!list.body.includes(v));

        const events = await auditEvents(app, 'action=secret.set');
        assert.equal(events.length, 2);
        assert.ok(events.every((e) => e.target === 'default/S3_KEY'));
        const exported = await call(app, 'GET', '/api/v1/audit/export', adminAuth);
        for (const v of [value, value2]) {
          assert.ok(!JSON.stringify(events).includes(v), 'no value in the audit log');
          assert.ok(!exported.body.includes(v), 'no value in the audit export');
        }

        // No plaintext in any table of the store, and (SQLite) in no byte of its files.
        const dump = await dumpStore(app);
        assert.match(dump, /S3_KEY/);
        for (const v of [value, value2]) assert.ok(!dump.includes(v), 'plaintext in a table');
        if (engine === 'sqlite') {
          for (const { file, bytes } of filesUnder(store.dir)) {
            for (const v of [value, value2]) {
              assert.equal(bytes.indexOf(v), -1, `plaintext in ${file}`);
              assert.equal(bytes.indexOf(Buffer.from(v, 'utf16le')), -1, `plaintext (utf-16) in ${file}`);
            }
          }
        }
        // Platform code can open it (with the right key): the latest value.
        assert.equal(await reveal(app, 'default', 'S3_KEY'), value2);
      } finally {
        await app.close();
        await store.cleanup();
      }
    });

    test('a sealed value is bound to its row, and another key cannot open it', async () => {
      const store: TestStore = await createTestStore(engine);
      let app = await buildTestApp(store, { secretKey: KEY_A });
      try {
        for (const [name, value] of [
          ['A', 'value of a'],
          ['B', 'value of b'],
        ])
          expectStatus(await call(app, 'PUT', `/api/v1/projects/default/secrets/${name}`, adminAuth, { value }), 200);
        assert.equal(await reveal(app, 'default', 'A'), 'value of a');
        // Copying A's ciphertext over B's does not make B read as A.
        const db = app.database.db;
        const a = await db.selectFrom('secrets').select('ciphertext').where('name', '=', 'A').executeTakeFirstOrThrow();
        const b = await db.selectFrom('secrets').select('ciphertext').where('name', '=', 'B').executeTakeFirstOrThrow();
        await db.updateTable('secrets').set({ ciphertext: a.ciphertext }).where('name', '=', 'B').execute();
        await assert.rejects(reveal(app, 'default', 'B'));
        await db.updateTable('secrets').set({ ciphertext: b.ciphertext }).where('name', '=', 'B').execute();
        assert.equal(await reveal(app, 'default', 'B'), 'value of b');
        // A flipped byte is detected, not decrypted to garbage.
        const flipped = a.ciphertext.slice(0, -4) + (a.ciphertext.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA');
        await db.updateTable('secrets').set({ ciphertext: flipped }).where('name', '=', 'A').execute();
        await assert.rejects(reveal(app, 'default', 'A'));
        await db.updateTable('secrets').set({ ciphertext: a.ciphertext }).where('name', '=', 'A').execute();
        await app.close();

        // A server with another key refuses clearly, naming both key fingerprints.
        app = await buildTestApp(store, { secretKey: KEY_B });
        await assert.rejects(
          reveal(app, 'default', 'A'),
          /sealed with key [0-9a-f]{8}, this server has key [0-9a-f]{8}/,
        );
        await app.close();

        // The right key opens it again.
        app = await buildTestApp(store, { secretKey: KEY_A });
        assert.equal(await reveal(app, 'default', 'A'), 'value of a');
      } finally {
        await app.close();
        await store.cleanup();
      }
    });
  });
}

test('without a configured key one is generated once into the data dir, readable only by its owner', async () => {
  const store = await createTestStore('sqlite');
  try {
    let app = await buildTestApp(store, { secretKey: undefined });
    expectStatus(await call(app, 'PUT', '/api/v1/projects/default/secrets/X', adminAuth, { value: 'kept' }), 200);
    await app.close();
    const keyFile = path.join(store.dir, 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    assert.ok(key.trim().length >= 32);
    app = await buildTestApp(store, { secretKey: undefined });
    try {
      assert.equal(await reveal(app, 'default', 'X'), 'kept');
      assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key is not regenerated');
    } finally {
      await app.close();
    }
  } finally {
    await store.cleanup();
  }
});
