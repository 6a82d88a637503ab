import { readdir, readFile } from 'node:fs/promises';

/**
 * Linux reports /proc/PID/stat times in USER_HZ ticks. USER_HZ is fixed at 100 by the kernel ABI
 * on every mainstream architecture (it is not CONFIG_HZ), and Node offers no sysconf, so it is a
 * constant rather than a probe.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** One row of /proc/PID/stat, reduced to what tree accounting needs. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  /** Single-letter state; 'Z' is a zombie (dead, not yet reaped). */
  state: string;
  /** Start time in ticks since boot; with `pid` it identifies a process despite pid reuse. */
  startTime: number;
  /** utime + stime. */
  selfTicks: number;
  /** cutime + cstime: CPU of children this process has already reaped. */
  childTicks: number;
}

/**
 * Parses the text of /proc/PID/stat. Returns null for anything malformed. The command name is
 * parsed up to the LAST ')' because it may itself contain spaces and parentheses.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 of proc(5), so field N is f[N - 3].
  const num = (field: number): number => Number(f[field - 3]);
  const stat: ProcStat = {
    pid,
    state: f[0] ?? '?',
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    selfTicks: num(14) + num(15),
    childTicks: num(16) + num(17),
    startTime: num(22),
  };
  return Number.isInteger(pid) && Object.values(stat).every((v) => typeof v !== 'number' || Number.isFinite(v))
    ? stat
    : null;
}

/**
 * Reads /proc/PID/stat of every process on the machine. Resolves null when /proc cannot be
 * listed (not Linux), so callers can degrade instead of failing. Processes that exit while the
 * table is being read are silently skipped.
 */
export async function readProcessTable(): Promise<ProcStat[] | null> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return null;
  }
  const rows = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        try {
          return parseProcStat(await readFile(`/proc/${n}/stat`, 'utf8'));
        } catch {
          return null;
        }
      }),
  );
  return rows.filter((r): r is ProcStat => r !== null);
}

/**
 * Start time (ticks since boot) of a live process, or null when it does not exist or /proc is
 * unavailable. Used to tell a lock owner apart from an unrelated process that reused its pid.
 */
export async function readProcessStartTime(pid: number): Promise<number | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? null;
  } catch {
    return null;
  }
}

async function readRssBytes(pid: number): Promise<number> {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Watches the process tree rooted at a session/group leader spawned with `detached: true`. A
 * process belongs to the tree when its session id or process-group id equals the leader's pid;
 * this still finds descendants that were orphaned (re-parented to init), which a ppid walk would
 * lose, but it cannot see descendants that called setsid() themselves. Call `sample()`
 * periodically: it records the peak summed RSS and a CPU estimate that is the maximum over
 * samples of (CPU of live members including what they reaped) + (last-seen CPU of members that
 * disappeared while re-parented outside the tree, whose time the kernel hands to init). CPU a
 * process used after the last sample before it vanished, and processes that lived entirely
 * between two samples without being reaped by a member, are missed; the leader's own exit
 * accounting (`times`) complements this. On systems without /proc every figure stays 0.
 */
export class ProcessTreeMonitor {
  readonly leaderPid: number;
  #peakRssBytes = 0;
  #peakCpuTicks = 0;
  #orphanTicks = 0;
  /** Members seen in the previous sample, keyed by pid:startTime. */
  #previous = new Map<string, { pid: number; ppid: number; totalTicks: number }>();
  #sampling: Promise<void> | null = null;

  constructor(leaderPid: number) {
    this.leaderPid = leaderPid;
  }

  /** Peak summed RSS over all samples, in bytes. */
  get peakRssBytes(): number {
    return this.#peakRssBytes;
  }

  /** Best CPU estimate from samples alone, in seconds. */
  get sampledCpuSeconds(): number {
    return this.#peakCpuTicks / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * CPU of members that died after being re-parented outside the tree, in seconds. Disjoint
   * from what the leader reaped, so it may be added to the leader's `times` figure.
   */
  get orphanCpuSeconds(): number {
    return this.#orphanTicks / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * Takes one sample and returns the live (non-zombie) member pids, or null without /proc.
   * Concurrent calls share one in-flight read so the accounting never sees interleaved tables.
   */
  async sample(): Promise<number[] | null> {
    while (this.#sampling) await this.#sampling;
    const run = this.#sampleOnce();
    this.#sampling = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.#sampling = null;
    }
  }

  /**
   * Sends `signal` to the leader's process group and to every member found outside that group
   * (same session, different group). Returns how many live members there were; 0 means the
   * tree was already gone. Never throws for processes that vanished meanwhile.
   */
  async signalTree(signal: NodeJS.Signals): Promise<number> {
    const members = await this.#members();
    // Once the group is empty its id may be recycled for an unrelated process, so only signal a
    // group we have just seen populated.
    if (members && !members.some((m) => m.state !== 'Z')) return 0;
    try {
      process.kill(-this.leaderPid, signal);
    } catch {
      // ESRCH: the group is empty, or holds only members in other groups handled below.
    }
    for (const m of members ?? []) {
      if (m.pgrp === this.leaderPid) continue;
      try {
        process.kill(m.pid, signal);
      } catch {
        // Already gone.
      }
    }
    if (members) return members.filter((m) => m.state !== 'Z').length;
    return this.#groupExists() ? 1 : 0;
  }

  /**
   * Polls until no live member remains or `timeoutMs` passes; resolves true when the tree is
   * gone. Zombies count as gone: they hold no resources and only their parent can reap them.
   */
  async waitGone(timeoutMs: number, pollMs = 25): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const members = await this.#members();
      const alive = members ? members.some((m) => m.state !== 'Z') : this.#groupExists();
      if (!alive) return true;
      if (Date.now() >= deadline) return false;
      await sleep(pollMs);
    }
  }

  #groupExists(): boolean {
    try {
      process.kill(-this.leaderPid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  async #members(): Promise<ProcStat[] | null> {
    const table = await readProcessTable();
    return table?.filter((p) => p.session === this.leaderPid || p.pgrp === this.leaderPid) ?? null;
  }

  async #sampleOnce(): Promise<number[] | null> {
    const members = await this.#members();
    if (!members) return null;
    const current = new Map<string, { pid: number; ppid: number; totalTicks: number }>();
    let ticks = 0;
    for (const m of members) {
      ticks += m.selfTicks + m.childTicks;
      current.set(`${m.pid}:${m.startTime}`, { pid: m.pid, ppid: m.ppid, totalTicks: m.selfTicks + m.childTicks });
    }
    const previousPids = new Set([...this.#previous.values()].map((p) => p.pid));
    for (const [key, gone] of this.#previous) {
      if (current.has(key) || gone.pid === this.leaderPid) continue;
      // A member whose parent was in the tree was reaped by that parent (its time moved into the
      // parent's cutime, which we still read); one whose parent was outside was reaped by init
      // or a subreaper, and its time would otherwise vanish from the sum.
      if (!previousPids.has(gone.ppid)) this.#orphanTicks += gone.totalTicks;
    }
    this.#previous = current;
    const live = members.filter((m) => m.state !== 'Z');
    const rss = await Promise.all(live.map((m) => readRssBytes(m.pid)));
    this.#peakRssBytes = Math.max(
      this.#peakRssBytes,
      rss.reduce((a, b) => a + b, 0),
    );
    this.#peakCpuTicks = Math.max(this.#peakCpuTicks, ticks + this.#orphanTicks);
    return live.map((m) => m.pid);
  }
}
