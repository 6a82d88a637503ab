// The MLflow adapter under bad input, on both engines: every answer is MLflow's
// {error_code, message} with MLflow's status, a rejected request writes nothing, and no request
// is ever answered with a 5xx (the MLflow client retries those for minutes).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../../app.js';
import { createTestStore, ENGINES, type TestStore } from '../../testing/engines.js';
import {
  basic,
  bearer,
  call,
  countRows,
  createProject,
  createTeam,
  createUser,
  grant,
  type Headers,
} from '../../testing/identity-fixtures.js';
import { adminAuth, buildTestApp } from '../../testing/test-app.js';
import { UnavailableError } from '../../core/errors.js';
import { toMlflowError } from './errors.js';

const API = '/api/2.0/mlflow';
const BAD_CHARACTERS =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';
const RESOLVES = 'must not resolve to other names';

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** A raw payload, sent as is with `contentType`. */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Headers;
}

function send(app: HangarApp, c: Call): Promise<LightMyRequestResponse> {
  const headers: Headers = { ...(c.headers ?? adminAuth) };
  if (c.raw !== undefined || c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  return app.http.inject({
    method: c.method,
    url: `${API}/${c.path}`,
    headers,
    payload: c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body)),
  });
}

const post = (app: HangarApp, path: string, body: unknown, headers?: Headers) =>
  send(app, { method: 'POST', path, body, headers });
const get = (app: HangarApp, path: string, headers?: Headers) => send(app, { method: 'GET', path, headers });

