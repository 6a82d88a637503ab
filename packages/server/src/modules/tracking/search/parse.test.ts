// The search grammar without a database: every filter and order_by form MLflow accepts, quoting,
// whitespace and keyword case, each error with MLflow's wording, and LIKE pattern translation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../core/errors.js';
import { globPattern, likePattern } from './compare.js';
import { FILTER_LIMITS, parseExperimentFilter, parseRunFilter } from './parse-filter.js';
import { ORDER_BY_LIMIT, parseExperimentOrderBy, parseRunOrderBy } from './parse-order-by.js';

function throwsInput(fn: () => unknown, message: string | RegExp, field?: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    if (typeof message === 'string') assert.ok(err.message.includes(message), `"${err.message}" lacks "${message}"`);
    else assert.match(err.message, message);
    if (field) assert.equal(err.field, field);
    return true;
  });
}

describe('runs filter: accepted forms', () => {
  const cases: [string, unknown[]][] = [
    ['', []],
    ['   ', []],
    ['metric.acc >= 0.94', [{ type: 'metric', key: 'acc', comparator: '>=', value: 0.94 }]],
    ['metrics.acc>=100', [{ type: 'metric', key: 'acc', comparator: '>=', value: 100 }]],
    ['metrics.XYZ = 3', [{ type: 'metric', key: 'XYZ', comparator: '=', value: 3 }]],
    ['metrics.a != -1', [{ type: 'metric', key: 'a', comparator: '!=', value: -1 }]],
    ['metrics.a < -2.5e-3', [{ type: 'metric', key: 'a', comparator: '<', value: -0.0025 }]],
    ['metrics.a <= 1E+3', [{ type: 'metric', key: 'a', comparator: '<=', value: 1000 }]],
    ['metrics.a > .5', [{ type: 'metric', key: 'a', comparator: '>', value: 0.5 }]],
    ['metrics.a > 1.', [{ type: 'metric', key: 'a', comparator: '>', value: 1 }]],
    ['metrics.a > 1e999', [{ type: 'metric', key: 'a', comparator: '>', value: Infinity }]],
    ['metrics.a < -1e999', [{ type: 'metric', key: 'a', comparator: '<', value: -Infinity }]],
    ['metric."legit name" >= 0.243', [{ type: 'metric', key: 'legit name', comparator: '>=', value: 0.243 }]],
    ['metrics."X-Y-Z" = 3', [{ type: 'metric', key: 'X-Y-Z', comparator: '=', value: 3 }]],
    ['metrics."X//Y#$$@&Z" = 3', [{ type: 'metric', key: 'X//Y#$$@&Z', comparator: '=', value: 3 }]],
    ['metrics."accuracy.2.0" > 5', [{ type: 'metric', key: 'accuracy.2.0', comparator: '>', value: 5 }]],
    ['metrics.`spacey name` > 5', [{ type: 'metric', key: 'spacey name', comparator: '>', value: 5 }]],
    ['metrics.a.b.c > 5', [{ type: 'metric', key: 'a.b.c', comparator: '>', value: 5 }]],
    ['metrics.1st > 5', [{ type: 'metric', key: '1st', comparator: '>', value: 5 }]],
    ['`metric`.a >= 0.1', [{ type: 'metric', key: 'a', comparator: '>=', value: 0.1 }]],
    ["params.m!='tf'", [{ type: 'parameter', key: 'm', comparator: '!=', value: 'tf' }]],
    ['params."m"!="tf"', [{ type: 'parameter', key: 'm', comparator: '!=', value: 'tf' }]],
    ['params."cat dog" = "pets"', [{ type: 'parameter', key: 'cat dog', comparator: '=', value: 'pets' }]],
    ["param.model = 'LR'", [{ type: 'parameter', key: 'model', comparator: '=', value: 'LR' }]],
    ["parameter.model = 'LR'", [{ type: 'parameter', key: 'model', comparator: '=', value: 'LR' }]],
    ["parameters.model = 'LR'", [{ type: 'parameter', key: 'model', comparator: '=', value: 'LR' }]],
    ["`params`.model >= 'LR'".replace('>=', '='), [{ type: 'parameter', key: 'model', comparator: '=', value: 'LR' }]],
    ["params.p LIKE 'a%'", [{ type: 'parameter', key: 'p', comparator: 'LIKE', value: 'a%' }]],
    ["params.p like 'a%'", [{ type: 'parameter', key: 'p', comparator: 'LIKE', value: 'a%' }]],
    ["params.p IlIkE 'a%'", [{ type: 'parameter', key: 'p', comparator: 'ILIKE', value: 'a%' }]],
    ['params.m = "L\'Hosp"', [{ type: 'parameter', key: 'm', comparator: '=', value: "L'Hosp" }]],
    ["params.m = 'L''Hosp'", [{ type: 'parameter', key: 'm', comparator: '=', value: "L'Hosp" }]],
    ["params.m = 'L\\'Hosp'", [{ type: 'parameter', key: 'm', comparator: '=', value: "L'Hosp" }]],
    ["params.m = 'a\\\\'", [{ type: 'parameter', key: 'm', comparator: '=', value: 'a\\\\' }]],
    ["params.m = '100\\%'", [{ type: 'parameter', key: 'm', comparator: '=', value: '100\\%' }]],
    ["params.m = ''", [{ type: 'parameter', key: 'm', comparator: '=', value: '' }]],
    ["params.m = 'café ☕'", [{ type: 'parameter', key: 'm', comparator: '=', value: 'café ☕' }]],
    ['params.p IS NULL', [{ type: 'parameter', key: 'p', comparator: 'IS NULL' }]],
    ['params.p is not null', [{ type: 'parameter', key: 'p', comparator: 'IS NOT NULL' }]],
    ["tags.version = 'commit-hash'", [{ type: 'tag', key: 'version', comparator: '=', value: 'commit-hash' }]],
    ["tag.version = 'x'", [{ type: 'tag', key: 'version', comparator: '=', value: 'x' }]],
    ["`tags`.source_name = 'a notebook'", [{ type: 'tag', key: 'source_name', comparator: '=', value: 'a notebook' }]],
    ['tags."t.a.g" = "a"', [{ type: 'tag', key: 't.a.g', comparator: '=', value: 'a' }]],
    ['tags.`mlflow.runName` ILIKE "a%"', [{ type: 'tag', key: 'mlflow.runName', comparator: 'ILIKE', value: 'a%' }]],
    ['tags.version IS NOT NULL', [{ type: 'tag', key: 'version', comparator: 'IS NOT NULL' }]],
    [
      "attribute.artifact_uri = '1/23/4'",
      [{ type: 'attribute', key: 'artifact_uri', comparator: '=', value: '1/23/4' }],
    ],
    ['attribute.start_time >= 1234', [{ type: 'attribute', key: 'start_time', comparator: '>=', value: 1234 }]],
    ["run.status = 'RUNNING'", [{ type: 'attribute', key: 'status', comparator: '=', value: 'RUNNING' }]],
    ["attr.status = 'RUNNING'", [{ type: 'attribute', key: 'status', comparator: '=', value: 'RUNNING' }]],
    ["attributes.user_id = 'ann'", [{ type: 'attribute', key: 'user_id', comparator: '=', value: 'ann' }]],
    ["status != 'FAILED'", [{ type: 'attribute', key: 'status', comparator: '!=', value: 'FAILED' }]],
    ["run_name LIKE 'a%'", [{ type: 'attribute', key: 'run_name', comparator: 'LIKE', value: 'a%' }]],
    ["`Run name` = 'x'", [{ type: 'attribute', key: 'run_name', comparator: '=', value: 'x' }]],
    ['"Run Name" = \'x\'', [{ type: 'attribute', key: 'run_name', comparator: '=', value: 'x' }]],
    ["attributes.`run name` = 'x'", [{ type: 'attribute', key: 'run_name', comparator: '=', value: 'x' }]],
    ['created > 5', [{ type: 'attribute', key: 'start_time', comparator: '>', value: 5 }]],
    ['Created < 5', [{ type: 'attribute', key: 'start_time', comparator: '<', value: 5 }]],
    ['end_time <= 5', [{ type: 'attribute', key: 'end_time', comparator: '<=', value: 5 }]],
    ["run_id = 'abc'", [{ type: 'attribute', key: 'run_id', comparator: '=', value: 'abc' }]],
    ["run_id IN ('a', 'b')", [{ type: 'attribute', key: 'run_id', comparator: 'IN', values: ['a', 'b'] }]],
    ["run_id in ('a')", [{ type: 'attribute', key: 'run_id', comparator: 'IN', values: ['a'] }]],
    [
      "attributes.run_id not   in ('a','b',)",
      [{ type: 'attribute', key: 'run_id', comparator: 'NOT IN', values: ['a', 'b'] }],
    ],
    ['run_id IN ("a", \'b\')', [{ type: 'attribute', key: 'run_id', comparator: 'IN', values: ['a', 'b'] }]],
    ["dataset.name = 'my_dataset'", [{ type: 'dataset', key: 'name', comparator: '=', value: 'my_dataset' }]],
    ["datasets.digest IN ('d1', 'd2')", [{ type: 'dataset', key: 'digest', comparator: 'IN', values: ['d1', 'd2'] }]],
    [
      "datasets.context NOT IN ('train')",
      [{ type: 'dataset', key: 'context', comparator: 'NOT IN', values: ['train'] }],
    ],
    ["datasets.context LIKE 'tr%'", [{ type: 'dataset', key: 'context', comparator: 'LIKE', value: 'tr%' }]],
  ];
  for (const [filter, expected] of cases) {
    test(JSON.stringify(filter), () => assert.deepEqual(parseRunFilter(filter), expected));
  }

  test('clauses joined by AND in any case and spacing, in order', () => {
    const expected = [
      { type: 'metric', key: 'rmse', comparator: '<', value: 1 },
      { type: 'parameter', key: 'model_class', comparator: '=', value: 'LR' },
      { type: 'tag', key: 'a', comparator: 'IS NULL' },
      { type: 'attribute', key: 'run_id', comparator: 'IN', values: ['x'] },
    ];
    for (const f of [
      "metrics.rmse < 1 and params.model_class = 'LR' AND tags.a IS NULL And run_id IN ('x')",
      "  metrics.rmse<1\tand\nparams.model_class='LR'   AND tags.a is null and run_id in('x')  ",
    ]) {
      assert.deepEqual(parseRunFilter(f), expected);
    }
  });

  test('AND inside a quoted value or a quoted key is text', () => {
    assert.deepEqual(parseRunFilter("params.`a and b` = 'x AND y'"), [
      { type: 'parameter', key: 'a and b', comparator: '=', value: 'x AND y' },
    ]);
  });

  test('a trailing semicolon alone is not a second statement', () => {
    throwsInput(() => parseRunFilter('metrics.a > 1;'), 'Invalid clause(s) in filter string');
  });
});

