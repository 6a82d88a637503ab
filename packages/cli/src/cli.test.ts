// End-to-end: the built `hangar` binary against a real server it started itself (`hangar server`).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  HangarApiError,
  HangarClient,
  type AuditEvent,
  type Job,
  type Project,
  type ProjectMember,
  type Team,
  type Token,
  type User,
} from '@hangar/sdk';
import { buildApp, defaultConfig } from '@hangar/server';
import { closedPort, type ServerProcess } from '@hangar/server/testing';
import {
  assertFreshBuild,
  assertNoStack,
  hangar,
  removeTempDirs,
  startCliServer as startServer,
  tempDir,
  type Result,
} from './cli-harness.js';

const PASSWORD = 'cli-test-password';
const TOKEN = `hgr_clitest${'y'.repeat(24)}`;

function startCliServer(): Promise<ServerProcess> {
  return startServer({ password: PASSWORD, token: TOKEN });
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
    removeTempDirs();
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

  test('experiments list/get and runs get show what an MLflow client logged', async () => {
    const exp = await admin.createExperiment({ project: 'default', body: { name: 'cli-exp' } });
    const mlflow = (path: string, body: unknown) =>
      fetch(`${server.url}/api/2.0/mlflow/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (res) => {
        assert.equal(res.status, 200, await res.clone().text());
        return res.json() as Promise<{ run: { info: { run_id: string } } }>;
      });
    const created = await mlflow('runs/create', { experiment_id: exp.experimentId, run_name: 'cli-run' });
    const runId = created.run.info.run_id;
    await mlflow('runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.01' }],
      metrics: [{ key: 'acc', value: 0.93, step: 3, timestamp: 1 }],
    });

    const list = await hangar(['experiments', 'list', '--project', 'default'], { configDir: loggedIn });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${exp.experimentId}\\s+cli-exp\\s+active`, 'm'));
    assert.match(list.stdout, /^0\s+Default\s+active/m);
    const get = await hangar(['experiments', 'get', exp.experimentId, '--json'], { configDir: loggedIn });
    assert.equal((JSON.parse(get.stdout) as { name: string }).name, 'cli-exp');
    const run = await hangar(['runs', 'get', runId], { configDir: loggedIn });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^name:\s+cli-run$/m);
    assert.match(run.stdout, /^lr\s+0\.01$/m);
    assert.match(run.stdout, /^acc\s+0\.93\s+3$/m);
    const missing = await hangar(['runs', 'get', '0'.repeat(32)], { configDir: loggedIn });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
    assertNoStack(missing);
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
  describe('identity commands', () => {
    const ERIN_PASSWORD = 'erin-password-1';
    /** A config dir logged in as erin, a user who is no platform admin. */
    let asErin: string;

    /** Runs the CLI as admin (or with `opts`) and fails the test unless it exits 0. */
    async function ok(args: string[], opts: { configDir?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
      const r = await hangar(args, { configDir: loggedIn, ...opts });
      assert.equal(r.code, 0, `hangar ${args.join(' ')}: ${r.stderr}`);
      return r;
    }

    async function okJson<T>(
      args: string[],
      opts: { configDir?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
    ): Promise<T> {
      return JSON.parse((await ok([...args, '--json'], opts)).stdout) as T;
    }

    /** Runs the CLI expecting exit `code`; the stderr line must match `message`, without a stack. */
    async function fails(
      args: string[],
      code: number,
      message: RegExp,
      opts: { configDir?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
    ): Promise<Result> {
      const r = await hangar(args, { configDir: loggedIn, ...opts });
      assert.equal(r.code, code, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, message, `hangar ${args.join(' ')}`);
      assertNoStack(r);
      return r;
    }

    async function loginAs(username: string, password: string): Promise<string> {
      const dir = tempDir('hangar-cli-cfg-');
      await ok(['login', '--url', server.url, '--username', username, '--password-stdin'], {
        configDir: dir,
        input: `${password}\n`,
      });
      return dir;
    }

    async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const v = await check();
        if (v !== undefined) return v;
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const FORBIDDEN = /^hangar: 403 forbidden: this action needs a platform admin \(request id [\w-]+\)\n$/;

    before(async () => {
      await admin.createUser({ body: { username: 'erin', password: ERIN_PASSWORD } });
      await admin.createUser({ body: { username: 'frank', password: 'frank-password-1' } });
      asErin = await loginAs('erin', ERIN_PASSWORD);
    });

    describe('users', () => {
      test('users create prints a generated password once; it works; a second create conflicts', async () => {
        const r = await ok(['users', 'create', 'carol', '--display-name', 'Carol C', '--email', 'carol@example.com']);
        assert.match(r.stdout, /^username:\s+carol$/m);
        assert.match(r.stdout, /^name:\s+Carol C$/m);
        assert.match(r.stdout, /^admin:\s+no$/m);
        const password = /^password:\s+(\S+)$/m.exec(r.stdout)?.[1];
        assert.ok(password, r.stdout);
        assert.match(r.stderr, /generated password is shown only this once/);
        const me = await new HangarClient({ baseUrl: server.url, username: 'carol', password }).whoami();
        assert.equal(me.displayName, 'Carol C');
        assert.equal(me.email, 'carol@example.com');
        assert.equal((await admin.getUser({ username: 'carol' })).isAdmin, false);
        await fails(['users', 'create', 'carol'], 1, /^hangar: 409 conflict: user "carol" already exists/);
      });

      test('users create --password-stdin --admin --json', async () => {
        const created = await okJson<{ user: User; generatedPassword: string | null }>(
          ['users', 'create', 'dave', '--password-stdin', '--admin'],
          { input: 'dave-password-1\n' },
        );
        assert.equal(created.user.username, 'dave');
        assert.equal(created.user.isAdmin, true);
        assert.equal(created.generatedPassword, null);
        const me = await new HangarClient({
          baseUrl: server.url,
          username: 'dave',
          password: 'dave-password-1',
        }).whoami();
        assert.equal(me.isAdmin, true);
        await fails(['users', 'create', 'dave2', '--password-stdin'], 1, /^hangar: 400 invalid_input: /, {
          input: 'short\n',
        });
        await assert.rejects(admin.getUser({ username: 'dave2' }), (e: HangarApiError) => e.status === 404);
      });

      test('users get, list, update, disable and enable', async () => {
        await admin.createUser({ body: { username: 'gina', displayName: 'Gina G', password: 'gina-password-1' } });
        const get = await ok(['users', 'get', 'gina']);
        assert.match(get.stdout, /^username:\s+gina$/m);
        assert.match(get.stdout, /^name:\s+Gina G$/m);
        assert.match(get.stdout, /^status:\s+active$/m);
        assert.equal((await okJson<User>(['users', 'get', 'gina'])).displayName, 'Gina G');

        const list = await ok(['users', 'list']);
        const lines = list.stdout.trimEnd().split('\n');
        assert.match(lines[0]!, /^USERNAME\s+NAME\s+EMAIL\s+ADMIN\s+STATUS\s+CREATED$/);
        assert.ok(
          lines.some((l) => /^gina\s+Gina G\s+-\s+no\s+active\s+/.test(l)),
          list.stdout,
        );
        assert.ok(lines.some((l) => /^admin\s+/.test(l)));
        const found = await okJson<{ items: User[] }>(['users', 'list', '--query', 'gina']);
        assert.deepEqual(
          found.items.map((u) => u.username),
          ['gina'],
        );

        const updated = await okJson<User>([
          'users',
          'update',
          'gina',
          '--display-name',
          'Gina H',
          '--email',
          'g@x.io',
        ]);
        assert.equal(updated.displayName, 'Gina H');
        assert.equal(updated.email, 'g@x.io');
        assert.equal((await okJson<User>(['users', 'update', 'gina', '--email', ''])).email, null);
        await fails(['users', 'update', 'gina'], 2, /^hangar: nothing to change/);

        const disabled = await ok(['users', 'disable', 'gina']);
        assert.match(disabled.stdout, /^Disabled user gina\.$/m);
        assert.match(disabled.stdout, /^status:\s+disabled$/m);
        const active = await okJson<{ items: User[] }>(['users', 'list', '--query', 'gina']);
        assert.deepEqual(active.items, []);
        const all = await okJson<{ items: User[] }>(['users', 'list', '--query', 'gina', '--all']);
        assert.equal(all.items[0]?.disabled, true);
        await fails(
          ['login', '--url', server.url, '--username', 'gina', '--password-stdin'],
          3,
          /^hangar: 401 unauthenticated: /,
          { configDir: tempDir('hangar-cli-cfg-'), input: 'gina-password-1\n' },
        );
        assert.equal((await okJson<User>(['users', 'enable', 'gina'])).disabled, false);
        await loginAs('gina', 'gina-password-1');
      });

      test('users set-admin takes true/false or --admin/--no-admin', async () => {
        await admin.createUser({ body: { username: 'hank', password: 'hank-password-1' } });
        const granted = await ok(['users', 'set-admin', 'hank', 'true']);
        assert.match(granted.stdout, /^Granted platform admin to hank\.$/m);
        assert.equal((await admin.getUser({ username: 'hank' })).isAdmin, true);
        await ok(['users', 'set-admin', 'hank', '--no-admin']);
        assert.equal((await admin.getUser({ username: 'hank' })).isAdmin, false);
        assert.equal((await okJson<User>(['users', 'set-admin', 'hank', '--admin'])).isAdmin, true);
        assert.equal((await okJson<User>(['users', 'set-admin', 'hank', 'false'])).isAdmin, false);
        await fails(['users', 'set-admin', 'hank'], 2, /^hangar: set-admin needs true or false/);
        await fails(['users', 'set-admin', 'hank', 'maybe'], 2, /expected true or false/);
        await fails(['users', 'set-admin', 'hank', 'true', '--no-admin'], 2, /contradicts --no-admin/);
        assert.equal((await admin.getUser({ username: 'hank' })).isAdmin, false);
      });

      test("users set-password: an admin resets anyone's; users change their own with the current one", async () => {
        await admin.createUser({ body: { username: 'ivy', password: 'ivy-password-1' } });
        const reset = await ok(['users', 'set-password', 'ivy', '--password-stdin'], { input: 'ivy-password-2\n' });
        assert.match(reset.stdout, /^Changed the password of ivy/);
        const basic = (password: string) => new HangarClient({ baseUrl: server.url, username: 'ivy', password });
        assert.equal((await basic('ivy-password-2').whoami()).username, 'ivy');
        await assert.rejects(basic('ivy-password-1').whoami(), (e: HangarApiError) => e.status === 401);

        const asIvy = await loginAs('ivy', 'ivy-password-2');
        await ok(['users', 'set-password', 'ivy', '--password-stdin'], {
          configDir: asIvy,
          input: 'ivy-password-2\nivy-password-3\n',
        });
        assert.equal((await basic('ivy-password-3').whoami()).username, 'ivy');
        const wrong = await fails(
          ['users', 'set-password', 'ivy', '--password-stdin'],
          1,
          /^hangar: the current password is wrong; nothing was changed\n$/,
          { configDir: asIvy, input: 'not-my-password\nivy-password-4\n' },
        );
        assert.doesNotMatch(wrong.stderr, /log in again/);
        await fails(['users', 'set-password', 'ivy', '--password-stdin'], 2, /needs two lines on stdin/, {
          configDir: asIvy,
          input: 'ivy-password-9\n',
        });
        await fails(['users', 'set-password', 'ivy'], 2, /^hangar: no password: pass --password-stdin/, {
          configDir: asIvy,
        });
        await fails(['users', 'set-password', 'erin', '--password-stdin'], 1, FORBIDDEN, {
          configDir: asIvy,
          input: 'hijacked-password\n',
        });
        assert.equal((await basic('ivy-password-3').whoami()).username, 'ivy');
      });

      test('unknown users are a clear 404; non-admins are refused with 403 and nothing changes', async () => {
        await fails(['users', 'get', 'ghost'], 1, /^hangar: 404 not_found: no user "ghost" \(request id [\w-]+\)\n$/);
        await fails(['users', 'disable', 'ghost'], 1, /^hangar: 404 not_found: no user "ghost"/);
        await fails(
          ['users', 'set-password', 'ghost', '--password-stdin'],
          1,
          /^hangar: 404 not_found: no user "ghost"/,
          {
            input: 'whatever-password\n',
          },
        );
        await fails(['users', 'create', 'zed'], 1, FORBIDDEN, { configDir: asErin });
        await assert.rejects(admin.getUser({ username: 'zed' }), (e: HangarApiError) => e.status === 404);
        await fails(['users', 'disable', 'admin'], 1, FORBIDDEN, { configDir: asErin });
        await fails(['users', 'set-admin', 'erin', 'true'], 1, FORBIDDEN, { configDir: asErin });
        await fails(['users', 'update', 'frank', '--display-name', 'F'], 1, FORBIDDEN, { configDir: asErin });
        assert.equal((await admin.getUser({ username: 'erin' })).isAdmin, false);
        // The directory itself is open to every signed-in user, and so is one's own profile.
        const list = await okJson<{ items: User[] }>(['users', 'list'], { configDir: asErin });
        assert.ok(list.items.some((u) => u.username === 'admin'));
        await ok(['users', 'update', 'erin', '--display-name', 'Erin E'], { configDir: asErin });
        assert.equal((await admin.getUser({ username: 'erin' })).displayName, 'Erin E');
      });
    });

    describe('teams', () => {
      test('create, members, roles, update, delete with confirmation', async () => {
        const created = await ok([
          'teams',
          'create',
          'vision',
          '--display-name',
          'Vision',
          '--description',
          'CV models',
        ]);
        assert.match(created.stdout, /^Created team vision\.$/m);
        assert.match((await ok(['teams', 'list'])).stdout, /^vision\s+Vision\s+0\s+\d{4}-/m);

        assert.equal(
          (await ok(['teams', 'add-member', 'vision', 'erin', '--lead'])).stdout,
          'erin is now a lead of team vision.\n',
        );
        assert.equal(
          (await ok(['teams', 'add-member', 'vision', 'frank'])).stdout,
          'frank is now a member of team vision.\n',
        );
        await ok(['teams', 'set-role', 'vision', 'frank', 'lead']);
        await fails(['teams', 'set-role', 'vision', 'frank', 'boss'], 2, /Allowed choices are member, lead/);
        await fails(['teams', 'add-member', 'vision', 'ghost'], 1, /^hangar: 404 not_found: no user "ghost"/);

        const team = await okJson<Team & { members: { username: string; role: string }[] }>(['teams', 'get', 'vision']);
        assert.equal(team.memberCount, 2);
        assert.deepEqual(team.members.map((m) => [m.username, m.role]).sort(), [
          ['erin', 'lead'],
          ['frank', 'lead'],
        ]);
        const get = await ok(['teams', 'get', 'vision']);
        assert.match(get.stdout, /^description:\s+CV models$/m);
        assert.match(get.stdout, /^USERNAME\s+NAME\s+ROLE\s+ADDED$/m);
        assert.match(get.stdout, /^frank\s+frank\s+lead\s+/m);

        // A team lead may edit the team, not create or delete teams.
        const updated = await okJson<Team>(['teams', 'update', 'vision', '--description', 'by a lead'], {
          configDir: asErin,
        });
        assert.equal(updated.description, 'by a lead');
        await fails(['teams', 'create', 'erins-team'], 1, FORBIDDEN, { configDir: asErin });
        await fails(['teams', 'delete', 'vision', '--yes'], 1, FORBIDDEN, { configDir: asErin });

        assert.equal(
          (await ok(['teams', 'remove-member', 'vision', 'frank'])).stdout,
          'Removed frank from team vision.\n',
        );
        await fails(
          ['teams', 'remove-member', 'vision', 'frank'],
          1,
          /^hangar: 404 not_found: "frank" is not a member of team "vision"/,
        );

        await fails(
          ['teams', 'delete', 'vision'],
          2,
          /^hangar: refusing to delete team "vision" without confirmation; pass --yes/,
        );
        assert.equal((await admin.getTeam({ team: 'vision' })).name, 'vision');
        assert.equal((await ok(['teams', 'delete', 'vision', '--yes'])).stdout, 'Deleted team vision.\n');
        await assert.rejects(admin.getTeam({ team: 'vision' }), (e: HangarApiError) => e.status === 404);
        await fails(['teams', 'get', 'vision'], 1, /^hangar: 404 not_found: no team "vision"/);
        await fails(
          ['teams', 'delete', 'default', '--yes'],
          1,
          /^hangar: 409 conflict: the default team cannot be deleted/,
        );
      });
    });

    describe('projects', () => {
      test('create, list, get, update, members, grant, revoke, delete', async () => {
        await ok(['teams', 'create', 'nlp']);
        await ok(['teams', 'add-member', 'nlp', 'erin']);
        const project = await okJson<Project>([
          'projects',
          'create',
          'chatbot',
          '--team',
          'nlp',
          '--description',
          'LLM things',
        ]);
        assert.equal(project.team, 'nlp');
        assert.equal(project.description, 'LLM things');
        await fails(['projects', 'create', 'orphan'], 2, /required option '--team <team>' not specified/);
        await fails(['projects', 'create', 'orphan', '--team', 'nope'], 1, /^hangar: 404 not_found: no team "nope"/);

        const table = await ok(['projects', 'list']);
        assert.match(table.stdout, /^NAME\s+TEAM\s+ROLE\s+DISPLAY NAME\s+CREATED$/m);
        assert.match(table.stdout, /^chatbot\s+nlp\s+admin\s+chatbot\s+/m);
        // Erin is a member of the owning team, so she develops in the project.
        const mine = await okJson<{ items: Project[] }>(['projects', 'list'], { configDir: asErin });
        assert.equal(mine.items.find((p) => p.name === 'chatbot')?.role, 'developer');
        assert.match((await ok(['projects', 'get', 'chatbot'])).stdout, /^team:\s+nlp$/m);

        await ok(['projects', 'grant', 'chatbot', 'frank', 'maintainer']);
        await fails(
          ['projects', 'grant', 'chatbot', 'frank', 'owner'],
          2,
          /Allowed choices are viewer, developer, maintainer, admin/,
        );
        const members = await okJson<{ items: ProjectMember[] }>(['projects', 'members', 'chatbot']);
        const byName = new Map(members.items.map((m) => [m.username, m]));
        assert.equal(byName.get('frank')?.directRole, 'maintainer');
        assert.equal(byName.get('erin')?.teamRole, 'member');
        assert.equal(byName.get('erin')?.role, 'developer');
        assert.match(
          (await ok(['projects', 'members', 'chatbot'])).stdout,
          /^frank\s+maintainer\s+maintainer\s+-\s+frank$/m,
        );

        // A developer can neither change the project nor hand out roles.
        await fails(
          ['projects', 'grant', 'chatbot', 'erin', 'admin'],
          1,
          /^hangar: 403 forbidden: this action needs the admin role in project "chatbot"; you are developer/,
          {
            configDir: asErin,
          },
        );
        await fails(['projects', 'update', 'chatbot', '--description', 'x'], 1, /^hangar: 403 forbidden: /, {
          configDir: asErin,
        });

        assert.equal(
          (await ok(['projects', 'revoke', 'chatbot', 'frank'])).stdout,
          'Revoked the direct role of frank in project chatbot.\n',
        );
        await fails(
          ['projects', 'revoke', 'chatbot', 'frank'],
          1,
          /^hangar: 404 not_found: "frank" has no direct role/,
        );
        const after = await okJson<{ items: ProjectMember[] }>(['projects', 'members', 'chatbot']);
        assert.ok(!after.items.some((m) => m.username === 'frank'));

        const updated = await okJson<Project>(['projects', 'update', 'chatbot', '--display-name', 'Chat Bot']);
        assert.equal(updated.displayName, 'Chat Bot');
        await fails(['projects', 'update', 'chatbot'], 2, /^hangar: nothing to change/);

        await fails(['teams', 'delete', 'nlp', '--yes'], 1, /^hangar: 409 conflict: team "nlp" owns 1 project\(s\)/);
        await fails(
          ['projects', 'delete', 'chatbot'],
          2,
          /^hangar: refusing to delete project "chatbot" and everything in it without confirmation; pass --yes/,
        );
        await fails(['projects', 'delete', 'chatbot', '--yes'], 1, FORBIDDEN, { configDir: asErin });
        assert.equal((await admin.getProject({ project: 'chatbot' })).name, 'chatbot');
        assert.equal((await ok(['projects', 'delete', 'chatbot', '-y'])).stdout, 'Deleted project chatbot.\n');
        await fails(['projects', 'get', 'chatbot'], 1, /^hangar: 404 not_found: no project "chatbot"/);
        await ok(['teams', 'delete', 'nlp', '--yes']);
      });

      test('secrets: set from stdin, list names only, delete; values never printed', async () => {
        const VALUE = 'sup3r-s3cret-value';
        const outputs: Result[] = [];
        const run = async (args: string[], input?: string) => {
          const r = await ok(args, { input });
          outputs.push(r);
          return r;
        };
        assert.equal(
          (await run(['projects', 'secrets', 'set', 'default', 'API_KEY', '--value-stdin'], `${VALUE}\n`)).stdout,
          'Stored secret API_KEY in project default.\n',
        );
        const list = await run(['projects', 'secrets', 'list', 'default']);
        assert.match(list.stdout, /^NAME\s+UPDATED\s+CREATED\s+CREATED BY$/m);
        assert.match(list.stdout, /^API_KEY\s+\S+ \S+\s+\S+ \S+\s+admin$/m);
        const json = await run(['projects', 'secrets', 'list', 'default', '--json']);
        assert.deepEqual(
          (JSON.parse(json.stdout) as { items: { name: string }[] }).items.map((s) => s.name),
          ['API_KEY'],
        );
        await run(['projects', 'secrets', 'set', 'default', 'API_KEY', '--value-stdin', '--json'], 'rotated-value\n');
        for (const r of outputs) assert.ok(!`${r.stdout}${r.stderr}`.includes(VALUE), 'the value is never printed');

        await fails(['projects', 'secrets', 'set', 'default', 'OTHER'], 2, /^hangar: no value: pass --value-stdin/);
        await fails(
          ['projects', 'secrets', 'set', 'default', 'bad-name', '--value-stdin'],
          1,
          /^hangar: 400 invalid_input: /,
          {
            input: 'x\n',
          },
        );
        // Erin develops in the default project (default team member): secrets are for maintainers.
        await fails(
          ['projects', 'secrets', 'set', 'default', 'API_KEY', '--value-stdin'],
          1,
          /^hangar: 403 forbidden: /,
          {
            configDir: asErin,
            input: 'hijack\n',
          },
        );

        assert.equal(
          (await ok(['projects', 'secrets', 'delete', 'default', 'API_KEY'])).stdout,
          'Deleted secret API_KEY from project default.\n',
        );
        await fails(
          ['projects', 'secrets', 'delete', 'default', 'API_KEY'],
          1,
          /^hangar: 404 not_found: no secret "API_KEY"/,
        );
        assert.equal((await ok(['projects', 'secrets', 'list', 'default'])).stdout, 'No secrets.\n');
      });
    });

    describe('tokens', () => {
      test('create prints the secret once; it works, confined to its project; list and revoke', async () => {
        const r = await ok(['tokens', 'create', 'ci-token', '--project', 'default', '--expires-in-days', '7']);
        const secret = /^token:\s+(hgr_\S+)$/m.exec(r.stdout)?.[1];
        assert.ok(secret, r.stdout);
        assert.match(r.stdout, /^project:\s+default$/m);
        assert.match(r.stderr, /it will not be shown again/);
        const id = /^id:\s+(\S+)$/m.exec(r.stdout)![1]!;

        const me = await okJson<{ username: string; tokenId: string; projectId: string }>(['whoami'], {
          configDir: tempDir('hangar-cli-cfg-'),
          env: { HANGAR_URL: server.url, HANGAR_TOKEN: secret },
        });
        assert.equal(me.tokenId, id);
        assert.equal(me.projectId, (await admin.getProject({ project: 'default' })).id);

        const list = await ok(['tokens', 'list']);
        assert.match(list.stdout, /^ID\s+NAME\s+PREFIX\s+PROJECT\s+STATUS\s+CREATED\s+EXPIRES\s+LAST USED$/m);
        assert.match(list.stdout, new RegExp(`^${id}\\s+ci-token\\s+hgr_\\S+\\s+default\\s+active\\s+`, 'm'));
        assert.ok(!list.stdout.includes(secret), 'list never shows the secret');
        const listed = await okJson<{ items: Token[] }>(['tokens', 'list']);
        const item = listed.items.find((t) => t.id === id)!;
        assert.equal(item.project, 'default');
        assert.equal('token' in item, false);

        const json = await okJson<Token & { token: string }>(['tokens', 'create', 'json-token']);
        assert.match(json.token, /^hgr_/);
        assert.ok(json.token.startsWith(json.prefix));
        assert.equal(json.project, null);
        assert.equal(json.expiresAt, null);

        assert.equal((await ok(['tokens', 'revoke', id])).stdout, `Revoked token ${id}.\n`);
        await fails(['whoami'], 3, /^hangar: 401 unauthenticated: /, {
          configDir: tempDir('hangar-cli-cfg-'),
          env: { HANGAR_URL: server.url, HANGAR_TOKEN: secret },
        });
        const revoked = await ok(['tokens', 'list']);
        assert.match(revoked.stdout, new RegExp(`^${id}\\s+ci-token\\s+\\S+\\s+default\\s+revoked\\s+`, 'm'));
        await ok(['tokens', 'revoke', json.id]);
        await fails(['tokens', 'revoke', 'no-such-token'], 1, /^hangar: 404 not_found: no token no-such-token/);
      });

      test('tokens errors: bad expiry, unknown project, other users need a platform admin', async () => {
        await fails(['tokens', 'create', 'x', '--expires-in-days', '0'], 2, /expected a whole number from 1 to 3650/);
        await fails(['tokens', 'create', 'x', '--project', 'nope'], 1, /^hangar: 404 not_found: no project "nope"/, {
          configDir: asErin,
        });
        const erins = await okJson<{ items: Token[] }>(['tokens', 'list', '--user', 'erin']);
        assert.ok(erins.items.length >= 1, 'the token erin logged in with');
        await fails(['tokens', 'list', '--user', 'admin'], 1, FORBIDDEN, { configDir: asErin });
        await fails(['tokens', 'list', '--user', 'ghost'], 1, /^hangar: 404 not_found: no user "ghost"/);
      });
    });

    describe('audit', () => {
      test('list: filters, table, --json, --limit with a cursor, --all', async () => {
        await ok(['teams', 'create', 'audited']);
        for (const u of ['erin', 'frank']) await ok(['teams', 'add-member', 'audited', u]);
        await ok(['teams', 'remove-member', 'audited', 'frank']);

        const created = await okJson<{ items: AuditEvent[]; nextCursor: string | null }>([
          'audit',
          'list',
          '--action',
          'team.create',
          '--target',
          'audited',
        ]);
        assert.equal(created.items.length, 1);
        assert.equal(created.items[0]!.actor, 'admin');
        assert.equal(created.items[0]!.outcome, 'success');
        assert.equal(created.nextCursor, null);

        const table = await ok(['audit', 'list', '--target', 'audited']);
        const lines = table.stdout.trimEnd().split('\n');
        assert.match(lines[0]!, /^SEQ\s+TIME\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+REASON$/);
        assert.deepEqual(
          lines.slice(1).map((l) => l.split(/\s{2,}/)[3]),
          ['team.member.remove', 'team.member.set', 'team.member.set', 'team.create'],
        );
        assert.match(lines[4]!, /\s+admin\s+team\.create\s+team:audited\s+success\s+-$/);

        const family = await okJson<{ items: AuditEvent[] }>([
          'audit',
          'list',
          '--target',
          'audited',
          '--action',
          'team.member.*',
        ]);
        assert.equal(family.items.length, 3);

        const first = await okJson<{ items: AuditEvent[]; nextCursor: string | null }>([
          'audit',
          'list',
          '--target',
          'audited',
          '--limit',
          '3',
        ]);
        assert.equal(first.items.length, 3);
        assert.ok(first.nextCursor);
        const rest = await okJson<{ items: AuditEvent[] }>([
          'audit',
          'list',
          '--target',
          'audited',
          '--cursor',
          first.nextCursor,
        ]);
        const all = await okJson<{ items: AuditEvent[] }>(['audit', 'list', '--target', 'audited', '--all']);
        assert.deepEqual(
          [...first.items, ...rest.items].map((e) => e.id),
          all.items.map((e) => e.id),
        );
        assert.equal(all.items.length, 4);
        assert.match((await ok(['audit', 'list', '--target', 'audited', '--limit', '1'])).stderr, /more with --all/);

        assert.equal(
          (await okJson<{ items: AuditEvent[] }>(['audit', 'list', '--target', 'audited', '--since', '1h'])).items
            .length,
          4,
        );
        assert.equal(
          (await ok(['audit', 'list', '--target', 'audited', '--until', '2000-01-01'])).stdout,
          'No audit events.\n',
        );
        await fails(['audit', 'list', '--outcome', 'maybe'], 2, /Allowed choices are success, denied, failure/);
        await fails(['audit', 'list', '--since', 'yesterday'], 2, /expected an ISO date or date-time/);
        await fails(['audit', 'list', '--action', 'Not An Action'], 1, /^hangar: 400 invalid_input: /);
        await ok(['teams', 'delete', 'audited', '--yes']);
      });

      test('refusals are audited with their reason; the log is for admins and maintainers', async () => {
        await fails(['teams', 'create', 'sneaky'], 1, FORBIDDEN, { configDir: asErin });
        await eventually(async () => {
          const page = await admin.listAuditEvents({ actor: 'erin', outcome: 'denied', target: 'sneaky' });
          return page.items.length ? page : undefined;
        }, 'the denied team.create');
        const r = await ok(['audit', 'list', '--actor', 'erin', '--outcome', 'denied', '--target', 'sneaky']);
        assert.match(r.stdout, /\s+erin\s+team\.create\s+team:sneaky\s+denied\s+this action needs a platform admin$/m);

        await fails(
          ['audit', 'list'],
          1,
          /^hangar: 403 forbidden: the audit log is for platform admins and project maintainers/,
          { configDir: asErin },
        );
        await fails(['audit', 'verify'], 1, FORBIDDEN, { configDir: asErin });
        await fails(['audit', 'export'], 1, /^hangar: 403 forbidden: /, { configDir: asErin });
      });

      test('verify reports an intact chain; export streams JSON lines to stdout or a file', async () => {
        const v = await ok(['audit', 'verify']);
        assert.match(v.stdout, /^Audit chain OK: \d+ event\(s\) verified, up to seq \d+/);
        const vj = await okJson<{ ok: boolean; checked: number; problem: unknown }>(['audit', 'verify']);
        assert.equal(vj.ok, true);
        assert.equal(vj.problem, null);
        assert.ok(vj.checked > 10);

        await ok(['teams', 'create', 'exported']);
        await ok(['teams', 'update', 'exported', '--description', 'x']);
        const listed = await okJson<{ items: AuditEvent[] }>(['audit', 'list', '--target', 'exported', '--all']);
        const out = await ok(['audit', 'export', '--target', 'exported']);
        assert.ok(out.stdout.endsWith('\n'));
        const lines = out.stdout.trimEnd().split('\n');
        assert.deepEqual(
          lines.map((l) => (JSON.parse(l) as AuditEvent).id),
          listed.items.map((e) => e.id),
        );
        assert.deepEqual(
          lines.map((l) => (JSON.parse(l) as AuditEvent).action),
          ['team.update', 'team.create'],
        );

        const dir = tempDir('hangar-cli-export-');
        const file = path.join(dir, 'audit.jsonl');
        const toFile = await ok(['audit', 'export', '--target', 'exported', '-o', file]);
        assert.equal(toFile.stdout, `Exported 2 audit event(s) to ${file}.\n`);
        assert.equal(readFileSync(file, 'utf8'), out.stdout);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const everything = await ok(['audit', 'export']);
        assert.ok(everything.stdout.trimEnd().split('\n').length >= vj.checked);

        const missing = path.join(dir, 'missing.jsonl');
        await fails(
          ['audit', 'export', '--project', 'nope', '-o', missing],
          1,
          /^hangar: 404 not_found: no project "nope"/,
        );
        assert.equal(existsSync(missing), false);
        assert.deepEqual(readdirSync(dir), ['audit.jsonl'], 'no partial files left behind');
        await ok(['teams', 'delete', 'exported', '--yes']);
      });

      test('verify exits 1 and names the first bad event when an event was edited', async () => {
        const dir = tempDir('hangar-cli-tamper-');
        const app = await buildApp(
          { ...defaultConfig(dir), port: 0, logLevel: 'silent', adminToken: TOKEN, adminPassword: PASSWORD },
          { portalDir: path.join(dir, 'no-portal') },
        );
        try {
          await app.http.listen({ host: '127.0.0.1', port: 0 });
          const address = app.http.server.address();
          assert.ok(address && typeof address === 'object');
          const env = { HANGAR_URL: `http://127.0.0.1:${address.port}`, HANGAR_TOKEN: TOKEN };
          const run = (args: string[]) => hangar(args, { configDir: tempDir('hangar-cli-cfg-'), env });
          for (const team of ['t-one', 't-two']) assert.equal((await run(['teams', 'create', team])).code, 0);
          const good = await run(['audit', 'verify']);
          assert.equal(good.code, 0, good.stderr);

          await app.database.db
            .updateTable('audit_events')
            .set({ target: 't-three' })
            .where('target', '=', 't-one')
            .execute();
          const bad = await run(['audit', 'verify']);
          assert.equal(bad.code, 1, bad.stdout);
          assert.match(bad.stdout, /^Audit chain BROKEN: /);
          assert.match(
            bad.stderr,
            /^hangar: the audit chain does not verify at event \d+: its content does not match its hash \(edited\)\n$/,
          );
          const badJson = await run(['audit', 'verify', '--json']);
          assert.equal(badJson.code, 1);
          const result = JSON.parse(badJson.stdout) as { ok: boolean; problem: { seq: number } | null };
          assert.equal(result.ok, false);
          assert.ok(result.problem && result.problem.seq >= 1);
        } finally {
          await app.close();
        }
      });
    });
  });
});
