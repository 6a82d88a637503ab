import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ProcessTreeMonitor, parseProcStat, readProcessStartTime } from './process-tree-monitor.js';

describe('parseProcStat', () => {
  it('parses a command name containing spaces and parentheses', () => {
    const line =
      '4242 (my (weird) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 7 3 20 0 1 0 987654 1000000 250 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0';
    assert.deepEqual(parseProcStat(line), {
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      session: 4242,
      selfTicks: 175,
      childTicks: 10,
      startTime: 987654,
    });
    assert.equal(parseProcStat('garbage'), null);
  });
});

describe('ProcessTreeMonitor', () => {
  it('finds members of a detached tree, signals them all, and sees them gone', async () => {
    const leader = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const exited = once(leader, 'exit');
    assert.ok(leader.pid);
    const monitor = new ProcessTreeMonitor(leader.pid);
    let members: number[] | null = [];
    for (let i = 0; i < 50 && (members?.length ?? 0) < 3; i++) {
      members = await monitor.sample();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(members?.length, 3);
    assert.ok(members?.includes(leader.pid));
    assert.ok(monitor.peakRssBytes > 0);
    assert.equal(await monitor.waitGone(100), false);
    assert.equal(await monitor.signalTree('SIGKILL'), 3);
    assert.equal(await monitor.waitGone(5000), true);
    await exited;
    assert.equal(await monitor.signalTree('SIGTERM'), 0);
    assert.equal(await readProcessStartTime(leader.pid), null);
  });

  it('reads this process start time consistently', async () => {
    const first = await readProcessStartTime(process.pid);
    assert.ok(first !== null && first > 0);
    assert.equal(await readProcessStartTime(process.pid), first);
  });
});
