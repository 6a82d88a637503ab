import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestStore, ENGINES } from '../../testing/engines.js';
import {
  bearer,
  call,
  createProject,
  createToken,
  createUser,
  expectStatus,
  grant,
} from '../../testing/identity-fixtures.js';
import { buildTestApp } from '../../testing/test-app.js';

for (const engine of ENGINES) {
  test(`a project-scoped token sees and revokes only its own project's tokens (${engine})`, async () => {
    const store = await createTestStore(engine);
    const app = await buildTestApp(store);
    try {
      const dana = await createUser(app, 'dana');
      await createProject(app, 'alpha');
      await grant(app, 'alpha', 'dana', 'developer');
      const scoped = await createToken(app, dana.auth, { name: 'alpha-ci', project: 'alpha' });
      const sibling = await createToken(app, dana.auth, { name: 'alpha-nightly', project: 'alpha' });
      const list = await call(app, 'GET', '/api/v1/tokens', bearer(scoped.token));
      expectStatus(list, 200);
      assert.deepEqual(
        list.json<{ items: { name: string }[] }>().items.map((t) => t.name),
        ['alpha-nightly', 'alpha-ci'],
      );
      // Dana's unscoped token is out of the scoped token's reach (as if it did not exist) ...
      const unscoped = (await call(app, 'GET', '/api/v1/tokens', dana.auth)).json<{
        items: { id: string; name: string }[];
      }>();
      const main = unscoped.items.find((t) => t.name === 'dana-main')!;
      expectStatus(await call(app, 'DELETE', `/api/v1/tokens/${main.id}`, bearer(scoped.token)), 404);
      expectStatus(await call(app, 'GET', '/api/v1/me', dana.auth), 200);
      // ... while a token of the same project can be revoked.
      expectStatus(await call(app, 'DELETE', `/api/v1/tokens/${sibling.id}`, bearer(scoped.token)), 204);
      expectStatus(await call(app, 'GET', '/api/v1/me', bearer(sibling.token)), 401);
    } finally {
      await app.close();
      await store.cleanup();
    }
  });
}
