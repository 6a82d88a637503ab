// The ArtifactStore contract, run against every backend: a local temp folder and a real
// S3-compatible server (versitygw, started by `npm test`).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { InputError, NotFoundError } from '../core/errors.js';
import { RangeNotSatisfiableError } from './range.js';
import { scopeArtifactStore } from './scope-artifact-store.js';
import { ARTIFACT_BACKENDS, createTestArtifactStore, PATH_ATTACKS, type TestArtifactStore } from './test-backends.js';
import type { ArtifactStore } from './types.js';

const MiB = 1024 * 1024;

function body(...parts: (string | Buffer)[]): Readable {
  return Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function text(store: ArtifactStore, path: string): Promise<string> {
  return (await readAll((await store.get(path)).stream)).toString();
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A stream of `total` random bytes in 1 MiB chunks; its sha256 is known once it has ended. */
function generated(total: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let sent = 0; sent < total;) {
      const chunk = randomBytes(Math.min(MiB, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  let hex: string | undefined;
  const stream = Readable.from(chunks(), { objectMode: false });
  stream.on('end', () => (hex = hash.digest('hex')));
  return { stream, digest: () => hex ?? '(not ended)' };
}

/** A body that yields `good` and then fails. */
function failing(good: Buffer): Readable {
  async function* chunks() {
    yield good;
    await sleep(5);
    throw new Error('client went away');
  }
  return Readable.from(chunks());
}

// Garbage (spent chunks) is collected lazily, and V8 lets up to ~64 MiB of unreferenced buffers pile up
// before it does, which would hide whole-file buffering of a 64 MiB file. Collecting before each sample
// makes the resident set reflect what the store actually holds.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Samples the process's resident set size while `fn` runs; returns the peak growth over the start. */
async function rssGrowth(fn: () => Promise<void>): Promise<number> {
  gc();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - base;
}

for (const backend of ARTIFACT_BACKENDS) {
  describe(`ArtifactStore contract: ${backend}`, () => {
    let ctx: TestArtifactStore;
    let store: ArtifactStore;
    before(async () => {
      ctx = await createTestArtifactStore(backend);
      store = ctx.store;
    });
    after(async () => ctx?.cleanup());

    test('put/get round trip returns size and sha256 computed while streaming', async () => {
      const res = await store.put('rt/hello.txt', body('hello ', 'world'), { contentType: 'text/plain' });
      assert.deepEqual(res, { path: 'rt/hello.txt', size: 11, sha256: sha256('hello world') });
      const got = await store.get('rt/hello.txt');
      assert.equal(got.size, 11);
      assert.equal(got.length, 11);
      assert.equal(got.range, undefined);
      assert.equal((await readAll(got.stream)).toString(), 'hello world');
      if (backend === 's3') assert.equal(got.contentType, 'text/plain');
      const st = await store.stat('rt/hello.txt');
      assert.equal(st.isDir, false);
      assert.equal(st.size, 11);
      assert.equal(typeof st.modifiedAt, 'number');
    });

    test('an empty file and a binary file round trip', async () => {
      assert.deepEqual(await store.put('rt/empty', body()), { path: 'rt/empty', size: 0, sha256: sha256('') });
      assert.equal((await readAll((await store.get('rt/empty')).stream)).length, 0);
      const bin = randomBytes(300_000);
      const res = await store.put('rt/bin.dat', body(bin.subarray(0, 1000), bin.subarray(1000)));
      assert.equal(res.sha256, sha256(bin));
      assert.ok((await readAll((await store.get('rt/bin.dat')).stream)).equals(bin));
    });

    test('unicode paths in NFC round trip and list', async () => {
      await store.put('uni/données/日本語 файл.txt', body('u'));
      assert.equal(await text(store, 'uni/données/日本語 файл.txt'), 'u');
      assert.deepEqual(await store.list('uni', { recursive: true }), [
        { path: 'uni/données/日本語 файл.txt', isDir: false, size: 1 },
      ]);
    });

    test('a 256 MiB file streams up (multipart on S3) and down without buffering it in memory', async (t) => {
      const size = 256 * MiB;
      const src = generated(size);
      let put: Awaited<ReturnType<ArtifactStore['put']>> | undefined;
      const upGrowth = await rssGrowth(async () => {
        put = await store.put('large/blob.bin', src.stream, { size });
      });
      assert.equal(put?.size, size);
      assert.equal(put?.sha256, src.digest());
      const down = createHash('sha256');
      let bytes = 0;
      const downGrowth = await rssGrowth(async () => {
        const got = await store.get('large/blob.bin');
        assert.equal(got.size, size);
        for await (const chunk of got.stream) {
          down.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
      });
      assert.equal(bytes, size);
      assert.equal(down.digest('hex'), src.digest());
      // A store that held the file would grow by at least its 256 MiB. The S3 uploader's working set
      // is a few parts (partSize x queueSize = 5 MiB x 4, plus the part being filled and the SDK's
      // copies; 30-65 MiB measured); the local backend's is about a chunk.
      const bound = size / 2;
      t.diagnostic(
        `${backend}: RSS grew ${(upGrowth / MiB).toFixed(1)} MiB on upload, ${(downGrowth / MiB).toFixed(1)} MiB on download`,
      );
      assert.ok(upGrowth < bound, `upload grew RSS by ${(upGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(downGrowth < bound, `download grew RSS by ${(downGrowth / MiB).toFixed(1)} MiB`);
      await store.delete('large');
    });

    test('range reads: start only, start-end, suffix, clamped end, and unsatisfiable ranges', async () => {
      await store.put('range/digits.txt', body('0123456789'));
      const read = async (range: Parameters<ArtifactStore['get']>[1]) => {
        const got = await store.get('range/digits.txt', range);
        return { text: (await readAll(got.stream)).toString(), range: got.range, length: got.length, size: got.size };
      };
      assert.deepEqual(await read({ start: 7 }), { text: '789', range: { start: 7, end: 9 }, length: 3, size: 10 });
      assert.deepEqual(await read({ start: 2, end: 4 }), {
        text: '234',
        range: { start: 2, end: 4 },
        length: 3,
        size: 10,
      });
      assert.deepEqual(await read({ suffix: 4 }), { text: '6789', range: { start: 6, end: 9 }, length: 4, size: 10 });
      assert.deepEqual(await read({ start: 5, end: 100 }), {
        text: '56789',
        range: { start: 5, end: 9 },
        length: 5,
        size: 10,
      });
      assert.deepEqual(await read({ suffix: 50 }), {
        text: '0123456789',
        range: { start: 0, end: 9 },
        length: 10,
        size: 10,
      });
      assert.deepEqual(await read({ start: 9, end: 9 }), {
        text: '9',
        range: { start: 9, end: 9 },
        length: 1,
        size: 10,
      });
      for (const bad of [{ start: 10 }, { start: 50, end: 60 }, { suffix: 0 }]) {
        await assert.rejects(store.get('range/digits.txt', bad), (err: unknown) => {
          assert.ok(err instanceof RangeNotSatisfiableError, String(err));
          assert.equal(err.size, 10);
          return true;
        });
      }
      for (const bad of [{ start: -1 }, { start: 5, end: 2 }, { start: 1.5 }, { suffix: -3 }]) {
        await assert.rejects(store.get('range/digits.txt', bad), InputError);
      }
      await store.put('range/empty', body());
      await assert.rejects(store.get('range/empty', { start: 0 }), RangeNotSatisfiableError);
    });

    test('listing derives directories from paths, one level or recursively', async () => {
      for (const p of ['ls/a.txt', 'ls/dir/b.txt', 'ls/dir/sub/c.txt', 'ls/dir/sub/d.bin', 'ls/dirx/e.txt']) {
        await store.put(p, body(p));
      }
      assert.deepEqual(await store.list('ls'), [
        { path: 'ls/a.txt', isDir: false, size: 8 },
        { path: 'ls/dir', isDir: true },
        { path: 'ls/dirx', isDir: true },
      ]);
      // 'dir' is a directory, not a string prefix: 'dirx' is not under it.
      assert.deepEqual(await store.list('ls/dir'), [
        { path: 'ls/dir/b.txt', isDir: false, size: 12 },
        { path: 'ls/dir/sub', isDir: true },
      ]);
      assert.deepEqual(await store.list('ls/dir', { recursive: true }), [
        { path: 'ls/dir/b.txt', isDir: false, size: 12 },
        { path: 'ls/dir/sub/c.txt', isDir: false, size: 16 },
        { path: 'ls/dir/sub/d.bin', isDir: false, size: 16 },
      ]);
      const all = await store.list('', { recursive: true });
      assert.deepEqual(
        all.filter((e) => e.path.startsWith('ls/')).map((e) => e.path),
        ['ls/a.txt', 'ls/dir/b.txt', 'ls/dir/sub/c.txt', 'ls/dir/sub/d.bin', 'ls/dirx/e.txt'],
      );
      assert.ok(all.every((e) => !e.isDir));
      assert.ok((await store.list('')).some((e) => e.path === 'ls' && e.isDir));
      assert.deepEqual(await store.list('ls/a.txt'), [], 'a file lists as empty');
      assert.deepEqual(await store.list('ls/missing'), []);
      assert.deepEqual(await store.list('ls/di'), [], 'a partial name is not a directory');
      const dir = await store.stat('ls/dir');
      assert.deepEqual([dir.path, dir.isDir, dir.size], ['ls/dir', true, 0]);
      assert.equal(await store.exists('ls/dir/sub'), true);
      assert.equal(await store.exists('ls/dir/sub/c.txt'), true);
      assert.equal(await store.exists('ls/dir/su'), false);
      assert.equal(await store.exists('ls/nope'), false);
    });

    test('listing pages through more entries than one response holds', async () => {
      const names = Array.from({ length: 1010 }, (_, i) => `many/f${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(names.slice(i, i + 50).map((n) => store.put(n, body('x'))));
      }
      const flat = await store.list('many');
      assert.equal(flat.length, 1010);
      assert.deepEqual(
        flat.map((e) => e.path),
        names,
      );
      assert.equal((await store.list('many', { recursive: true })).length, 1010);
      assert.deepEqual(await store.delete('many'), { deleted: 1010 });
      assert.deepEqual(await store.list('many'), []);
    });

    test('delete removes a file, or a folder and everything beneath it, and is idempotent', async () => {
      for (const p of ['del/keep.txt', 'del/f/1.txt', 'del/f/g/2.txt', 'del/f/g/h/3.txt', 'del/fx/4.txt']) {
        await store.put(p, body('x'));
      }
      assert.deepEqual(await store.delete('del/keep.txt'), { deleted: 1 });
      await assert.rejects(store.get('del/keep.txt'), NotFoundError);
      assert.deepEqual(await store.delete('del/keep.txt'), { deleted: 0 });
      assert.deepEqual(await store.delete('del/f'), { deleted: 3 });
      assert.equal(await store.exists('del/f'), false);
      await assert.rejects(store.get('del/f/g/2.txt'), NotFoundError);
      assert.deepEqual(
        await store.list('del'),
        [{ path: 'del/fx', isDir: true }],
        'sibling with a longer name survives',
      );
      assert.deepEqual(await store.delete('del/nothing/here'), { deleted: 0 });
      await assert.rejects(store.delete(''), InputError, 'the root cannot be deleted');
      assert.deepEqual(await store.delete('del'), { deleted: 1 });
      assert.deepEqual(await store.list('del'), []);
      assert.equal(
        (await store.list('')).some((e) => e.path === 'del'),
        false,
        'an emptied folder disappears from listings',
      );
    });

    test('overwrite replaces the content; a failed overwrite keeps the old content', async () => {
      await store.put('ow/f.txt', body('first version'));
      const res = await store.put('ow/f.txt', body('second'));
      assert.deepEqual(res, { path: 'ow/f.txt', size: 6, sha256: sha256('second') });
      assert.equal(await text(store, 'ow/f.txt'), 'second');
      assert.equal((await store.stat('ow/f.txt')).size, 6);
      await assert.rejects(store.put('ow/f.txt', failing(Buffer.from('third, partly'))), /client went away/);
      assert.equal(await text(store, 'ow/f.txt'), 'second');
    });

    test('a failed or mis-sized body stores nothing', async () => {
      await assert.rejects(store.put('fail/small.txt', failing(Buffer.from('abc'))), /client went away/);
      assert.equal(await store.exists('fail/small.txt'), false);
      // Fails after two parts have been sent, so the S3 backend must abort a multipart upload.
      await assert.rejects(store.put('fail/large.bin', failing(randomBytes(20 * MiB))), /client went away/);
      assert.equal(await store.exists('fail/large.bin'), false);
      await assert.rejects(store.put('fail/short.txt', body('12345'), { size: 10 }), (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.equal(err.field, 'size');
        return true;
      });
      await assert.rejects(store.put('fail/long.txt', body('12345'), { size: 3 }), InputError);
      await assert.rejects(store.put('fail/neg.txt', body('1'), { size: -1 }), InputError);
      assert.deepEqual(await store.list('fail', { recursive: true }), []);
      assert.deepEqual(await store.put('fail/exact.txt', body('12345'), { size: 5 }), {
        path: 'fail/exact.txt',
        size: 5,
        sha256: sha256('12345'),
      });
    });

    test('a body whose sha256 is not the declared one stores nothing and keeps the old content', async () => {
      await store.put('sum/f.txt', body('old'));
      const wrong = sha256('something else');
      await assert.rejects(store.put('sum/f.txt', body('new'), { sha256: wrong }), (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.equal(err.field, 'sha256');
        assert.match(err.message, new RegExp(`${sha256('new')}.*${wrong}`));
        return true;
      });
      assert.equal(await text(store, 'sum/f.txt'), 'old');
      // A multipart-sized body is checked at its end too: the S3 backend aborts the upload.
      const big = randomBytes(12 * MiB);
      await assert.rejects(store.put('sum/big.bin', body(big), { sha256: wrong }), InputError);
      assert.equal(await store.exists('sum/big.bin'), false);
      await assert.rejects(store.put('sum/g.txt', body('x'), { sha256: 'ABC' }), InputError);
      assert.deepEqual(await store.list('sum', { recursive: true }), [{ path: 'sum/f.txt', isDir: false, size: 3 }]);
      assert.deepEqual(await store.put('sum/big.bin', body(big), { sha256: sha256(big) }), {
        path: 'sum/big.bin',
        size: 12 * MiB,
        sha256: sha256(big),
      });
    });

    test('missing files are NotFoundError', async () => {
      await store.put('nf/dir/file.txt', body('x'));
      await assert.rejects(store.get('nf/missing.txt'), NotFoundError);
      await assert.rejects(store.get('nf/dir'), NotFoundError, 'a directory cannot be read as a file');
      await assert.rejects(store.get('nf/dir/file.txt/below'), NotFoundError);
      await assert.rejects(store.stat('nf/missing.txt'), (err: unknown) => {
        assert.ok(err instanceof NotFoundError);
        assert.match(err.message, /nf\/missing\.txt/);
        return true;
      });
    });

    test('concurrent puts of one path end with one complete body', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1 * MiB + i * 1000, i + 1));
      const slow = (b: Buffer) =>
        Readable.from(
          (async function* () {
            for (let i = 0; i < b.length; i += 64 * 1024) {
              yield b.subarray(i, i + 64 * 1024);
              await sleep(Math.random() * 3);
            }
          })(),
        );
      const results = await Promise.all(bodies.map((b) => store.put('race/same.bin', slow(b))));
      const got = await readAll((await store.get('race/same.bin')).stream);
      const winner = results.find((r) => r.sha256 === sha256(got));
      assert.ok(winner, 'stored content is exactly one of the bodies');
      assert.equal(got.length, winner.size);
      assert.deepEqual(await store.list('race', { recursive: true }), [
        { path: 'race/same.bin', isDir: false, size: got.length },
      ]);
    });

    test('every path attack is refused by every method, naming the path', async () => {
      await store.put('attack/inside.txt', body('x'));
      for (const attack of PATH_ATTACKS) {
        const calls: [string, () => Promise<unknown>][] = [
          ['put', () => store.put(attack, body('pwned'))],
          ['get', () => store.get(attack)],
          ['stat', () => store.stat(attack)],
          ['exists', () => store.exists(attack)],
          ['delete', () => store.delete(attack)],
        ];
        if (attack !== '') calls.push(['list', () => store.list(attack)]);
        for (const [name, call] of calls) {
          await assert.rejects(call(), (err: unknown) => {
            assert.ok(err instanceof InputError, `${name}(${JSON.stringify(attack)}) threw ${String(err)}`);
            assert.match(err.message, /artifact (path|prefix)/);
            return true;
          });
        }
      }
      assert.deepEqual(await store.list('attack', { recursive: true }), [
        { path: 'attack/inside.txt', isDir: false, size: 1 },
      ]);
      assert.equal(
        (await store.list('', { recursive: true })).some((e) => /pwned|escape/.test(e.path)),
        false,
      );
    });

    test('a scoped view cannot reach above its folder', async () => {
      await store.put('scope/outside.txt', body('outside'));
      const run = scopeArtifactStore(store, 'scope/run1');
      assert.deepEqual(await run.put('model/MLmodel', body('m')), {
        path: 'model/MLmodel',
        size: 1,
        sha256: sha256('m'),
      });
      assert.equal(await text(store, 'scope/run1/model/MLmodel'), 'm');
      assert.deepEqual(await run.list(''), [{ path: 'model', isDir: true }]);
      assert.deepEqual(await run.list('model'), [{ path: 'model/MLmodel', isDir: false, size: 1 }]);
      assert.equal((await run.stat('model')).path, 'model');
      await assert.rejects(run.get('../outside.txt'), InputError);
      await assert.rejects(run.put('../outside.txt', body('pwned')), InputError);
      assert.deepEqual(await run.delete(''), { deleted: 1 });
      assert.equal(await text(store, 'scope/outside.txt'), 'outside');
      assert.equal(await store.exists('scope/run1'), false);
    });
  });
}
