import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

/*
 * Idle memory is one of the core's targets (< 150 MB), and a server on the embedded defaults needs
 * neither the PostgreSQL driver, nor the AWS SDK, nor onnxruntime until a PostgreSQL URL, an s3://
 * artifact store or an ONNX model asks for one. Each is several megabytes; one static import
 * anywhere in the module graph would load it again at every start. A fresh process builds the app
 * on SQLite and a local folder, with every role, and lists which of them Node has loaded.
 */
const LAZY = ['pg', '@aws-sdk/client-s3', '@aws-sdk/lib-storage', 'onnxruntime-node'];

test('a server on the embedded defaults loads no PostgreSQL driver, AWS SDK or onnxruntime', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hangar-footprint-'));
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(import.meta.dirname, p)).href);
  const script = `
    const { createRequire } = await import('node:module');
    const { buildApp } = await import(${url('app.ts')});
    const { defaultConfig } = await import(${url('config/config.ts')});
    const { default: pino } = await import('pino');
    const app = await buildApp(
      { ...defaultConfig(${JSON.stringify(dir)}), db: 'sqlite:${dir}/hangar.db', artifacts: 'file://${dir}/artifacts' },
      { logger: pino({ level: 'silent' }), portalDir: '/nonexistent' },
    );
    await app.http.ready();
    app.start();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    await app.close();
    process.stdout.write(JSON.stringify(loaded));
  `;
  try {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const loaded = JSON.parse(child.stdout) as string[];
    // The check itself must see CommonJS packages: the store's SQLite driver is one, and it is loaded.
    assert.ok(
      loaded.some((f) => f.includes('/node_modules/better-sqlite3/')),
      'better-sqlite3 should be listed',
    );
    for (const pkg of LAZY) {
      const hit = loaded.find((f) => f.includes(`/node_modules/${pkg}/`));
      assert.equal(hit, undefined, `${pkg} was loaded at start: ${hit}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
