import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HangarApp } from './app.js';
import { createTestStore, type TestStore } from './testing/engines.js';
import { buildTestApp } from './testing/test-app.js';

let store: TestStore;
let app: HangarApp;

before(async () => {
  store = await createTestStore('sqlite');
  const portal = path.join(store.dir, 'portal');
  mkdirSync(path.join(portal, 'assets'), { recursive: true });
  writeFileSync(path.join(portal, 'index.html'), '<!doctype html><title>Hangar</title>');
  writeFileSync(path.join(portal, 'assets', 'app-3f9a.js'), 'console.log(1)');
  app = await buildTestApp(store, {}, { portalDir: portal });
});
after(async () => {
  await app.close();
  await store.cleanup();
});

test('the portal shell is public and never cached', async () => {
  const res = await app.http.inject({ url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<title>Hangar/);
  assert.equal(res.headers['cache-control'], 'no-cache');
});

test('hashed assets are cached for a year', async () => {
  const res = await app.http.inject({ url: '/assets/app-3f9a.js' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
});

test('client-side routes load the shell; API typos stay JSON 404s', async () => {
  const deep = await app.http.inject({ url: '/jobs/06abc', headers: { accept: 'text/html' } });
  assert.equal(deep.statusCode, 200);
  assert.match(deep.body, /<title>Hangar/);
  const api = await app.http.inject({ url: '/api/v1/jobz', headers: { accept: 'text/html' } });
  assert.equal(api.statusCode, 404);
  assert.equal(api.json().error.code, 'not_found');
  const traversal = await app.http.inject({ url: '/assets/../../../../etc/passwd' });
  assert.ok(!traversal.body.includes('root:'), 'no file outside the portal is served');
});
