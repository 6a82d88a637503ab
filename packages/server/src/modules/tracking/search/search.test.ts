// Run and experiment search compiled and executed on both engines against seeded data: every
// operator, LIKE vs ILIKE case, NaN and ±Infinity metrics, AND-ed clauses, multi-key order_by with
// missing values, view types, keyset paging (stable under inserts) and page token errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { InputError } from '../../../core/errors.js';
import { openDatabase, type Database } from '../../../db/database.js';
import type { DB, LifecycleStage, RunStatus } from '../../../db/schema.js';
import { createTestStore, ENGINES, type TestStore } from '../../../testing/engines.js';
import {
  compileRunSearch,
  searchExperiments,
  searchRuns,
  type ExperimentSearchOptions,
  type RunSearchOptions,
} from './index.js';

interface SeedRun {
  name: string;
  experiment: number;
  user: string;
  status: RunStatus;
  start: number;
  end: number | null;
  stage?: LifecycleStage;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  metrics?: Record<string, number>;
}

let nextRun = 1;
const runId = () => (nextRun++).toString(16).padStart(32, '0');

async function insertRuns(db: Kysely<DB>, runs: SeedRun[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const r of runs) {
    const id = runId();
    ids.set(r.name, id);
    await db
      .insertInto('runs')
      .values({
        id,
        experiment_id: r.experiment,
        name: r.name,
        user_id: null,
        username: r.user,
        status: r.status,
        start_time: r.start,
        end_time: r.end,
        lifecycle_stage: r.stage ?? 'active',
        artifact_uri: `mlflow-artifacts:/${r.experiment}/${id}/artifacts`,
        parent_run_id: null,
      })
      .execute();
    for (const [key, value] of Object.entries(r.params ?? {})) {
      await db.insertInto('run_params').values({ run_id: id, key, value }).execute();
    }
    for (const [key, value] of Object.entries(r.tags ?? {})) {
      await db.insertInto('run_tags').values({ run_id: id, key, value }).execute();
    }
    for (const [key, value] of Object.entries(r.metrics ?? {})) {
      const nan = Number.isNaN(value);
      await db
        .insertInto('latest_metrics')
        .values({ run_id: id, key, value: nan ? 0 : value, is_nan: nan ? 1 : 0, step: 0, timestamp: r.start })
        .execute();
    }
  }
  return ids;
}

