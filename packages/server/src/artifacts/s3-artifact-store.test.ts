// What only the S3 backend has to get right, against the real server `npm test` starts.
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../core/errors.js';
import { openArtifactStore } from './open-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';
import {
  createTestArtifactStore,
  testS3Credentials,
  testS3UrlWithPrefix,
  type TestArtifactStore,
} from './test-backends.js';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('S3ArtifactStore', () => {
  let ctx: TestArtifactStore;
  let store: S3ArtifactStore;
  before(async () => {
    ctx = await createTestArtifactStore('s3');
    store = ctx.store as S3ArtifactStore;
  });
  after(async () => ctx?.cleanup());

  test('credentials come from the standard AWS environment variables when not given', async () => {
    const { accessKeyId, secretAccessKey } = testS3Credentials();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey;
    const fromEnv = await openArtifactStore(testS3UrlWithPrefix(store.prefix));
    try {
      await fromEnv.put('env/creds.txt', Readable.from([Buffer.from('from env')]));
      assert.equal(await readAll((await store.get('env/creds.txt')).stream), 'from env');
    } finally {
      await fromEnv.close();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  test('the content type given at put comes back on get and stat', async () => {
    await store.put('ct/page.html', Readable.from([Buffer.from('<p>')]), { contentType: 'text/html' });
    assert.equal((await store.get('ct/page.html')).contentType, 'text/html');
    assert.equal((await store.stat('ct/page.html')).contentType, 'text/html');
  });

  test('a body that fails mid-way leaves no multipart upload behind', async () => {
    const body = Readable.from(
      (async function* () {
        yield randomBytes(12 * 1024 * 1024);
        await sleep(50);
        throw new Error('client went away');
      })(),
    );
    await assert.rejects(store.put('mp/aborted.bin', body), /client went away/);
    const uploads = await store.client.send(
      new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: `${store.prefix}/mp/` }),
    );
    assert.deepEqual(uploads.Uploads ?? [], []);
    assert.equal(await store.exists('mp/aborted.bin'), false);
  });

  test('objects written by other tools under odd keys are not listed', async () => {
    for (const key of ['odd/ok.txt', 'odd/bad%2e%2e', 'odd/marker/']) {
      const Body = key.endsWith('/') ? '' : 'x'; // a folder marker is empty
      await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: `${store.prefix}/${key}`, Body }));
    }
    assert.deepEqual(
      (await store.list('odd', { recursive: true })).map((e) => e.path),
      ['odd/ok.txt'],
    );
  });

  test('wrong credentials are UnavailableError saying access was refused', async () => {
    const wrong = await openArtifactStore(testS3UrlWithPrefix(store.prefix), {
      s3: { credentials: { accessKeyId: 'hangar', secretAccessKey: 'wrong-secret' } },
    });
    try {
      await assert.rejects(wrong.get('anything'), (err: unknown) => {
        assert.ok(err instanceof UnavailableError, String(err));
        assert.match(err.message, /refused access/);
        assert.ok(!err.message.includes('wrong-secret'));
        return true;
      });
    } finally {
      await wrong.close();
    }
  });

  test('a missing bucket and an unreachable endpoint are UnavailableError, quickly', async () => {
    const url = new URL(testS3UrlWithPrefix(''));
    const noBucket = await openArtifactStore(`s3://no-such-bucket-${randomBytes(4).toString('hex')}${url.search}`, {
      s3: { credentials: testS3Credentials() },
    });
    await assert.rejects(
      noBucket.list(''),
      (err: unknown) => err instanceof UnavailableError && /bucket/.test(err.message),
    );
    await noBucket.close();

    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const down = await openArtifactStore(`s3://hangar-test?endpoint=http://127.0.0.1:${port}&forcePathStyle=true`, {
      s3: { credentials: testS3Credentials() },
    });
    const started = Date.now();
    await assert.rejects(
      down.get('x'),
      (err: unknown) => err instanceof UnavailableError && /unavailable/.test(err.message),
    );
    assert.ok(Date.now() - started < 10_000);
    await down.close();
  });
});
