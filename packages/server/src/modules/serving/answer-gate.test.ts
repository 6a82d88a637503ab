import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnswerGate } from './answer-gate.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** Resolves to whether `p` settled before the microtask queue drained. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('answer gate', () => {
  it('lets an answer go at once when no other run is in progress', () => {
    const gate = new AnswerGate();
    gate.begin();
    assert.equal(gate.end(), null);
    gate.begin();
    assert.equal(gate.end(), null, 'and again for the next one');
  });

  it('holds the answers of a turn until its last run ends, then releases them together', async () => {
    const gate = new AnswerGate();
    gate.begin();
    gate.begin();
    gate.begin();
    const first = gate.end();
    const second = gate.end();
    assert.ok(first && second);
    assert.equal(first, second, 'one release for all held answers');
    assert.equal(await settled(first), false, 'held while a run is in progress');
    assert.equal(gate.end(), null, 'the last run answers at once');
    assert.equal(await settled(first), true, 'and releases the others');
  });

  it('holds an answer for one turn of the event loop at most, whatever else is still running', async () => {
    const gate = new AnswerGate();
    gate.begin();
    gate.begin(); // a slow run (a model server over HTTP) that does not end in this test
    const held = gate.end();
    assert.ok(held);
    assert.equal(await settled(held), false);
    await nextTurn();
    assert.equal(await settled(held), true);
    // The slow run's own answer, much later, is not held by a release that already happened.
    gate.begin();
    const next = gate.end();
    assert.ok(next);
    assert.notEqual(next, held);
    assert.equal(gate.end(), null);
    assert.equal(await settled(next), true);
  });
});
