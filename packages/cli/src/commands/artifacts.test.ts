import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CliError, UsageError } from '../cli-error.js';
import { artifactPathArg, forEachLimited, localTargetOf } from './artifacts.js';

test('artifactPathArg normalizes harmless spellings and refuses paths that leave the run', () => {
  assert.equal(artifactPathArg(undefined), '');
  assert.equal(artifactPathArg(''), '');
  assert.equal(artifactPathArg('.'), '');
  assert.equal(artifactPathArg('./'), '');
  assert.equal(artifactPathArg('model/'), 'model');
  assert.equal(artifactPathArg('./model/sub//'), 'model/sub');
  assert.equal(artifactPathArg('100%.txt'), '100%.txt', 'the server judges the rest');
  for (const bad of ['..', '../x', 'a/../../b', '/etc/passwd', 'a//b', 'a/./b', 'a\\..\\b']) {
    assert.throws(() => artifactPathArg(bad), UsageError, bad);
  }
  assert.throws(() => artifactPathArg('../x', '--path'), /^UsageError: --path "\.\.\/x" has a "\.\." segment/);
});

test('localTargetOf keeps every listed path inside the download folder', () => {
  const root = path.resolve('/tmp/out');
  assert.equal(localTargetOf(root, 'model/MLmodel'), path.join(root, 'model', 'MLmodel'));
  assert.equal(localTargetOf('/tmp/out/', 'a.bin'), path.join(root, 'a.bin'));
  for (const bad of ['', '..', '../etc/passwd', 'a/../../b', '/etc/passwd', 'a//b', './a', 'a\\..\\..\\b', 'a\0b']) {
    assert.throws(() => localTargetOf(root, bad), CliError, JSON.stringify(bad));
  }
  assert.throws(() => localTargetOf(root, '../x'), /refusing to write artifact "\.\.\/x": it would not land inside/);
});

test('forEachLimited runs at most `limit` at once and stops starting new items after a failure', async () => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    seen.push(n);
    running--;
  });
  assert.equal(most, 3);
  assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6, 7]);

  const started: number[] = [];
  await assert.rejects(
    forEachLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 5));
      if (n === 2) throw new Error('boom');
    }),
    /boom/,
  );
  assert.ok(started.length <= 3, `started ${started.join()}`);
  await forEachLimited([], 4, () => Promise.reject(new Error('never called')));
});
