import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalProcessExecutor, parseTimesOutput } from './local-process-executor.js';
import type { ExecResult, OutputStream, ProcessSpec } from './types.js';

let root: string;
let workRoot: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-exec-test-'));
  workRoot = join(root, 'work');
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Captured {
  result: ExecResult;
  chunks: { stream: OutputStream; chunk: string }[];
  text(stream: OutputStream): string;
}

async function runCaptured(
  spec: ProcessSpec,
  opts: {
    executor?: LocalProcessExecutor;
    signal?: AbortSignal;
    jobId?: string;
    onOutput?: (stream: OutputStream, chunk: string) => void;
  } = {},
): Promise<Captured> {
  const executor = opts.executor ?? new LocalProcessExecutor({ workRoot, killGraceMs: 300 });
  const chunks: { stream: OutputStream; chunk: string }[] = [];
  const result = await executor.run(spec, {
    jobId: opts.jobId ?? 'test-job',
    signal: opts.signal ?? new AbortController().signal,
    onOutput: (stream, chunk) => {
      chunks.push({ stream, chunk });
      opts.onOutput?.(stream, chunk);
    },
  });
  return {
    result,
    chunks,
    text: (stream) =>
      chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.chunk)
        .join(''),
  };
}

/** A pid counts as alive unless /proc says it is gone or a zombie (dead, awaiting its reaper). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function pidsIn(text: string, tag: string): number[] {
  return [...text.matchAll(new RegExp(`\\b${tag}=(\\d+)`, 'g'))].map((m) => Number(m[1]));
}

describe('LocalProcessExecutor', () => {
  it('captures stdout and stderr separately and reports the exit code', async () => {
    const ok = await runCaptured({ command: ['sh', '-c', 'echo out; echo err >&2'] });
    assert.equal(ok.result.exitCode, 0);
    assert.equal(ok.result.signal, null);
    assert.equal(ok.text('stdout'), 'out\n');
    assert.equal(ok.text('stderr'), 'err\n');
    assert.equal(ok.result.timedOut, false);
    assert.equal(ok.result.cancelled, false);
    assert.equal(ok.result.logsTruncated, false);
    assert.ok(ok.result.usage.wallSeconds > 0);

    const failed = await runCaptured({ command: ['sh', '-c', 'exit 3'] });
    assert.equal(failed.result.exitCode, 3);
    assert.equal(failed.result.signal, null);
  });

  it('passes argv through verbatim, without shell interpretation', async () => {
    const args = ['a b', '$HOME', '"q"', "it's", '*', ''];
    const { result, text } = await runCaptured({
      command: ['python3', '-c', 'import json,sys; print(json.dumps(sys.argv[1:]))', ...args],
    });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(JSON.parse(text('stdout')), args);
  });

  it('gives the process a minimal environment plus spec.env, never the server env', async () => {
    process.env.HANGAR_TEST_SERVER_SECRET = 'do-not-leak';
    try {
      const { result, text } = await runCaptured({ command: ['env'], env: { MY_VAR: 'x=y z' } });
      assert.equal(result.exitCode, 0);
      const vars = new Map(
        text('stdout')
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      assert.equal(vars.get('MY_VAR'), 'x=y z');
      assert.equal(vars.has('HANGAR_TEST_SERVER_SECRET'), false);
      assert.deepEqual([...vars.keys()].filter((k) => k !== 'PWD' && k !== 'MY_VAR').sort(), [
        'HOME',
        'LANG',
        'PATH',
        'TMPDIR',
      ]);
    } finally {
      delete process.env.HANGAR_TEST_SERVER_SECRET;
    }
  });

  it('runs in a fresh work dir under workRoot that is removed afterwards, or in spec.cwd', async () => {
    const { result, text } = await runCaptured(
      { command: ['sh', '-c', 'pwd; touch made-here'] },
      { jobId: 'job/../x' },
    );
    assert.equal(result.exitCode, 0);
    const dir = text('stdout').trim();
    assert.ok(dir.startsWith(`${workRoot}/job_.._x-`), dir);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(await readdir(workRoot), []);

    const own = await mkdtemp(join(root, 'own-cwd-'));
    const inOwn = await runCaptured({ command: ['sh', '-c', 'pwd; touch kept'], cwd: own });
    assert.equal(inOwn.text('stdout').trim(), own);
    assert.equal(existsSync(join(own, 'kept')), true);

    await assert.rejects(runCaptured({ command: ['true'], cwd: join(root, 'missing') }), /is not a directory/);
  });

  it('resolves a missing command with exit code 127 and a system line, and 126 for a non-executable', async () => {
    const missing = await runCaptured({ command: ['hangar-no-such-command-xyz', 'arg'] });
    assert.equal(missing.result.exitCode, 127);
    assert.match(missing.text('system'), /command not found: hangar-no-such-command-xyz/);
    assert.equal(missing.text('stdout') + missing.text('stderr'), '');

    const script = join(root, 'not-exec.sh');
    await writeFile(script, '#!/bin/sh\necho hi\n');
    await chmod(script, 0o644);
    const denied = await runCaptured({ command: [script] });
    assert.equal(denied.result.exitCode, 126);
    assert.match(denied.text('system'), /not executable/);

    await assert.rejects(runCaptured({ command: [] }), /non-empty/);
  });

  it('resolves the command through spec.env PATH, not the server PATH', async () => {
    const bin = await mkdtemp(join(root, 'bin-'));
    await writeFile(join(bin, 'hangar-hello'), '#!/bin/sh\necho "hello from $0"\n');
    await chmod(join(bin, 'hangar-hello'), 0o755);
    const { result, text } = await runCaptured({
      command: ['hangar-hello'],
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    assert.equal(result.exitCode, 0);
    assert.equal(text('stdout'), `hello from ${bin}/hangar-hello\n`);
  });

  it('kills the whole tree on cancellation, escalating to SIGKILL for processes that ignore SIGTERM', async () => {
    const controller = new AbortController();
    const chunks: string[] = [];
    const executor = new LocalProcessExecutor({ workRoot, killGraceMs: 300 });
    const started = Date.now();
    const running = executor.run(
      {
        command: [
          'sh',
          '-c',
          'trap "" TERM; sleep 1000 & echo child=$!; python3 -c "import os,signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(\'py=%d\' % os.getpid(), flush=True); time.sleep(1000)"',
        ],
      },
      {
        jobId: 'cancel',
        signal: controller.signal,
        onOutput: (stream, chunk) => {
          chunks.push(chunk);
          if (/py=\d+/.test(chunks.join(''))) controller.abort();
        },
      },
    );
    const result = await running;
    const text = chunks.join('');
    const pids = [...pidsIn(text, 'child'), ...pidsIn(text, 'py')];
    assert.equal(pids.length, 2, text);
    assert.equal(result.cancelled, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGTERM');
    assert.match(text, /SIGKILL/);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} survived`);
    assert.ok(Date.now() - started < 10_000);
  });

  it('times out, kills grandchildren, and reports timedOut', async () => {
    const started = Date.now();
    const { result, text } = await runCaptured({
      command: ['sh', '-c', 'sleep 1000 & echo child=$!; sh -c "sleep 1000 & echo grandchild=\\$!; wait"'],
      timeoutMs: 1000,
    });
    const pids = [...pidsIn(text('stdout'), 'child'), ...pidsIn(text('stdout'), 'grandchild')];
    assert.equal(pids.length, 2, text('stdout'));
    assert.equal(result.timedOut, true);
    assert.equal(result.cancelled, false);
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGTERM');
    assert.match(text('system'), /timed out after 1000 ms/);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} survived`);
    assert.ok(result.usage.wallSeconds >= 1 && result.usage.wallSeconds < 5, String(result.usage.wallSeconds));
    assert.ok(Date.now() - started < 6000);
  });

  it('kills background processes left behind when the command exits', async () => {
    const { result, text } = await runCaptured({ command: ['sh', '-c', 'sleep 1000 & echo bg=$!; exit 0'] });
    const [pid] = pidsIn(text('stdout'), 'bg');
    assert.ok(pid);
    assert.equal(result.exitCode, 0);
    assert.match(text('system'), /cleaning up background processes/);
    assert.equal(isAlive(pid), false);
  });

  it('does not start anything when already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(root, 'should-not-exist');
    const { result } = await runCaptured({ command: ['touch', marker] }, { signal: controller.signal });
    assert.equal(result.cancelled, true);
    assert.equal(result.exitCode, null);
    assert.equal(existsSync(marker), false);
  });

  it('bounds the log, keeps draining a chatty process, and says how much was dropped', async () => {
    const executor = new LocalProcessExecutor({ workRoot, maxLogBytes: 1000 });
    const started = Date.now();
    // 8 MB: far more than a pipe buffer, so a reader that stopped draining would hang the child.
    const { result, text } = await runCaptured(
      {
        command: [
          'python3',
          '-c',
          'import sys\nfor _ in range(8192): sys.stdout.write("x" * 1023 + "\\n")\nsys.stderr.write("done\\n")',
        ],
      },
      { executor },
    );
    assert.equal(result.exitCode, 0);
    assert.equal(result.logsTruncated, true);
    const kept = Buffer.byteLength(text('stdout')) + Buffer.byteLength(text('stderr'));
    assert.equal(kept, 1000);
    const dropped = Number(/(\d+) bytes of output dropped/.exec(text('system'))?.[1]);
    assert.equal(kept + dropped, 8192 * 1024 + 'done\n'.length);
    assert.equal(text('system').match(/dropped/g)?.length, 1);
    assert.ok(Date.now() - started < 15_000);
  });

  it('never splits a multibyte character across chunks', async () => {
    // Writes the 3-byte euro sign and a 4-byte emoji one byte at a time, flushing in between,
    // so the pipe delivers chunk boundaries inside characters.
    const { result, text, chunks } = await runCaptured({
      command: [
        'python3',
        '-c',
        'import sys,time\nfor b in "€😀".encode() * 3:\n  sys.stdout.buffer.write(bytes([b])); sys.stdout.flush(); time.sleep(0.005)',
      ],
    });
    assert.equal(result.exitCode, 0);
    assert.equal(text('stdout'), '€😀€😀€😀');
    assert.ok(chunks.filter((c) => c.stream === 'stdout').length > 1, 'expected several chunks');
    assert.ok(!text('stdout').includes('\ufffd'));
  });

  it('counts the CPU of a child of the spawned command', async () => {
    const { result } = await runCaptured({
      command: [
        'sh',
        '-c',
        'python3 -c "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass"',
      ],
    });
    assert.equal(result.exitCode, 0);
    assert.ok(result.usage.cpuSeconds >= 0.7, `cpuSeconds=${result.usage.cpuSeconds}`);
    assert.ok(result.usage.cpuSeconds < 5, `cpuSeconds=${result.usage.cpuSeconds}`);
  });

  it('counts reaped descendants through the shell `times` report even without sampling', async () => {
    // With a sampling period longer than the run, /proc is read only before the command starts
    // and after it is gone, so the figure must come from the wrapper shell's `times`.
    const executor = new LocalProcessExecutor({ workRoot, sampleIntervalMs: 60_000 });
    const { result } = await runCaptured(
      {
        command: [
          'sh',
          '-c',
          'sleep 0.3; python3 -c "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass"',
        ],
      },
      { executor },
    );
    assert.equal(result.exitCode, 0);
    assert.ok(result.usage.cpuSeconds >= 0.7, `cpuSeconds=${result.usage.cpuSeconds}`);
  });

  it('counts the CPU of a killed tree, where the shell never reports times', async () => {
    // Cancel only once python has provably burnt 1.2 s of CPU, so a loaded machine cannot make
    // the figure legitimately small.
    const controller = new AbortController();
    const { result } = await runCaptured(
      {
        command: [
          'sh',
          '-c',
          'python3 -c "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.2: pass\nprint(\'burnt\', flush=True)\nwhile True: pass"',
        ],
      },
      {
        signal: controller.signal,
        executor: new LocalProcessExecutor({
          workRoot,
          killGraceMs: 300,
        }),
        onOutput: (_stream, chunk) => {
          if (chunk.includes('burnt')) controller.abort();
        },
      },
    );
    assert.equal(result.cancelled, true);
    assert.equal(result.signal, 'SIGTERM');
    assert.ok(result.usage.cpuSeconds >= 0.7, `cpuSeconds=${result.usage.cpuSeconds}`);
  });

  it('counts the CPU of an orphaned descendant reaped outside the tree', async () => {
    // The subshell exits at once, so python is re-parented away from the tree and its CPU is
    // invisible to `times`; only the /proc sampling can see it. The command waits for python's
    // "done" file so the test does not depend on how fast a loaded machine runs it.
    const { result } = await runCaptured({
      command: [
        'sh',
        '-c',
        "(python3 -c \"import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass\nopen('done', 'w')\" &); while [ ! -f done ]; do sleep 0.05; done; sleep 0.3",
      ],
    });
    assert.equal(result.exitCode, 0);
    assert.ok(result.usage.cpuSeconds >= 0.7, `cpuSeconds=${result.usage.cpuSeconds}`);
  });

  it('reports the peak RSS of the tree', async () => {
    const { result } = await runCaptured({
      command: [
        'sh',
        '-c',
        'python3 -c "import time\nb = bytearray(200 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\ntime.sleep(0.5)"',
      ],
    });
    assert.equal(result.exitCode, 0);
    assert.ok(result.usage.peakRssBytes >= 150 * 1024 * 1024, `peakRssBytes=${result.usage.peakRssBytes}`);
    assert.ok(result.usage.peakRssBytes < 1024 * 1024 * 1024, `peakRssBytes=${result.usage.peakRssBytes}`);
  });

  it('reports a signal death it did not cause as 128+n with an explanatory system line', async () => {
    const { result, text } = await runCaptured({
      command: ['python3', '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'],
    });
    assert.equal(result.exitCode, 137);
    assert.equal(result.signal, null);
    assert.match(text('system'), /exit code 137: .*SIGKILL/);
  });

  it('abandons pipes held by a process that escaped the tree with setsid', async () => {
    const started = Date.now();
    const { result, text } = await runCaptured({
      command: ['sh', '-c', "setsid sh -c 'echo esc=$$; exec sleep 30' & sleep 0.2; echo done"],
    });
    const [escaped] = pidsIn(text('stdout'), 'esc');
    assert.ok(escaped, text('stdout'));
    try {
      assert.equal(result.exitCode, 0);
      assert.match(text('stdout'), /done/);
      assert.match(text('system'), /escaped process/);
      assert.ok(Date.now() - started < 5000);
      // Documented limitation: a process in its own session is out of the executor's reach.
      assert.equal(isAlive(escaped), true);
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
  });

  it('keeps concurrent runs apart', async () => {
    const executor = new LocalProcessExecutor({ workRoot });
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        runCaptured(
          {
            command: ['sh', '-c', 'for i in 1 2 3; do echo "$RUN_ID:$i"; sleep 0.05; done; exit $RUN_ID'],
            env: { RUN_ID: String(n) },
          },
          { executor, jobId: `par-${n}` },
        ),
      ),
    );
    runs.forEach(({ result, text }, i) => {
      assert.equal(result.exitCode, i + 1);
      assert.equal(text('stdout'), `${i + 1}:1\n${i + 1}:2\n${i + 1}:3\n`);
    });
  });

  it('rejects a python spec when no env manager is configured', async () => {
    await assert.rejects(runCaptured({ command: ['python'], python: { requirements: [] } }), /no pythonEnvs manager/);
  });

  it('parses both dash and bash `times` formats', () => {
    assert.equal(parseTimesOutput('0m0.010000s 0m0.000000s\n1m2.500000s 0m0.250000s\n'), 62.75);
    assert.equal(parseTimesOutput('0m0.001s 0m0.000s\n0m1.060s 0m0.030s\n'), 1.09);
    assert.equal(parseTimesOutput('0m0.001s 0m0.000s\n'), null);
    assert.equal(parseTimesOutput(''), null);
  });
});
