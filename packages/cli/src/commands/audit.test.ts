import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseTimeArg } from './audit.js';

test('parseTimeArg takes ISO dates and date-times, and ages before now', () => {
  const now = Date.parse('2025-06-15T12:00:00.000Z');
  assert.equal(parseTimeArg('2025-01-31', now), '2025-01-31T00:00:00.000Z');
  assert.equal(parseTimeArg('2025-01-31T08:30:00+02:00', now), '2025-01-31T06:30:00.000Z');
  assert.equal(parseTimeArg('2025-01-31 08:30:00Z', now), '2025-01-31T08:30:00.000Z');
  assert.equal(parseTimeArg('24h', now), '2025-06-14T12:00:00.000Z');
  assert.equal(parseTimeArg('30m', now), '2025-06-15T11:30:00.000Z');
  assert.equal(parseTimeArg('7d', now), '2025-06-08T12:00:00.000Z');
  assert.equal(parseTimeArg('2w', now), '2025-06-01T12:00:00.000Z');
  for (const bad of ['yesterday', '', '12', '2025-13-45', '5y', '-1h']) {
    assert.throws(() => parseTimeArg(bad, now), InvalidArgumentError, bad);
  }
});
