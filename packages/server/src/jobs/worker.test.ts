import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { systemClock } from '../core/clock.js';
import { openDatabase, type Database } from '../db/database.js';
import { createTestStore, ENGINES, type TestStore } from '../testing/engines.js';
import { execHandler } from './builtin-handlers.js';
import { LocalProcessExecutor } from './executor/index.js';
import { JobHandlerRegistry, PermanentJobError, type JobHandler } from './job-handler.js';
import { JobStore, type JobRow } from './job-store.js';
import { Worker } from './worker.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function handler(kind: string, run: JobHandler['run']): JobHandler {
  return { kind, payloadSchema: Type.Any(), run };
}

for (const engine of ENGINES) {
  describe(`job queue (${engine})`, () => {
    let store: TestStore;
    let database: Database;
    let jobs: JobStore;
    const workers: Worker[] = [];

    before(async () => {
      store = await createTestStore(engine);
      database = await openDatabase({ url: store.url });
      await database.migrate();
      jobs = new JobStore(database.db, database.engine, systemClock);
    });
    // Every worker reaps expired leases of any kind, so one left running from an earlier test could
    // end a later test's jobs without the handler that test watches.
    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop(0);
    });
    after(async () => {
      await database.close();
      await store.cleanup();
    });

    function startWorker(handlers: JobHandler[], opts: Partial<ConstructorParameters<typeof Worker>[0]> = {}) {
      const registry = new JobHandlerRegistry();
      for (const h of handlers) registry.register(h);
      const w = new Worker({
        store: jobs,
        handlers: registry,
        logger,
        concurrency: 4,
        pollMs: 10,
        leaseMs: 5000,
        maxLogBytes: 10_000,
        baseBackoffMs: 30,
        ...opts,
      });
      workers.push(w);
      w.start();
      return w;
    }

    const finished = (id: string) => async () => {
      const row = await jobs.get(id);
      return row && JobStore.isFinished(row.state) ? row : undefined;
    };

    test('claims by priority, then age', async () => {
      const low = await jobs.enqueue({ kind: 'order', payload: {}, priority: 0 });
      const high = await jobs.enqueue({ kind: 'order', payload: {}, priority: 5 });
      const later = await jobs.enqueue({ kind: 'order', payload: {}, priority: 0, runAt: Date.now() + 60_000 });
      const claimed = await jobs.claim('w', ['order'], 10, 1000);
      assert.deepEqual(
        claimed.map((j) => j.id),
        [high.id, low.id],
      );
      assert.ok(claimed.every((j) => j.state === 'running' && j.attempt === 1 && j.lease_owner === 'w'));
      await jobs.requestCancel(later.id);
      await jobs.settle(
        'w',
        claimed.map((j) => ({
          id: j.id,
          attempt: 1,
          type: 'succeeded' as const,
          result: null,
          usage: { wallSeconds: 0, cpuSeconds: 0, peakRssBytes: 0 },
        })),
      );
    });

    test('enqueueMany stores a large batch in one go, in order', async () => {
      const rows = await jobs.enqueueMany(Array.from({ length: 1234 }, (_, i) => ({ kind: 'bulk', payload: { i } })));
      assert.equal(rows.length, 1234);
      const stored = await jobs.list({ kind: 'bulk', limit: 2000 });
      assert.equal(stored.length, 1234);
      assert.deepEqual(JSON.parse(stored[0]!.payload), { i: 1233 }, 'newest first, ids in creation order');
      await Promise.all(rows.map((r) => jobs.requestCancel(r.id)));
    });

    test('concurrent claimers never claim the same job twice', async () => {
      const n = 150;
      for (let i = 0; i < n; i++) await jobs.enqueue({ kind: 'race', payload: { i } });
      const seen: string[] = [];
      await Promise.all(
        [1, 2, 3, 4].map(async (w) => {
          for (;;) {
            const got = await jobs.claim(`racer-${w}`, ['race'], 7, 10_000);
            if (got.length === 0) return;
            seen.push(...got.map((j) => j.id));
          }
        }),
      );
      assert.equal(seen.length, n);
      assert.equal(new Set(seen).size, n);
    });

    test('retries with backoff until attempts run out or the job succeeds', async () => {
      const attemptsAt: number[] = [];
      startWorker([
        handler('flaky', async (ctx) => {
          attemptsAt.push(Date.now());
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return { result: { ok: ctx.attempt } };
        }),
        handler('always-fails', async () => {
          throw new Error('still broken');
        }),
        handler('permanent', async () => {
          throw new PermanentJobError('payload is nonsense');
        }),
      ]);
      const flaky = await jobs.enqueue({ kind: 'flaky', payload: {}, maxAttempts: 3 });
      const doomed = await jobs.enqueue({ kind: 'always-fails', payload: {}, maxAttempts: 2 });
      const permanent = await jobs.enqueue({ kind: 'permanent', payload: {}, maxAttempts: 5 });
      const f = await waitFor('flaky', finished(flaky.id));
      assert.equal(f.state, 'succeeded');
      assert.equal(f.attempt, 3);
      assert.deepEqual(JSON.parse(f.result!), { ok: 3 });
      // Backoff doubles from 30 ms with ±20% jitter: at least 24 ms, then at least 48 ms.
      assert.ok(attemptsAt[1]! - attemptsAt[0]! >= 24, `first retry after ${attemptsAt[1]! - attemptsAt[0]!} ms`);
      assert.ok(attemptsAt[2]! - attemptsAt[1]! >= 48, `second retry after ${attemptsAt[2]! - attemptsAt[1]!} ms`);
      const d = await waitFor('doomed', finished(doomed.id));
      assert.equal(d.state, 'failed');
      assert.equal(d.attempt, 2);
      assert.equal(d.error, 'still broken');
      const p = await waitFor('permanent', finished(permanent.id));
      assert.equal(p.state, 'failed');
      assert.equal(p.attempt, 1);
    });

    test('cancels queued jobs at once and running jobs through their signal', async () => {
      const queued = await jobs.enqueue({ kind: 'nobody-handles-this', payload: {} });
      assert.equal((await jobs.requestCancel(queued.id))!.state, 'cancelled');
      let sawAbort = false;
      startWorker(
        [
          handler(
            'long',
            (ctx) =>
              new Promise((_resolve, reject) => {
                ctx.signal.addEventListener('abort', () => {
                  sawAbort = true;
                  reject(new Error('aborted'));
                });
              }),
          ),
        ],
        { leaseMs: 1000 },
      );
      const running = await jobs.enqueue({ kind: 'long', payload: {} });
      await waitFor('running', async () => (await jobs.get(running.id))?.state === 'running');
      await jobs.requestCancel(running.id);
      const done = await waitFor('cancelled', finished(running.id));
      assert.equal(done.state, 'cancelled');
      assert.ok(sawAbort);
      // Cancelling a finished job changes nothing.
      assert.equal((await jobs.requestCancel(running.id))!.state, 'cancelled');
    });

    test('an expired lease puts the job back, and the old holder can no longer settle it', async () => {
      const job = await jobs.enqueue({ kind: 'lease', payload: {}, maxAttempts: 3 });
      const [first] = await jobs.claim('dead-worker', ['lease'], 1, 50);
      assert.equal(first!.id, job.id);
      await sleep(80);
      assert.ok((await jobs.reapExpiredLeases()).settled >= 1);
      const [second] = await jobs.claim('live-worker', ['lease'], 1, 10_000);
      assert.equal(second!.id, job.id);
      assert.equal(second!.attempt, 2);
      const usage = { wallSeconds: 1, cpuSeconds: 0, peakRssBytes: 0 };
      const stale = await jobs.settle('dead-worker', [
        { id: job.id, attempt: 1, type: 'succeeded', result: 'stale', usage },
      ]);
      assert.equal(stale.size, 0);
      assert.equal((await jobs.heartbeat('dead-worker', [{ id: job.id, attempt: 1 }], 10_000)).size, 0);
      const fresh = await jobs.settle('live-worker', [
        { id: job.id, attempt: 2, type: 'succeeded', result: 'fresh', usage },
      ]);
      assert.deepEqual([...fresh], [job.id]);
      const row = (await jobs.get(job.id))!;
      assert.equal(row.state, 'succeeded');
      assert.equal(JSON.parse(row.result!), 'fresh');
    });

    test('a finished job is not heartbeated while its outcome is written, and a failed write is tried again', async () => {
      // On PostgreSQL a heartbeat and an outcome write that touch the same rows can deadlock, and
      // the outcome could lose: the job would then run a second time after its lease expired.
      const beats: string[][] = [];
      let settles = 0;
      const store = Object.assign(Object.create(jobs) as JobStore, {
        heartbeat: (w: string, held: { id: string; attempt: number }[], ms: number) => {
          beats.push(held.map((j) => j.id));
          return jobs.heartbeat(w, held, ms);
        },
        settle: async (w: string, outcomes: Parameters<JobStore['settle']>[1]) => {
          await sleep(300);
          if (++settles === 1) throw new Error('deadlock detected');
          return jobs.settle(w, outcomes);
        },
      });
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      startWorker(
        [
          handler('settle-quick', async () => ({ result: 'done' })),
          handler('settle-long', async ({ signal }) => {
            await Promise.race([released, new Promise((r) => signal.addEventListener('abort', r))]);
            return { result: 'done' };
          }),
        ],
        { store, leaseMs: 1500 },
      );
      const long = await jobs.enqueue({ kind: 'settle-long', payload: {} });
      await waitFor('the long job to run', async () => (await jobs.get(long.id))?.state === 'running');
      const quick = await jobs.enqueue({ kind: 'settle-quick', payload: {} });
      const row = await waitFor('the quick job to finish', finished(quick.id));
      assert.equal(row.state, 'succeeded');
      assert.equal(row.attempt, 1);
      assert.ok(settles >= 2, 'the failed outcome write was tried again');
      assert.ok(beats.length > 0, 'heartbeats went on for the long job');
      assert.ok(!beats.flat().includes(quick.id), 'the finished job was never heartbeated');
      release();
      assert.equal((await waitFor('the long job to finish', finished(long.id))).state, 'succeeded');
    });

    test('a job whose last attempt loses its lease fails with a clear error', async () => {
      const job = await jobs.enqueue({ kind: 'lease-last', payload: {}, maxAttempts: 1 });
      await jobs.claim('dead-worker', ['lease-last'], 1, 30);
      await sleep(60);
      await jobs.reapExpiredLeases();
      const row = (await jobs.get(job.id))!;
      assert.equal(row.state, 'failed');
      assert.match(row.error!, /lease expired on attempt 1 of 1/);
    });

    test("the reaper tells a job's handler when it ended a job no attempt will see: lease lost on the last attempt, or a cancel", async () => {
      const ends: [string, string, string][] = [];
      const endHandler: JobHandler = {
        ...handler('ends', () => Promise.resolve({})),
        onEndedWithoutAttempt: (job, why) => {
          ends.push([job.id, job.state, why]);
          return Promise.resolve();
        },
      };
      // Claimed by a worker that then "dies": its leases expire and the live worker's reaper ends them.
      const lost = await jobs.enqueue({ kind: 'ends', payload: {}, maxAttempts: 1 });
      const requeued = await jobs.enqueue({ kind: 'ends', payload: {}, maxAttempts: 2 });
      const cancelled = await jobs.enqueue({ kind: 'ends', payload: {}, maxAttempts: 2 });
      assert.equal((await jobs.claim('dead-worker', ['ends'], 3, 30)).length, 3);
      await jobs.requestCancel(cancelled.id);
      await sleep(60);
      startWorker([endHandler]);
      await waitFor('reaped', () => Promise.resolve(ends.length >= 2));
      await waitFor('requeued job done', finished(requeued.id));
      assert.deepEqual(
        ends.sort(),
        [
          [lost.id, 'failed', 'lease-expired'],
          [cancelled.id, 'cancelled', 'cancelled'],
        ].sort(),
      );
    });

    test('logs are persisted before the outcome and bounded', async () => {
      startWorker(
        [
          handler('chatty', async (ctx) => {
            ctx.log('stdout', 'first line\n');
            ctx.log('stderr', 'ünïcödé 🚀\n');
            for (let i = 0; i < 200; i++) ctx.log('stdout', `${'x'.repeat(99)}\n`);
            return {};
          }),
        ],
        { maxLogBytes: 2000 },
      );
      const job = await jobs.enqueue({ kind: 'chatty', payload: {} });
      const row = await waitFor('chatty', finished(job.id));
      const logs = await jobs.logs(job.id, 0, 1000);
      assert.equal(logs[0]!.data, 'first line\n');
      assert.equal(logs[1]!.data, 'ünïcödé 🚀\n');
      assert.equal(logs[1]!.stream, 'stderr');
      assert.match(logs[logs.length - 1]!.data, /log truncated/);
      assert.equal(row.logs_truncated, 1);
      assert.ok(row.log_bytes <= 2100, `log bytes ${row.log_bytes}`);
    });

    test('graceful stop hands running jobs back without charging an attempt', async () => {
      const w = startWorker([
        handler(
          'slow',
          (ctx) =>
            new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
        ),
      ]);
      const job = await jobs.enqueue({ kind: 'slow', payload: {} });
      await waitFor('running', async () => (await jobs.get(job.id))?.state === 'running');
      await w.stop(50);
      // Released before stop() returns, so a caller may close the store right after.
      const released = (await jobs.get(job.id))!;
      assert.equal(released.state, 'queued');
      assert.equal(released.attempt, 0);
      await jobs.requestCancel(job.id);
    });

    test('exec jobs run a real process and record its usage', async () => {
      const executor = new LocalProcessExecutor({ workRoot: `${store.dir}/work`, maxLogBytes: 100_000 });
      startWorker([execHandler(new Map([['local', executor]]))]);
      const ok = await jobs.enqueue({
        kind: 'system.exec',
        payload: { command: ['sh', '-c', 'echo hello; echo oops >&2'] },
      });
      const bad = await jobs.enqueue({
        kind: 'system.exec',
        payload: { command: ['sh', '-c', 'exit 3'] },
        maxAttempts: 1,
      });
      const okRow: JobRow = await waitFor('exec ok', finished(ok.id));
      assert.equal(okRow.state, 'succeeded');
      assert.deepEqual(JSON.parse(okRow.result!).exitCode, 0);
      assert.ok(okRow.wall_seconds! > 0);
      assert.ok(okRow.cpu_seconds! >= 0);
      const text = (await jobs.logs(ok.id, 0, 100)).map((l) => `${l.stream}:${l.data}`).join('');
      assert.match(text, /stdout:hello/);
      assert.match(text, /stderr:oops/);
      const badRow = await waitFor('exec bad', finished(bad.id));
      assert.equal(badRow.state, 'failed');
      assert.match(badRow.error!, /exited with code 3/);
    });
  });
}
