// Writes the schema that the migrations produce on each engine to packages/server/schema/<engine>.sql.
// Run through `npm run schema:dump` (which provides PostgreSQL). The drift test compares against these.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { migratedSchema } from '../packages/server/src/testing/schema-dump.js';
import { ENGINES } from '../packages/server/src/testing/engines.js';

const dir = path.resolve(import.meta.dirname, '../packages/server/schema');
mkdirSync(dir, { recursive: true });
for (const engine of ENGINES) {
  writeFileSync(path.join(dir, `${engine}.sql`), await migratedSchema(engine));
  console.log(`wrote packages/server/schema/${engine}.sql`);
}
