// profileDelimited: RFC 4180 parsing in one streaming pass (quotes, separators and line ends split
// anywhere across chunks), column types, numeric statistics and the distinct-value cap.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { DISTINCT_CAP, profileDelimited, schemaOf, type TableProfile } from './profile.js';

/** The text as a stream of chunks of `size` bytes (1: every byte its own chunk). */
function chunked(text: string | Buffer, size: number): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

/** Profiles `text` whole and in chunks of every size from 1 to 7 bytes, and checks they agree. */
async function profile(text: string | Buffer, format: 'csv' | 'tsv' = 'csv'): Promise<TableProfile> {
  const whole = await profileDelimited(chunked(text, Math.max(1, Buffer.byteLength(text))), format);
  for (const size of [1, 2, 3, 4, 5, 7]) {
    assert.deepEqual(await profileDelimited(chunked(text, size), format), whole, `chunks of ${size} bytes`);
  }
  return whole;
}

/** The values each column saw, through the only window the profile gives: distinct counts etc. */
const column = (p: TableProfile, name: string) => {
  const c = p.columns.find((x) => x.name === name);
  assert.ok(c, `no column ${name} in ${p.columns.map((x) => x.name).join(', ')}`);
  return c;
};

function sampleStd(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

describe('profileDelimited', () => {
  test('a plain CSV: rows, columns, types and statistics', async () => {
    const p = await profile('id,x,flag,label\n1,1.5,true,a\n2,2.5,False,b\n3,-4e1,TRUE,a\n');
    assert.equal(p.format, 'csv');
    assert.equal(p.numRows, 3);
    assert.equal(p.numColumns, 4);
    assert.deepEqual(schemaOf(p), {
      mlflow_colspec: [
        { name: 'id', type: 'long' },
        { name: 'x', type: 'double' },
        { name: 'flag', type: 'boolean' },
        { name: 'label', type: 'string' },
      ],
    });
    const id = column(p, 'id');
    assert.deepEqual(
      { count: id.count, nulls: id.nulls, distinct: id.distinct, min: id.min, max: id.max, mean: id.mean, std: id.std },
      { count: 3, nulls: 0, distinct: 3, min: 1, max: 3, mean: 2, std: 1 },
    );
    const x = column(p, 'x');
    assert.equal(x.min, -40);
    assert.equal(x.max, 2.5);
    assert.ok(Math.abs(x.mean! - (1.5 + 2.5 - 40) / 3) < 1e-12);
    assert.ok(Math.abs(x.std! - sampleStd([1.5, 2.5, -40])) < 1e-12);
    // Booleans and strings have no numeric statistics.
    for (const name of ['flag', 'label']) {
      const c = column(p, name);
      assert.equal(c.mean, undefined);
      assert.equal(c.min, undefined);
    }
    assert.equal(column(p, 'label').distinct, 2);
  });

  test('mean and standard deviation match a direct computation over many values', async () => {
    const values: number[] = [];
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 1000 - 500;
    for (let i = 0; i < 5000; i++) values.push(Math.round(rand() * 1000) / 1000);
    // Large offsets are where a naive sum-of-squares loses precision; Welford's does not.
    const shifted = values.map((v) => v + 1e9);
    const text = `a,b\n${values.map((v, i) => `${v},${shifted[i]}`).join('\n')}\n`;
    const p = await profileDelimited(chunked(text, 4096), 'csv');
    for (const [name, xs] of [
      ['a', values],
      ['b', shifted],
    ] as const) {
      const c = column(p, name);
      const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
      assert.equal(c.type, 'double');
      assert.equal(c.count, 5000);
      assert.ok(Math.abs(c.mean! - mean) / Math.abs(mean) < 1e-12, `${name} mean ${c.mean} vs ${mean}`);
      assert.ok(Math.abs(c.std! - sampleStd(xs)) / sampleStd(xs) < 1e-9, `${name} std ${c.std} vs ${sampleStd(xs)}`);
      assert.equal(c.min, Math.min(...xs));
      assert.equal(c.max, Math.max(...xs));
    }
    // One value: no spread.
    const one = await profile('v\n7\n');
    assert.equal(column(one, 'v').std, 0);
    assert.equal(column(one, 'v').mean, 7);
  });

  test('quoted fields hold separators, line ends and doubled quotes, whatever the chunking', async () => {
    const text =
      'name,note,n\n' +
      '"Smith, John","line one\nline two",1\n' +
      '"say ""hi""","",2\n' +
      '"""quoted""","a,b\r\nc",3\n' +
      'plain,"tail ""q""",4\n';
    const p = await profile(text);
    assert.equal(p.numRows, 4);
    assert.equal(p.numColumns, 3);
    const n = column(p, 'n');
    assert.deepEqual([n.type, n.count, n.min, n.max], ['long', 4, 1, 4]);
    // "" is an empty cell: a null.
    const note = column(p, 'note');
    assert.equal(note.count, 3);
    assert.equal(note.nulls, 1);
    assert.equal(note.distinct, 3);
    assert.equal(column(p, 'name').distinct, 4);
  });

  test('the values quoted fields parse to', async () => {
    // Distinct counts tell values apart: each row below repeats the value of the row above,
    // spelled differently, so a parser that gets one spelling wrong counts an extra value.
    const p = await profile(
      'v\n' +
        'a,b\n' + // two cells; the second is beyond the header and ignored
        '"a"\n' +
        '"say ""hi"""\n' +
        'say "hi"\n' + // a quote inside an unquoted cell is a character
        '"x\ny"\n' +
        '"x\ny"\n',
    );
    assert.equal(p.numRows, 6);
    assert.equal(column(p, 'v').distinct, 3); // a, say "hi", x\ny
  });

  test('CRLF line ends, split anywhere, end rows once', async () => {
    const crlf = 'a,b\r\n1,x\r\n2,y\r\n\r\n3,z\r\n';
    const p = await profile(crlf);
    assert.equal(p.numRows, 3);
    assert.deepEqual(schemaOf(p).mlflow_colspec, [
      { name: 'a', type: 'long' },
      { name: 'b', type: 'string' },
    ]);
    // Old Mac line ends, and a last line without any.
    assert.equal((await profile('a\r1\r2\r3')).numRows, 3);
    assert.equal((await profile('a,b\n1,2')).numRows, 1);
    assert.equal((await profile('a,b\r\n1,2\r')).numRows, 1);
  });

  test('empty cells and missing trailing cells are nulls; blank lines are no rows', async () => {
    const p = await profile('a,b,c\n1,,x\n,2,\n3\n\n4,5,y\n');
    assert.equal(p.numRows, 4);
    assert.deepEqual(
      p.columns.map((c) => [c.name, c.count, c.nulls]),
      [
        ['a', 3, 1],
        ['b', 2, 2],
        ['c', 2, 2],
      ],
    );
    // An all-empty column is a string column without statistics.
    const empty = await profile('a,b\n1,\n2,\n');
    assert.deepEqual(
      [column(empty, 'b').type, column(empty, 'b').count, column(empty, 'b').nulls, column(empty, 'b').mean],
      ['string', 0, 2, undefined],
    );
  });

  test('type inference: long, double, boolean, string, and what demotes a column', async () => {
    const p = await profile(
      'long,double,exp,bool,mixed_num,mixed_bool,signed,dot\n' +
        '1,1.0,1e3,true,1,true,+1,.5\n' +
        '-2,2,2E-3,FALSE,abc,1,-0,5.\n' +
        '30,3.25,3,True,2,false,+7,0.25\n',
    );
    assert.deepEqual(schemaOf(p).mlflow_colspec, [
      { name: 'long', type: 'long' },
      { name: 'double', type: 'double' },
      { name: 'exp', type: 'double' },
      { name: 'bool', type: 'boolean' },
      { name: 'mixed_num', type: 'string' },
      { name: 'mixed_bool', type: 'string' },
      { name: 'signed', type: 'long' },
      { name: 'dot', type: 'double' },
    ]);
    // A column demoted to string keeps no numeric statistics from before.
    assert.equal(column(p, 'mixed_num').mean, undefined);
    assert.equal(column(p, 'exp').max, 1000);
    // Things that look numeric to some parsers but are not numbers here.
    for (const v of ['NaN', 'inf', '1,5', '0x10', '1e', '--1', '1.2.3', ' ']) {
      const q = await profile(`v\n1\n"${v}"\n`);
      assert.equal(column(q, 'v').type, 'string', v);
    }
  });

  test('header names: trimmed (a BOM too), blank ones named by position', async () => {
    const p = await profile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' a ,,"c"\n1,2,3\n')]));
    assert.deepEqual(
      p.columns.map((c) => c.name),
      ['a', 'column_1', 'c'],
    );
  });

  test('multi-byte characters split across chunks are decoded whole, the last one included', async () => {
    const text = 'city,n\nZürich,1\n東京,2\nSão Paulo,3\nZürich,4\n日本';
    const p = await profile(text);
    assert.equal(p.numRows, 5);
    assert.equal(column(p, 'city').distinct, 4);
    assert.equal(column(p, 'city').count, 5);
    // A file cut in the middle of a character ends with U+FFFD, like any undecodable byte.
    const cut = Buffer.concat([Buffer.from('v\nx\nx'), Buffer.from('\u00e9').subarray(0, 1)]);
    const q = await profile(cut);
    assert.equal(q.numRows, 2);
    assert.equal(column(q, 'v').distinct, 2); // x and x\ufffd
    const bad = await profile(Buffer.concat([Buffer.from('v\nx'), Buffer.from([0xff]), Buffer.from('\nx\n')]));
    assert.equal(column(bad, 'v').distinct, 2); // x\ufffd and x
  });

  test('TSV: tabs separate, commas do not', async () => {
    const p = await profile('a\tb\n1,5\tx\n2\t"y\tz"\n', 'tsv');
    assert.equal(p.format, 'tsv');
    assert.equal(p.numRows, 2);
    assert.deepEqual(schemaOf(p).mlflow_colspec, [
      { name: 'a', type: 'string' },
      { name: 'b', type: 'string' },
    ]);
    assert.equal(column(p, 'b').distinct, 2);
  });

  test('distinct values are counted exactly up to the cap, then marked capped', async () => {
    const rows = (n: number) => `v,w\n${Array.from({ length: n }, (_, i) => `${i},${i % 3}`).join('\n')}\n`;
    const exact = await profileDelimited(chunked(rows(DISTINCT_CAP), 65536), 'csv');
    assert.deepEqual([column(exact, 'v').distinct, column(exact, 'v').distinctCapped], [DISTINCT_CAP, false]);
    assert.deepEqual([column(exact, 'w').distinct, column(exact, 'w').distinctCapped], [3, false]);
    const capped = await profileDelimited(chunked(rows(DISTINCT_CAP + 500), 65536), 'csv');
    const v = column(capped, 'v');
    assert.deepEqual([v.distinct, v.distinctCapped, v.count], [DISTINCT_CAP, true, DISTINCT_CAP + 500]);
    // Statistics still cover every value.
    assert.equal(v.max, DISTINCT_CAP + 499);
    assert.equal(capped.numRows, DISTINCT_CAP + 500);
  });

  test('an empty file, a header only', async () => {
    assert.deepEqual(await profile(''), { format: 'csv', numRows: 0, numColumns: 0, columns: [] });
    const header = await profile('a,b\n');
    assert.equal(header.numRows, 0);
    assert.deepEqual(
      header.columns.map((c) => [c.name, c.type, c.count]),
      [
        ['a', 'string', 0],
        ['b', 'string', 0],
      ],
    );
  });
});
