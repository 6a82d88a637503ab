import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cell, formatBytes, formatDuration, formatKeyValues, formatTable, formatTime, Output } from './output.js';

test('formatTable aligns columns under upper-case headers without trailing blanks', () => {
  const text = formatTable(
    ['id', 'state', 'note'],
    [
      ['a', 'running', null],
      ['bbbbbb', 'ok', 'x'],
    ],
  );
  assert.equal(text, 'ID      STATE    NOTE\na       running  -\nbbbbbb  ok       x\n');
});

test('cells are one line and free of terminal control characters', () => {
  assert.equal(cell('two\nlines'), 'two lines');
  assert.equal(cell('\u001b[2Jcleared'), '?[2Jcleared');
  assert.equal(cell({ a: 1 }), '{"a":1}');
  assert.equal(cell(undefined), '-');
  assert.equal(cell(0), '0');
});

test('formatKeyValues pads keys to the longest', () => {
  assert.equal(
    formatKeyValues([
      ['id', 'x'],
      ['finished', null],
    ]),
    'id:        x\nfinished:  -\n',
  );
});

test('durations, times and sizes for people', () => {
  assert.equal(formatDuration(9), '9ms');
  assert.equal(formatDuration(12_345), '12.3s');
  assert.equal(formatDuration(245_000), '4m05s');
  assert.equal(formatDuration(7_620_000), '2h07m');
  assert.equal(formatTime('2025-01-31T14:05:09.123Z'), '2025-01-31 14:05:09Z');
  assert.equal(formatTime(null), '-');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(null), '-');
});

test('Output writes JSON in --json mode and text otherwise; notes go to stderr', () => {
  const written = { stdout: '', stderr: '' };
  const streams = {
    stdout: { write: (s: string) => (written.stdout += s) },
    stderr: { write: (s: string) => (written.stderr += s) },
  };
  new Output(streams, true).result({ a: 1 }, () => 'human\n');
  new Output(streams, false).result({ a: 1 }, () => 'human\n');
  new Output(streams, false).note('fyi');
  assert.equal(written.stdout, '{\n  "a": 1\n}\nhuman\n');
  assert.equal(written.stderr, 'fyi\n');
});
