// Regenerates the committed API description and the TypeScript SDK from the route schemas.
//   npm run generate           write packages/server/openapi.json and packages/sdk/src/generated/*
//   npm run generate:check     fail (listing the files) when the committed files are stale
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../packages/server/src/app.js';
import { defaultConfig } from '../packages/server/src/config/config.js';
import { generateSdk } from './sdk-generator.js';
import { sortKeys } from './sort-keys.js';

const root = path.resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');

async function openapiSpec(): Promise<Record<string, unknown>> {
  const config = {
    ...defaultConfig('/nonexistent-hangar-generate'),
    db: 'sqlite::memory:',
    logLevel: 'silent' as const,
  };
  const app = await buildApp(config, { portalDir: '/nonexistent' });
  try {
    await app.http.ready();
    return sortKeys(app.http.swagger()) as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

const spec = await openapiSpec();
const files: Record<string, string> = {
  'packages/server/openapi.json': `${JSON.stringify(spec, null, 2)}\n`,
  ...(await generateSdk(spec)),
};
const stale: string[] = [];
for (const [rel, content] of Object.entries(files)) {
  const file = path.join(root, rel);
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = null;
  }
  if (current === content) continue;
  stale.push(rel);
  if (!check) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}
if (check && stale.length) {
  console.error(
    `generated files are out of date with the route schemas:\n  ${stale.join('\n  ')}\nfix: npm run generate`,
  );
  process.exit(1);
}
console.log(stale.length ? `wrote ${stale.join(', ')}` : 'generated files are up to date');
