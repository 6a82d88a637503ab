import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createTestStore, ENGINES } from './testing/engines.js';
import { runServerExpectingFailure, startServer } from './testing/server-process.js';
import { ADMIN_TOKEN } from './testing/test-app.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api(url: string, method = 'GET', body?: unknown) {
  const res = await fetch(url, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

for (const engine of ENGINES) {
  describe(`process faults (${engine})`, () => {
    test('kill -9 during concurrent writes loses no acknowledged write', async () => {
      const store = await createTestStore(engine);
      const dataDir = path.join(store.dir, 'data');
      const args = ['--data-dir', dataDir, '--db', store.url, '--role', 'api'];
      try {
        const server = await startServer(args);
        const acked: string[] = [];
        let stop = false;
        const writers = Array.from({ length: 16 }, async (_, w) => {
          for (let i = 0; !stop && i < 10_000; i++) {
            try {
              const res = await fetch(`${server.url}/api/v1/jobs`, {
                method: 'POST',
                headers: auth,
                body: JSON.stringify({ kind: 'system.noop', payload: { w, i } }),
              });
              if (res.status === 201) acked.push(((await res.json()) as { id: string }).id);
            } catch {
              return; // the server died mid-request: that write was never acknowledged
            }
          }
        });
        while (acked.length < 300) await sleep(10);
        server.proc.kill('SIGKILL');
        stop = true;
        await Promise.all(writers);
        await server.exited;

        // The SQLite lock dies with the process, so the same data dir opens again at once.
        const again = await startServer(args);
        try {
          const missing: string[] = [];
          for (const id of acked) if ((await api(`${again.url}/api/v1/jobs/${id}`)).status !== 200) missing.push(id);
          assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes lost`);
        } finally {
          again.proc.kill('SIGTERM');
          assert.equal(await again.exited, 0);
        }
      } finally {
        await store.cleanup();
      }
    });

    test('a worker killed mid-job: the job runs again after its lease expires and finishes once', async () => {
      const store = await createTestStore(engine);
      const dataDir = path.join(store.dir, 'data');
      const marker = path.join(store.dir, 'marker.txt');
      const args = ['--data-dir', dataDir, '--db', store.url, '--job-lease-ms', '1500', '--worker-poll-ms', '50'];
      try {
        const first = await startServer(args);
        const job = await api(`${first.url}/api/v1/jobs`, 'POST', {
          kind: 'system.exec',
          maxAttempts: 3,
          payload: { command: ['sh', '-c', `echo start >> ${marker}; sleep 1; echo done >> ${marker}`] },
        });
        assert.equal(job.status, 201);
        const id = job.json.id as string;
        // Kill only once the command is really running (the job is 'running' from its claim on).
        const started = () => {
          try {
            return readFileSync(marker, 'utf8').includes('start');
          } catch {
            return false;
          }
        };
        for (let i = 0; i < 400 && !started(); i++) await sleep(25);
        assert.ok(started(), 'the first attempt started');
        first.proc.kill('SIGKILL');
        await first.exited;

        const second = await startServer(args);
        try {
          let row: Record<string, unknown> = {};
          for (let i = 0; i < 400; i++) {
            row = (await api(`${second.url}/api/v1/jobs/${id}`)).json;
            if (row.state === 'succeeded' || row.state === 'failed') break;
            await sleep(50);
          }
          assert.equal(row.state, 'succeeded');
          assert.equal(row.attempt, 2, 'the second attempt finished it');
          const lines = readFileSync(marker, 'utf8').trim().split('\n');
          assert.equal(lines.filter((l) => l === 'start').length, 2, 'started once per attempt');
          // The dead worker's process tree died with it: only the second attempt got to the end.
          assert.equal(lines.filter((l) => l === 'done').length, 1, 'finished once');
        } finally {
          second.proc.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await store.cleanup();
      }
    });

    test('SIGTERM drains and exits 0', async () => {
      const store = await createTestStore(engine);
      try {
        const server = await startServer(['--data-dir', path.join(store.dir, 'data'), '--db', store.url]);
        // A request already sent is either answered or refused cleanly; it never hangs.
        const pending = fetch(`${server.url}/api/v1/me`, { headers: auth })
          .then((r) => r.text())
          .catch(() => null);
        server.proc.kill('SIGTERM');
        const code = await server.exited;
        assert.equal(code, 0, server.stderr());
        await pending;
      } finally {
        await store.cleanup();
      }
    });
  });
}

describe('startup faults', () => {
  test('a second server on the same SQLite data dir fails with a clear error', async () => {
    const store = await createTestStore('sqlite');
    const dataDir = path.join(store.dir, 'data');
    try {
      const first = await startServer(['--data-dir', dataDir]);
      try {
        const second = await runServerExpectingFailure(['--data-dir', dataDir]);
        assert.equal(second.code, 1);
        assert.match(second.stderr, /in use by another Hangar server \(pid \d+\)/);
        assert.ok(second.ms < 15_000);
      } finally {
        first.proc.kill('SIGTERM');
        await first.exited;
      }
    } finally {
      await store.cleanup();
    }
  });

  test('an unreachable PostgreSQL fails fast with a clear error', async () => {
    const res = await runServerExpectingFailure([
      '--data-dir',
      '/tmp/hangar-unreachable',
      '--db',
      'postgres://hangar:secret@127.0.0.1:1/hangar',
    ]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot reach the store postgres:\/\/hangar:\*\*\*@127\.0\.0\.1:1\/hangar/);
    assert.ok(!res.stderr.includes('secret'), 'the password is not printed');
    assert.ok(res.ms < 15_000, `took ${res.ms} ms`);
  });

  test('a bad configuration lists every bad key and exits 2', async () => {
    const res = await runServerExpectingFailure(
      ['--data-dir', '/tmp/hangar-badconfig', '--role', 'chef', '--nope', '--body-limit-bytes', 'lots'],
      { env: { ...process.env, HANGAR_WORKER_CONCURRENCY: '0' } },
    );
    assert.equal(res.code, 2);
    assert.match(res.stderr, /role \(from --role\)/);
    assert.match(res.stderr, /--nope: unknown option/);
    assert.match(res.stderr, /bodyLimitBytes \(from --body-limit-bytes\)/);
    assert.match(res.stderr, /workerConcurrency \(from HANGAR_WORKER_CONCURRENCY\)/);
  });
});
