import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLineSplitter } from './line-splitter.js';
import type { OutputStream } from './types.js';

describe('createLineSplitter', () => {
  it('emits whole lines per stream and flushes unterminated tails', () => {
    const lines: [OutputStream, string][] = [];
    const { sink, flush } = createLineSplitter((stream, line) => lines.push([stream, line]));
    sink('stdout', 'hel');
    sink('stderr', 'oops\r\nmore');
    sink('stdout', 'lo\n\nwor');
    sink('stdout', 'ld');
    assert.deepEqual(lines, [
      ['stderr', 'oops'],
      ['stdout', 'hello'],
      ['stdout', ''],
    ]);
    flush();
    assert.deepEqual(lines.slice(3), [
      ['stdout', 'world'],
      ['stderr', 'more'],
    ]);
    flush();
    assert.equal(lines.length, 5);
  });
});
