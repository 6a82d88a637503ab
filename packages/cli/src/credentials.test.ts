import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EXIT, NotLoggedInError } from './cli-error.js';
import { configDir, credentialsPath, deleteCredentials, readCredentials, writeCredentials } from './credentials.js';

const root = mkdtempSync(path.join(tmpdir(), 'hangar-cred-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the config dir follows HANGAR_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
  assert.equal(configDir({ HANGAR_CONFIG_DIR: '/x/y' }), '/x/y');
  assert.equal(configDir({ XDG_CONFIG_HOME: '/cfg' }), '/cfg/hangar');
  assert.match(configDir({}), /\.config\/hangar$/);
});

test('credentials round-trip through an owner-only file, replacing a looser one', () => {
  const env = { HANGAR_CONFIG_DIR: path.join(root, 'a', 'b') };
  assert.equal(readCredentials(env), null);
  const file = writeCredentials(env, { url: 'http://h:1', token: 'hgr_x', username: 'u' });
  assert.equal(file, credentialsPath(env));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(readCredentials(env), { url: 'http://h:1', token: 'hgr_x', username: 'u' });

  chmodSync(file, 0o644);
  writeCredentials(env, { url: 'http://h:2', token: 'hgr_y', username: 'u', tokenId: 't1' });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).tokenId, 't1');

  assert.equal(deleteCredentials(env), true);
  assert.equal(deleteCredentials(env), false);
  assert.equal(readCredentials(env), null);
});

test('a file that is not a login is reported with its path (exit 3)', () => {
  const env = { HANGAR_CONFIG_DIR: path.join(root, 'corrupt') };
  writeCredentials(env, { url: 'http://h:1', token: 't', username: 'u' });
  writeFileSync(credentialsPath(env), '{"url": 1}');
  assert.throws(
    () => readCredentials(env),
    (err: unknown) =>
      err instanceof NotLoggedInError && err.exitCode === EXIT.auth && err.message.includes(credentialsPath(env)),
  );
});
