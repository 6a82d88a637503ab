import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestStore, ENGINES } from '../../testing/engines.js';
import { systemClock } from '../../core/clock.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import { bootstrapStore } from './bootstrap.js';
import { IdentityStore } from './store.js';

for (const engine of ENGINES) {
  test(`servers starting together on an empty ${engine} store create one admin and both start`, async () => {
    const store = await createTestStore(engine);
    try {
      // SQLite allows one process per file, so race two bootstraps inside one app's store instead.
      if (engine === 'sqlite') {
        const app = await buildTestApp(store);
        const results = await Promise.all(
          [1, 2, 3].map(() =>
            bootstrapStore(new IdentityStore(app.database.db), systemClock, { adminPassword: 'another password' }),
          ),
        );
        assert.deepEqual(results, [
          { generatedPassword: null },
          { generatedPassword: null },
          { generatedPassword: null },
        ]);
        await app.close();
        return;
      }
      const apps = await Promise.all([1, 2, 3].map(() => buildTestApp(store)));
      try {
        const admins = await apps[0]!.database.db.selectFrom('users').select('username').execute();
        assert.deepEqual(admins, [{ username: 'admin' }]);
        for (const app of apps)
          assert.equal((await app.http.inject({ url: '/api/v1/me', headers: adminAuth })).statusCode, 200);
      } finally {
        await Promise.all(apps.map((a) => a.close()));
      }
    } finally {
      await store.cleanup();
    }
  });
}

test('a generated first password is reported once, and never again', async () => {
  const store = await createTestStore('sqlite');
  try {
    const app = await buildTestApp(store, { adminPassword: undefined });
    assert.match(app.bootstrap.generatedPassword ?? '', /^[A-Za-z0-9_-]{16}$/);
    assert.equal((await bootstrapStore(new IdentityStore(app.database.db), systemClock, {})).generatedPassword, null);
    // A new user can start at once: the default team (admin leads it) and project exist.
    const projects = await app.http.inject({ url: '/api/v1/projects', headers: adminAuth });
    assert.deepEqual(
      projects.json<{ items: { name: string; team: string }[] }>().items.map((p) => [p.name, p.team]),
      [['default', 'default']],
    );
    await app.close();
  } finally {
    await store.cleanup();
  }
});
