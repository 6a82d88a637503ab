import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ENGINES } from '../testing/engines.js';
import { migratedSchema } from '../testing/schema-dump.js';

for (const engine of ENGINES) {
  test(`committed ${engine} schema dump matches the migrations`, async () => {
    const file = path.resolve(import.meta.dirname, `../../schema/${engine}.sql`);
    const committed = readFileSync(file, 'utf8');
    const actual = await migratedSchema(engine);
    assert.ok(
      committed === actual,
      `packages/server/schema/${engine}.sql is out of date with the migrations; fix: npm run schema:dump`,
    );
  });
}

test('migrations are idempotent: running them twice changes nothing', async () => {
  const { createTestStore } = await import('../testing/engines.js');
  const { openDatabase } = await import('./database.js');
  for (const engine of ENGINES) {
    const store = await createTestStore(engine);
    try {
      for (let i = 0; i < 2; i++) {
        const db = await openDatabase({ url: store.url });
        await db.migrate();
        await db.close();
      }
    } finally {
      await store.cleanup();
    }
  }
});
