// Performance sanity check of run search on SQLite at the scale the portal's runs table is built
// for (100k runs, a few latest metrics and params each; the table pages through this search as it
// scrolls): prints timings and query plans. Wall-clock bounds are loose on purpose (bench/
// measures; tests must not flake); the plan checks are strict.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, type Kysely } from 'kysely';
import { openDatabase, type Database } from '../../../db/database.js';
import type { DB } from '../../../db/schema.js';
import { createTestStore, type TestStore } from '../../../testing/engines.js';
import { compileRunSearch, type RunSearchOptions } from './index.js';

const RUNS = 100_000;
const METRICS = ['acc', 'loss', 'f1', 'auc'];

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

async function seed(db: Kysely<DB>, experimentId: number) {
  const rnd = random(42);
  await db.transaction().execute(async (tx) => {
    for (let base = 0; base < RUNS; base += 2000) {
      const runs = Array.from({ length: Math.min(2000, RUNS - base) }, (_, j) => {
        const n = base + j;
        return {
          id: n.toString(16).padStart(32, '0'),
          experiment_id: experimentId,
          name: `run-${n}`,
          user_id: null,
          username: `user${n % 7}`,
          status: 'FINISHED' as const,
          start_time: 1_700_000_000_000 + n * 1000,
          end_time: 1_700_000_000_000 + n * 1000 + 500,
          lifecycle_stage: 'active' as const,
          artifact_uri: `mlflow-artifacts:/${experimentId}/${n}/artifacts`,
          parent_run_id: null,
        };
      });
      await tx.insertInto('runs').values(runs).execute();
      const metrics = runs.flatMap((r) =>
        METRICS.map((key) => ({ run_id: r.id, key, value: rnd(), is_nan: 0, step: 100, timestamp: r.start_time })),
      );
      for (let i = 0; i < metrics.length; i += 4000) {
        await tx
          .insertInto('latest_metrics')
          .values(metrics.slice(i, i + 4000))
          .execute();
      }
      const params = runs.flatMap((r, j) => [
        { run_id: r.id, key: 'lr', value: String([0.1, 0.01, 0.001][j % 3]) },
        { run_id: r.id, key: 'model', value: ['cnn', 'rnn', 'mlp', 'vit'][j % 4]! },
      ]);
      await tx.insertInto('run_params').values(params).execute();
    }
  });
}

