// End-to-end: the built `hangar` binary against a real server it started itself (`hangar server`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HangarApiError, HangarClient, type Job } from '@hangar/sdk';
import { closedPort, startServer, type ServerProcess } from '@hangar/server/testing';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'packages/cli/dist/bin.js');
const PASSWORD = 'cli-test-password';
const TOKEN = `hgr_clitest${'y'.repeat(24)}`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tmpDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

/** The environment without anything from the developer's own shell that would change the CLI's choices. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('HANGAR_')) delete env[k];
  return { ...env, ...extra };
}

/** Runs the built CLI with its own config dir; resolves when it exits. */
function hangar(
  args: string[],
  opts: { configDir: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv({ HANGAR_CONFIG_DIR: opts.configDir, ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`hangar ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/** `hangar server` through the CLI's own binary, on a free port with a fresh data dir. */
function startCliServer(): Promise<ServerProcess> {
  return startServer(['--data-dir', tempDir('hangar-cli-data-')], {
    entry: [BIN, 'server'],
    env: cleanEnv({ HANGAR_ADMIN_PASSWORD: PASSWORD, HANGAR_ADMIN_TOKEN: TOKEN }),
  });
}

async function waitForJob(client: HangarClient, id: string, done: (j: Job) => boolean): Promise<Job> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = await client.getJob({ id });
    if (done(job)) return job;
    if (Date.now() > deadline) assert.fail(`job ${id} stuck in ${job.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * These tests run the built binary; a build older than its sources would test yesterday's code,
 * so say so instead (building here would couple this suite to every package's type errors).
 */
function assertFreshBuild(): void {
  for (const pkg of ['cli', 'sdk']) {
    const src = path.join(ROOT, 'packages', pkg, 'src');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? walk(path.join(dir, e.name))
          : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
            ? [path.join(dir, e.name)]
            : [],
      );
    for (const file of walk(src)) {
      const built = path.join(ROOT, 'packages', pkg, 'dist', path.relative(src, file).replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs) {
        assert.fail(`${path.relative(ROOT, built)} is missing or older than its source; run: npx tsc -b packages/cli`);
      }
    }
  }
}

function assertNoStack(r: Result): void {
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('hangar CLI against a real server', () => {
  let server: ServerProcess;
  let admin: HangarClient;
  /** A config dir logged in as admin with the admin token. */
  let loggedIn: string;

  before(async () => {
    assertFreshBuild();
    server = await startCliServer();
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    loggedIn = tempDir('hangar-cli-cfg-');
    const r = await hangar(['login', '--url', server.url, '--token', TOKEN], { configDir: loggedIn });
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await server?.stop();
    for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  });

  test('login with a token stores it in a 0600 file inside a 0700 dir', async () => {
    const dir = path.join(tempDir('hangar-cli-cfg-'), 'nested');
    const r = await hangar(['login', '--url', `${server.url}/`, '--token', TOKEN], { configDir: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /logged in to:\s+http:\/\/127\.0\.0\.1:\d+\n/);
    assert.match(r.stdout, /as:\s+admin \(admin\)/);
    const file = path.join(dir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { url: server.url, token: TOKEN, username: 'admin' });
  });

  test('login with username and --password-stdin stores a new token, never the password; logout revokes it', async () => {
    const dir = tempDir('hangar-cli-cfg-');
    const r = await hangar(['login', '--url', server.url, '--username', 'admin', '--password-stdin', '--json'], {
      configDir: dir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { username: string }).username, 'admin');
    const file = path.join(dir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(PASSWORD), 'the password is not stored');
    const stored = JSON.parse(text) as { url: string; token: string; username: string; tokenId: string };
    assert.equal(stored.url, server.url);
    assert.equal(stored.username, 'admin');
    assert.match(stored.token, /^hgr_/);
    assert.notEqual(stored.token, TOKEN);
    const minted = (await admin.listTokens()).items.find((t) => t.id === stored.tokenId);
    assert.equal(minted?.name, `cli@${hostname()}`.slice(0, 100));

    const me = await hangar(['whoami', '--json'], { configDir: dir });
    assert.equal(me.code, 0, me.stderr);
    assert.equal((JSON.parse(me.stdout) as { tokenId: string }).tokenId, stored.tokenId);

    const out = await hangar(['logout'], { configDir: dir });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Logged out of http:\/\/127\.0\.0\.1:\d+; token revoked/);
    assert.equal(existsSync(file), false);
    await assert.rejects(
      new HangarClient({ baseUrl: server.url, token: stored.token }).whoami(),
      (e: HangarApiError) => e.status === 401,
    );

    const again = await hangar(['logout'], { configDir: dir });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Not logged in/);
  });

  test('logout after a --token login forgets the token but does not revoke it', async () => {
    const dir = tempDir('hangar-cli-cfg-');
    assert.equal((await hangar(['login', '--url', server.url, '--token', TOKEN], { configDir: dir })).code, 0);
    const r = await hangar(['logout'], { configDir: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /revoked/);
    assert.equal((await admin.whoami()).username, 'admin');
  });

  test('a wrong password exits 3 with the server message and writes nothing', async () => {
    const dir = tempDir('hangar-cli-cfg-');
    const r = await hangar(['login', '--url', server.url, '--username', 'admin', '--password-stdin'], {
      configDir: dir,
      input: 'wrong-password\n',
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^hangar: 401 unauthenticated: .+ \(request id [\w-]+\)\n$/);
    assertNoStack(r);
    assert.equal(existsSync(path.join(dir, 'credentials.json')), false);
  });

  test('login without a password source and without a terminal is a usage error', async () => {
    const r = await hangar(['login', '--url', server.url, '--username', 'admin'], {
      configDir: tempDir('hangar-cli-cfg-'),
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^hangar: no password: pass --password-stdin/);
  });

  test('whoami prints a table for people and JSON with --json (before or after the command)', async () => {
    const r = await hangar(['whoami'], { configDir: loggedIn });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username:\s+admin$/m);
    assert.match(r.stdout, /^admin:\s+yes$/m);
    assert.match(r.stdout, new RegExp(`^server:\\s+${server.url.replace(/\./g, '\\.')}$`, 'm'));
    for (const args of [
      ['whoami', '--json'],
      ['--json', 'whoami'],
    ]) {
      const j = await hangar(args, { configDir: loggedIn });
      assert.equal(j.code, 0, j.stderr);
      const me = JSON.parse(j.stdout) as { username: string; isAdmin: boolean };
      assert.equal(me.username, 'admin');
      assert.equal(me.isAdmin, true);
    }
  });

  test('HANGAR_URL and HANGAR_TOKEN work without a stored login', async () => {
    const r = await hangar(['whoami', '--json'], {
      configDir: tempDir('hangar-cli-cfg-'),
      env: { HANGAR_URL: server.url, HANGAR_TOKEN: TOKEN },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { username: string }).username, 'admin');
  });

  test('jobs run --wait streams the log of an exec job to stdout', async () => {
    const r = await hangar(
      ['jobs', 'run', '--kind', 'system.exec', '--payload', '{"command":["sh","-c","echo hello"]}', '--wait'],
      { configDir: loggedIn },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /succeeded/);
  });

  test('jobs run --wait exits 1 when the job fails, naming the error', async () => {
    const r = await hangar(
      [
        'jobs',
        'run',
        '--kind',
        'system.exec',
        '--payload',
        '{"command":["sh","-c","echo oops; exit 3"]}',
        '--max-attempts',
        '1',
        '--wait',
      ],
      { configDir: loggedIn },
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'oops\n');
    assert.match(r.stderr, /^hangar: job \S+ failed: command exited with code 3$/m);
    assertNoStack(r);
  });

  test('jobs run --json prints the job; jobs get and jobs logs read it back', async () => {
    const r = await hangar(
      [
        'jobs',
        'run',
        '--kind',
        'system.exec',
        '--payload',
        '{"command":["sh","-c","echo one; sleep 0.3; echo two"]}',
        '--json',
      ],
      {
        configDir: loggedIn,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout) as Job;
    assert.equal(job.kind, 'system.exec');

    const follow = await hangar(['jobs', 'logs', job.id, '--follow'], { configDir: loggedIn });
    assert.equal(follow.code, 0, follow.stderr);
    assert.equal(follow.stdout, 'one\ntwo\n');

    const logs = await hangar(['jobs', 'logs', job.id], { configDir: loggedIn });
    assert.equal(logs.stdout, 'one\ntwo\n');
    const jsonLogs = await hangar(['jobs', 'logs', job.id, '--json'], { configDir: loggedIn });
    const chunks = jsonLogs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { data: string; attempt: number });
    assert.equal(chunks.map((c) => c.data).join(''), 'one\ntwo\n');
    assert.equal(chunks[0]!.attempt, 1);

    const get = await hangar(['jobs', 'get', job.id], { configDir: loggedIn });
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, new RegExp(`^id:\\s+${job.id}$`, 'm'));
    assert.match(get.stdout, /^state:\s+succeeded$/m);
    assert.match(get.stdout, /^attempt:\s+1\/\d+$/m);
    const getJson = JSON.parse(
      (await hangar(['jobs', 'get', job.id, '--json'], { configDir: loggedIn })).stdout,
    ) as Job;
    assert.equal(getJson.state, 'succeeded');
    assert.deepEqual(getJson.payload, { command: ['sh', '-c', 'echo one; sleep 0.3; echo two'] });
  });

  test('jobs cancel stops a long-running exec job', async () => {
    const r = await hangar(
      ['jobs', 'run', '--kind', 'system.exec', '--payload', '{"command":["sleep","30"]}', '--json'],
      { configDir: loggedIn },
    );
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout) as Job;
    await waitForJob(admin, job.id, (j) => j.state === 'running');
    const started = Date.now();
    const c = await hangar(['jobs', 'cancel', job.id], { configDir: loggedIn });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, new RegExp(`(Cancelled job|Cancellation requested for job) ${job.id}`));
    const done = await waitForJob(admin, job.id, (j) => j.finishedAt !== null);
    assert.equal(done.state, 'cancelled');
    assert.ok(Date.now() - started < 20_000, 'cancelled well before sleep 30 would end');
  });

  test('jobs list: table, --json, --limit with a cursor, --all, filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await admin.enqueueJob({ body: { kind: 'system.noop' } })).id);
    for (const id of ids) await waitForJob(admin, id, (j) => j.state === 'succeeded');

    const table = await hangar(['jobs', 'list', '--kind', 'system.noop'], { configDir: loggedIn });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+KIND\s+STATE\s+ATTEMPT\s+CREATED\s+DURATION$/);
    assert.equal(lines.length, 1 + 3);
    // Columns line up: every row has its KIND where the header has it.
    const kindAt = lines[0]!.indexOf('KIND');
    for (const line of lines.slice(1)) assert.equal(line.indexOf('system.noop'), kindAt);

    const json = JSON.parse(
      (await hangar(['jobs', 'list', '--json', '--kind', 'system.noop'], { configDir: loggedIn })).stdout,
    ) as {
      items: Job[];
      nextCursor: string | null;
    };
    assert.deepEqual(json.items.map((j) => j.id).sort(), [...ids].sort());
    assert.equal(json.nextCursor, null);

    const page = await hangar(['jobs', 'list', '--json', '--kind', 'system.noop', '--limit', '2'], {
      configDir: loggedIn,
    });
    const first = JSON.parse(page.stdout) as { items: Job[]; nextCursor: string | null };
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const rest = JSON.parse(
      (
        await hangar(['jobs', 'list', '--json', '--kind', 'system.noop', '--cursor', first.nextCursor], {
          configDir: loggedIn,
        })
      ).stdout,
    ) as { items: Job[] };
    assert.deepEqual([...first.items, ...rest.items].map((j) => j.id).sort(), [...ids].sort());
    const human = await hangar(['jobs', 'list', '--kind', 'system.noop', '--limit', '2'], { configDir: loggedIn });
    assert.match(human.stderr, /more with --all/);

    const all = JSON.parse((await hangar(['jobs', 'list', '--json', '--all'], { configDir: loggedIn })).stdout) as {
      items: Job[];
    };
    assert.ok(all.items.length >= 3);
    const failed = JSON.parse(
      (await hangar(['jobs', 'list', '--json', '--state', 'failed', '--kind', 'system.noop'], { configDir: loggedIn }))
        .stdout,
    ) as {
      items: Job[];
    };
    assert.deepEqual(failed.items, []);
  });

  describe('errors', () => {
    test('not logged in exits 3 and says how to log in', async () => {
      const r = await hangar(['jobs', 'list'], { configDir: tempDir('hangar-cli-cfg-') });
      assert.equal(r.code, 3);
      assert.equal(r.stderr, 'hangar: not logged in; run hangar login --url URL --token TOKEN (or --username USER)\n');
      assert.equal(r.stdout, '');
    });

    test('an unknown job exits 1 with status, code, message and request id', async () => {
      const r = await hangar(['jobs', 'get', 'no-such-job'], { configDir: loggedIn });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^hangar: 404 not_found: no job no-such-job \(request id [\w-]+\)\n$/);
      assertNoStack(r);
    });

    test('a rejected token exits 3', async () => {
      const r = await hangar(['whoami', '--token', 'hgr_notavalidtokenatall'], { configDir: loggedIn });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /^hangar: 401 unauthenticated: .*log in again with: hangar login\n$/);
    });

    test('bad flags and arguments exit 2', async () => {
      for (const args of [
        ['jobs', 'list', '--bogus'],
        ['jobs', 'list', '--state', 'sleeping'],
        ['jobs', 'list', '--limit', 'ten'],
        ['jobs', 'run', '--kind', 'system.noop', '--payload', '{not json'],
        ['jobs', 'run'],
        ['jobs', 'get'],
        ['frobnicate'],
        ['login', '--url', 'not a url', '--token', TOKEN],
      ]) {
        const r = await hangar(args, { configDir: loggedIn });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /^hangar: /, args.join(' '));
        assertNoStack(r);
      }
    });

    test('an API input error exits 1 naming the problem', async () => {
      const r = await hangar(['jobs', 'run', '--kind', 'no.such.kind'], { configDir: loggedIn });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^hangar: 400 invalid_input: unknown job kind "no\.such\.kind"/);
    });

    test('an unreachable server gets one clear line', async () => {
      const port = await closedPort();
      const r = await hangar(['whoami'], {
        configDir: tempDir('hangar-cli-cfg-'),
        env: { HANGAR_URL: `http://127.0.0.1:${port}`, HANGAR_TOKEN: TOKEN },
      });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `hangar: cannot reach http://127.0.0.1:${port}/api/v1/me: connection refused\n`);
    });

    test('the stored token is never sent to another server', async () => {
      const port = await closedPort();
      const r = await hangar(['whoami', '--url', `http://127.0.0.1:${port}`], { configDir: loggedIn });
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`^hangar: not logged in to http://127\\.0\\.0\\.1:${port}; run hangar login`));
    });

    test('hangar server reports bad server flags with exit 2', async () => {
      const r = await hangar(['server', '--port', '0', '--no-such-setting', 'x'], { configDir: loggedIn });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no-such-setting/);
    });
  });
});