async function insertExperiment(
  db: Kysely<DB>,
  projectId: string,
  name: string,
  created: number,
  updated: number,
  tags: Record<string, string> = {},
  stage: LifecycleStage = 'active',
): Promise<number> {
  const { id } = await db
    .insertInto('experiments')
    .values({
      project_id: projectId,
      name,
      artifact_location: `mlflow-artifacts:/${name}`,
      lifecycle_stage: stage,
      created_at: created,
      updated_at: updated,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [key, value] of Object.entries(tags)) {
    await db
      .insertInto('experiment_tags')
      .values({ experiment_id: Number(id), key, value })
      .execute();
  }
  return Number(id);
}

async function insertProject(db: Kysely<DB>, name: string): Promise<string> {
  await db
    .insertInto('teams')
    .values({
      id: `team-${name}`,
      name: `team-${name}`,
      display_name: name,
      description: '',
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  await db
    .insertInto('projects')
    .values({
      id: name,
      name,
      display_name: name,
      description: '',
      team_id: `team-${name}`,
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  return name;
}

function expectInputError(fn: () => unknown, message: string) {
  assert.throws(fn, (err: unknown) => err instanceof InputError && err.message.includes(message));
}

async function expectInputRejection(p: Promise<unknown>, message: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.ok(err.message.includes(message), err.message);
    return true;
  });
}

for (const engine of ENGINES) {
  describe(`run and experiment search (${engine})`, () => {
    let store: TestStore;
    let database: Database;
    let db: Kysely<DB>;
    let A: number;
    let B: number;
    let C: number;
    let ids: Map<string, string>;
    const names = new Map<string, string>(); // run id -> name

    before(async () => {
      store = await createTestStore(engine);
      database = await openDatabase({ url: store.url });
      await database.migrate();
      db = database.db;
      const p = await insertProject(db, 'search');
      A = await insertExperiment(db, p, 'runs-a', 0, 0);
      B = await insertExperiment(db, p, 'runs-b', 0, 0);
      C = await insertExperiment(db, p, 'runs-c', 0, 0);
      ids = await insertRuns(db, [
        {
          name: 'alpha',
          experiment: A,
          user: 'ann',
          status: 'FINISHED',
          start: 1000,
          end: 2000,
          params: { lr: '0.01', model: 'CNN' },
          tags: { team: 'Vision', glob: 'xAyz', 'mlflow.runName': 'alpha' },
          metrics: { acc: 0.9, loss: 0.1 },
        },
        {
          name: 'Beta',
          experiment: A,
          user: 'bob',
          status: 'RUNNING',
          start: 2000,
          end: null,
          params: { lr: '0.1', model: 'cnn' },
          tags: { team: 'vision' },
          metrics: { loss: NaN },
        },
        {
          name: 'gamma_1',
          experiment: A,
          user: 'ann',
          status: 'FAILED',
          start: 3000,
          end: 3500,
          params: { lr: '0.001', model: 'rnn' },
          tags: { glob: 'x*[y]?' },
          metrics: { acc: Infinity, loss: 0.5 },
        },
        {
          name: 'gamma%2',
          experiment: A,
          user: 'cid',
          status: 'FINISHED',
          start: 3000,
          end: 4000,
          params: { model: 'RNN' },
          tags: { team: 'nlp' },
          metrics: { acc: -Infinity },
        },
        {
          name: 'delta',
          experiment: A,
          user: 'bob',
          status: 'KILLED',
          start: 5000,
          end: null,
          params: { lr: '0.01' },
          tags: { team: 'vision', note: 'a_b' },
          metrics: { acc: NaN, loss: 0.3 },
        },
        {
          name: 'Alpha',
          experiment: A,
          user: 'ann',
          status: 'FINISHED',
          start: 6000,
          end: 7000,
          params: { lr: '1e-3', model: 'café' },
          tags: { note: 'a%b', team: 'VISION' },
          metrics: { acc: 0.9, loss: 0 },
        },
        {
          name: 'ghost',
          experiment: A,
          user: 'ann',
          status: 'FINISHED',
          start: 7000,
          end: 7100,
          stage: 'deleted',
          metrics: { acc: 0.95 },
        },
        {
          name: 'other',
          experiment: B,
          user: 'dan',
          status: 'FINISHED',
          start: 8000,
          end: 9000,
          params: { model: 'CNN' },
          metrics: { acc: 0.99 },
        },
      ]);
      for (const [name, id] of ids) names.set(id, name);
    });
    after(async () => {
      await database.close();
      await store.cleanup();
    });

    const id = (name: string) => ids.get(name)!;
    const search = (o: Partial<RunSearchOptions>) => searchRuns(db, { engine, experimentIds: [A], ...o });
    const found = async (o: Partial<RunSearchOptions>) => (await search(o)).runs.map((r) => names.get(r.id));
    /** All pages at the given size, checking each page's size and the final null token. */
    async function allPages(o: Partial<RunSearchOptions>, size: number): Promise<string[]> {
      const out: string[] = [];
      let token: string | null = o.pageToken ?? null;
      for (let i = 0; i < 100; i++) {
        const page = await search({ ...o, maxResults: size, pageToken: token });
        assert.ok(page.runs.length <= size);
        if (page.nextPageToken) assert.equal(page.runs.length, size);
        out.push(...page.runs.map((r) => names.get(r.id) ?? r.name));
        token = page.nextPageToken;
        if (!token) return out;
      }
      throw new Error('paging did not end');
    }

    const DEFAULT_ORDER = ['Alpha', 'delta', 'gamma_1', 'gamma%2', 'Beta', 'alpha'];

    test('no filter: active runs of the experiments, start_time DESC then run id', async () => {
      assert.deepEqual(await found({}), DEFAULT_ORDER);
      assert.deepEqual(await found({ filter: '', orderBy: [] }), DEFAULT_ORDER);
      assert.deepEqual(await found({ experimentIds: [A, B] }), ['other', ...DEFAULT_ORDER]);
      assert.deepEqual(await found({ experimentIds: [] }), []);
      assert.deepEqual(await found({ viewType: 'DELETED_ONLY' }), ['ghost']);
      assert.deepEqual(await found({ viewType: 'ALL' }), ['ghost', ...DEFAULT_ORDER]);
      const run = (await search({ filter: `run_id = '${id('Beta')}'` })).runs[0]!;
      assert.deepEqual(run, {
        id: id('Beta'),
        experiment_id: A,
        name: 'Beta',
        user_id: null,
        username: 'bob',
        status: 'RUNNING',
        start_time: 2000,
        end_time: null,
        lifecycle_stage: 'active',
        artifact_uri: `mlflow-artifacts:/${A}/${id('Beta')}/artifacts`,
        parent_run_id: null,
      });
    });

    const filters: [string, string[]][] = [
      // metrics: NaN only satisfies !=, ±Infinity compare as numbers, missing never matches
      ['metrics.acc > 0.8', ['Alpha', 'gamma_1', 'alpha']],
      ['metrics.acc >= 0.9', ['Alpha', 'gamma_1', 'alpha']],
      ['metrics.acc = 0.9', ['Alpha', 'alpha']],
      ['metrics.acc != 0.9', ['delta', 'gamma_1', 'gamma%2']],
      ['metrics.acc < 0', ['gamma%2']],
      ['metrics.acc <= -1e308', ['gamma%2']],
      ['metrics.acc > 1e308', ['gamma_1']],
      ['metrics.acc = 1e999', ['gamma_1']],
      ['metrics.acc = -1e999', ['gamma%2']],
      ['metrics.loss = 0', ['Alpha']],
      ['metrics.loss < 0.2', ['Alpha', 'alpha']],
      ['metrics.loss != 0.1', ['Alpha', 'delta', 'gamma_1', 'Beta']],
      ['metrics.nope > 0', []],
      ['metrics.acc > 0.8 AND metrics.loss < 0.2', ['Alpha', 'alpha']],
      // params: = and LIKE are case-sensitive, ILIKE is not; != needs the param to exist
      ["params.model = 'cnn'", ['Beta']],
      ["params.model LIKE 'cnn'", ['Beta']],
      ["params.model ILIKE 'cnn'", ['Beta', 'alpha']],
      ["params.model LIKE '%NN'", ['gamma%2', 'alpha']],
      ["params.model ILIKE '_nn'", ['gamma_1', 'gamma%2', 'Beta', 'alpha']],
      ["params.model != 'cnn'", ['Alpha', 'gamma_1', 'gamma%2', 'alpha']],
      ["params.model = 'café'", ['Alpha']],
      ["params.model LIKE 'caf_'", ['Alpha']],
      ["params.model ILIKE 'CAF%'", ['Alpha']],
      ["params.lr = '0.01'", ['delta', 'alpha']],
      ['params.lr IS NULL', ['gamma%2']],
      ['params.lr IS NOT NULL', ['Alpha', 'delta', 'gamma_1', 'Beta', 'alpha']],
      // tags: escapes, GLOB metacharacters taken literally, case
      ["tags.note LIKE 'a\\%b'", ['Alpha']],
      ["tags.note LIKE 'a\\_b'", ['delta']],
      ["tags.note LIKE 'a_b'", ['Alpha', 'delta']],
      ["tags.note LIKE 'a%'", ['Alpha', 'delta']],
      ["tags.glob LIKE 'x*[y]?'", ['gamma_1']],
      ["tags.glob LIKE 'x%'", ['gamma_1', 'alpha']],
      ["tags.glob ILIKE 'XAYZ'", ['alpha']],
      ["tags.team ILIKE 'vision'", ['Alpha', 'delta', 'Beta', 'alpha']],
      ["tags.team LIKE 'vision'", ['delta', 'Beta']],
      ["tags.team = 'Vision'", ['alpha']],
      ["tags.team != 'vision'", ['Alpha', 'gamma%2', 'alpha']],
      ['tags.team IS NULL', ['gamma_1']],
      ["tags.`mlflow.runName` = 'alpha'", ['alpha']],
      // attributes
      ["attributes.status = 'FINISHED'", ['Alpha', 'gamma%2', 'alpha']],
      ["status != 'FINISHED'", ['delta', 'gamma_1', 'Beta']],
      ["status LIKE 'F%'", ['Alpha', 'gamma_1', 'gamma%2', 'alpha']],
      ["status LIKE 'f%'", []],
      ["status ILIKE 'f%'", ['Alpha', 'gamma_1', 'gamma%2', 'alpha']],
      ["run_name = 'alpha'", ['alpha']],
      ["run_name ILIKE 'alpha'", ['Alpha', 'alpha']],
      ["run_name LIKE 'gamma\\_%'", ['gamma_1']],
      ["run_name LIKE 'gamma_%'", ['gamma_1', 'gamma%2']],
      ["run_name LIKE 'gamma\\%%'", ['gamma%2']],
      ['"Run name" = \'Beta\'', ['Beta']],
      ["user_id = 'ann'", ['Alpha', 'gamma_1', 'alpha']],
      ['start_time >= 3000', ['Alpha', 'delta', 'gamma_1', 'gamma%2']],
      ['start_time = 3000', ['gamma_1', 'gamma%2']],
      ['created < 2000.5', ['Beta', 'alpha']],
      ['start_time > 2999.5', ['Alpha', 'delta', 'gamma_1', 'gamma%2']],
      ['start_time <= 2999.5', ['Beta', 'alpha']],
      ['start_time >= 2999.5', ['Alpha', 'delta', 'gamma_1', 'gamma%2']],
      ['start_time < 2999.5', ['Beta', 'alpha']],
      ['start_time = 3000.5', []],
      ['start_time != 3000.5', DEFAULT_ORDER],
      ['start_time != 3000', ['Alpha', 'delta', 'Beta', 'alpha']],
      ['start_time < 1e30', DEFAULT_ORDER],
      ['start_time > -1e999', DEFAULT_ORDER],
      ['start_time > 1e999', []],
      ['end_time > 3000', ['Alpha', 'gamma_1', 'gamma%2']],
      ['end_time != 2000', ['Alpha', 'gamma_1', 'gamma%2']],
      ['end_time < 1e999', ['Alpha', 'gamma_1', 'gamma%2', 'alpha']],
      [
        "metrics.acc > 0 and params.model ILIKE 'cnn' and tags.team = 'Vision' and status = 'FINISHED' and end_time = 2000",
        ['alpha'],
      ],
    ];
    for (const [filter, expected] of filters) {
      test(`filter ${filter}`, async () => assert.deepEqual(await found({ filter }), expected));
    }

    test('filter by run id: =, IN, NOT IN, artifact_uri', async () => {
      assert.deepEqual(await found({ filter: `run_id = '${id('gamma_1')}'` }), ['gamma_1']);
      assert.deepEqual(await found({ filter: `run_id IN ('${id('gamma_1')}', '${id('delta')}', '${id('other')}')` }), [
        'delta',
        'gamma_1',
      ]);
      assert.deepEqual(await found({ filter: `run_id NOT IN ('${id('gamma_1')}', '${id('delta')}')` }), [
        'Alpha',
        'gamma%2',
        'Beta',
        'alpha',
      ]);
      assert.deepEqual(await found({ filter: `artifact_uri LIKE '%/${id('gamma_1')}/%'` }), ['gamma_1']);
      assert.deepEqual(await found({ experimentIds: [A, B], filter: "params.model = 'CNN'" }), ['other', 'alpha']);
    });

    const orders: [string[], string[]][] = [
      [['metrics.acc DESC'], ['gamma_1', 'Alpha', 'alpha', 'gamma%2', 'delta', 'Beta']],
      [['metrics.acc'], ['gamma%2', 'Alpha', 'alpha', 'gamma_1', 'delta', 'Beta']],
      [['metrics.loss DESC'], ['gamma_1', 'delta', 'alpha', 'Alpha', 'Beta', 'gamma%2']],
      [['params.lr'], ['gamma_1', 'delta', 'alpha', 'Beta', 'Alpha', 'gamma%2']],
      [['params.lr DESC'], ['Alpha', 'Beta', 'delta', 'alpha', 'gamma_1', 'gamma%2']],
      [
        ['tags.team DESC', 'metrics.acc'],
        ['delta', 'Beta', 'gamma%2', 'alpha', 'Alpha', 'gamma_1'],
      ],
      [['end_time'], ['alpha', 'gamma_1', 'gamma%2', 'Alpha', 'delta', 'Beta']],
      [['end_time DESC'], ['Alpha', 'gamma%2', 'gamma_1', 'alpha', 'delta', 'Beta']],
      [['run_name'], ['Alpha', 'Beta', 'alpha', 'delta', 'gamma%2', 'gamma_1']],
      [['attributes.start_time ASC'], ['alpha', 'Beta', 'gamma_1', 'gamma%2', 'delta', 'Alpha']],
      [['created DESC'], DEFAULT_ORDER],
      [['run_id DESC'], ['Alpha', 'delta', 'gamma%2', 'gamma_1', 'Beta', 'alpha']],
      [
        ['user_id', 'metrics.acc DESC'],
        ['gamma_1', 'Alpha', 'alpha', 'delta', 'Beta', 'gamma%2'],
      ],
      [
        ['status', 'params.model DESC'],
        ['gamma_1', 'Alpha', 'gamma%2', 'alpha', 'delta', 'Beta'],
      ],
    ];
    for (const [orderBy, expected] of orders) {
      test(`order_by ${JSON.stringify(orderBy)}, and paging through it`, async () => {
        assert.deepEqual(await found({ orderBy }), expected);
        for (const size of [1, 2, 4, 5, 6, 7]) {
          assert.deepEqual(await allPages({ orderBy }, size), expected, `page size ${size}`);
        }
      });
    }

    test('paging with a filter and across view types and experiments', async () => {
      const o = { experimentIds: [A, B], viewType: 'ALL' as const, filter: 'metrics.acc > -1e999' };
      const full = await found(o);
      assert.deepEqual(full, ['other', 'ghost', 'Alpha', 'gamma_1', 'alpha']);
      for (const size of [1, 3]) assert.deepEqual(await allPages(o, size), full);
      const last = await search({ ...o, maxResults: full.length });
      assert.equal(last.nextPageToken, null);
    });

    test('pages stay stable while runs are added', async () => {
      const older = await insertRuns(
        db,
        [500, 400, 300, 200, 100].map((start) => ({
          name: `c${start}`,
          experiment: C,
          user: 'u',
          status: 'RUNNING' as const,
          start,
          end: null,
          metrics: { m: start },
        })),
      );
      for (const [n, i] of older) names.set(i, n);
      for (const [i, orderBy] of [[], ['metrics.m DESC']].entries()) {
        const initial = await allPages({ experimentIds: [C], orderBy }, 100);
        const first = await search({ experimentIds: [C], orderBy, maxResults: 2 });
        assert.deepEqual(
          first.runs.map((r) => names.get(r.id)),
          initial.slice(0, 2),
        );
        // A run that sorts first in both orders arrives between two page requests.
        const start = 2000 + i;
        const newer = await insertRuns(db, [
          { name: `new${i}`, experiment: C, user: 'u', status: 'RUNNING', start, end: null, metrics: { m: start } },
        ]);
        for (const [n, rid] of newer) names.set(rid, n);
        const rest = await allPages({ experimentIds: [C], orderBy, pageToken: first.nextPageToken }, 2);
        assert.deepEqual(rest, initial.slice(2));
        assert.deepEqual((await allPages({ experimentIds: [C], orderBy }, 100))[0], `new${i}`);
      }
    });

    test('metric order_by walking the key index: bounded walk, ties at the bound, NaN and missing last', async () => {
      // 2000 runs elsewhere hold the same key, so the walk's bound lies inside the key's values
      // (its budget is 8 × page + 1000 index steps) and the searched experiment is a minority.
      const bulk = async (experiment: number, n: number, start: number, metric: (i: number) => number | null) => {
        const out: { id: string; i: number; start: number; value: number | null; f: number }[] = [];
        for (let base = 0; base < n; base += 400) {
          const rows = Array.from({ length: Math.min(400, n - base) }, (_, j) => {
            const i = base + j;
            // Start times repeat, so runs tie on value and start time and only the id orders them.
            return { id: runId(), i, start: start + (i % 50), value: metric(i), f: (i * 7) % 10 };
          });
          await db
            .insertInto('runs')
            .values(
              rows.map((r) => ({
                id: r.id,
                experiment_id: experiment,
                name: `w${experiment}-${r.i}`,
                user_id: null,
                username: 'w',
                status: 'FINISHED' as const,
                start_time: r.start,
                end_time: null,
                lifecycle_stage: 'active' as const,
                artifact_uri: 'x',
                parent_run_id: null,
              })),
            )
            .execute();
          const metrics = rows.flatMap((r) => [
            ...(r.value === null
              ? []
              : [
                  {
                    run_id: r.id,
                    key: 'score',
                    value: Number.isNaN(r.value) ? 0 : r.value,
                    is_nan: Number.isNaN(r.value) ? 1 : 0,
                    step: 0,
                    timestamp: 0,
                  },
                ]),
            { run_id: r.id, key: 'f', value: r.f, is_nan: 0, step: 0, timestamp: 0 },
          ]);
          await db.insertInto('latest_metrics').values(metrics).execute();
          out.push(...rows);
        }
        return out;
      };
      const W = await insertExperiment(db, 'search', 'walk', 0, 0);
      const other = await insertExperiment(db, 'search', 'walk-other', 0, 0);
      await bulk(other, 2000, 0, (i) => (i % 40) / 4);
      // Few distinct values (many ties), some NaN, some runs without the metric.
      const runs = await bulk(W, 600, 100, (i) => (i % 13 === 0 ? null : i % 17 === 0 ? NaN : (i % 23) / 2));
      const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      const expected = (ascending: boolean, keep: (r: (typeof runs)[number]) => boolean) =>
        runs
          .filter(keep)
          .sort((a, b) => {
            const group = (v: number | null) => (v === null ? 2 : Number.isNaN(v) ? 1 : 0);
            const g = group(a.value) - group(b.value);
            if (g !== 0) return g;
            if (group(a.value) === 0 && a.value !== b.value) {
              return ascending ? a.value! - b.value! : b.value! - a.value!;
            }
            return b.start - a.start || byId(a.id, b.id);
          })
          .map((r) => r.id);
      const pages = async (o: Partial<RunSearchOptions>, size: number) => {
        const out: string[] = [];
        let token: string | null = null;
        for (let i = 0; i < 1000; i++) {
          const page = await search({ ...o, experimentIds: [W], maxResults: size, pageToken: token });
          if (page.nextPageToken) assert.equal(page.runs.length, size);
          out.push(...page.runs.map((r) => r.id));
          token = page.nextPageToken;
          if (!token) return out;
        }
        throw new Error('paging did not end');
      };
      for (const ascending of [true, false]) {
        const orderBy = [`metrics.score ${ascending ? 'ASC' : 'DESC'}`];
        assert.deepEqual(
          await pages({ orderBy }, 1000),
          expected(ascending, () => true),
        );
        assert.deepEqual(
          await pages({ orderBy }, 37),
          expected(ascending, () => true),
          `pages of 37`,
        );
        // A filter on another metric: matches are sparse in the walk, and on some pages too few.
        const filter = 'metrics.f >= 8';
        assert.deepEqual(
          await pages({ orderBy, filter }, 9),
          expected(ascending, (r) => r.f >= 8),
        );
      }
    });

    test('page token errors', async () => {
      const page = await search({ orderBy: ['metrics.acc DESC'], maxResults: 2 });
      const token = page.nextPageToken!;
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], pageToken: 'not a token!' }),
        'Invalid page token',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], pageToken: Buffer.from('{"offset": 5').toString('base64') }),
        'Invalid page token',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], pageToken: Buffer.from('[1,2]').toString('base64') }),
        'Invalid page token',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc'], pageToken: token }),
        'it belongs to a different search',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], filter: 'metrics.acc > 0', pageToken: token }),
        'different search',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], viewType: 'ALL', pageToken: token }),
        'different search',
      );
      await expectInputRejection(
        search({ orderBy: ['metrics.acc DESC'], experimentIds: [A, B], pageToken: token }),
        'different search',
      );
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString()) as { f: string; k: unknown[][] };
      for (const k of [[['x', 1], [0]], [[7, null], [0], ['a']], [[0, 'x'], [0], ['a']], [[1, 5], [0], ['a']], []]) {
        const bad = Buffer.from(JSON.stringify({ ...decoded, k })).toString('base64url');
        await expectInputRejection(search({ orderBy: ['metrics.acc DESC'], pageToken: bad }), 'Invalid page token');
      }
      // The same token keeps working with a different page size.
      const next = await search({ orderBy: ['metrics.acc DESC'], maxResults: 10, pageToken: token });
      assert.deepEqual(
        next.runs.map((r) => r.name),
        ['alpha', 'gamma%2', 'delta', 'Beta'],
      );
    });

    test('bad options are InputErrors before anything runs', () => {
      for (const maxResults of [0, -1, 1.5]) {
        expectInputError(
          () => compileRunSearch(db, { engine, experimentIds: [A], maxResults }),
          'It must be a positive integer',
        );
      }
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A], maxResults: 50_001 }),
        'Invalid value for request parameter max_results. It must be at most 50000, but got value 50001',
      );
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A], viewType: 'BOGUS' as 'ALL' }),
        "Invalid view type 'BOGUS'",
      );
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A], filter: 'metrics.a >' }),
        'Invalid clause',
      );
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A], orderBy: ['x y z'] }),
        'Invalid order_by',
      );
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A], filter: "datasets.name = 'iris'" }),
        'Searching runs by datasets.name is not supported yet',
      );
      expectInputError(
        () => compileRunSearch(db, { engine, experimentIds: [A, 1.5] }),
        'Experiment ids must be integers',
      );
      assert.ok(compileRunSearch(db, { engine, experimentIds: [A], maxResults: 50_000 }));
    });

    test('datasets clauses go to the dataset hook', async () => {
      const seen: unknown[] = [];
      const runs = await found({
        filter: "datasets.name = 'Beta' AND datasets.digest IN ('x', 'y')",
        datasetFilter: (clause) => {
          seen.push(clause);
          return 'value' in clause ? sql`runs.name = ${clause.value}` : sql`1 = 1`;
        },
      });
      assert.deepEqual(runs, ['Beta']);
      assert.deepEqual(seen, [
        { type: 'dataset', key: 'name', comparator: '=', value: 'Beta' },
        { type: 'dataset', key: 'digest', comparator: 'IN', values: ['x', 'y'] },
      ]);
    });

    describe('experiments', () => {
      let P1: string;
      let P2: string;
      const exp = new Map<number, string>();
      before(async () => {
        P1 = await insertProject(db, 'exp-one');
        P2 = await insertProject(db, 'exp-two');
        for (const [project, name, created, updated, tags, stage] of [
          [P1, 'cv-alpha', 100, 500, { team: 'vision' }, 'active'],
          [P1, 'CV-beta', 200, 200, { team: 'Vision', prio: 'high' }, 'active'],
          [P1, 'nlp_gamma', 200, 300, {}, 'active'],
          [P1, 'deleted-one', 400, 400, { team: 'x' }, 'deleted'],
          [P2, 'cv-other', 500, 500, {}, 'active'],
        ] as const) {
          exp.set(await insertExperiment(db, project, name, created, updated, tags, stage), name);
        }
      });
      const searchE = (o: Partial<ExperimentSearchOptions>) =>
        searchExperiments(db, { engine, projectIds: [P1], ...o });
      const foundE = async (o: Partial<ExperimentSearchOptions>) =>
        (await searchE(o)).experiments.map((e) => exp.get(e.id));
      const DEFAULT = ['CV-beta', 'nlp_gamma', 'cv-alpha'];

      test('default order, view types, projects', async () => {
        assert.deepEqual(await foundE({}), DEFAULT);
        assert.deepEqual(await foundE({ viewType: 'DELETED_ONLY' }), ['deleted-one']);
        assert.deepEqual(await foundE({ viewType: 'ALL' }), ['deleted-one', ...DEFAULT]);
        assert.deepEqual(await foundE({ projectIds: [P1, P2] }), ['cv-other', ...DEFAULT]);
        assert.deepEqual(await foundE({ projectIds: [] }), []);
        const e = (await searchE({ filter: "name = 'CV-beta'" })).experiments[0]!;
        assert.deepEqual(
          { ...e, id: 0 },
          {
            id: 0,
            project_id: P1,
            name: 'CV-beta',
            artifact_location: 'mlflow-artifacts:/CV-beta',
            lifecycle_stage: 'active',
            created_at: 200,
            updated_at: 200,
          },
        );
      });

      const eFilters: [string, string[]][] = [
        ["name LIKE 'cv%'", ['cv-alpha']],
        ["name ILIKE 'cv%'", ['CV-beta', 'cv-alpha']],
        ["name = 'CV-beta'", ['CV-beta']],
        ["name != 'CV-beta'", ['nlp_gamma', 'cv-alpha']],
        ["name LIKE 'nlp\\_%'", ['nlp_gamma']],
        ['creation_time > 150', ['CV-beta', 'nlp_gamma']],
        ['creation_time > 150.5', ['CV-beta', 'nlp_gamma']],
        ['creation_time >= 200 AND last_update_time < 250', ['CV-beta']],
        ['last_update_time = 300', ['nlp_gamma']],
        ["tags.team = 'vision'", ['cv-alpha']],
        ["tags.team ILIKE 'VISION'", ['CV-beta', 'cv-alpha']],
        ["tags.team != 'vision'", ['CV-beta']],
        ['tags.team IS NULL', ['nlp_gamma']],
        ['tags.prio IS NOT NULL', ['CV-beta']],
        ["name ILIKE '%a%' AND tags.team LIKE 'v%'", ['cv-alpha']],
      ];
      for (const [filter, expected] of eFilters) {
        test(`filter ${filter}`, async () => assert.deepEqual(await foundE({ filter }), expected));
      }

      const eOrders: [string[], string[]][] = [
        [['name'], ['CV-beta', 'cv-alpha', 'nlp_gamma']],
        [['name DESC'], ['nlp_gamma', 'cv-alpha', 'CV-beta']],
        [['last_update_time DESC'], ['cv-alpha', 'nlp_gamma', 'CV-beta']],
        [['creation_time'], ['cv-alpha', 'nlp_gamma', 'CV-beta']],
        [['experiment_id DESC'], ['nlp_gamma', 'CV-beta', 'cv-alpha']],
        [
          ['creation_time DESC', 'name'],
          ['CV-beta', 'nlp_gamma', 'cv-alpha'],
        ],
      ];
      for (const [orderBy, expected] of eOrders) {
        test(`order_by ${JSON.stringify(orderBy)}, and paging through it`, async () => {
          assert.deepEqual(await foundE({ orderBy }), expected);
          for (const size of [1, 2, 3]) {
            const out: (string | undefined)[] = [];
            let token: string | null = null;
            do {
              const page = await searchE({ orderBy, maxResults: size, pageToken: token });
              out.push(...page.experiments.map((e) => exp.get(e.id)));
              token = page.nextPageToken;
            } while (token);
            assert.deepEqual(out, expected, `page size ${size}`);
          }
        });
      }

      test('errors', async () => {
        await expectInputRejection(searchE({ filter: "params.a = 'x'" }), 'Invalid entity type');
        await expectInputRejection(searchE({ orderBy: ['tags.a'] }), 'Invalid order_by entity: tag');
        await expectInputRejection(
          searchE({ maxResults: 50_001 }),
          'Invalid value for max_results. It must be at most 50000, but got 50001',
        );
        const page = await searchE({ maxResults: 1 });
        await expectInputRejection(searchE({ orderBy: ['name'], pageToken: page.nextPageToken }), 'different search');
        await expectInputRejection(searchE({ pageToken: 'x' }), 'Invalid page token');
      });
    });
  });
}
