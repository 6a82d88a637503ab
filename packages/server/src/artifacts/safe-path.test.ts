import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { checkByteRange, RangeNotSatisfiableError, resolveByteRange } from './range.js';
import { isSafeArtifactPath, normalizeArtifactPath } from './safe-path.js';
import { PATH_ATTACKS } from './test-backends.js';

test('ordinary relative paths are accepted unchanged', () => {
  for (const p of [
    'a',
    'model/MLmodel',
    'a/b/c/d.txt',
    '.hidden',
    '...',
    'a..b',
    'file.',
    'name with spaces.txt',
    'données/日本語.txt',
    '100%.txt',
    'emoji-😀.png',
    'x'.repeat(255),
    Array.from({ length: 64 }, () => 'd').join('/'),
  ]) {
    assert.equal(normalizeArtifactPath(p), p);
  }
});

test('every attack form is an InputError naming the field and the path', () => {
  for (const attack of PATH_ATTACKS) {
    assert.throws(
      () => normalizeArtifactPath(attack),
      (err: unknown) => {
        assert.ok(err instanceof InputError, `${JSON.stringify(attack)} threw ${String(err)}`);
        assert.equal(err.field, 'path');
        assert.match(err.message, /^artifact path /);
        assert.equal(err.details.path, attack.length > 200 ? `${attack.slice(0, 200)}…` : attack);
        return true;
      },
    );
    assert.equal(isSafeArtifactPath(attack), false);
  }
});

test('the reason is specific', () => {
  const reason = (p: string) => {
    try {
      normalizeArtifactPath(p);
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };
  assert.match(reason('../x'), /"\.\." segment/);
  assert.match(reason('/etc/passwd'), /absolute/);
  assert.match(reason('a\\b'), /backslash/);
  assert.match(reason('a\0b'), /NUL/);
  assert.match(reason('%2e%2e/x'), /percent escape/);
  assert.match(reason('a\u2215b'), /U\+2215/);
  assert.match(reason('\uff0e\uff0e'), /U\+FF0E/);
  assert.match(reason('e\u0301'), /normal form/);
  assert.match(reason('a//b'), /empty segment/);
  assert.match(reason('x'.repeat(2000)), /longer than 1024 bytes/);
});

test('messages quote hostile paths so they cannot forge log lines', () => {
  assert.throws(
    () => normalizeArtifactPath('a\n[error] forged\u0000'),
    (err: unknown) => !(err as Error).message.includes('\n'),
  );
});

test('the root is accepted only where asked for; non-strings are refused', () => {
  assert.throws(() => normalizeArtifactPath(''), InputError);
  assert.equal(normalizeArtifactPath('', { allowRoot: true }), '');
  assert.throws(() => normalizeArtifactPath(42), InputError);
  assert.throws(() => normalizeArtifactPath(undefined), InputError);
  assert.throws(
    () => normalizeArtifactPath('../x', { field: 'prefix' }),
    (err: unknown) => err instanceof InputError && err.field === 'prefix',
  );
});

test('byte ranges follow HTTP', () => {
  assert.deepEqual(resolveByteRange('f', { start: 0 }, 10), { start: 0, end: 9 });
  assert.deepEqual(resolveByteRange('f', { start: 3, end: 5 }, 10), { start: 3, end: 5 });
  assert.deepEqual(resolveByteRange('f', { start: 3, end: 500 }, 10), { start: 3, end: 9 });
  assert.deepEqual(resolveByteRange('f', { suffix: 3 }, 10), { start: 7, end: 9 });
  assert.deepEqual(resolveByteRange('f', { suffix: 30 }, 10), { start: 0, end: 9 });
  assert.throws(() => resolveByteRange('f', { start: 10 }, 10), RangeNotSatisfiableError);
  assert.throws(() => resolveByteRange('f', { suffix: 0 }, 10), RangeNotSatisfiableError);
  assert.throws(() => resolveByteRange('f', { start: 0 }, 0), RangeNotSatisfiableError);
  assert.throws(() => checkByteRange({ start: 5, end: 4 }), InputError);
  assert.throws(() => checkByteRange({ start: Number.NaN }), InputError);
});
