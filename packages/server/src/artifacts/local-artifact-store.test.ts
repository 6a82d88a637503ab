// What only the local backend has to get right: symlinks, temporary files, files in the way.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ConflictError, InputError } from '../core/errors.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { createTestArtifactStore, type TestArtifactStore } from './test-backends.js';

function body(s: string): Readable {
  return Readable.from([Buffer.from(s)]);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Every temporary file anywhere under `dir`. */
function tempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) =>
    path.basename(p).startsWith('.hangar-tmp-'),
  );
}

describe('LocalArtifactStore', () => {
  let ctx: TestArtifactStore;
  let store: LocalArtifactStore;
  let root: string;
  let outside: string;

  before(async () => {
    ctx = await createTestArtifactStore('local');
    store = ctx.store as LocalArtifactStore;
    root = ctx.root as string;
    outside = path.join(ctx.scratch, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.txt'), 'top secret');
    await store.put('seed.txt', body('seed')); // creates the root
    // Planted inside the root, pointing out of it: a folder link, a file link, a link to a folder inside.
    symlinkSync(outside, path.join(root, 'link-dir'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link-file'));
    mkdirSync(path.join(root, 'real'));
    writeFileSync(path.join(root, 'real', 'inner.txt'), 'inner');
    symlinkSync(path.join(root, 'real'), path.join(root, 'link-inside'));
  });
  after(async () => ctx?.cleanup());

  test('a symlink planted inside the root cannot be read through', async () => {
    for (const p of ['link-dir/secret.txt', 'link-file', 'link-inside/inner.txt']) {
      await assert.rejects(store.get(p), (err: unknown) => {
        assert.ok(err instanceof InputError, `get(${p}) threw ${String(err)}`);
        assert.match(err.message, /symbolic link/);
        assert.equal(err.details.path, p);
        return true;
      });
      await assert.rejects(store.get(p, { start: 0, end: 3 }), InputError);
      await assert.rejects(store.stat(p), InputError);
      await assert.rejects(store.exists(p), InputError);
    }
    await assert.rejects(store.list('link-dir'), InputError);
    await assert.rejects(store.list('link-inside', { recursive: true }), InputError);
  });

  test('a symlink planted inside the root cannot be written or deleted through', async () => {
    await assert.rejects(store.put('link-dir/new.txt', body('pwned')), InputError);
    await assert.rejects(store.put('link-dir/deeper/new.txt', body('pwned')), InputError);
    await assert.rejects(store.put('link-file', body('pwned')), InputError);
    await assert.rejects(store.delete('link-dir/secret.txt'), InputError);
    await assert.rejects(store.delete('link-dir'), InputError);
    await assert.rejects(store.delete('link-file'), InputError);
    assert.deepEqual(readdirSync(outside), ['secret.txt']);
    assert.equal(readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
    assert.equal(existsSync(path.join(root, 'link-file')), true);
  });

  test('listings skip symlinks and never descend into them', async () => {
    const top = (await store.list('')).map((e) => e.path);
    assert.deepEqual(top, ['real', 'seed.txt']);
    const all = (await store.list('', { recursive: true })).map((e) => e.path);
    assert.deepEqual(all, ['real/inner.txt', 'seed.txt']);
  });

  test('deleting a folder removes links inside it without following them', async () => {
    mkdirSync(path.join(root, 'doomed'));
    writeFileSync(path.join(root, 'doomed', 'a.txt'), 'a');
    symlinkSync(outside, path.join(root, 'doomed', 'link'));
    assert.deepEqual(await store.delete('doomed'), { deleted: 1 });
    assert.equal(existsSync(path.join(root, 'doomed')), false);
    assert.equal(readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
  });

  test('writes land atomically and leave no temporary files, even when they fail', async () => {
    await store.put('atomic/a.txt', body('one'));
    await assert.rejects(
      store.put(
        'atomic/a.txt',
        Readable.from(
          (async function* () {
            yield Buffer.from('partial');
            throw new Error('boom');
          })(),
        ),
      ),
      /boom/,
    );
    await assert.rejects(store.put('atomic/b.txt', body('12'), { size: 5 }), InputError);
    assert.equal(await readAll((await store.get('atomic/a.txt')).stream), 'one');
    assert.deepEqual(tempFiles(root), []);
    assert.deepEqual(readdirSync(path.join(root, 'atomic')), ['a.txt']);
  });

  test('a file where a folder is needed, or a folder where a file is, is a ConflictError', async () => {
    await store.put('clash/file', body('f'));
    await assert.rejects(store.put('clash/file/below.txt', body('x')), ConflictError);
    await store.put('clash/dir/x.txt', body('x'));
    await assert.rejects(store.put('clash/dir', body('x')), ConflictError);
    assert.deepEqual(tempFiles(root), []);
  });

  test('names the store would refuse, made on disk by other means, are not listed', async () => {
    mkdirSync(path.join(root, 'odd'));
    for (const name of ['ok.txt', 'bad%2e%2e', 'e\u0301.txt', '.hangar-tmp-leftover']) {
      writeFileSync(path.join(root, 'odd', name), 'x');
    }
    assert.deepEqual(
      (await store.list('odd')).map((e) => e.path),
      ['odd/ok.txt'],
    );
  });

  test('emptied folders are removed up to the root; the root stays', async () => {
    await store.put('prune/a/b/c.txt', body('c'));
    await store.delete('prune/a/b/c.txt');
    assert.equal(existsSync(path.join(root, 'prune')), false);
    assert.equal(existsSync(root), true);
  });

  test('the root is created on the first put; a relative root is refused', async () => {
    const fresh = new LocalArtifactStore(path.join(ctx.scratch, 'fresh', 'root'));
    assert.deepEqual(await fresh.list(''), []);
    assert.equal(await fresh.exists('x'), false);
    await fresh.put('x', body('x'));
    assert.equal(await readAll((await fresh.get('x')).stream), 'x');
    assert.throws(() => new LocalArtifactStore('relative/dir'), InputError);
  });
});
