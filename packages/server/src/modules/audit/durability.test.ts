// "Never lost once acknowledged": a real server is killed with SIGKILL while it acknowledges
// audited changes; after a restart on the same store every acknowledged change has its audit
// event and the chain verifies.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createTestStore, ENGINES } from '../../testing/engines.js';
import { startServer, type ServerProcess } from '../../testing/server-process.js';
import { ADMIN_TOKEN } from '../../testing/test-app.js';
import type { AuditEvent, VerifyResult } from './log.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allEvents(server: ServerProcess): Promise<AuditEvent[]> {
  const res = await fetch(`${server.url}/api/v1/audit/export`, { headers: auth });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

for (const engine of ENGINES) {
  describe(`audit durability (${engine})`, () => {
    test('kill -9 while acknowledging audited changes loses no acknowledged event and keeps the chain whole', async () => {
      const store = await createTestStore(engine);
      const dataDir = path.join(store.dir, 'data');
      const args = ['--data-dir', dataDir, '--db', store.url, '--role', 'api'];
      try {
        const server = await startServer(args);
        /** request id -> team name, for every 201 the server sent. */
        const acked = new Map<string, string>();
        let stop = false;
        const writers = Array.from({ length: 12 }, async (_, w) => {
          for (let i = 0; !stop && i < 10_000; i++) {
            const requestId = `dur-${w}-${i}`;
            const name = `team-${w}-${i}`;
            try {
              const res = await fetch(`${server.url}/api/v1/teams`, {
                method: 'POST',
                headers: { ...auth, 'x-request-id': requestId },
                body: JSON.stringify({ name }),
              });
              if (res.status === 201) acked.set(requestId, name);
            } catch {
              return; // the server died mid-request: never acknowledged
            }
          }
        });
        while (acked.size < 200) await sleep(5);
        server.proc.kill('SIGKILL');
        stop = true;
        await Promise.all(writers);
        assert.equal(await server.exited, 'SIGKILL');

        const again = await startServer(args);
        try {
          const events = await allEvents(again);
          const byRequest = new Map(events.map((e) => [e.requestId, e]));
          const missing = [...acked.keys()].filter((rid) => byRequest.get(rid)?.action !== 'team.create');
          assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged audit events lost`);
          for (const [rid, name] of acked) assert.equal(byRequest.get(rid)!.target, name);
          // Each change and its event commit together: no team without its event, nor the reverse.
          const teams = await fetch(`${again.url}/api/v1/teams`, { headers: auth });
          const names = new Set(((await teams.json()) as { items: { name: string }[] }).items.map((t) => t.name));
          const created = events.filter((e) => e.action === 'team.create').map((e) => e.target);
          assert.deepEqual(
            created.filter((n) => !names.has(n)),
            [],
            'events of changes that were never stored',
          );
          assert.equal(created.length, names.size - 1, 'every stored team (but the default) has its event');
          // Events left unlinked by the kill are linked now, into one whole chain.
          const res = await fetch(`${again.url}/api/v1/audit/verify`, { headers: auth });
          const v = (await res.json()) as VerifyResult;
          assert.deepEqual(
            { ok: v.ok, pending: v.pending, problem: v.problem, checked: v.checked },
            { ok: true, pending: 0, problem: null, checked: events.length },
          );
        } finally {
          again.proc.kill('SIGTERM');
          assert.equal(await again.exited, 0);
        }
      } finally {
        await store.cleanup();
      }
    });
  });
}
