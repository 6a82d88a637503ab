import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';

/*
 * Linux /proc readings. Memory and CPU are read from the kernel rather than from the servers
 * themselves so Hangar and the tool it is compared with are measured the same way.
 */

interface Stat {
  state: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks */
  ticks: number;
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; the fields we need follow the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null; // gone meanwhile
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Live (non-zombie) members of a process group: what is left to stop of a server started detached. */
export function groupMembers(pgrp: number): number[] {
  return allPids().filter((p) => {
    const s = stat(p);
    return s !== null && s.pgrp === pgrp && s.state !== 'Z';
  });
}

/** `root` and its live descendants: a server's whole footprint (MLflow forks workers and consumers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const s = stat(p);
    if (!s || s.state === 'Z') continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

function kbField(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface TreeMemory {
  /** Sum of VmRSS: what `ps` users see; counts pages shared between forked processes more than once. */
  rssBytes: number;
  /** Sum of PSS: shared pages split between their sharers, so the sum is the tree's real footprint. */
  pssBytes: number;
  processes: number;
}

export function treeMemory(root: number): TreeMemory {
  const pids = processTree(root);
  let rssBytes = 0;
  let pssBytes = 0;
  for (const p of pids) {
    rssBytes += kbField(`/proc/${p}/status`, 'VmRSS');
    pssBytes += kbField(`/proc/${p}/smaps_rollup`, 'Pss');
  }
  return { rssBytes, pssBytes, processes: pids.length };
}

let clockTicks: number | null = null;

/** CPU time (user + system) a process has used so far, all its threads included. */
export function cpuSeconds(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return (stat(pid)?.ticks ?? 0) / clockTicks;
}

/**
 * Jiffies of the whole machine since boot: busy, total, and the part of busy spent in interrupt and
 * softirq context (loopback TCP is processed there, and it is charged to no process).
 */
export function machineCpu(): { busy: number; total: number; irq: number } {
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total, irq: (f[5] ?? 0) + (f[6] ?? 0) };
}

export const coreCount = (): number => cpus().length;

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins every thread of a running process to the given CPU list (taskset syntax, e.g. "0"). */
export function pinProcess(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

/**
 * A port that was free a moment ago on 127.0.0.1. Used only where a server must be told its port
 * before it starts (to poll it from the instant it is spawned); the tiny reuse race is acceptable.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
