// MLflow's registry search grammar (SearchModelUtils, SearchModelVersionUtils), parsed without SQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../core/errors.js';
import {
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
} from '../tracking/search/index.js';

test('registered-model filters: name, name lists, tags in their spellings', () => {
  assert.deepEqual(parseRegisteredModelFilter(''), []);
  assert.deepEqual(parseRegisteredModelFilter("name LIKE 'fr%' AND tags.team = 'risk'"), [
    { type: 'attribute', key: 'name', comparator: 'LIKE', value: 'fr%' },
    { type: 'tag', key: 'team', comparator: '=', value: 'risk' },
  ]);
  assert.deepEqual(parseRegisteredModelFilter("attribute.name IN ('a', 'b')"), [
    { type: 'attribute', key: 'name', comparator: 'IN', values: ['a', 'b'] },
  ]);
  assert.deepEqual(parseRegisteredModelFilter("tag.`mlflow.prompt.is_prompt` != 'true'"), [
    { type: 'tag', key: 'mlflow.prompt.is_prompt', comparator: '!=', value: 'true' },
  ]);
  assert.deepEqual(parseRegisteredModelFilter('name = "double quoted"'), [
    { type: 'attribute', key: 'name', comparator: '=', value: 'double quoted' },
  ]);
});

test('registered-model filters refuse what MLflow refuses', () => {
  for (const [filter, message] of [
    ["run_id = 'x'", "Invalid attribute key 'run_id'"],
    ["metrics.acc = '1'", "Invalid entity type 'metrics'"],
    ["name = 'a' OR name = 'b'", 'Invalid clause(s)'],
    ["name >= 'a'", "Invalid comparator '>='"],
    ["tags.t IN ('a')", 'Expected a quoted string value for tag'],
    ['name = unquoted', 'not quoted'],
    ['tags.t IS NULL', 'not supported'],
  ] as const) {
    assert.throws(
      () => parseRegisteredModelFilter(filter),
      (e: unknown) => {
        assert.ok(e instanceof InputError, filter);
        assert.ok(e.message.includes(message), `${filter}: ${e.message}`);
        return true;
      },
    );
  }
});

test('model-version filters: version numbers, run ids, sources, tags', () => {
  assert.deepEqual(
    parseModelVersionFilter(
      "name = 'm' AND version_number >= 2 AND run_id NOT IN ('r1') AND source_path ILIKE '%/model' AND tags.ok = 'y'",
    ),
    [
      { type: 'attribute', key: 'name', comparator: '=', value: 'm' },
      { type: 'attribute', key: 'version_number', comparator: '>=', value: 2 },
      { type: 'attribute', key: 'run_id', comparator: 'NOT IN', values: ['r1'] },
      { type: 'attribute', key: 'source_path', comparator: 'ILIKE', value: '%/model' },
      { type: 'tag', key: 'ok', comparator: '=', value: 'y' },
    ],
  );
  assert.deepEqual(parseModelVersionFilter("version_number = '7'"), [
    { type: 'attribute', key: 'version_number', comparator: '=', value: 7 },
  ]);
  for (const [filter, message] of [
    ['version_number = 1.5', "Invalid value for numeric attribute 'version_number'"],
    ["version_number = 'x'", "Invalid value for numeric attribute 'version_number'"],
    ["version_number IN ('1')", 'support comparison with a list'],
    ["source_path IN ('a')", 'support comparison with a list'],
    ['name = 3', 'support comparison with numeric values'],
    ["current_stage = 'Production'", "Invalid attribute key 'current_stage'"],
  ] as const) {
    assert.throws(() => parseModelVersionFilter(filter), new RegExp(message.replace(/[()[\]']/g, '.')), filter);
  }
});

test('order_by: MLflow keys and aliases, directions, duplicates', () => {
  assert.deepEqual(parseRegisteredModelOrderBy(['name DESC', 'timestamp']), [
    { key: 'name', ascending: false },
    { key: 'last_updated_timestamp', ascending: true },
  ]);
  assert.deepEqual(parseModelVersionOrderBy(['version_number desc', 'creation_timestamp ASC']), [
    { key: 'version_number', ascending: false },
    { key: 'creation_timestamp', ascending: true },
  ]);
  assert.throws(() => parseRegisteredModelOrderBy(['timestamp', 'last_updated_timestamp DESC']), /duplicate fields/);
  assert.throws(() => parseModelVersionOrderBy(['tags.x']), /Invalid order_by entity/);
  assert.throws(() => parseModelVersionOrderBy(['run_id']), /Invalid attribute key 'run_id'/);
  assert.throws(() => parseRegisteredModelOrderBy(['name UP']), /Invalid ordering key/);
});