describe('runs filter: errors', () => {
  const cases: [string, string][] = [
    ['metric.acc >= 0.94; metrics.rmse < 1', 'Search filter contained multiple expression'],
    [
      'm.acc >= 0.94',
      "Invalid entity type 'm'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    ],
    ['acc >= 0.94', "Invalid attribute key 'acc' specified. Valid keys are '{'Created', 'Run Name', 'Run name', "],
    ["p.model >= 'LR'", 'Invalid entity type'],
    ['attri.x != 1', 'Invalid entity type'],
    ['METRICS.x != 1', "Invalid entity type 'METRICS'"],
    ['"metrics".x != 1', `Invalid entity type '"metrics"'`],
    ["model >= 'LR'", 'Invalid attribute key'],
    ["metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"],
    ["metrics.A > 0.1 or params.B = 'LR'", "Invalid clause(s) in filter string: 'or'"],
    ["metrics.A > 0.1 NAND params.B = 'LR'", 'Invalid clause(s) in filter string'],
    ["metrics.A > 0.1 AND (params.B = 'LR')", "Invalid clause(s) in filter string: '(params.B = 'LR')'"],
    ['`metrics.A > 0.1', 'Invalid clause(s) in filter string'],
    ['param`.A > 0.1', 'Invalid clause(s) in filter string'],
    ['`dummy.A > 0.1', 'Invalid clause(s) in filter string'],
    ['dummy`.A > 0.1', 'Invalid clause(s) in filter string'],
    ['attribute.start != 1', 'Invalid attribute key'],
    ['attribute.experiment_id != 1', 'Invalid attribute key'],
    ["attribute.lifecycle_stage = 'ACTIVE'", 'Invalid attribute key'],
    ['attribute.name != 1', 'Invalid attribute key'],
    ["attribute._status != 'RUNNING'", 'Invalid attribute key'],
    ['attribute.status = true', 'Invalid clause(s) in filter string'],
    ['attribute.status = null', 'Invalid clause(s) in filter string'],
    [
      "dataset.status = 'true'",
      "Invalid dataset key 'status' specified. Valid keys are '{'context', 'digest', 'name'}'",
    ],
    ["dataset.profile = 'num_rows: 10'", 'Invalid dataset key'],
    ['metrics.acc IS NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"],
    [
      'attribute.status IS NULL',
      "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'status'",
    ],
    ['foo is null', "Invalid attribute key 'foo'"],
    ["metric.model = 'LR'", 'Expected numeric value type for metric. Found '],
    ["metric.model = '5'", "Expected numeric value type for metric. Found '5'"],
    ['metrics.acc != metrics.acc', 'Expected numeric value type for metric. Found metrics.acc'],
    ['params.acc = 5', "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"],
    ['tags.acc = 5', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"],
    ['1.0 > metrics.acc', "Invalid comparison clause. Expected 'Identifier' found '1.0'"],
    ['1=1', "Invalid comparison clause. Expected 'Identifier' found '1'"],
    ["'a' = 'b'", "Invalid comparison clause. Expected 'Identifier' found ''a''"],
    ['attribute.status = 1', 'Expected a quoted string value for attributes. Got value 1'],
    ['params.acc = LR', 'Parameter value is either not quoted or unidentified quote types used for string value LR'],
    ['tags.acc = LR', 'value is either not quoted or unidentified quote types'],
    ['params.acc = `LR`', 'value is either not quoted or unidentified quote types'],
    ["params.'acc = LR", 'Invalid clause(s) in filter string'],
    ["params.acc = 'LR", 'Invalid clause(s) in filter string'],
    ["params.acc = LR'", 'Invalid clause(s) in filter string'],
    ['params.acc = "LR\'', 'Invalid clause(s) in filter string'],
    ["tags.acc = = 'LR'", 'Invalid clause(s) in filter string'],
    ["attribute.status IS 'RUNNING'", 'Invalid clause(s) in filter string'],
    ['params.acc LR !=', 'Invalid clause(s) in filter string'],
    ['params.acc LR', "Invalid clause(s) in filter string: 'params.acc LR'"],
    ['metric.acc !=', 'Invalid clause(s) in filter string'],
    ["metrics.a > 1 AND AND params.b = 'x'", "Invalid clause(s) in filter string: 'AND'"],
    ['metrics.a > 1 AND', "Invalid clause(s) in filter string: 'AND'"],
    ["params.a NOT LIKE 'x'", 'Invalid clause(s) in filter string'],
    ["params.a = 'x' 'y'", 'Invalid clause(s) in filter string'],
    ["params.a = 'x' @", 'Invalid clause(s) in filter string'],
    ["run_id IN 'a'", 'Invalid clause(s) in filter string'],
    ["run_id = ('a')", 'Invalid clause(s) in filter string'],
    ['metrics.abc ~ 1.0', "Invalid comparator '~' not one of '{'!=', '<', '<=', '=', '>', '>='}'"],
    ['metrics.abc ~= 1.0', "Invalid comparator '~='"],
    ['metrics.abc == 1.0', "Invalid comparator '=='"],
    ['metrics.abc <> 1.0', "Invalid comparator '<>'"],
    ['metrics.abc LIKE 1.0', "Invalid comparator 'LIKE'"],
    ["params.abc > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'LIKE'}'"],
    ["params.abc <= 'x'", "Invalid comparator '<='"],
    ["tags.abc ~ 'x'", "Invalid comparator '~'"],
    ["attributes.status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"],
    ['attributes.start_time LIKE 1234', "Invalid comparator 'LIKE'"],
    ['attributes.start_time ILIKE 1234', "Invalid comparator 'ILIKE'"],
    ["attributes.start_time = '1234'", "Expected numeric value type for numeric attribute: start_time. Found '1234'"],
    ["created = 'now'", 'Expected numeric value type for numeric attribute: created'],
    ["datasets.name > 'x'", "Invalid comparator '>'"],
    ['datasets.name = 40', 'Expected a quoted string value for dataset attributes. Got value 40'],
    [
      "attributes.run_name IN ('foo','bar')",
      "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
    ],
    ["attributes.status NOT IN ('foo')", "Only the 'run_id' attribute supports comparison with a list"],
    ["params.p IN ('a')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')"],
    ["metrics.m IN ('a')", "Expected numeric value type for metric. Found ('a')"],
    [
      'run_id IN ()',
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    ],
    ['run_id IN (1, 2)', 'expected string value, punctuation, or whitespace, but got different type in list: (1, 2)'],
    ["run_id IN ('a' 'b')", 'but got different type in list'],
    ["run_id IN ('a',, 'b')", 'but got different type in list'],
    ["run_id IN (('a'))", 'Invalid clause(s) in filter string'],
    ['metrics.a > 1abc', 'Expected numeric value type for metric. Found 1abc'],
    ['metrics.a > - 1', 'Invalid clause(s) in filter string'],
    ['metrics. > 1', 'Invalid clause(s) in filter string'],
  ];
  for (const [filter, message] of cases) {
    test(JSON.stringify(filter), () => throwsInput(() => parseRunFilter(filter), message, 'filter'));
  }

  test('all invalid clauses are listed together', () => {
    throwsInput(
      () => parseRunFilter("metrics.a > 1 OR params.b = 'x' AND params.c LR"),
      "Invalid clause(s) in filter string: 'OR', 'params.c LR'",
    );
  });

  test('limits: length, clause count, list size', () => {
    throwsInput(() => parseRunFilter(`params.a = '${'x'.repeat(FILTER_LIMITS.length)}'`), 'Filter string is too long');
    const many = Array.from({ length: FILTER_LIMITS.clauses + 1 }, (_, i) => `metrics.m${i} > 0`).join(' AND ');
    throwsInput(() => parseRunFilter(many), `at most ${FILTER_LIMITS.clauses} are allowed`);
    const ids = Array.from({ length: FILTER_LIMITS.listValues + 1 }, (_, i) => `'${i}'`).join(',');
    throwsInput(() => parseRunFilter(`run_id IN (${ids})`), 'Filter lists hold more than');
    assert.equal(parseRunFilter(`run_id IN (${ids.split(',').slice(1).join(',')})`).length, 1);
  });
});

describe('experiments filter', () => {
  test('accepted forms', () => {
    assert.deepEqual(
      parseExperimentFilter(
        "name = 'a' AND attribute.name like 'b%' and name ILIKE \"c\" AND creation_time > 5 AND " +
          'last_update_time <= -1.5 AND tags.team != \'x\' AND tag.`a b` IS NULL AND tags."c.d" is not null',
      ),
      [
        { type: 'attribute', key: 'name', comparator: '=', value: 'a' },
        { type: 'attribute', key: 'name', comparator: 'LIKE', value: 'b%' },
        { type: 'attribute', key: 'name', comparator: 'ILIKE', value: 'c' },
        { type: 'attribute', key: 'creation_time', comparator: '>', value: 5 },
        { type: 'attribute', key: 'last_update_time', comparator: '<=', value: -1.5 },
        { type: 'tag', key: 'team', comparator: '!=', value: 'x' },
        { type: 'tag', key: 'a b', comparator: 'IS NULL' },
        { type: 'tag', key: 'c.d', comparator: 'IS NOT NULL' },
      ],
    );
    assert.deepEqual(parseExperimentFilter(null), []);
  });

  const errors: [string, string][] = [
    ["params.a = 'x'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ['metrics.a > 1', "Invalid entity type 'metrics'"],
    [
      "experiment_id = '1'",
      "Invalid attribute key 'experiment_id' specified. Valid keys are '{'creation_time', 'last_update_time', 'name'}'",
    ],
    ['name IS NULL', "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"],
    ["name > 'a'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'LIKE'}'"],
    ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list"],
    ['name = 1', 'Expected a quoted string value for attributes. Got value 1'],
    ["creation_time = 'x'", 'Expected numeric value type for numeric attribute: creation_time'],
    ['creation_time LIKE 5', "Invalid comparator 'LIKE'"],
    ["tags.a > 'x'", "Invalid comparator '>'"],
    ['tags.a = 1', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"],
    ["name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: 'OR'"],
  ];
  for (const [filter, message] of errors) {
    test(`error: ${JSON.stringify(filter)}`, () => throwsInput(() => parseExperimentFilter(filter), message, 'filter'));
  }
});

describe('order_by', () => {
  test('runs: every key form, direction in any case, quoting', () => {
    assert.deepEqual(
      parseRunOrderBy([
        'metrics.acc DESC',
        'params.lr',
        'attributes.start_time ASC',
        'run_name desc',
        'tags.`mlflow.source` asc',
        'metrics."Mean Square Error"',
        'metric.`a b` DESC',
        'param.x',
        'attr.end_time',
        'run.status',
        'user_id',
        'artifact_uri',
        'run_id',
      ]),
      [
        { type: 'metric', key: 'acc', ascending: false },
        { type: 'parameter', key: 'lr', ascending: true },
        { type: 'attribute', key: 'start_time', ascending: true },
        { type: 'attribute', key: 'run_name', ascending: false },
        { type: 'tag', key: 'mlflow.source', ascending: true },
        { type: 'metric', key: 'Mean Square Error', ascending: true },
        { type: 'metric', key: 'a b', ascending: false },
        { type: 'parameter', key: 'x', ascending: true },
        { type: 'attribute', key: 'end_time', ascending: true },
        { type: 'attribute', key: 'status', ascending: true },
        { type: 'attribute', key: 'user_id', ascending: true },
        { type: 'attribute', key: 'artifact_uri', ascending: true },
        { type: 'attribute', key: 'run_id', ascending: true },
      ],
    );
    assert.deepEqual(parseRunOrderBy(['created DESC']), [{ type: 'attribute', key: 'start_time', ascending: false }]);
    assert.deepEqual(parseRunOrderBy(['Created']), [{ type: 'attribute', key: 'start_time', ascending: true }]);
    assert.deepEqual(parseRunOrderBy(undefined), []);
    assert.deepEqual(parseRunOrderBy([]), []);
  });

  const runErrors: [string[], string][] = [
    [['metrics.acc DESC ASC'], "Invalid order_by clause 'metrics.acc DESC ASC'. Could not be parsed."],
    [[''], "Invalid order_by clause ''. Could not be parsed."],
    [['  '], 'Could not be parsed.'],
    [["'metrics.acc'"], 'Could not be parsed.'],
    [['metrics.acc = 1'], 'Could not be parsed.'],
    [['metrics.acc 1'], 'Could not be parsed.'],
    [['metrics.acc sideways'], "Invalid ordering key in order_by clause 'metrics.acc sideways'."],
    [['foo'], "Invalid attribute key 'foo' specified. Valid keys are '{'Created', 'artifact_uri', 'created', "],
    [['run name'], 'Invalid ordering key'],
    [['`Run name`'], "Invalid attribute key 'Run name'"],
    [['lifecycle_stage'], 'Invalid attribute key'],
    [['m.acc'], "Invalid entity type 'm'"],
    [['datasets.name'], "Invalid identifier type 'dataset'"],
    [['datasets.foo'], 'Invalid dataset key'],
    [['metrics.acc', 'metrics.acc DESC'], "`order_by` contains duplicate fields: ['metrics.acc', 'metrics.acc DESC']"],
    [['start_time', 'created DESC'], '`order_by` contains duplicate fields'],
  ];
  for (const [items, message] of runErrors) {
    test(`runs error: ${JSON.stringify(items)}`, () => throwsInput(() => parseRunOrderBy(items), message, 'order_by'));
  }

  test('runs: params.x and tags.x are different fields', () => {
    assert.equal(parseRunOrderBy(['params.x', 'tags.x', 'metrics.x']).length, 3);
  });

  test('a bounded number of items', () => {
    const items = Array.from({ length: ORDER_BY_LIMIT + 1 }, (_, i) => `metrics.m${i}`);
    throwsInput(() => parseRunOrderBy(items), `at most ${ORDER_BY_LIMIT} are allowed`);
    throwsInput(() => parseExperimentOrderBy(items), `at most ${ORDER_BY_LIMIT} are allowed`);
  });

  test('experiments', () => {
    assert.deepEqual(parseExperimentOrderBy(['name', 'experiment_id DESC', 'creation_time asc', 'last_update_time']), [
      { key: 'name', ascending: true },
      { key: 'experiment_id', ascending: false },
      { key: 'creation_time', ascending: true },
      { key: 'last_update_time', ascending: true },
    ]);
    throwsInput(() => parseExperimentOrderBy(['tags.a']), 'Invalid order_by entity: tag', 'order_by');
    throwsInput(() => parseExperimentOrderBy(['start_time']), "Invalid attribute key 'start_time'", 'order_by');
    throwsInput(() => parseExperimentOrderBy(['metrics.a']), "Invalid entity type 'metrics'", 'order_by');
    throwsInput(() => parseExperimentOrderBy(['name up']), 'Invalid ordering key', 'order_by');
  });
});

describe('LIKE pattern translation', () => {
  const cases: [string, string, string][] = [
    // pattern, LIKE ... ESCAPE '\' form, GLOB form
    ['abc', 'abc', 'abc'],
    ['a%c_', 'a%c_', 'a*c?'],
    ['100\\%', '100\\%', '100%'],
    ['a\\_b', 'a\\_b', 'a_b'],
    ['a\\\\b', 'a\\\\b', 'a\\b'],
    ['x*[y]?', 'x*[y]?', 'x[*][[]y][?]'],
    ['trailing\\', 'trailing\\\\', 'trailing\\'],
    ['\\x', 'x', 'x'],
    ['é_☕%', 'é_☕%', 'é?☕*'],
  ];
  for (const [pattern, like, glob] of cases) {
    test(JSON.stringify(pattern), () => {
      assert.equal(likePattern(pattern), like);
      assert.equal(globPattern(pattern), glob);
    });
  }
  test('patterns SQLite would refuse are an InputError', () => {
    throwsInput(() => globPattern('*'.repeat(20_000)), 'LIKE pattern is too long');
  });
});
