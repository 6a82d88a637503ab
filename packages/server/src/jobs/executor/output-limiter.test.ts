import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputLimiter } from './output-limiter.js';
import type { OutputStream } from './types.js';

function collector(): { sink: (s: OutputStream, c: string) => void; text(s: OutputStream): string } {
  const chunks: [OutputStream, string][] = [];
  return {
    sink: (s, c) => chunks.push([s, c]),
    text: (s) =>
      chunks
        .filter(([stream]) => stream === s)
        .map(([, c]) => c)
        .join(''),
  };
}

describe('OutputLimiter', () => {
  it('reassembles multibyte characters split across writes, per stream', () => {
    const out = collector();
    const limiter = new OutputLimiter(out.sink, 1000);
    const bytes = Buffer.from('a€b😀', 'utf8');
    for (const byte of bytes) {
      limiter.write('stdout', Buffer.from([byte]));
      // Interleave another stream so per-stream decoder state is exercised.
      limiter.write('stderr', Buffer.from('é', 'utf8').subarray(0, 1));
      limiter.write('stderr', Buffer.from('é', 'utf8').subarray(1));
    }
    limiter.finish();
    assert.equal(out.text('stdout'), 'a€b😀');
    assert.equal(out.text('stderr'), 'é'.repeat(bytes.length));
    assert.equal(limiter.truncated, false);
    assert.equal(out.text('system'), '');
  });

  it('shares one budget across streams, cuts on a character boundary and reports drops once', () => {
    const out = collector();
    const limiter = new OutputLimiter(out.sink, 10);
    limiter.write('stdout', Buffer.from('12345678'));
    limiter.write('stderr', Buffer.from('€€')); // 6 bytes; only 2 fit, which would split a '€'
    limiter.write('stdout', Buffer.from('x')); // must not slip into the 2 unused bytes
    limiter.system('note');
    limiter.finish();
    limiter.finish();
    assert.equal(out.text('stdout'), '12345678');
    assert.equal(out.text('stderr'), '');
    assert.equal(limiter.truncated, true);
    assert.equal(limiter.droppedBytes, 7);
    assert.equal(limiter.acceptedBytes, 8);
    assert.equal(
      out.text('system'),
      'note\n[hangar] log truncated: 7 bytes of output dropped after the 10-byte limit\n',
    );
  });

  it('does not emit a replacement character for a character cut by the limit', () => {
    const out = collector();
    const limiter = new OutputLimiter(out.sink, 4);
    const euro = Buffer.from('a€b', 'utf8'); // 61 e2 82 ac 62
    limiter.write('stdout', euro.subarray(0, 2)); // 'a' + first byte of '€' (held by the decoder)
    limiter.write('stdout', euro.subarray(2)); // limit hits after the '€' completes
    limiter.finish();
    assert.equal(out.text('stdout'), 'a€');
    assert.equal(limiter.droppedBytes, 1);

    const cut = collector();
    const cutter = new OutputLimiter(cut.sink, 2);
    cutter.write('stdout', euro.subarray(0, 2)); // exactly fills the budget mid-character
    cutter.write('stdout', euro.subarray(2));
    cutter.finish();
    assert.equal(cut.text('stdout'), 'a');
    assert.ok(!cut.text('stdout').includes('\ufffd'));
  });

  it('keeps going when the sink throws', () => {
    let calls = 0;
    const limiter = new OutputLimiter(() => {
      calls++;
      throw new Error('consumer broke');
    }, 100);
    limiter.write('stdout', Buffer.from('a'));
    limiter.write('stdout', Buffer.from('b'));
    limiter.finish();
    assert.equal(calls, 2);
  });
});