/** Asserts an MLflow error answer: exactly {error_code, message}, the status, and the message. */
function expectMlflowError(
  res: LightMyRequestResponse,
  status: number,
  code: string,
  message?: string | RegExp,
  what = '',
): string {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body.slice(0, 500)}`);
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body).sort(), ['error_code', 'message'], `${what}: ${res.body.slice(0, 500)}`);
  assert.equal(body.error_code, code, `${what}: ${res.body.slice(0, 500)}`);
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length > 0);
  if (typeof message === 'string') assert.ok((body.message as string).includes(message), `${what}: ${body.message}`);
  else if (message) assert.match(body.message as string, message, what);
  return body.message as string;
}

function expectOk(res: LightMyRequestResponse, what = ''): Record<string, unknown> {
  assert.equal(res.statusCode, 200, `${what} -> ${res.statusCode} ${res.body.slice(0, 500)}`);
  return res.json();
}

const TRACKED = ['metrics', 'latest_metrics', 'run_params', 'run_tags', 'runs', 'experiments'] as const;

async function counts(app: HangarApp): Promise<Record<(typeof TRACKED)[number], number>> {
  const out = {} as Record<(typeof TRACKED)[number], number>;
  for (const t of TRACKED) out[t] = await countRows(app, t);
  return out;
}

/** Runs `fn` and asserts that no tracking table gained or lost a row. */
async function writesNothing(app: HangarApp, what: string, fn: () => Promise<void>): Promise<void> {
  const before = await counts(app);
  await fn();
  assert.deepEqual(await counts(app), before, `${what} must write nothing`);
}

async function newRun(app: HangarApp, experimentId = '0'): Promise<string> {
  const res = expectOk(await post(app, 'runs/create', { experiment_id: experimentId }), 'create run');
  return (res.run as { info: { run_id: string } }).info.run_id;
}

const metric = (key: string, value: unknown, step = 0) => ({ key, value, timestamp: 1_700_000_000_000, step });
const junk = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

for (const engine of ENGINES) {
  describe(`MLflow adapter: bad input (${engine})`, () => {
    let store: TestStore;
    let app: HangarApp;
    let runId: string;

    before(async () => {
      store = await createTestStore(engine);
      app = await buildTestApp(store);
      await app.http.ready();
      app.start();
      runId = await newRun(app);
      expectOk(await post(app, 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }));
      expectOk(await post(app, 'runs/set-tag', { run_id: runId, key: 'stage', value: 'train' }));
      expectOk(await post(app, 'runs/log-metric', { run_id: runId, ...metric('loss', 1) }));
    });
    after(async () => {
      await app.close();
      await store.cleanup();
    });

    test('malformed JSON and bodies that are not JSON objects are 400 INVALID_PARAMETER_VALUE', async () => {
      await writesNothing(app, 'malformed bodies', async () => {
        for (const path of ['runs/log-batch', 'runs/create', 'experiments/create', 'runs/log-metric']) {
          for (const raw of ['{bad', '{"run_id": "x",}', '{"run_id": ', "{'run_id': 'x'}", '\u0000']) {
            expectMlflowError(
              await send(app, { method: 'POST', path, raw }),
              400,
              'INVALID_PARAMETER_VALUE',
              'Malformed JSON',
              `${path} ${JSON.stringify(raw)}`,
            );
          }
          // (A JSON null body counts as {}, as on MLflow's server.)
          for (const raw of ['[]', '"run"', '42', 'true']) {
            const res = await send(app, { method: 'POST', path, raw });
            expectMlflowError(res, 400, 'INVALID_PARAMETER_VALUE', undefined, `${path} ${raw}`);
          }
          expectMlflowError(await send(app, { method: 'POST', path, raw: '' }), 400, 'INVALID_PARAMETER_VALUE');
          expectMlflowError(
            await send(app, {
              method: 'POST',
              path,
              raw: 'run_id=x',
              contentType: 'application/x-www-form-urlencoded',
            }),
            400,
            'INVALID_PARAMETER_VALUE',
            'application/json',
          );
          expectMlflowError(
            await send(app, { method: 'POST', path, raw: '{}', contentType: 'text/plain' }),
            400,
            'INVALID_PARAMETER_VALUE',
          );
        }
      });
    });

    test('wrong types are 400 naming the field, and write nothing', async () => {
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['runs/log-batch', { run_id: runId, metrics: {} }, /'metrics'.*list/],
        ['runs/log-batch', { run_id: runId, metrics: 'loss' }, /'metrics'.*list/],
        ['runs/log-batch', { run_id: runId, metrics: [1, 2] }, /'metrics'.*objects/],
        ['runs/log-batch', { run_id: runId, params: { lr: '1' } }, /'params'.*list/],
        ['runs/log-batch', { run_id: runId, tags: [null] }, /'tags'.*objects/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', { v: 1 })] }, /metrics\[0\]\.value.*double/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', [1])] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', true)] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 'fast')] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', '')] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', null)] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [{ key: 'm', timestamp: 1, step: 0 }] }, /metrics\[0\]\.value/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1, 1.5)] }, /metrics\[0\]\.step.*integer/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1, 'abc' as never)] }, /metrics\[0\]\.step/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1, '1.5' as never)] }, /metrics\[0\]\.step/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1, {} as never)] }, /metrics\[0\]\.step/],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1, 2 ** 64)] }, /metrics\[0\]\.step/],
        [
          'runs/log-batch',
          { run_id: runId, metrics: [{ key: 'm', value: 1, step: 0, timestamp: 'yesterday' }] },
          /metrics\[0\]\.timestamp/,
        ],
        [
          'runs/log-batch',
          { run_id: runId, metrics: [{ key: 'm', value: 1, step: 0, timestamp: -1 }] },
          /metrics\[0\]\.timestamp.*at least 0/,
        ],
        ['runs/log-batch', { run_id: runId, metrics: [metric(7 as never, 1)] }, /metric key/],
        ['runs/log-batch', { run_id: runId, params: [{ key: 'p', value: { a: 1 } }] }, /string value/],
        ['runs/log-batch', { run_id: runId, params: [{ key: 'p', value: null }] }, /string value/],
        ['runs/log-batch', { run_id: runId, params: [{ value: 'v' }] }, /param key/],
        ['runs/log-batch', { run_id: runId, tags: [{ key: 't', value: 5 }] }, /string value/],
        ['runs/log-batch', { run_id: { id: runId } }, /'run_id'/],
        ['runs/log-batch', { metrics: [metric('m', 1)] }, /Missing value for required parameter 'run_id'/],
        ['runs/log-metric', { run_id: runId, key: 'm', value: { v: 1 } }, /value/],
        ['runs/log-metric', { run_id: runId, key: 'm', value: 1, step: 0.5 }, /step/],
        ['runs/log-parameter', { run_id: runId, key: 'p', value: ['v'] }, /string value/],
        ['runs/set-tag', { run_id: runId, key: ['t'], value: 'v' }, /tag key/],
        ['experiments/create', { name: 5 }, /experiment name/],
        ['experiments/create', { name: '' }, /experiment name/],
        ['experiments/create', { name: 'ok', tags: 'x' }, /'tags'.*list/],
        ['experiments/update', { experiment_id: '0', new_name: ['x'] }, /experiment name/],
        ['experiments/set-experiment-tag', { experiment_id: '0', key: 'k', value: 7 }, /string value/],
        ['runs/create', { experiment_id: '0', start_time: 'now' }, /start_time/],
        ['runs/create', { experiment_id: '0', run_name: { n: 1 } }, /run_name/],
        ['runs/create', { experiment_id: '0', tags: [{ key: 'a', value: 1 }] }, /string value/],
        ['runs/update', { run_id: runId, status: 'DONE' }, /status/],
        ['runs/update', { run_id: runId, end_time: 'later' }, /end_time/],
        ['runs/update', { run_id: runId, run_name: 42 }, /run_name/],
      ];
      await writesNothing(app, 'wrong types', async () => {
        for (const [path, body, message] of cases) {
          expectMlflowError(
            await post(app, path, body),
            400,
            'INVALID_PARAMETER_VALUE',
            message,
            `${path} ${JSON.stringify(body)}`,
          );
        }
        for (const query of ['max_results=abc', 'max_results=0', 'max_results=1.5', 'page_token=%%%garbage']) {
          expectMlflowError(
            await get(app, `metrics/get-history?run_id=${runId}&metric_key=loss&${query}`),
            400,
            'INVALID_PARAMETER_VALUE',
            undefined,
            query,
          );
        }
        expectMlflowError(
          await get(app, `metrics/get-history?run_id=${runId}`),
          400,
          'INVALID_PARAMETER_VALUE',
          'metric_key',
        );
        expectMlflowError(await get(app, 'runs/get'), 400, 'INVALID_PARAMETER_VALUE', 'run_uuid');
      });
    });

    test('int64 fields take digit strings and integral numbers, as protobuf JSON does', async () => {
      const run = await newRun(app);
      expectOk(
        await post(app, 'runs/log-batch', {
          run_id: run,
          metrics: [
            { key: 'm', value: '2.5', step: '3', timestamp: '1700000000005' },
            { key: 'm', value: 1, step: 4.0, timestamp: 1_700_000_000_006 },
          ],
        }),
      );
      const history = expectOk(await get(app, `metrics/get-history?run_id=${run}&metric_key=m`));
      assert.deepEqual(history.metrics, [
        { key: 'm', value: 2.5, step: 3, timestamp: 1_700_000_000_005 },
        { key: 'm', value: 1, step: 4, timestamp: 1_700_000_000_006 },
      ]);
    });

    test('NaN and infinities sent as strings are accepted and returned as strings', async () => {
      const run = await newRun(app);
      expectOk(
        await post(app, 'runs/log-batch', {
          run_id: run,
          metrics: [
            metric('nan', 'NaN', 0),
            metric('nan', 'nan', 1),
            metric('pinf', 'Infinity', 0),
            metric('pinf', 'inf', 1),
            metric('ninf', '-Infinity', 0),
            metric('ninf', '-inf', 1),
            metric('big', 1.7976931348623157e308, 0),
            metric('tiny', -5e-324, 0),
          ],
        }),
      );
      expectOk(await post(app, 'runs/log-metric', { run_id: run, ...metric('single', 'NaN', 0) }));
      const data = (expectOk(await get(app, `runs/get?run_id=${run}`)).run as { data: { metrics: unknown[] } }).data;
      const latest = Object.fromEntries(
        (data.metrics as { key: string; value: unknown }[]).map((m) => [m.key, m.value]),
      );
      assert.deepEqual(latest, {
        nan: 'NaN',
        pinf: 'Infinity',
        ninf: '-Infinity',
        big: 1.7976931348623157e308,
        tiny: -5e-324,
        single: 'NaN',
      });
      for (const [key, values] of [
        ['nan', ['NaN', 'NaN']],
        ['pinf', ['Infinity', 'Infinity']],
        ['ninf', ['-Infinity', '-Infinity']],
      ] as const) {
        const h = expectOk(await get(app, `metrics/get-history?run_id=${run}&metric_key=${key}`));
        assert.deepEqual(
          (h.metrics as { value: unknown }[]).map((m) => m.value),
          values,
          key,
        );
      }
    });

    test('oversized batches are refused with MLflow messages and write nothing', async () => {
      const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
      await writesNothing(app, 'oversized batches', async () => {
        expectMlflowError(
          await post(app, 'runs/log-batch', { run_id: runId, metrics: many(1001, (i) => metric('m', i, i)) }),
          400,
          'INVALID_PARAMETER_VALUE',
          'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
        );
        expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            params: many(101, (i) => ({ key: `p${i}`, value: 'v' })),
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          'A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.',
        );
        expectMlflowError(
          await post(app, 'runs/log-batch', { run_id: runId, tags: many(101, (i) => ({ key: `t${i}`, value: 'v' })) }),
          400,
          'INVALID_PARAMETER_VALUE',
          'A batch logging request can contain at most 100 tags. Got 101 tags.',
        );
        expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            metrics: many(901, (i) => metric('m', i, i)),
            params: many(100, (i) => ({ key: `p${i}`, value: 'v' })),
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          'A batch logging request can contain at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags.',
        );
        // A full batch whose very last item is bad.
        expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            metrics: many(1000, (i) => metric(i === 999 ? 'bad\u{1F680}' : 'm', i, i)),
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          "parameter 'metrics[999].key'",
        );
      });
      // The limits themselves are fine.
      const run = await newRun(app);
      expectOk(await post(app, 'runs/log-batch', { run_id: run, metrics: many(1000, (i) => metric('m', i, i)) }));
      expectOk(
        await post(app, 'runs/log-batch', {
          run_id: run,
          params: many(100, (i) => ({ key: `p${i}`, value: 'v' })),
          tags: many(100, (i) => ({ key: `t${i}`, value: 'v' })),
        }),
      );
      const h = expectOk(await get(app, `metrics/get-history?run_id=${run}&metric_key=m`));
      assert.equal((h.metrics as unknown[]).length, 1000);
    });

    test('a batch whose last param changes a logged value writes nothing', async () => {
      await writesNothing(app, 'conflicting batch', async () => {
        const msg = expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            metrics: [metric('loss', 0.5, 1), metric('acc', 0.9, 1)],
            params: [
              { key: 'new1', value: 'a' },
              { key: 'new2', value: 'b' },
              { key: 'lr', value: '0.2' },
            ],
            tags: [
              { key: 'stage', value: 'eval' },
              { key: 'fresh', value: 'x' },
            ],
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          "Changing param values is not allowed. Param with key='lr' was already logged with value='0.1'",
        );
        assert.ok(msg.includes("Attempted logging new value '0.2'"), msg);
        // Two values for one key within a batch.
        expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            params: [
              { key: 'dup', value: '1' },
              { key: 'dup', value: '2' },
            ],
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          "Duplicate parameter keys have been submitted: ['dup']",
        );
        expectMlflowError(
          await post(app, 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.3' }),
          400,
          'INVALID_PARAMETER_VALUE',
          'Changing param values is not allowed',
        );
      });
      const run = expectOk(await get(app, `runs/get?run_id=${runId}`)).run as {
        data: { params: unknown[]; tags: { key: string; value: string }[] };
      };
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);
      assert.equal(run.data.tags.find((t) => t.key === 'stage')?.value, 'train');
      // The same value again is fine.
      expectOk(await post(app, 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }));
    });

    test('a 10 MB param value is a clear 4xx, never a 5xx', async () => {
      const tenMB = 'x'.repeat(10_000_000);
      await writesNothing(app, 'huge values', async () => {
        // Under the body limit: refused by MLflow's length limit.
        expectMlflowError(
          await post(app, 'runs/log-parameter', { run_id: runId, key: 'huge', value: tenMB }),
          400,
          'INVALID_PARAMETER_VALUE',
          'exceeded length limit of 6000',
        );
        expectMlflowError(
          await post(app, 'runs/log-batch', { run_id: runId, params: [{ key: 'huge', value: tenMB }] }),
          400,
          'INVALID_PARAMETER_VALUE',
          'exceeded length limit of 6000',
        );
        expectMlflowError(
          await post(app, 'runs/set-tag', { run_id: runId, key: 'huge', value: tenMB }),
          400,
          'INVALID_PARAMETER_VALUE',
          'exceeded length limit of 8000',
        );
        // Over the body limit (10 MiB by default): refused before parsing, in MLflow's shape.
        const limit = app.http.initialConfig.bodyLimit!;
        const overLimit = 'x'.repeat(limit + 1);
        expectMlflowError(
          await post(app, 'runs/log-parameter', { run_id: runId, key: 'huge', value: overLimit }),
          413,
          'INVALID_PARAMETER_VALUE',
          `at most ${limit} bytes`,
        );
        // One character over MLflow's limits.
        expectMlflowError(
          await post(app, 'runs/log-parameter', { run_id: runId, key: 'p6001', value: junk(6001) }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        expectMlflowError(
          await post(app, 'runs/set-tag', { run_id: runId, key: 't8001', value: junk(8001) }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        expectMlflowError(
          await post(app, 'runs/log-metric', { run_id: runId, ...metric('k'.repeat(251), 1) }),
          400,
          'INVALID_PARAMETER_VALUE',
          'length limit of 250',
        );
      });
      // Experiment tags: MLflow's 20000 characters.
      const e = expectOk(await post(app, 'experiments/create', { name: `long-tag-${engine}` }));
      expectOk(
        await post(app, 'experiments/set-experiment-tag', {
          experiment_id: e.experiment_id,
          key: 'note',
          value: junk(20_000),
        }),
      );
      expectMlflowError(
        await post(app, 'experiments/set-experiment-tag', {
          experiment_id: e.experiment_id,
          key: 'note',
          value: junk(20_001),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });

    test("values at MLflow's limits are stored", async () => {
      // Incompressible values, so that indexes must hold them whole.
      const run = await newRun(app);
      const p = junk(6000);
      const t = junk(8000);
      const key = `k${junk(249)}`;
      expectOk(await post(app, 'runs/log-parameter', { run_id: run, key, value: p }), 'param at the limit');
      expectOk(await post(app, 'runs/set-tag', { run_id: run, key, value: t }), 'tag at the limit');
      expectOk(await post(app, 'runs/log-metric', { run_id: run, ...metric(key, 1) }), 'metric key at the limit');
      const data = (
        expectOk(await get(app, `runs/get?run_id=${run}`)).run as {
          data: { params: { key: string; value: string }[]; tags: { key: string; value: string }[] };
        }
      ).data;
      assert.equal(data.params.find((x) => x.key === key)?.value, p);
      assert.equal(data.tags.find((x) => x.key === key)?.value, t);
    });

    test("keys outside MLflow's character set are refused with MLflow's message", async () => {
      const bad = [
        'loss\u{1F680}', // emoji
        'a\u200bb', // zero-width space
        '\u202eevil', // bidi override
        'e\u0301', // combining accent (decomposed é)
        'nul\u0000', // control characters
        'tab\tkey',
        'line\nbreak',
        '\uff0e\uff0e\uff0fx', // fullwidth "../x"
        'a\\b',
        'a*b',
        'a"b',
        'a%2e%2e',
      ];
      await writesNothing(app, 'bad characters', async () => {
        for (const key of bad) {
          const what = JSON.stringify(key);
          expectMlflowError(
            await post(app, 'runs/log-batch', { run_id: runId, metrics: [metric(key, 1)] }),
            400,
            'INVALID_PARAMETER_VALUE',
            BAD_CHARACTERS,
            `metric ${what}`,
          );
          expectMlflowError(
            await post(app, 'runs/log-parameter', { run_id: runId, key, value: 'v' }),
            400,
            'INVALID_PARAMETER_VALUE',
            BAD_CHARACTERS,
            `param ${what}`,
          );
          expectMlflowError(
            await post(app, 'runs/set-tag', { run_id: runId, key, value: 'v' }),
            400,
            'INVALID_PARAMETER_VALUE',
            BAD_CHARACTERS,
            `tag ${what}`,
          );
        }
        const msg = expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: runId,
            params: [
              { key: 'ok', value: '1' },
              { key: 'bad\u{1F680}', value: '1' },
            ],
          }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
        assert.ok(msg.startsWith(`Invalid value "bad\u{1F680}" for parameter 'params[1].key' supplied: `), msg);
      });
      // Letters and digits of any script pass, as they do in MLflow (Python's Unicode \w).
      const run = await newRun(app);
      const good = ['précision', '損失', 'Ωmega_2', 'ایکس', 'mAP_0.5', 'a b:c/d.e-f'];
      expectOk(
        await post(app, 'runs/log-batch', {
          run_id: run,
          metrics: good.map((k) => metric(k, 1)),
          params: good.map((k) => ({ key: k, value: 'v' })),
          tags: good.map((k) => ({ key: k, value: 'v' })),
        }),
      );
      const data = (
        expectOk(await get(app, `runs/get?run_id=${run}`)).run as {
          data: { params: { key: string }[] };
        }
      ).data;
      assert.deepEqual(data.params.map((p) => p.key).sort(), [...good].sort());
    });

    test('keys that would resolve to other names (.., ., //, leading or trailing /) are refused', async () => {
      const bad = ['..', '.', '../x', 'a/../b', 'a/..', './a', 'a/./b', '/abs', 'a//b', 'a/', '..hidden', ' /../x'];
      await writesNothing(app, 'traversal keys', async () => {
        for (const key of bad) {
          for (const [path, body] of [
            ['runs/log-metric', { run_id: runId, ...metric(key, 1) }],
            ['runs/log-parameter', { run_id: runId, key, value: 'v' }],
            ['runs/set-tag', { run_id: runId, key, value: 'v' }],
          ] as const) {
            expectMlflowError(await post(app, path, body), 400, 'INVALID_PARAMETER_VALUE', RESOLVES, `${path} ${key}`);
          }
        }
      });
      // Dots inside names are fine.
      const run = await newRun(app);
      for (const key of ['a..b', 'a/b..c', 'v1.2.3', 'x/y/z', 'x..']) {
        expectOk(await post(app, 'runs/log-parameter', { run_id: run, key, value: 'v' }), key);
      }
    });

    test('logging to a deleted run is refused and writes nothing', async () => {
      const run = await newRun(app);
      expectOk(await post(app, 'runs/delete', { run_id: run }));
      await writesNothing(app, 'deleted run', async () => {
        expectMlflowError(
          await post(app, 'runs/log-batch', {
            run_id: run,
            metrics: [metric('m', 1)],
            params: [{ key: 'p', value: 'v' }],
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          "must be in the 'active' state",
        );
      });
    });

    test('authentication and authorization failures answer in MLflow shape', async () => {
      const routes: Call[] = [
        { method: 'GET', path: 'experiments/get?experiment_id=0' },
        { method: 'GET', path: 'experiments/get-by-name?experiment_name=Default' },
        { method: 'GET', path: `runs/get?run_id=${runId}` },
        { method: 'GET', path: `metrics/get-history?run_id=${runId}&metric_key=loss` },
        { method: 'POST', path: 'experiments/create', body: { name: 'anon' } },
        { method: 'POST', path: 'experiments/update', body: { experiment_id: '0', new_name: 'x' } },
        { method: 'POST', path: 'experiments/delete', body: { experiment_id: '0' } },
        { method: 'POST', path: 'experiments/restore', body: { experiment_id: '0' } },
        { method: 'POST', path: 'experiments/set-experiment-tag', body: { experiment_id: '0', key: 'k', value: 'v' } },
        { method: 'POST', path: 'runs/create', body: { experiment_id: '0' } },
        { method: 'POST', path: 'runs/update', body: { run_id: runId, status: 'KILLED' } },
        { method: 'POST', path: 'runs/delete', body: { run_id: runId } },
        { method: 'POST', path: 'runs/restore', body: { run_id: runId } },
        { method: 'POST', path: 'runs/log-metric', body: { run_id: runId, ...metric('m', 1) } },
        { method: 'POST', path: 'runs/log-parameter', body: { run_id: runId, key: 'p', value: 'v' } },
        { method: 'POST', path: 'runs/set-tag', body: { run_id: runId, key: 't', value: 'v' } },
        { method: 'POST', path: 'runs/delete-tag', body: { run_id: runId, key: 'stage' } },
        { method: 'POST', path: 'runs/log-batch', body: { run_id: runId, metrics: [metric('m', 1)] } },
      ];
      await writesNothing(app, 'refused callers', async () => {
        for (const headers of [{}, bearer('hgr_not-a-token'), { authorization: 'Weird x' }]) {
          for (const r of routes) {
            expectMlflowError(
              await send(app, { ...r, headers }),
              401,
              'UNAUTHENTICATED',
              undefined,
              `${r.method} ${r.path} ${JSON.stringify(headers)}`,
            );
          }
          // Malformed JSON from an anonymous caller is still a 401: bodies of strangers are not parsed.
          expectMlflowError(
            await send(app, { method: 'POST', path: 'runs/log-batch', raw: '{bad', headers }),
            401,
            'UNAUTHENTICATED',
          );
        }
        // A wrong password is a 401 too, until repeated failures lock the login out (429, which the
        // client retries after a while), so only once here.
        const wrong = basic('admin', 'wrong password');
        expectMlflowError(await get(app, 'experiments/get?experiment_id=0', wrong), 401, 'UNAUTHENTICATED');
        expectMlflowError(await post(app, 'runs/create', { experiment_id: '0' }, wrong), 401, 'UNAUTHENTICATED');
      });

      // A viewer reads and is refused writes with 403 PERMISSION_DENIED; an outsider learns nothing.
      await createTeam(app, `vision-${engine}`);
      await createProject(app, `cv-${engine}`, `vision-${engine}`);
      const viewer = await createUser(app, `viewer-${engine}`);
      const outsider = await createUser(app, `outsider-${engine}`);
      await grant(app, `cv-${engine}`, viewer.username, 'viewer');
      const scoped = await call(app, 'POST', '/api/v1/tokens', adminAuth, { name: 'cv', project: `cv-${engine}` });
      const owner = bearer(scoped.json<{ token: string }>().token);
      const exp = expectOk(await post(app, 'experiments/create', { name: 'cv-exp' }, owner)).experiment_id as string;
      const run = (
        expectOk(await post(app, 'runs/create', { experiment_id: exp }, owner)).run as { info: { run_id: string } }
      ).info.run_id;
      expectOk(await post(app, 'runs/log-metric', { run_id: run, ...metric('m', 1) }, owner));

      await writesNothing(app, 'refused viewer and outsider', async () => {
        expectOk(await get(app, `runs/get?run_id=${run}`, viewer.auth));
        expectOk(await get(app, `metrics/get-history?run_id=${run}&metric_key=m`, viewer.auth));
        expectOk(await get(app, `experiments/get?experiment_id=${exp}`, viewer.auth));
        for (const [path, body] of [
          ['runs/log-metric', { run_id: run, ...metric('m', 2) }],
          ['runs/log-batch', { run_id: run, params: [{ key: 'p', value: 'v' }] }],
          ['runs/update', { run_id: run, status: 'KILLED' }],
          ['runs/create', { experiment_id: exp }],
          ['experiments/update', { experiment_id: exp, new_name: 'renamed' }],
        ] as const) {
          expectMlflowError(
            await post(app, path, body, viewer.auth),
            403,
            'PERMISSION_DENIED',
            undefined,
            `viewer ${path}`,
          );
          expectMlflowError(
            await post(app, path, body, outsider.auth),
            404,
            'RESOURCE_DOES_NOT_EXIST',
            undefined,
            `outsider ${path}`,
          );
        }
        expectMlflowError(await get(app, `runs/get?run_id=${run}`, outsider.auth), 404, 'RESOURCE_DOES_NOT_EXIST');
      });
    });

    test('a locked-out login is 429 REQUEST_LIMIT_EXCEEDED with Retry-After, which the client waits out', async () => {
      const user = await createUser(app, `locked-${engine}`);
      const wrong = basic(user.username, 'wrong password');
      for (let i = 0; i < 5; i++) {
        expectMlflowError(await get(app, 'experiments/get?experiment_id=0', wrong), 401, 'UNAUTHENTICATED');
      }
      // The next try, while locked (the right password may still be in the credential cache, which
      // sessions.test.ts covers with a fake clock).
      const locked = await get(app, 'experiments/get?experiment_id=0', wrong);
      expectMlflowError(locked, 429, 'REQUEST_LIMIT_EXCEEDED');
      assert.match(String(locked.headers['retry-after']), /^\d+$/);
    });

    test('unknown routes under the MLflow prefixes answer 404 ENDPOINT_NOT_FOUND', async () => {
      for (const headers of [adminAuth, {}]) {
        for (const [method, url] of [
          ['GET', `${API}/runs/frobnicate`],
          ['POST', `${API}/no/such/endpoint`],
          ['GET', `${API}`],
          ['GET', `${API}/`],
          ['GET', `${API}/runs/create`], // a POST route called with GET
          ['POST', `${API}/runs/get`],
          ['GET', '/api/3.0/mlflow/traces/tr-123'],
          ['POST', '/api/3.0/mlflow/traces'],
        ] as const) {
          const res = await app.http.inject({ method, url, headers, payload: method === 'POST' ? {} : undefined });
          expectMlflowError(res, 404, 'ENDPOINT_NOT_FOUND', `${method} ${url}`, `${method} ${url}`);
        }
      }
      // Outside MLflow's prefixes Hangar's own 404 shape stays.
      const res = await app.http.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: adminAuth });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'not_found');
      const health = await app.http.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.body, 'OK');
    });

    test('unknown ids are RESOURCE_DOES_NOT_EXIST, duplicates RESOURCE_ALREADY_EXISTS', async () => {
      for (const id of ['0'.repeat(32), 'not-a-run', '../../etc', 'x'.repeat(10_000)]) {
        expectMlflowError(await get(app, `runs/get?run_id=${encodeURIComponent(id)}`), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectMlflowError(
          await post(app, 'runs/log-batch', { run_id: id, metrics: [metric('m', 1)] }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
        );
      }
      for (const id of ['999999', '-1', '1e3', 'abc', '9'.repeat(40)]) {
        expectMlflowError(
          await get(app, `experiments/get?experiment_id=${id}`),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          undefined,
          id,
        );
      }
      expectMlflowError(await get(app, 'experiments/get-by-name?experiment_name=nope'), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectMlflowError(
        await post(app, 'runs/delete-tag', { run_id: runId, key: 'never-set' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectOk(await post(app, 'experiments/create', { name: `dup-${engine}` }));
      expectMlflowError(
        await post(app, 'experiments/create', { name: `dup-${engine}` }),
        400,
        'RESOURCE_ALREADY_EXISTS',
        `dup-${engine}`,
      );
    });

    test('concurrent batches touching the same keys in opposite orders all succeed', async () => {
      const run = await newRun(app);
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, n) => {
          const order = n % 2 === 0 ? keys : [...keys].reverse();
          return post(app, 'runs/log-batch', {
            run_id: run,
            metrics: order.map((k) => metric(k, n, n)),
            params: order.map((k) => ({ key: k, value: 'same' })),
            tags: order.map((k) => ({ key: k, value: String(n) })),
          });
        }),
      );
      for (const r of results) expectOk(r, 'concurrent batch');
      const h = expectOk(await get(app, `metrics/get-history?run_id=${run}&metric_key=k0`));
      assert.equal((h.metrics as unknown[]).length, 16);
    });

    test('concurrent batches logging one param with different values: one wins, the others write nothing', async () => {
      const run = await newRun(app);
      const before = await counts(app);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) =>
          post(app, 'runs/log-batch', {
            run_id: run,
            metrics: [metric(`m${n}`, n)],
            params: [{ key: 'seed', value: String(n) }],
          }),
        ),
      );
      const won = results.flatMap((r, n) => (r.statusCode === 200 ? [n] : []));
      assert.equal(won.length, 1, results.map((r) => `${r.statusCode} ${r.body}`).join('\n'));
      for (const r of results) {
        if (r.statusCode !== 200)
          expectMlflowError(r, 400, 'INVALID_PARAMETER_VALUE', 'Changing param values is not allowed');
      }
      const data = (
        expectOk(await get(app, `runs/get?run_id=${run}`)).run as {
          data: { params: unknown[]; metrics: { key: string }[] };
        }
      ).data;
      assert.deepEqual(data.params, [{ key: 'seed', value: String(won[0]) }]);
      assert.deepEqual(
        data.metrics.map((m) => m.key),
        [`m${won[0]}`],
      );
      const after = await counts(app);
      assert.equal(after.metrics - before.metrics, 1);
      assert.equal(after.run_params - before.run_params, 1);
    });

    test('junk in every field of every route never answers 5xx', async () => {
      const junkValues: unknown[] = [
        null,
        true,
        -1,
        1.5,
        2 ** 64,
        '',
        'x'.repeat(300),
        '\u0000',
        '../..',
        {},
        [],
        [{}],
        { $gt: '' },
        'NaN',
      ];
      const shapes: [string, Record<string, unknown>][] = [
        ['experiments/create', { name: 'n', artifact_location: 'x', tags: [] }],
        ['experiments/update', { experiment_id: '0', new_name: 'n' }],
        ['experiments/delete', { experiment_id: '999' }],
        ['experiments/restore', { experiment_id: '0' }],
        ['experiments/set-experiment-tag', { experiment_id: '0', key: 'k', value: 'v' }],
        ['runs/create', { experiment_id: '0', run_name: 'r', start_time: 1, tags: [], user_id: 'u' }],
        ['runs/update', { run_id: runId, run_uuid: runId, status: 'RUNNING', end_time: 1, run_name: 'r' }],
        ['runs/delete', { run_id: '0'.repeat(32) }],
        ['runs/restore', { run_id: '0'.repeat(32) }],
        ['runs/log-metric', { run_id: runId, run_uuid: runId, key: 'm', value: 1, timestamp: 1, step: 0 }],
        ['runs/log-parameter', { run_id: runId, run_uuid: runId, key: 'p', value: 'v' }],
        ['runs/set-tag', { run_id: runId, run_uuid: runId, key: 't', value: 'v' }],
        ['runs/delete-tag', { run_id: runId, key: 'nope' }],
        ['runs/delete-tag', { run_id: runId, key: 'no\u0000pe' }],
        ['runs/log-batch', { run_id: runId, metrics: [metric('m', 1)], params: [], tags: [] }],
      ];
      // Long incompressible values within MLflow's limits: stored, or (PostgreSQL's index limit) a 400.
      for (const body of [
        { run_id: runId, key: 'long-param', value: junk(6000) },
        { run_id: runId, key: 'long-tag', value: junk(8000) },
      ]) {
        const path = body.key === 'long-tag' ? 'runs/set-tag' : 'runs/log-parameter';
        const res = await post(app, path, body);
        assert.ok(res.statusCode === 200 || res.statusCode === 400, `${path} -> ${res.statusCode} ${res.body}`);
      }
      let n = 0;
      for (const [path, base] of shapes) {
        for (const field of Object.keys(base)) {
          for (const v of junkValues) {
            const body = { ...base, [field]: v };
            // Unique names and keys, so only the junk can make a request fail.
            if (path === 'experiments/create' && field !== 'name') body.name = `junk-${n++}`;
            const res = await post(app, path, body);
            const what = `${path} ${JSON.stringify(body)} -> ${res.statusCode} ${res.body}`;
            assert.ok(res.statusCode < 500, what);
            if (res.statusCode !== 200)
              assert.deepEqual(Object.keys(res.json<object>()).sort(), ['error_code', 'message'], what);
          }
        }
      }
      for (const q of [
        'experiments/get?experiment_id=%00',
        'experiments/get?experiment_id[]=1',
        'experiments/get-by-name?experiment_name=' + 'x'.repeat(5000),
        `runs/get?run_id=${runId}&run_id=${runId}`,
        `metrics/get-history?run_id=${runId}&metric_key=loss&max_results=1e400`,
        `metrics/get-history?run_id=${runId}&metric_key=loss&page_token=${Buffer.from('-5').toString('base64url')}`,
        `metrics/get-history?run_id=${runId}&metric_key=loss&page_token=${Buffer.from('1e300').toString('base64url')}`,
        `metrics/get-history?run_id=${runId}&metric_key=lo%00ss`,
        'experiments/get-by-name?experiment_name=a%00b',
        `runs/get?run_id=${'0'.repeat(31)}%00`,
      ]) {
        const res = await get(app, q);
        assert.ok(res.statusCode < 500, `${q} -> ${res.statusCode} ${res.body}`);
      }
    });
  });
}

test('a store outage is the one 5xx: 503 TEMPORARILY_UNAVAILABLE, which the MLflow client retries', () => {
  const outage = toMlflowError(new UnavailableError('cannot reach the store'), 'req-1');
  assert.deepEqual(outage, {
    status: 503,
    body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'cannot reach the store' },
  });
  // Anything unknown is a 500 that names the request, never its internals.
  const unknown = toMlflowError(new Error('SQLITE_CORRUPT at /var/lib/hangar.db'), 'req-2');
  assert.deepEqual(unknown, {
    status: 500,
    body: { error_code: 'INTERNAL_ERROR', message: 'internal error; quote request id req-2' },
  });
});
