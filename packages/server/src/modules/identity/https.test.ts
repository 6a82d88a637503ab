// HTTPS: with a certificate and key configured, a real server process speaks TLS only and marks
// its session cookie Secure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, test } from 'node:test';
import { createTestStore, ENGINES } from '../../testing/engines.js';
import { startServer } from '../../testing/server-process.js';
import { ADMIN_PASSWORD } from '../../testing/test-app.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function selfSigned(dir: string): { cert: string; key: string } {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the HTTPS test needs the openssl command-line tool: apt-get install openssl');
  }
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert, key };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  authorized: boolean;
}

/** One HTTPS request that trusts exactly the test certificate. */
function httpsRequest(url: string, ca: Buffer, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      url,
      { method, ca, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' } },
      (res) => {
        const authorized = (res.socket as TLSSocket).authorized;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            authorized,
          }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

for (const engine of ENGINES) {
  describe(`HTTPS (${engine})`, () => {
    test('serves HTTPS only, and the session cookie is Secure', async () => {
      const store = await createTestStore(engine);
      try {
        const { cert, key } = selfSigned(store.dir);
        const ca = readFileSync(cert);
        const server = await startServer([
          '--data-dir',
          path.join(store.dir, 'data'),
          '--db',
          store.url,
          '--role',
          'api',
          '--tls-cert',
          cert,
          '--tls-key',
          key,
        ]);
        try {
          assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
          const health = await httpsRequest(`${server.url}/healthz`, ca);
          assert.equal(health.status, 200);
          assert.equal(health.authorized, true, 'the server presents the configured certificate');

          const loggedIn = await httpsRequest(`${server.url}/api/v1/session`, ca, 'POST', {
            username: 'admin',
            password: ADMIN_PASSWORD,
          });
          assert.equal(loggedIn.status, 200, loggedIn.body);
          const setCookie = String(loggedIn.headers['set-cookie']);
          const attrs = setCookie.split(';').map((p) => p.trim());
          for (const a of ['Secure', 'HttpOnly', 'SameSite=Strict']) assert.ok(attrs.includes(a), setCookie);
          const cookie = attrs[0]!;
          const me = await httpsRequest(`${server.url}/api/v1/me`, ca, 'GET', undefined, { cookie });
          assert.equal(me.status, 200);
          assert.equal(JSON.parse(me.body).username, 'admin');
          const out = await httpsRequest(`${server.url}/api/v1/session`, ca, 'DELETE', undefined, {
            cookie,
            'x-csrf-token': JSON.parse(loggedIn.body).csrfToken,
          });
          assert.equal(out.status, 204);
          assert.match(String(out.headers['set-cookie']), /Max-Age=0.*Secure/);

          // Plain HTTP on the same port gets no answer from the API.
          const plain = await fetch(`${server.url.replace('https:', 'http:')}/healthz`).then(
            (r) => r.status,
            () => 'refused',
          );
          assert.notEqual(plain, 200);
          // An untrusting client refuses the self-signed certificate (the test trusts it explicitly above).
          await assert.rejects(fetch(`${server.url}/healthz`));
        } finally {
          server.proc.kill('SIGTERM');
          assert.equal(await server.exited, 0);
        }
      } finally {
        await store.cleanup();
      }
    });
  });
}
