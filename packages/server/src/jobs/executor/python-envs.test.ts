import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { LocalProcessExecutor } from './local-process-executor.js';
import { PythonEnvManager, normalizeRequirements } from './python-envs.js';
import type { PythonEnv } from './python-envs.js';

const execFileAsync = promisify(execFile);
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-pyenv-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshRoot(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs `ensure` in a separate Node process, as a second worker would. */
async function ensureInChild(envRoot: string, requirements: string[]): Promise<PythonEnv> {
  const moduleUrl = new URL('./python-envs.ts', import.meta.url).href;
  const script = `
    import { PythonEnvManager } from ${JSON.stringify(moduleUrl)};
    const env = await new PythonEnvManager({ root: ${JSON.stringify(envRoot)}, pollIntervalMs: 50 }).ensure(${JSON.stringify(requirements)});
    process.stdout.write(JSON.stringify(env));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as PythonEnv;
}

describe('normalizeRequirements', () => {
  it('trims, drops comments and blanks, sorts and deduplicates', () => {
    assert.deepEqual(
      normalizeRequirements(['  six==1.16.0 ', '# comment', '', 'numpy>=1.26  # pinned later', 'six==1.16.0', 'attrs']),
      ['attrs', 'numpy>=1.26', 'six==1.16.0'],
    );
  });

  it('rejects option-like, multi-line, continued and env-expanding lines, naming the line', () => {
    for (const bad of [
      '--index-url https://evil.example/simple',
      '-e git+https://example.com/x.git',
      '-r other.txt',
      '  --extra-index-url=https://evil.example',
      'six==1.16.0\n--index-url https://evil.example',
      'six==1.16.0\r',
      'six \\',
      'pkg @ https://evil.example/${PIP_INDEX_URL}',
    ]) {
      assert.throws(
        () => normalizeRequirements(['attrs', bad]),
        (error: Error) => error.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });
});

describe('PythonEnvManager', () => {
  it('creates an env for empty requirements once, then reuses it; its python runs', async () => {
    const manager = new PythonEnvManager({ root: await freshRoot('empty') });
    const notes: string[] = [];
    const first = await manager.ensure([], (_stream, chunk) => notes.push(chunk));
    assert.equal(first.reused, false);
    assert.equal(first.python, join(first.dir, 'bin', 'python'));
    assert.match(notes.join(''), /creating python env/);
    const marker = JSON.parse(await readFile(join(first.dir, '.hangar-ready'), 'utf8')) as { requirements: string[] };
    assert.deepEqual(marker.requirements, []);
    assert.equal(existsSync(join(first.dir, '.hangar-requirements.txt')), false, 'pip must not run for an empty set');

    const second = await manager.ensure(['# only a comment', '']);
    assert.deepEqual(second, { ...first, reused: true });

    const { stdout } = await execFileAsync(first.python, ['-c', 'import sys; print(sys.prefix)']);
    assert.equal(stdout.trim(), await realpath(first.dir));
    assert.equal(existsSync(`${first.dir}.lock`), false);
  });

  it('derives the same key for the same set in another order, and a different key otherwise', async () => {
    const manager = new PythonEnvManager({ root: await freshRoot('keys') });
    const a = await manager.keyFor(['six==1.16.0', 'attrs==23.2.0']);
    const b = await manager.keyFor(['attrs==23.2.0', '  six==1.16.0', 'six==1.16.0', '# x']);
    const c = await manager.keyFor(['six==1.16.0']);
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('rejects option-like requirement lines without building anything', async () => {
    const envRoot = await freshRoot('reject');
    const manager = new PythonEnvManager({ root: envRoot });
    await assert.rejects(
      manager.ensure(['six', '--index-url https://evil.example/simple']),
      /--index-url https:\/\/evil/,
    );
    await assert.rejects(manager.ensure(['-e .']), /"-e \."/);
    assert.deepEqual(await readdir(envRoot), []);
  });

  it('builds once when two processes ask for the same set concurrently', async () => {
    const envRoot = await freshRoot('concurrent');
    const requirements: string[] = [];
    const [here, other, again] = await Promise.all([
      new PythonEnvManager({ root: envRoot, pollIntervalMs: 50 }).ensure(requirements),
      ensureInChild(envRoot, requirements),
      new PythonEnvManager({ root: envRoot, pollIntervalMs: 50 }).ensure(requirements),
    ]);
    assert.equal(here.dir, other.dir);
    assert.equal(here.dir, again.dir);
    assert.equal([here, other, again].filter((e) => !e.reused).length, 1, JSON.stringify([here, other, again]));
    const marker = JSON.parse(await readFile(join(here.dir, '.hangar-ready'), 'utf8')) as { builderPid: number };
    assert.equal(marker.builderPid === process.pid, other.reused);
    assert.deepEqual((await readdir(envRoot)).sort(), [here.key]);
  });

  it('takes over a lock whose owner died', async () => {
    const envRoot = await freshRoot('stale');
    const manager = new PythonEnvManager({ root: envRoot, pollIntervalMs: 50 });
    const key = await manager.keyFor([]);
    const dead = spawnSync('true');
    assert.ok(dead.pid);
    await mkdir(join(envRoot, `${key}.lock`));
    await writeFile(
      join(envRoot, `${key}.lock`, 'owner.json'),
      JSON.stringify({
        pid: dead.pid,
        host: hostname(),
        token: 'dead',
        startTime: null,
        since: new Date().toISOString(),
      }),
    );
    // A half-built env from the dead owner must not be mistaken for a ready one.
    await mkdir(join(envRoot, key, 'junk'), { recursive: true });
    const env = await manager.ensure([]);
    assert.equal(env.reused, false);
    assert.equal(existsSync(join(env.dir, 'junk')), false);
    assert.deepEqual((await readdir(envRoot)).sort(), [key]);
  });

  it('removes the partial env and the lock when pip fails, with pip output in the error', async () => {
    const envRoot = await freshRoot('failing');
    const manager = new PythonEnvManager({ root: envRoot });
    const missing = join(root, 'no-such-project-dir');
    await assert.rejects(manager.ensure([missing]), (error: Error) => {
      assert.match(error.message, /pip install exited with code \d+/);
      assert.ok(error.message.includes('no-such-project-dir'), error.message);
      return true;
    });
    assert.deepEqual(await readdir(envRoot), []);
  });

  it('rejects when the base interpreter does not exist', async () => {
    const manager = new PythonEnvManager({ root: await freshRoot('nopython'), python: join(root, 'no-python') });
    await assert.rejects(manager.ensure([]), /probing base interpreter/);
  });

  it('resolves a run cancelled during its env build as cancelled, and the build still finishes', async () => {
    const envRoot = await freshRoot('cancel-build');
    const pythonEnvs = new PythonEnvManager({ root: envRoot });
    const executor = new LocalProcessExecutor({ workRoot: join(root, 'work'), pythonEnvs });
    const controller = new AbortController();
    // Cancel once the build holds its lock (not after a fixed delay: on a busy machine probing the
    // interpreter alone can take longer, and then no build would be under way to finish).
    let abortedAt = 0;
    const building = setInterval(() => {
      void readdir(envRoot)
        .then((names) => {
          if (!controller.signal.aborted && names.some((n) => n.endsWith('.lock'))) {
            abortedAt = Date.now();
            controller.abort();
          }
        })
        .catch(() => undefined);
    }, 10);
    const result = await executor.run(
      { command: ['python', '-c', 'open("ran", "w")'], python: { requirements: [] } },
      { jobId: 'cancel-build', signal: controller.signal, onOutput: () => undefined },
    );
    clearInterval(building);
    assert.equal(result.cancelled, true);
    assert.equal(result.exitCode, null);
    // The run ends at the cancel, without waiting for the build.
    assert.ok(abortedAt > 0 && Date.now() - abortedAt < 1500, `ended ${Date.now() - abortedAt} ms after the cancel`);
    const env = await pythonEnvs.ensure([]);
    assert.equal(env.reused, true);
  });

  it('installs from PyPI and runs the job inside the env through LocalProcessExecutor', async () => {
    const pythonEnvs = new PythonEnvManager({ root: await freshRoot('pypi'), pipTimeoutMs: 120_000 });
    const executor = new LocalProcessExecutor({ workRoot: join(root, 'work'), pythonEnvs });
    const chunks: { stream: string; chunk: string }[] = [];
    const result = await executor.run(
      {
        command: [
          'python',
          '-c',
          'import os, sys, six; print(six.__version__); print(sys.prefix == os.environ["VIRTUAL_ENV"])',
        ],
        python: { requirements: ['six==1.16.0'] },
      },
      {
        jobId: 'pypi',
        signal: new AbortController().signal,
        onOutput: (stream, chunk) => chunks.push({ stream, chunk }),
      },
    );
    const text = (s: string): string =>
      chunks
        .filter((c) => c.stream === s)
        .map((c) => c.chunk)
        .join('');
    assert.equal(result.exitCode, 0, text('stderr') + text('system'));
    assert.equal(text('stdout'), '1.16.0\nTrue\n');
    assert.match(text('system'), /Successfully installed six-1\.16\.0/);
  });
});
