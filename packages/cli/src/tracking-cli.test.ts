// End-to-end: `hangar runs list` and `hangar artifacts ...` (the built binary) against a real server.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HangarClient, type ArtifactEntry, type Run } from '@hangar/sdk';
import type { ServerProcess } from '@hangar/server/testing';
import {
  assertFreshBuild,
  assertNoStack,
  hangar,
  removeTempDirs,
  startCliServer,
  tempDir,
  type Result,
} from './cli-harness.js';
import type { TransferredFile } from './commands/artifacts.js';

const PASSWORD = 'cli-tracking-password';
const TOKEN = `hgr_clitrack${'t'.repeat(24)}`;
/** Above 20 MB: several reads, many progress updates, more than one S3 part. */
const BIG = 21 * 1024 * 1024 + 123;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The names in a table's first column, header excluded. */
const firstColumn = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0]);

describe('hangar runs and artifacts against a real server', () => {
  let server: ServerProcess;
  let admin: HangarClient;
  let configDir: string;
  let experimentId: string;
  /** Run ids by name, r0..r4. */
  const runs: Record<string, string> = {};

  async function ok(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
    const r = await hangar(args, { configDir, ...opts });
    assert.equal(r.code, 0, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async function okJson<T>(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<T> {
    return JSON.parse((await ok([...args, '--json'], opts)).stdout) as T;
  }

  async function fails(
    args: string[],
    code: number,
    message: RegExp,
    opts: { env?: NodeJS.ProcessEnv } = {},
  ): Promise<Result> {
    const r = await hangar(args, { configDir, ...opts });
    assert.equal(r.code, code, `hangar ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message, `hangar ${args.join(' ')}`);
    assertNoStack(r);
    return r;
  }

  async function mlflow<T>(route: string, body: unknown): Promise<T> {
    const res = await fetch(`${server.url}/api/2.0/mlflow/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  }

  before(async () => {
    assertFreshBuild();
    server = await startCliServer({ password: PASSWORD, token: TOKEN });
    admin = new HangarClient({ baseUrl: server.url, token: TOKEN });
    configDir = tempDir('hangar-cli-cfg-');
    await ok(['login', '--url', server.url, '--token', TOKEN]);

    experimentId = (await admin.createExperiment({ project: 'default', body: { name: 'cli-runs' } })).experimentId;
    for (let i = 0; i < 5; i++) {
      const created = await mlflow<{ run: { info: { run_id: string } } }>('runs/create', {
        experiment_id: experimentId,
        run_name: `r${i}`,
        start_time: Date.parse('2025-01-31T12:00:00Z') + i * 1000,
      });
      const id = created.run.info.run_id;
      runs[`r${i}`] = id;
      await mlflow('runs/log-batch', {
        run_id: id,
        params: [{ key: 'lr', value: String((i + 1) / 100) }],
        metrics: [{ key: 'acc', value: 0.5 + i / 10, step: 1, timestamp: 1 }],
        tags: [{ key: 'team', value: i % 2 ? 'odd' : 'even' }],
      });
      if (i < 3) {
        await mlflow('runs/update', {
          run_id: id,
          status: 'FINISHED',
          end_time: Date.parse('2025-01-31T12:00:00Z') + i * 1000 + 65_000,
        });
      }
    }
  });

  after(async () => {
    await server?.stop();
    removeTempDirs();
  });

  describe('runs list', () => {
    test('a table of the default columns, newest first, for an experiment by name or id', async () => {
      const r = await ok(['runs', 'list', '--experiment', 'cli-runs']);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^RUN\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+DURATION$/);
      assert.deepEqual(
        lines.slice(1).map((l) => l.split(/\s+/).slice(1, 4)),
        [
          ['r4', experimentId, 'RUNNING'],
          ['r3', experimentId, 'RUNNING'],
          ['r2', experimentId, 'FINISHED'],
          ['r1', experimentId, 'FINISHED'],
          ['r0', experimentId, 'FINISHED'],
        ],
      );
      assert.match(
        lines[5]!,
        new RegExp(`^${runs.r0}\\s+r0\\s+${experimentId}\\s+FINISHED\\s+2025-01-31 12:00:00\\s+1m05s$`),
      );
      assert.match(lines[1]!, /RUNNING\s+2025-01-31 12:00:04\s+-$/);
      assert.equal(r.stderr, '');
      assert.deepEqual(firstColumn((await ok(['runs', 'list', '-x', experimentId])).stdout), firstColumn(r.stdout));
      // --project alone searches all of its experiments.
      const all = firstColumn((await ok(['runs', 'list', '--project', 'default'])).stdout);
      for (const id of Object.values(runs)) assert.ok(all.includes(id));
    });

    test('--filter, repeated --order-by and --columns with params, metrics and tags', async () => {
      const r = await ok([
        'runs',
        'list',
        '-e',
        'cli-runs',
        '--filter',
        "metrics.acc >= 0.6 and tags.team = 'even'",
        '--order-by',
        'metrics.acc ASC',
        '--columns',
        'name,params.lr,metrics.acc,tags.team,status',
      ]);
      assert.equal(
        r.stdout,
        [
          'NAME  PARAMS.LR  METRICS.ACC  TAGS.TEAM  STATUS',
          'r2    0.03       0.7          even       FINISHED',
          'r4    0.05       0.9          even       RUNNING',
          '',
        ].join('\n'),
      );
      const byTeam = await ok([
        'runs',
        'list',
        '-e',
        'cli-runs',
        '--order-by',
        'tags.team DESC',
        '--order-by',
        'params.lr',
        '--columns',
        'name,tags.team',
      ]);
      assert.deepEqual(firstColumn(byTeam.stdout), ['r1', 'r3', 'r0', 'r2', 'r4']);
      const added = await ok([
        'runs',
        'list',
        '-e',
        'cli-runs',
        '--max-results',
        '1',
        '--columns',
        '+metrics.*,params.*',
      ]);
      assert.match(
        added.stdout,
        /^RUN\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+DURATION\s+METRICS\.ACC\s+PARAMS\.LR\n/,
      );
      assert.match(added.stdout, /\sr4\s.*\s0\.9\s+0\.05\n$/);
    });

    test('paging: --max-results with --page-token, or --all; --json keeps the API shape', async () => {
      const first = await ok(['runs', 'list', '-e', 'cli-runs', '-n', '2']);
      assert.deepEqual(firstColumn(first.stdout), [runs.r4, runs.r3]);
      const token = /--page-token (\S+)\)\n$/.exec(first.stderr)?.[1];
      assert.ok(token, first.stderr);
      assert.match(first.stderr, /^\(2 shown; more with --all, or --page-token \S+\)\n$/);

      const second = await okJson<{ items: Run[]; nextPageToken: string | null }>([
        'runs',
        'list',
        '-e',
        'cli-runs',
        '-n',
        '2',
        '--page-token',
        token,
      ]);
      assert.deepEqual(
        second.items.map((r) => r.info.runName),
        ['r2', 'r1'],
      );
      assert.equal(typeof second.nextPageToken, 'string');
      assert.deepEqual(
        second.items[0]!.data.params.find((p) => p.key === 'lr'),
        { key: 'lr', value: '0.03' },
      );

      const all = await okJson<{ items: Run[]; nextPageToken: string | null }>([
        'runs',
        'list',
        '-e',
        'cli-runs',
        '-n',
        '2',
        '--all',
      ]);
      assert.deepEqual(
        all.items.map((r) => r.info.runName),
        ['r4', 'r3', 'r2', 'r1', 'r0'],
      );
      assert.equal(all.nextPageToken, null);
    });

    test('--view shows deleted runs; a deleted run leaves the default view', async () => {
      const exp = await admin.createExperiment({ project: 'default', body: { name: 'cli-runs-view' } });
      const make = async (name: string) =>
        (
          await mlflow<{ run: { info: { run_id: string } } }>('runs/create', {
            experiment_id: exp.experimentId,
            run_name: name,
          })
        ).run.info.run_id;
      await make('kept');
      await mlflow('runs/delete', { run_id: await make('gone') });
      const names = async (view: string) =>
        (await okJson<{ items: Run[] }>(['runs', 'list', '-x', exp.experimentId, '--view', view])).items
          .map((r) => r.info.runName)
          .sort();
      assert.deepEqual(await names('active'), ['kept']);
      assert.deepEqual(await names('deleted'), ['gone']);
      assert.deepEqual(await names('all'), ['gone', 'kept']);
    });

    test('errors: usage problems exit 2, refused searches and unknown names exit 1', async () => {
      await fails(['runs', 'list'], 2, /say whose runs: --experiment-id ID, --experiment NAME/);
      await fails(['runs', 'list', '-x', experimentId, '--columns', 'bogus'], 2, /unknown column "bogus"/);
      await fails(['runs', 'list', '-x', experimentId, '--view', 'some'], 2, /--view/);
      await fails(['runs', 'list', '-x', experimentId, '-n', '0'], 2, /whole number from 1 to 50000/);
      await fails(
        ['runs', 'list', '-x', experimentId, '--filter', 'metrics.acc >>> 1'],
        1,
        /^hangar: 400 invalid_input: .*'>>>'/,
      );
      await fails(
        ['runs', 'list', '-e', 'no-such-experiment'],
        1,
        /no experiment named "no-such-experiment" in project default/,
      );
      await fails(['runs', 'list', '-x', '999999'], 1, /^hangar: 404 /);
    });
  });

  describe('artifacts', () => {
    let local: string;
    let big: Buffer;
    /** sha256 of every local file under `local`, by its path relative to it. */
    const localSums: Record<string, string> = {};

    before(() => {
      local = tempDir('hangar-cli-artifacts-');
      const files: Record<string, Buffer> = {
        'model/MLmodel': Buffer.from('flavors:\n  python_function: {}\n'),
        'model/data/weights.bin': randomBytes(300_000),
        'model/data/empty.txt': Buffer.alloc(0),
        'model/requirements.txt': Buffer.from('scikit-learn==1.5\n'),
      };
      for (const [rel, data] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(local, rel)), { recursive: true });
        writeFileSync(path.join(local, rel), data);
        localSums[rel] = sha256(data);
      }
      // Links to folders are skipped (they could loop); links to files upload the file.
      symlinkSync('..', path.join(local, 'model', 'loop'));
      symlinkSync('MLmodel', path.join(local, 'model', 'MLmodel.link'));
      localSums['model/MLmodel.link'] = localSums['model/MLmodel']!;
      big = randomBytes(BIG);
      writeFileSync(path.join(local, 'big.bin'), big);
    });

    test('upload a folder (recursively) and a >20 MB file; every sha256 is checked and reported', async () => {
      const folder = await hangar(
        ['artifacts', 'upload', runs.r0!, path.join(local, 'model'), '--path', 'model', '--json'],
        {
          configDir,
        },
      );
      assert.equal(folder.code, 0, folder.stderr);
      assert.match(folder.stderr, /^skipped .*loop: a link to a folder\n$/);
      const uploaded = JSON.parse(folder.stdout) as { files: TransferredFile[]; bytes: number };
      assert.deepEqual(
        uploaded.files.map((f) => [f.path, f.sha256]),
        Object.keys(localSums)
          .sort()
          .map((rel) => [rel, localSums[rel]]),
      );

      const file = await ok(['artifacts', 'upload', runs.r0!, path.join(local, 'big.bin'), '--path', 'data/']);
      assert.equal(
        file.stdout.split('\n').slice(0, 2).join('\n'),
        `PATH          BYTES     SHA256\ndata/big.bin  ${BIG}  ${sha256(big)}`,
      );
      assert.match(
        file.stdout,
        new RegExp(
          `\\nUploaded 1 file \\(21\\.0 MiB\\) to run ${runs.r0} in \\S+ \\(\\S+ \\S+/s\\); every sha256 verified\\.\\n$`,
        ),
      );
      assert.equal(file.stderr, '', 'no progress bar when stderr is not a terminal');
      // Uploading again replaces the file.
      await ok(['artifacts', 'upload', runs.r0!, path.join(local, 'model', 'MLmodel')]);
    });

    test('ls: a folder, a subfolder, everything recursively, one file', async () => {
      const root = await ok(['artifacts', 'ls', runs.r0!]);
      assert.equal(root.stdout, 'PATH     SIZE\nMLmodel  31 B\ndata/    -\nmodel/   -\n');
      const sub = await ok(['artifacts', 'ls', runs.r0!, 'model/data/']);
      assert.equal(
        sub.stdout,
        'PATH                    SIZE\nmodel/data/empty.txt    0 B\nmodel/data/weights.bin  293.0 KiB\n',
      );
      const all = await okJson<{ root: string; items: ArtifactEntry[] }>(['artifacts', 'ls', runs.r0!, '-r']);
      assert.equal(all.root, `mlflow-artifacts:/${experimentId}/${runs.r0}/artifacts`);
      assert.deepEqual(
        all.items.map((e) => [e.path, e.size]),
        [
          ['MLmodel', 31],
          ['data/big.bin', BIG],
          ['model/MLmodel', 31],
          ['model/MLmodel.link', 31],
          ['model/data/empty.txt', 0],
          ['model/data/weights.bin', 300_000],
          ['model/requirements.txt', 18],
        ],
      );
      const human = await ok(['artifacts', 'ls', runs.r0!, '--recursive']);
      assert.equal(human.stderr, `7 files, ${((BIG + 300_000 + 31 * 3 + 18) / 1024 / 1024).toFixed(1)} MiB\n`);
      const one = await okJson<{ items: ArtifactEntry[] }>(['artifacts', 'ls', runs.r0!, 'data/big.bin']);
      assert.deepEqual(one.items, [{ path: 'data/big.bin', isDir: false, size: BIG }]);
      assert.equal((await ok(['artifacts', 'ls', runs.r1!])).stdout, `No artifacts in run ${runs.r1}.\n`);
    });

    test('download a folder keeping its structure, a file, and the whole run; checksums match', async () => {
      const out = tempDir('hangar-cli-download-');
      const folder = await okJson<{ files: TransferredFile[]; out: string }>([
        'artifacts',
        'download',
        runs.r0!,
        'model',
        '--out',
        out,
      ]);
      assert.equal(folder.out, out);
      for (const [rel, sum] of Object.entries(localSums)) {
        assert.equal(sha256(readFileSync(path.join(out, rel))), sum, rel);
        assert.equal(folder.files.find((f) => f.path === rel)?.sha256, sum, rel);
        assert.equal(folder.files.find((f) => f.path === rel)?.file, path.join(out, rel));
      }
      assert.deepEqual(readdirSync(path.join(out, 'model')).sort(), [
        'MLmodel',
        'MLmodel.link',
        'data',
        'requirements.txt',
      ]);

      // A file lands under its own name; the table names it as given, relative to --out.
      const file = await ok(['artifacts', 'download', runs.r0!, 'data/big.bin', '-o', 'here'], { cwd: out });
      assert.ok(readFileSync(path.join(out, 'here', 'big.bin')).equals(big));
      assert.equal(file.stdout.split('\n')[1], `here/big.bin  ${BIG}  ${sha256(big)}`);
      assert.match(file.stdout, /\nDownloaded 1 file \(21\.0 MiB\) from run \w+ to here in /);
      assert.equal(file.stderr, '');

      const whole = path.join(out, 'whole');
      const everything = await okJson<{ files: TransferredFile[]; bytes: number }>([
        'artifacts',
        'download',
        runs.r0!,
        '-o',
        whole,
      ]);
      assert.equal(everything.files.length, 7);
      assert.ok(readFileSync(path.join(whole, 'data', 'big.bin')).equals(big));
      assert.equal(
        sha256(readFileSync(path.join(whole, 'model', 'data', 'weights.bin'))),
        localSums['model/data/weights.bin'],
      );
      assert.deepEqual(readdirSync(whole).sort(), ['MLmodel', 'data', 'model'], 'no partial files left');
    });

    test('a broken download keeps its partial file; --continue resumes it with a range', async () => {
      // A proxy that cuts every connection after 3 MB of answer: a network failure mid-file.
      const proxy = createServer((client) => {
        const upstream = connect(Number(new URL(server.url).port), '127.0.0.1');
        let sent = 0;
        client.pipe(upstream);
        upstream.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > 3_000_000) {
            client.destroy();
            upstream.destroy();
          } else client.write(chunk);
        });
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const out = tempDir('hangar-cli-broken-');
      const partial = path.join(out, '.big.bin.hangar-partial');
      try {
        const port = (proxy.address() as AddressInfo).port;
        const broken = await hangar(['artifacts', 'download', runs.r0!, 'data/big.bin', '-o', out], {
          configDir,
          env: { HANGAR_URL: `http://127.0.0.1:${port}`, HANGAR_TOKEN: TOKEN },
        });
        assert.equal(broken.code, 1, broken.stderr);
        assert.match(
          broken.stderr,
          /^\(a partial download was kept; run the same command with --continue to resume it\)\n/,
        );
        assert.match(broken.stderr, /\nhangar: the download of data\/big\.bin broke off after \d/);
        assertNoStack(broken);
      } finally {
        proxy.close();
      }
      assert.ok(!existsSync(path.join(out, 'big.bin')), 'no file that looks whole');
      const kept = readFileSync(partial);
      assert.ok(kept.length > 0 && kept.length < BIG, `kept ${kept.length} bytes`);
      assert.ok(kept.equals(big.subarray(0, kept.length)));

      const resumed = await okJson<{ files: TransferredFile[] }>([
        'artifacts',
        'download',
        runs.r0!,
        'data/big.bin',
        '-o',
        out,
        '--continue',
      ]);
      assert.equal(resumed.files[0]!.sha256, sha256(big));
      assert.ok(readFileSync(path.join(out, 'big.bin')).equals(big));
      assert.ok(!existsSync(partial));
    });

    test('--continue resumes a partial download with a range; without it the file starts over', async () => {
      const out = tempDir('hangar-cli-resume-');
      const partial = path.join(out, '.big.bin.hangar-partial');
      writeFileSync(partial, big.subarray(0, 5_000_000));
      const resumed = await okJson<{ files: TransferredFile[] }>([
        'artifacts',
        'download',
        runs.r0!,
        'data/big.bin',
        '-o',
        out,
        '--continue',
      ]);
      assert.equal(resumed.files[0]!.sha256, sha256(big));
      assert.ok(readFileSync(path.join(out, 'big.bin')).equals(big));
      assert.ok(!existsSync(partial));

      writeFileSync(partial, Buffer.from('garbage that is not the start of the file'));
      await ok(['artifacts', 'download', runs.r0!, 'data/big.bin', '-o', out]);
      assert.ok(readFileSync(path.join(out, 'big.bin')).equals(big));
      assert.ok(!existsSync(partial));
    });

    test('errors: unknown runs, traversal, missing paths and files, and a viewer who may not write', async () => {
      const unknown = '0123456789abcdef0123456789abcdef';
      await fails(
        ['artifacts', 'upload', unknown, path.join(local, 'big.bin')],
        1,
        /^hangar: 404 not_found: .*not found/,
      );
      await fails(['artifacts', 'ls', unknown], 1, /^hangar: 404 not_found: /);
      await fails(['artifacts', 'download', unknown, '-o', tempDir('hangar-cli-x-')], 1, /^hangar: 404 not_found: /);
      await fails(['artifacts', 'ls', 'not-a-run'], 2, /"not-a-run" is not a run id \(32 hex characters\)/);

      await fails(
        ['artifacts', 'upload', runs.r0!, path.join(local, 'big.bin'), '--path', '../elsewhere'],
        2,
        /^hangar: --path "\.\.\/elsewhere" has a "\.\." segment; paths cannot leave the run's artifacts\n$/,
      );
      await fails(['artifacts', 'download', runs.r0!, 'model/../../x'], 2, /has a "\.\." segment/);
      await fails(['artifacts', 'upload', runs.r0!, path.join(local, 'big.bin'), '--path', '/etc'], 2, /is absolute/);
      // What only the server can judge comes back as its 400, naming the rule.
      await fails(
        ['artifacts', 'upload', runs.r0!, path.join(local, 'model', 'MLmodel'), '--path', 'a/%2e%2e'],
        1,
        /^hangar: 400 invalid_input: artifact path "a\/%2e%2e\/MLmodel" contains a percent escape/,
      );
      await fails(
        ['artifacts', 'download', runs.r0!, 'no/such/file', '-o', tempDir('hangar-cli-x-')],
        1,
        /^hangar: no artifact at no\/such\/file in run /,
      );
      await fails(['artifacts', 'ls', runs.r0!, 'nothing-here'], 1, /^hangar: no artifact at nothing-here in run /);
      await fails(
        ['artifacts', 'upload', runs.r0!, path.join(local, 'missing.bin')],
        1,
        /^hangar: cannot read .*missing\.bin: no such file or folder\n$/,
      );

      // Vera may read project lab but not write in it (outside team default, whose members develop).
      await admin.createTeam({ body: { name: 'lab-team' } });
      await admin.createProject({ body: { name: 'lab', team: 'lab-team' } });
      const labExperiment = await admin.createExperiment({ project: 'lab', body: { name: 'lab-runs' } });
      const labRun = (
        await mlflow<{ run: { info: { run_id: string } } }>('runs/create', {
          experiment_id: labExperiment.experimentId,
        })
      ).run.info.run_id;
      await admin.createUser({ body: { username: 'vera', password: 'vera-password-1' } });
      await admin.setProjectMember({ project: 'lab', username: 'vera', body: { role: 'viewer' } });
      const vera = await new HangarClient({
        baseUrl: server.url,
        username: 'vera',
        password: 'vera-password-1',
      }).createToken({ body: { name: 'vera-cli' } });
      const asVera = { env: { HANGAR_URL: server.url, HANGAR_TOKEN: vera.token } };
      await fails(
        ['artifacts', 'upload', labRun, path.join(local, 'model', 'MLmodel')],
        1,
        /^hangar: 403 forbidden: /,
        asVera,
      );
      assert.equal((await ok(['artifacts', 'ls', labRun], asVera)).stdout, `No artifacts in run ${labRun}.\n`);
    });
  });
});
