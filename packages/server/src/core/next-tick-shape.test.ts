import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

/*
 * Runs a child process that queues nextTicks, then forces full GCs while the queue is empty, and
 * reads the state of nextTick's property-definition caches from V8 (%DebugPrint of the function
 * prints its feedback vector). Without the workaround the caches turn megamorphic; with it they stay
 * monomorphic.
 */
const helper = pathToFileURL(path.join(import.meta.dirname, 'next-tick-shape.ts')).href;

function literalCacheStates(keepAlive: boolean): string[] {
  const script = `
    const { keepNextTickShapeAlive } = await import(${JSON.stringify(helper)});
    if (${keepAlive}) keepNextTickShapeAlive();
    const tick = () => new Promise((resolve) => process.nextTick(resolve));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2000; i++) await tick();
      await new Promise((resolve) => setImmediate(resolve));
      globalThis.gc();
    }
    for (let i = 0; i < 2000; i++) await tick();
    new Function('f', '%DebugPrint(f)')(process.nextTick);
  `;
  // V8 prints through C stdio, which loses most of the text when stdout is a pipe: use a file.
  const dir = mkdtempSync(path.join(tmpdir(), 'hangar-next-tick-'));
  try {
    const out = openSync(path.join(dir, 'stdout'), 'w');
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', timeout: 60_000 },
    );
    closeSync(out);
    assert.equal(child.status, 0, child.stderr);
    const printed = readFileSync(path.join(dir, 'stdout'), 'utf8');
    return [...printed.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('one kept nextTick entry keeps the entries’ property caches monomorphic across full GCs', (t) => {
  const without = literalCacheStates(false);
  if (without.length === 0) return t.skip('this Node prints no nextTick literal caches (not Node 20?)');
  if (!without.includes('MEGAMORPHIC')) return t.skip(`this Node does not show the slow path: ${without.join(' ')}`);
  const kept = literalCacheStates(true);
  assert.ok(kept.length > 0);
  assert.deepEqual(
    kept.filter((s) => s !== 'MONOMORPHIC'),
    [],
    `caches: ${kept.join(' ')}`,
  );
});
