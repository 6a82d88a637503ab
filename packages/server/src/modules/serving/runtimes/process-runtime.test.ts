import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RuntimeInputError, RuntimeUnavailableError } from '../runtime.js';
import type { Tensor } from '../tensors.js';
import { ExternalRuntime } from './external-runtime.js';
import { ProcessRuntime, type ProcessRuntimeEvent } from './process-runtime.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** A virtualenv's python with MLServer, mlserver-mlflow, mlflow and scikit-learn installed. */
const PYTHON = process.env.HANGAR_TEST_MLSERVER_PYTHON;
const SKIP = PYTHON
  ? false
  : 'set HANGAR_TEST_MLSERVER_PYTHON to the python of a venv with mlserver==1.7.1, mlserver-mlflow==1.7.1, mlflow and scikit-learn';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process is left in the process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

describe('ProcessRuntime: option checks', () => {
  it('refuses a missing model folder or python before spawning anything', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'hangar-proc-'));
    try {
      await assert.rejects(
        ProcessRuntime.start({ modelDir: path.join(work, 'nope'), name: 'm', python: process.execPath, workDir: work }),
        /modelDir .*nope is not a folder/,
      );
      await assert.rejects(
        ProcessRuntime.start({ modelDir: work, name: 'm', python: path.join(work, 'no-python'), workDir: work }),
        /python .*no-python does not exist/,
      );
      await assert.rejects(
        ProcessRuntime.start({ modelDir: work, name: 'a/b', python: process.execPath, workDir: work }),
        /name "a\/b" must be non-empty without slashes/,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('rejects with the log when the process exits at once, leaving nothing behind', async () => {
    // A "python" that exits at once, as a broken venv does.
    const work = await mkdtemp(path.join(os.tmpdir(), 'hangar-proc-'));
    try {
      await assert.rejects(
        ProcessRuntime.start({ modelDir: work, name: 'm', python: '/bin/false', workDir: path.join(work, 'w') }),
        /MLServer exited \(code \d+\) before m was ready; its log ends:\n[\s\S]*hangar: starting MLServer/,
      );
      assert.match(await readFile(path.join(work, 'w', 'mlserver.log'), 'utf8'), /MLServer exited/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('ProcessRuntime (MLServer)', { skip: SKIP }, () => {
  let work = '';
  let modelDir = '';
  let expected: { rows: number[][]; predictions: number[] };

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'hangar-mlserver-'));
    // The model is made by the test venv itself: a pickled estimator loads only with the scikit-learn that wrote it.
    await promisify(execFile)(PYTHON!, [path.join(HERE, 'fixtures', 'make_mlflow_model.py'), work], {
      timeout: 120_000,
    });
    modelDir = path.join(work, 'model');
    expected = JSON.parse(readFileSync(path.join(work, 'expected.json'), 'utf8')) as typeof expected;
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const rows = (): Tensor => ({
    name: 'input-0',
    datatype: 'FP64',
    shape: [expected.rows.length, 4],
    data: Float64Array.from(expected.rows.flat()),
  });

  it('serves the MLflow model as scikit-learn predicts, restarts it after kill -9, kills it when hung, fails after too many crashes, and close leaves no process', async () => {
    const events: ProcessRuntimeEvent[] = [];
    const rt = await ProcessRuntime.start({
      modelDir,
      name: 'iris',
      python: PYTHON!,
      workDir: path.join(work, 'serve'),
      maxRestarts: 1,
      restartBackoffMs: 100,
      healthIntervalMs: 300,
      onEvent: (e) => events.push(e),
    });
    const pids: number[] = [];
    try {
      assert.equal(rt.kind, 'process');
      assert.equal(rt.ready(), true);
      assert.deepEqual(rt.metadata(), {
        platform: 'mlserver_mlflow',
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 4] }],
        outputs: [{ name: 'output-0', datatype: 'INT64', shape: [-1] }],
      });
      const [out] = await rt.infer([rows()]);
      assert.equal(out!.name, 'output-0'); // MLServer itself calls it output-1
      assert.equal(out!.datatype, 'INT64');
      assert.deepEqual(Array.from(out!.data as BigInt64Array, Number), expected.predictions);
      assert.deepEqual(
        (await rt.infer([rows()], ['output-0'])).map((t) => t.name),
        ['output-0'],
      );
      // MLServer answers a bad shape with a bare 500; the runtime refuses it first, naming the input.
      await assert.rejects(rt.infer([{ ...rows(), shape: [expected.rows.length * 2, 2] }]), (e: Error) => {
        return e instanceof RuntimeInputError && /input "input-0" has shape \[14, 2\]/.test(e.message);
      });
      assert.equal(events.map((e) => e.type).join(), 'started');

      // The same server through the external runtime: its OIP client against a real OIP server.
      const external = await ExternalRuntime.open({ url: rt.url!, model: 'iris' });
      try {
        assert.deepEqual(external.metadata().inputs, rt.metadata().inputs);
        assert.equal(external.ready(), true);
        const [viaExternal] = await external.infer([rows()]);
        assert.equal(viaExternal!.name, 'output-0');
        assert.deepEqual(Array.from(viaExternal!.data as BigInt64Array, Number), expected.predictions);
      } finally {
        await external.close();
      }
      assert.match(readFileSync(path.join(work, 'serve', 'mlserver.log'), 'utf8'), /Loaded model 'iris'/);

      // kill -9: unavailable at once, restarted, serving again.
      const first = rt.pid!;
      pids.push(first);
      process.kill(first, 'SIGKILL');
      await waitFor('the exit noticed', () => !rt.ready(), 10_000);
      await assert.rejects(rt.infer([rows()]), RuntimeUnavailableError);
      await waitFor('the restart', () => rt.ready(), 120_000);
      assert.notEqual(rt.pid, first);
      assert.equal(alive(first), false);
      pids.push(rt.pid!);
      const [again] = await rt.infer([rows()]);
      assert.deepEqual(Array.from(again!.data as BigInt64Array, Number), expected.predictions);
      assert.deepEqual(
        events.map((e) => e.type),
        ['started', 'exited', 'restarting', 'started'],
      );
      assert.match(events[1]!.detail, /signal SIGKILL/);

      // A hung server (stopped, not dead) fails its readiness checks and is killed: a second crash
      // within the window, one more than maxRestarts allows.
      process.kill(rt.pid!, 'SIGSTOP');
      await waitFor('the failure', () => events.at(-1)?.type === 'failed', 30_000);
      assert.equal(rt.ready(), false);
      assert.equal(rt.pid, undefined);
      await assert.rejects(rt.infer([rows()]), /the model server of iris is failed/);
      assert.match(events.at(-1)!.detail, /crashed more than 1 times/);
      assert.match(
        readFileSync(path.join(work, 'serve', 'mlserver.log'), 'utf8'),
        /iris failed 3 readiness checks; killing MLServer/,
      );
    } finally {
      await rt.close();
    }
    for (const pid of pids) assert.equal(groupAlive(pid), false, `process group ${pid} is gone`);
  });

  it('close stops the process group gracefully', async () => {
    const rt = await ProcessRuntime.start({
      modelDir,
      name: 'iris',
      python: PYTHON!,
      workDir: path.join(work, 'close'),
    });
    const pid = rt.pid!;
    assert.equal(groupAlive(pid), true);
    const started = Date.now();
    await rt.close();
    assert.equal(groupAlive(pid), false);
    assert.ok(Date.now() - started < 10_000, 'stopped by SIGTERM, before the SIGKILL grace ran out');
    assert.match(await readFile(path.join(work, 'close', 'mlserver.log'), 'utf8'), /MLServer exited \(code 0\)/);
    assert.equal(rt.ready(), false);
    await rt.close(); // twice is harmless
  });

  it('rejects, with the log, a model that fails to load', async () => {
    const empty = path.join(work, 'empty-model');
    await mkdir(empty, { recursive: true });
    await assert.rejects(
      ProcessRuntime.start({ modelDir: empty, name: 'broken', python: PYTHON!, workDir: path.join(work, 'broken') }),
      /MLServer exited \(code \d+\) before broken was ready; its log ends:\n[\s\S]*(MLmodel|failed to load|Traceback)/i,
    );
  });

  it('leaves no orphan when the process that started it is killed -9', async () => {
    const script = `
      import { ProcessRuntime } from ${JSON.stringify(path.join(HERE, 'process-runtime.ts'))};
      const rt = await ProcessRuntime.start(${JSON.stringify({ modelDir, name: 'iris', python: PYTHON, workDir: path.join(work, 'orphan') })});
      console.log('PID ' + rt.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      parent.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await waitFor('the server started by the parent', () => /PID \d+/.test(out), 120_000);
      const pid = Number(/PID (\d+)/.exec(out)![1]);
      assert.equal(alive(pid), true);
      parent.kill('SIGKILL');
      await waitFor('the orphaned server to stop', () => !groupAlive(pid), 30_000);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
