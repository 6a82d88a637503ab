import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBar, formatRate } from './progress.js';

function terminal(columns = 100) {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, columns, write: (s: string) => writes.push(s) } };
}

test('draws on a TTY after the delay, at most every interval, and erases itself when done', () => {
  let now = 0;
  const { writes, stream } = terminal();
  const bar = new ProgressBar(stream, { total: 10 * 1024 * 1024, label: 'model.onnx', now: () => now });
  bar.add(1024 * 1024);
  now = 300;
  bar.add(1024 * 1024);
  assert.deepEqual(writes, [], 'nothing before the delay: quick transfers stay quiet');
  now = 1000;
  bar.add(3 * 1024 * 1024);
  assert.equal(writes.length, 1);
  assert.equal(
    writes[0],
    '\rmodel.onnx  [###############---------------]   50%  5.0 MiB / 10.0 MiB  5.0 MiB/s  ETA 1.0s\u001b[K',
  );
  now = 1050;
  bar.add(1024);
  assert.equal(writes.length, 1, 'throttled');
  now = 2000;
  bar.add(5 * 1024 * 1024 - 1024, '2/2 files');
  assert.match(writes[1]!, /^\r2\/2 files {2}\[#{30}\] {2}100% {2}10\.0 MiB \/ 10\.0 MiB {2}5\.0 MiB\/s\u001b\[K$/);
  bar.done();
  assert.equal(writes[2], '\r\u001b[K');
  bar.done();
  assert.equal(writes.length, 3, 'erases once');
});

test('nothing at all off a terminal; done() writes nothing when nothing was drawn', () => {
  let now = 0;
  const writes: string[] = [];
  const bar = new ProgressBar({ write: (s: string) => writes.push(s) }, { total: 100, label: 'x', now: () => now });
  now = 5000;
  bar.add(50);
  bar.done();
  assert.deepEqual(writes, []);
  assert.equal(bar.transferred, 50);
});

test('fits narrow terminals: the numbers stay, the bar goes, long names keep their end', () => {
  let now = 0;
  const { stream } = terminal(50);
  const bar = new ProgressBar(stream, {
    total: 1000,
    label: 'some/very/long/folder/name/weights.safetensors',
    now: () => now,
  });
  now = 1000;
  bar.add(500);
  const line = bar.render(now);
  assert.ok(line.length <= 49, line);
  assert.doesNotMatch(line, /\[/);
  assert.match(line, /^…\S*\.safetensors +50% {2}500 B \/ 1000 B {2}500 B\/s$/, 'the ETA made room for the name');
});

test('resumed bytes advance the bar without inflating the rate; unknown totals show counts only', () => {
  let now = 0;
  const { stream } = terminal();
  const bar = new ProgressBar(stream, { total: 2000, label: 'f', now: () => now });
  bar.skip(1000);
  now = 1000;
  bar.add(100);
  assert.match(bar.render(now), / 55% {2}1\.1 KiB \/ 2\.0 KiB {2}100 B\/s {2}ETA 9\.0s$/);

  const open = new ProgressBar(stream, { total: null, label: 'stream', now: () => now });
  now = 2000;
  open.add(2048);
  assert.equal(open.render(now), 'stream  2.0 KiB  2.0 KiB/s');
});

test('control characters in names never reach the terminal', () => {
  let now = 0;
  const { stream } = terminal();
  const bar = new ProgressBar(stream, { total: 10, label: 'evil\u001b[2Jname', now: () => now });
  now = 1000;
  assert.doesNotMatch(bar.render(now), /\u001b/);
});

test('formatRate', () => {
  assert.equal(formatRate(null), '-');
  assert.equal(formatRate(512), '512 B/s');
  assert.equal(formatRate(3.5 * 1024 * 1024), '3.5 MiB/s');
});
