import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { openArtifactStore } from './open-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

test('file:// URIs and absolute paths open a local store', async () => {
  const a = await openArtifactStore('file:///var/lib/hangar/artifacts');
  assert.ok(a instanceof LocalArtifactStore);
  assert.equal(a.root, '/var/lib/hangar/artifacts');
  assert.equal(a.uri, 'file:///var/lib/hangar/artifacts');
  const b = await openArtifactStore('file://localhost/srv/a%20b');
  assert.ok(b instanceof LocalArtifactStore);
  assert.equal(b.root, '/srv/a b');
  const c = await openArtifactStore('/srv/artifacts/');
  assert.ok(c instanceof LocalArtifactStore);
  assert.equal(c.root, '/srv/artifacts');
});

test('s3:// URIs open an S3 store with bucket, prefix and query settings', async () => {
  const s = await openArtifactStore(
    's3://my-bucket/team/artifacts/?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true',
    {
      s3: { credentials: { accessKeyId: 'k', secretAccessKey: 's' } },
    },
  );
  assert.ok(s instanceof S3ArtifactStore);
  assert.equal(s.bucket, 'my-bucket');
  assert.equal(s.prefix, 'team/artifacts');
  assert.equal(s.uri, 's3://my-bucket/team/artifacts?endpoint=http://127.0.0.1:9000');
  assert.equal(await s.client.config.region(), 'eu-west-1');
  assert.equal(s.client.config.forcePathStyle, true);
  const endpoint = await s.client.config.endpoint?.();
  assert.equal(endpoint?.hostname, '127.0.0.1');
  assert.equal(endpoint?.port, 9000);
  await s.close();
  const bare = await openArtifactStore('s3://bucket.with.dots', { s3: { region: 'us-west-2' } });
  assert.ok(bare instanceof S3ArtifactStore);
  assert.equal(bare.prefix, '');
  assert.equal(await bare.client.config.region(), 'us-west-2');
  await bare.close();
});

test('malformed URIs are InputErrors that say what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['relative/dir', /not a URI/],
    ['ftp://host/x', /unsupported scheme/],
    ['file://otherhost/x', /must not name a host/],
    ['file:///x?y=1', /no query/],
    ['s3://AKIA:secret@bucket/x', /credentials do not belong in the URI/],
    ['s3://b/x', /not a valid bucket name/],
    ['s3://Bad_Bucket/x', /not a valid bucket name/],
    ['s3://bucket:9000/x', /port belongs in \?endpoint=/],
    ['s3://bucket/x?endpont=http://h', /unknown query parameter\(s\) endpont/],
    ['s3://bucket/x?endpoint=ftp://h', /endpoint must be an http/],
    ['s3://bucket/x?forcePathStyle=yes', /forcePathStyle must be true or false/],
    ['s3://bucket/a/../../b', /"\.\." segment/],
    ['s3://bucket/a/%2e%2e/b', /"\.\." segment/],
    ['s3://bucket/a//b', /empty segment/],
  ];
  for (const [uri, why] of cases) {
    await assert.rejects(
      () => openArtifactStore(uri),
      (err: unknown) => {
        assert.ok(err instanceof InputError, `${uri} threw ${String(err)}`);
        assert.equal(err.field, 'uri');
        assert.match(err.message, why);
        assert.ok(!err.message.includes('secret'), 'credentials are redacted');
        return true;
      },
    );
  }
});