describe('run search performance (sqlite, 100k runs)', () => {
  let store: TestStore;
  let database: Database;
  let experimentId: number;

  before(async () => {
    store = await createTestStore('sqlite');
    database = await openDatabase({ url: store.url, sqliteSynchronous: 'normal' });
    await database.migrate();
    const db = database.db;
    await db
      .insertInto('teams')
      .values({ id: 't', name: 't', display_name: 't', description: '', created_at: 0, updated_at: 0 })
      .execute();
    await db
      .insertInto('projects')
      .values({ id: 'p', name: 'p', display_name: 'p', description: '', team_id: 't', created_at: 0, updated_at: 0 })
      .execute();
    const e = await db
      .insertInto('experiments')
      .values({
        project_id: 'p',
        name: 'perf',
        artifact_location: 'x',
        lifecycle_stage: 'active',
        created_at: 0,
        updated_at: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    experimentId = Number(e.id);
    await seed(db, experimentId);
    await db.executeQuery(CompiledQuery.raw('analyze'));
  });
  after(async () => {
    await database.close();
    await store.cleanup();
  });

  const cases: [string, Partial<RunSearchOptions> & { expectPlan?: RegExp }][] = [
    [
      'metric filter + metric order_by, 100 rows',
      { filter: 'metrics.loss < 0.5', orderBy: ['metrics.acc DESC'], maxResults: 100 },
    ],
    [
      'metric filter + metric order_by, 1000 rows',
      { filter: 'metrics.loss < 0.5', orderBy: ['metrics.acc DESC'], maxResults: 1000 },
    ],
    [
      'selective metric filter (1%) + order_by',
      { filter: 'metrics.loss < 0.01', orderBy: ['metrics.acc DESC'], maxResults: 100 },
    ],
    ['default order, no filter, 100 rows', { maxResults: 100 }],
    [
      'param filter + param order_by, 100 rows',
      { filter: "params.model = 'cnn'", orderBy: ['params.lr'], maxResults: 100 },
    ],
    [
      'two metric filters + attribute filter, default order',
      {
        filter: "metrics.loss < 0.5 AND metrics.f1 > 0.5 AND user_id = 'user3'",
        maxResults: 100,
        expectPlan: /runs USING INDEX runs_experiment_idx/,
      },
    ],
    [
      'selective param filter, default order',
      { filter: "params.model = 'cnn' AND run_name LIKE 'run-1999%'", maxResults: 100 },
    ],
    [
      'metric filter, order_by start_time ASC',
      { filter: 'metrics.loss < 0.5', orderBy: ['start_time ASC'], maxResults: 100 },
    ],
  ];

  test('deep pages of the default order seek to the cursor', async () => {
    const db = database.db;
    const options = { engine: 'sqlite' as const, experimentIds: [experimentId], maxResults: 100 };
    let token: string | null = null;
    let pages = 0;
    const times: number[] = [];
    do {
      const t0 = performance.now();
      const page = await compileRunSearch(db, { ...options, pageToken: token }).execute();
      times.push(performance.now() - t0);
      token = page.nextPageToken;
      pages++;
    } while (token);
    assert.equal(pages, RUNS / 100);
    times.sort((a, b) => a - b);
    console.log(
      `all ${pages} pages of 100: p50 ${times[pages >> 1]!.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms`,
    );
    assert.ok(times[pages >> 1]! < 500);
  });

  // A metric order walks the metric's index in segments sized from how many runs matched so far
  // (compile-run-search.ts); here pages of several sizes and selectivities, followed through
  // their tokens, must give exactly the order of a plain sort.
  test('metric-ordered pages equal a plain sort, across walk segments and pages', async () => {
    const db = database.db;
    for (const [threshold, maxResults] of [
      [0.5, 1000],
      [0.05, 300],
      [0.01, 100],
      [0.999, 5000],
    ] as const) {
      const expected = await db.executeQuery<{ id: string }>(
        CompiledQuery.raw(
          `select runs.id from runs join latest_metrics f on f.run_id = runs.id and f.key = 'loss'
           join latest_metrics o on o.run_id = runs.id and o.key = 'acc'
           where runs.experiment_id = ? and f.value < ? order by o.value desc, runs.start_time desc, runs.id limit 6000`,
          [experimentId, threshold],
        ),
      );
      const got: string[] = [];
      let token: string | null = null;
      do {
        const page = await compileRunSearch(db, {
          engine: 'sqlite',
          experimentIds: [experimentId],
          filter: `metrics.loss < ${threshold}`,
          orderBy: ['metrics.acc DESC'],
          maxResults,
          pageToken: token,
        }).execute();
        for (const r of page.runs) got.push(r.id);
        token = page.nextPageToken;
      } while (token && got.length < 6000);
      assert.deepEqual(
        got.slice(0, 6000),
        expected.rows.map((r) => r.id),
        `loss < ${threshold}, pages of ${maxResults}`,
      );
    }
  });

  for (const [name, options] of cases) {
    test(name, async () => {
      const db = database.db;
      const { expectPlan, ...search } = options;
      const compiled = compileRunSearch(db, { engine: 'sqlite', experimentIds: [experimentId], ...search });
      const first = await compiled.execute();
      assert.ok(first.runs.length > 0);
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        await compileRunSearch(db, { engine: 'sqlite', experimentIds: [experimentId], ...search }).execute();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const q = compiled.query.compile(db);
      const plan = await db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
      );
      const details = plan.rows.map((r) => r.detail);
      console.log(
        `${name}: p50 ${times[7]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms\n  ` +
          details.join('\n  '),
      );
      // Never a full scan of any table: runs come through an index, metrics/params/tags by key.
      for (const d of details) assert.doesNotMatch(d, /^SCAN /);
      assert.ok(
        details.some((d) => /^SEARCH runs USING (COVERING )?INDEX/.test(d)),
        details.join('\n'),
      );
      if (expectPlan)
        assert.ok(
          details.some((d) => expectPlan.test(d)),
          details.join('\n'),
        );
      // Loose: catches a pathological plan, not a slow machine.
      assert.ok(times[7]! < 2000, `p50 ${times[7]} ms`);
    });
  }
});
