import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openArtifactStore } from './open-artifact-store.js';
import type { S3Credentials } from './s3-artifact-store.js';
import type { ArtifactStore } from './types.js';

/** Every form of path attack; each must be refused by every method, on every backend. */
export const PATH_ATTACKS: string[] = [
  '..',
  '../escape.txt',
  'a/../../escape.txt',
  'a/..',
  './a',
  'a/./b',
  '/etc/passwd',
  '/',
  'a//b',
  'a/',
  'C:/windows/win.ini',
  'c:escape',
  '..\\escape.txt',
  'a\\..\\..\\escape.txt',
  'a\0b',
  'a\0/../../escape',
  '%2e%2e/escape.txt',
  '%2E%2E%2Fescape.txt',
  '..%2fescape.txt',
  'a%2f..%2f..%2fescape',
  '%252e%252e/escape.txt',
  '%25252e%25252e%25252fescape',
  '%c0%ae%c0%ae/escape',
  '\u2024\u2024/escape.txt', // one dot leader
  '\u2025/escape.txt', // two dot leader
  '\uff0e\uff0e/escape.txt', // fullwidth full stop
  '\ufe52\ufe52/escape.txt', // small full stop
  'a\u2215..\u2215..\u2215escape', // division slash
  '..\uff0fescape.txt', // fullwidth solidus
  '..\u2044escape.txt', // fraction slash
  '..\uff3cescape.txt', // fullwidth reverse solidus
  '.\u200b./escape.txt', // zero-width space
  '\u202e/txt.exe', // right-to-left override
  'e\u0301.txt', // NFD: NFC changes it
  '\ufb01le.txt', // ligature: NFKC changes it
  '\u212b', // angstrom sign: NFC changes it
  'a\nb',
  'a\rb',
  '\ud800.txt', // lone surrogate
  '.hangar-tmp-0123abcd',
  'x'.repeat(1025),
  `a/${'b'.repeat(256)}`,
  Array.from({ length: 65 }, () => 'd').join('/'),
];

/** The backends every artifact contract test runs on. */
export type ArtifactBackend = 'local' | 's3';
export const ARTIFACT_BACKENDS: ArtifactBackend[] = ['local', 's3'];

/**
 * The S3-compatible server tests run against. `npm test` always provides one (scripts/with-s3.mjs
 * starts an ephemeral versitygw), so a missing URL is a setup error, never a reason to skip.
 */
export function testS3Url(): string {
  const url = process.env.HANGAR_TEST_S3_URL;
  if (!url) throw new Error('HANGAR_TEST_S3_URL is not set: run tests with `npm test`, which starts an S3 server');
  return url;
}

export function testS3Credentials(): S3Credentials {
  const accessKeyId = process.env.HANGAR_TEST_S3_ACCESS_KEY_ID;
  const secretAccessKey = process.env.HANGAR_TEST_S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('HANGAR_TEST_S3_ACCESS_KEY_ID / HANGAR_TEST_S3_SECRET_ACCESS_KEY are not set: run `npm test`');
  }
  return { accessKeyId, secretAccessKey };
}

/** The test server's URI with its bucket-level prefix replaced by `prefix`. */
export function testS3UrlWithPrefix(prefix: string): string {
  const url = new URL(testS3Url());
  return `s3://${url.hostname}/${prefix}${url.search}`;
}

export interface TestArtifactStore {
  backend: ArtifactBackend;
  store: ArtifactStore;
  /** The local backend's root folder. */
  root?: string;
  /** A scratch folder outside the store. */
  scratch: string;
  cleanup(): Promise<void>;
}

/** A fresh, empty store: a new temp folder, or a new random prefix in the test bucket. */
export async function createTestArtifactStore(backend: ArtifactBackend): Promise<TestArtifactStore> {
  const scratch = mkdtempSync(path.join(tmpdir(), `hangar-artifacts-${backend}-`));
  if (backend === 'local') {
    const root = path.join(scratch, 'root');
    const store = await openArtifactStore(`file://${root}`);
    return {
      backend,
      store,
      root,
      scratch,
      async cleanup() {
        await store.close();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  }
  const prefix = `t-${randomBytes(6).toString('hex')}`;
  const credentials = testS3Credentials();
  const store = await openArtifactStore(testS3UrlWithPrefix(prefix), { s3: { credentials } });
  return {
    backend,
    store,
    scratch,
    async cleanup() {
      await store.close();
      const bucket = await openArtifactStore(testS3UrlWithPrefix(''), { s3: { credentials } });
      try {
        await bucket.delete(prefix);
      } finally {
        await bucket.close();
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
