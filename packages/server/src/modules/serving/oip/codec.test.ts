import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datatype, InferResponse, Tensor } from '../tensors.js';
import {
  InferInputError,
  InferResponseError,
  binaryOutputSelection,
  type CodecLimits,
  encodeInferRequestBinary,
  encodeInferRequestJson,
  encodeInferResponse,
  floatToHalf,
  halfToFloat,
  parseInferRequest,
  parseInferResponse,
  tensorBytes,
} from './codec.js';

const LIMITS = { maxElements: 10_000, maxBytesPerElement: 1024 };

// Request bodies made by tritonclient.http (PyPI) itself: _get_inference_request() for five inputs
// (FP32 [1,4], INT64 [1,2], BYTES [2] with non-ASCII text, BOOL [3], FP16 [2] binary-only), req id "req-1".
const TRITON = {
  binaryAllOutputs: {
    headerLength: 482,
    body: 'eyJpZCI6InJlcS0xIiwiaW5wdXRzIjpbeyJuYW1lIjoieCIsInNoYXBlIjpbMSw0XSwiZGF0YXR5cGUiOiJGUDMyIiwicGFyYW1ldGVycyI6eyJiaW5hcnlfZGF0YV9zaXplIjoxNn19LHsibmFtZSI6ImlkcyIsInNoYXBlIjpbMSwyXSwiZGF0YXR5cGUiOiJJTlQ2NCIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6MTZ9fSx7Im5hbWUiOiJ0ZXh0Iiwic2hhcGUiOlsyXSwiZGF0YXR5cGUiOiJCWVRFUyIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6Mjd9fSx7Im5hbWUiOiJmbGFncyIsInNoYXBlIjpbM10sImRhdGF0eXBlIjoiQk9PTCIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6M319LHsibmFtZSI6ImhhbGYiLCJzaGFwZSI6WzJdLCJkYXRhdHlwZSI6IkZQMTYiLCJwYXJhbWV0ZXJzIjp7ImJpbmFyeV9kYXRhX3NpemUiOjR9fV0sInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfb3V0cHV0Ijp0cnVlfX0zM6NAAABgQDMzsz/NzEw+BwAAAAAAAAABAAAAAADg/wYAAABow6lsbG8NAAAA5pel5pys6KqeIOKckwEAAQA+Zq4=',
  },
  binaryListedOutputs: {
    headerLength: 548,
    body: 'eyJpZCI6InJlcS0xIiwiaW5wdXRzIjpbeyJuYW1lIjoieCIsInNoYXBlIjpbMSw0XSwiZGF0YXR5cGUiOiJGUDMyIiwicGFyYW1ldGVycyI6eyJiaW5hcnlfZGF0YV9zaXplIjoxNn19LHsibmFtZSI6ImlkcyIsInNoYXBlIjpbMSwyXSwiZGF0YXR5cGUiOiJJTlQ2NCIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6MTZ9fSx7Im5hbWUiOiJ0ZXh0Iiwic2hhcGUiOlsyXSwiZGF0YXR5cGUiOiJCWVRFUyIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6Mjd9fSx7Im5hbWUiOiJmbGFncyIsInNoYXBlIjpbM10sImRhdGF0eXBlIjoiQk9PTCIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGFfc2l6ZSI6M319LHsibmFtZSI6ImhhbGYiLCJzaGFwZSI6WzJdLCJkYXRhdHlwZSI6IkZQMTYiLCJwYXJhbWV0ZXJzIjp7ImJpbmFyeV9kYXRhX3NpemUiOjR9fV0sIm91dHB1dHMiOlt7Im5hbWUiOiJ5IiwicGFyYW1ldGVycyI6eyJiaW5hcnlfZGF0YSI6dHJ1ZX19LHsibmFtZSI6InoiLCJwYXJhbWV0ZXJzIjp7ImJpbmFyeV9kYXRhIjpmYWxzZX19XX0zM6NAAABgQDMzsz/NzEw+BwAAAAAAAAABAAAAAADg/wYAAABow6lsbG8NAAAA5pel5pys6KqeIOKckwEAAQA+Zq4=',
  },
  json: {
    headerLength: undefined,
    body: 'eyJpZCI6InJlcS0xIiwiaW5wdXRzIjpbeyJuYW1lIjoieCIsInNoYXBlIjpbMSw0XSwiZGF0YXR5cGUiOiJGUDMyIiwiZGF0YSI6WzUuMDk5OTk5OTA0NjMyNTY4LDMuNSwxLjM5OTk5OTk3NjE1ODE0MiwwLjIwMDAwMDAwMjk4MDIzMjI0XX0seyJuYW1lIjoiaWRzIiwic2hhcGUiOlsxLDJdLCJkYXRhdHlwZSI6IklOVDY0IiwiZGF0YSI6WzcsLTkwMDcxOTkyNTQ3NDA5OTFdfSx7Im5hbWUiOiJ0ZXh0Iiwic2hhcGUiOlsyXSwiZGF0YXR5cGUiOiJCWVRFUyIsImRhdGEiOlsiaFx1MDBFOWxsbyIsIlx1NjVFNVx1NjcyQ1x1OEE5RSBcdTI3MTMiXX0seyJuYW1lIjoiZmxhZ3MiLCJzaGFwZSI6WzNdLCJkYXRhdHlwZSI6IkJPT0wiLCJkYXRhIjpbdHJ1ZSxmYWxzZSx0cnVlXX1dLCJvdXRwdXRzIjpbeyJuYW1lIjoieSIsInBhcmFtZXRlcnMiOnsiYmluYXJ5X2RhdGEiOmZhbHNlfX1dfQ==',
  },
};

const b64 = (s: string) => Buffer.from(s, 'base64');
const utf8 = (...s: string[]) => s.map((x) => Buffer.from(x, 'utf8'));
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** Parses a JSON request with one input, for the error cases. */
function parseOne(input: Record<string, unknown>, limits: CodecLimits = LIMITS) {
  return parseInferRequest(json({ inputs: [input] }), undefined, limits);
}

function rejects(fn: () => unknown, message: RegExp | string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InferInputError, `expected InferInputError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

/** One tensor of every datatype, with edge values, and the values each should decode to. */
function everyDatatype(): Tensor[] {
  const t = (name: string, datatype: Datatype, shape: number[], data: Tensor['data']): Tensor => ({
    name,
    datatype,
    shape,
    data,
  });
  return [
    t('bool', 'BOOL', [2, 2], new Uint8Array([1, 0, 0, 1])),
    t('u8', 'UINT8', [3], new Uint8Array([0, 128, 255])),
    t('u16', 'UINT16', [2], new Uint16Array([0, 65535])),
    t('u32', 'UINT32', [2], new Uint32Array([0, 4294967295])),
    t('u64', 'UINT64', [2], new BigUint64Array([0n, 9007199254740991n])),
    t('i8', 'INT8', [2], new Int8Array([-128, 127])),
    t('i16', 'INT16', [2], new Int16Array([-32768, 32767])),
    t('i32', 'INT32', [1, 2], new Int32Array([-2147483648, 2147483647])),
    t('i64', 'INT64', [3], new BigInt64Array([-9007199254740991n, 0n, 9007199254740991n])),
    t('f16', 'FP16', [3], new Uint16Array([floatToHalf(1.5), floatToHalf(-0.1), floatToHalf(65504)])),
    t('f32', 'FP32', [2, 2], new Float32Array([5.1, -3.5, 1e-30, 3.4e38])),
    t('f64', 'FP64', [2], new Float64Array([Math.PI, -1e300])),
    t('text', 'BYTES', [2, 2], utf8('héllo', '日本語 ✓', '', '🙂 emoji')),
  ];
}

function assertSameTensors(actual: readonly Tensor[], expected: readonly Tensor[]) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.equal(a.name, e.name);
    assert.equal(a.datatype, e.datatype, a.name);
    assert.deepEqual(a.shape, e.shape, a.name);
    assert.equal(a.data.constructor, e.data.constructor, a.name);
    assert.deepEqual(a.data, e.data, a.name);
  }
}

test('decodes the binary request tritonclient sends by default', () => {
  const req = parseInferRequest(b64(TRITON.binaryAllOutputs.body), TRITON.binaryAllOutputs.headerLength, LIMITS);
  assert.equal(req.id, 'req-1');
  assert.equal(req.binaryOutputsByDefault, true);
  assert.equal(req.outputs, undefined);
  assert.equal(binaryOutputSelection(req), 'all');
  const [x, ids, text, flags, half] = req.inputs;
  assert.deepEqual(x, { name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) });
  assert.deepEqual(ids!.data, new BigInt64Array([7n, -9007199254740991n]));
  assert.deepEqual(text!.data, utf8('héllo', '日本語 ✓'));
  assert.deepEqual(flags!.data, new Uint8Array([1, 0, 1]));
  assert.deepEqual(Array.from(half!.data as Uint16Array, halfToFloat), [1.5, halfToFloat(floatToHalf(-0.099975586))]);
  // binary_data_size is transport, not a tensor parameter.
  assert.equal(x!.parameters, undefined);
});

test('decodes tritonclient requests that list outputs, binary and JSON', () => {
  const listed = parseInferRequest(
    b64(TRITON.binaryListedOutputs.body),
    TRITON.binaryListedOutputs.headerLength,
    LIMITS,
  );
  assert.deepEqual(listed.outputs, [
    { name: 'y', binary: true },
    { name: 'z', binary: false },
  ]);
  assert.deepEqual(binaryOutputSelection(listed), new Set(['y']));

  const plain = parseInferRequest(b64(TRITON.json.body), TRITON.json.headerLength, LIMITS);
  assert.deepEqual(plain.outputs, [{ name: 'y', binary: false }]);
  assert.equal(binaryOutputSelection(plain), 'none');
  assertSameTensors(plain.inputs, listed.inputs.slice(0, 4));
});

test('JSON requests round-trip every datatype, BYTES with unicode', () => {
  const inputs = everyDatatype();
  const body = encodeInferRequestJson({ id: 'r1', inputs, outputs: ['out'] });
  const req = parseInferRequest(body, undefined, LIMITS);
  assert.equal(req.id, 'r1');
  assert.deepEqual(req.outputs, [{ name: 'out', binary: false }]);
  assertSameTensors(req.inputs, inputs);
});

test('binary requests round-trip every datatype', () => {
  const inputs = everyDatatype();
  const { body, headerLength } = encodeInferRequestBinary({ inputs });
  const req = parseInferRequest(body, headerLength, LIMITS);
  assert.equal(req.binaryOutputsByDefault, true);
  assertSameTensors(req.inputs, inputs);
});

test('responses round-trip every datatype as JSON, all binary and partly binary', () => {
  const res: InferResponse = { modelName: 'm', modelVersion: '3', id: 'abc', outputs: everyDatatype() };
  for (const binary of ['none', 'all', new Set(['f32', 'text', 'i64'])] as const) {
    const enc = encodeInferResponse(res, binary);
    const back = parseInferResponse(enc.body, enc.headerLength, LIMITS);
    assert.equal(back.modelName, 'm');
    assert.equal(back.modelVersion, '3');
    assert.equal(back.id, 'abc');
    assertSameTensors(back.outputs, res.outputs);
  }
});

test('the JSON response follows the spec: numbers for INT64, floats for FP16, no binary header', () => {
  const enc = encodeInferResponse(
    {
      modelName: 'iris',
      modelVersion: '1',
      id: '42',
      parameters: { note: 'x' },
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([1n, -9007199254740991n]) },
        { name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array([floatToHalf(0.5)]) },
        { name: 'ok', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
        { name: 'p', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.25, 0.75]) },
      ],
    },
    'none',
  );
  assert.equal(enc.headerLength, undefined);
  assert.equal(enc.contentType, 'application/json');
  assert.equal(
    enc.body.toString(),
    '{"model_name":"iris","model_version":"1","id":"42","parameters":{"note":"x"},"outputs":[' +
      '{"name":"label","datatype":"INT64","shape":[2],"data":[1,-9007199254740991]},' +
      '{"name":"h","datatype":"FP16","shape":[1],"data":[0.5]},' +
      '{"name":"ok","datatype":"BOOL","shape":[2],"data":[true,false]},' +
      '{"name":"p","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}',
  );
  assert.doesNotThrow(() => JSON.parse(enc.body.toString()));
});

test('binary response outputs carry binary_data_size and no data, after a header of headerLength bytes', () => {
  const res: InferResponse = {
    modelName: 'mödel',
    modelVersion: '1',
    id: 'r',
    outputs: [
      { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]), parameters: { content_type: 'np' } },
      { name: 'b', datatype: 'BYTES', shape: [1], data: utf8('ü') },
      { name: 'c', datatype: 'INT32', shape: [1], data: new Int32Array([7]) },
    ],
  };
  const enc = encodeInferResponse(res, new Set(['a', 'b']));
  assert.equal(enc.contentType, 'application/octet-stream');
  // The header length counts bytes, not characters ("ö" is two bytes).
  const header = JSON.parse(enc.body.subarray(0, enc.headerLength).toString()) as {
    outputs: { name: string; parameters?: Record<string, unknown>; data?: unknown }[];
  };
  assert.deepEqual(header.outputs[0], {
    name: 'a',
    datatype: 'FP32',
    shape: [2],
    parameters: { content_type: 'np', binary_data_size: 8 },
  });
  assert.deepEqual(header.outputs[1]!.parameters, { binary_data_size: 6 });
  assert.equal(header.outputs[1]!.data, undefined);
  assert.deepEqual(header.outputs[2]!.data, [7]);
  const tail = enc.body.subarray(enc.headerLength);
  assert.deepEqual(tail, Buffer.concat([tensorBytes(res.outputs[0]!), Buffer.from([2, 0, 0, 0, 0xc3, 0xbc])]));
  // A selection naming no output of the response is plain JSON.
  assert.equal(encodeInferResponse(res, new Set(['zzz'])).headerLength, undefined);
});

test('JSON encoding writes non-finite floats as null and non-UTF-8 BYTES as base64', () => {
  const enc = encodeInferResponse(
    {
      modelName: 'm',
      modelVersion: '1',
      id: 'i',
      outputs: [
        { name: 'f', datatype: 'FP64', shape: [3], data: new Float64Array([NaN, Infinity, 1]) },
        { name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array([0x7c00]) },
        { name: 'raw', datatype: 'BYTES', shape: [2], data: [Buffer.from([0xff, 0x00]), Buffer.from('ok')] },
      ],
    },
    'none',
  );
  const out = (JSON.parse(enc.body.toString()) as { outputs: { data: unknown[]; parameters?: unknown }[] }).outputs;
  assert.deepEqual(out[0]!.data, [null, null, 1]);
  assert.deepEqual(out[1]!.data, [null]);
  assert.deepEqual(out[2]!.data, ['/wA=', 'b2s=']);
  assert.deepEqual(out[2]!.parameters, { content_type: 'base64' });
  const back = parseInferResponse(enc.body, undefined, LIMITS).outputs;
  assert.deepEqual(back[0]!.data, new Float64Array([NaN, NaN, 1]));
  assert.ok(Number.isNaN(halfToFloat((back[1]!.data as Uint16Array)[0]!)));
  assert.deepEqual(back[2]!.data, [Buffer.from([0xff, 0x00]), Buffer.from('ok')]);
});

test('nested JSON data is read in row-major order', () => {
  const req = parseOne({
    name: 'x',
    datatype: 'INT32',
    shape: [2, 2],
    data: [
      [1, 2],
      [3, 4],
    ],
  });
  assert.deepEqual(req.inputs[0]!.data, new Int32Array([1, 2, 3, 4]));
  const one = parseOne({ name: 'x', datatype: 'FP32', shape: [1, 1], data: [[5]] });
  assert.deepEqual(one.inputs[0]!.data, new Float32Array([5]));
});

test('BYTES in JSON may be base64 when the input says content_type base64', () => {
  const req = parseOne({
    name: 'b',
    datatype: 'BYTES',
    shape: [2],
    parameters: { content_type: 'base64' },
    data: ['/wA=', 'aGk='],
  });
  assert.deepEqual(req.inputs[0]!.data, [Buffer.from([0xff, 0]), Buffer.from('hi')]);
  assert.deepEqual(req.inputs[0]!.parameters, { content_type: 'base64' });
  rejects(
    () => parseOne({ name: 'b', datatype: 'BYTES', shape: [1], parameters: { content_type: 'base64' }, data: ['a!'] }),
    'input "b": element 0 is not valid base64',
  );
});

test('binary tensors need not be aligned in the body', () => {
  const inputs: Tensor[] = [
    { name: 'odd', datatype: 'UINT8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    { name: 'd', datatype: 'FP64', shape: [2], data: new Float64Array([0.1, -2]) },
  ];
  const { body, headerLength } = encodeInferRequestBinary({ inputs });
  const copy = Buffer.concat([Buffer.from([0]), body]).subarray(1); // a body at an odd byte offset
  assertSameTensors(parseInferRequest(copy, headerLength, LIMITS).inputs, inputs);
});

test('half floats convert with round-to-nearest-even, subnormals, overflow and NaN', () => {
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(-2), 0xc000);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds up to infinity
  assert.equal(floatToHalf(1e10), 0x7c00);
  assert.equal(floatToHalf(-Infinity), 0xfc00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(floatToHalf(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToHalf(2 ** -26), 0x0000); // below half of it
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie, to even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie, to even (up)
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  for (let h = 0; h < 0x7c00; h++) assert.equal(floatToHalf(halfToFloat(h)), h);
});

test('malformed requests are InferInputErrors naming the field', () => {
  rejects(() => parseInferRequest(Buffer.from('{"inputs": ['), undefined, LIMITS), /^malformed JSON: /);
  rejects(() => parseInferRequest(json([1]), undefined, LIMITS), 'the body must be a JSON object');
  rejects(() => parseInferRequest(json({}), undefined, LIMITS), 'field "inputs" must be an array');
  rejects(() => parseInferRequest(json({ inputs: [] }), undefined, LIMITS), /at least one input/);
  rejects(() => parseInferRequest(json({ id: 5, inputs: [] }), undefined, LIMITS), 'field "id" must be a string');
  rejects(
    () => parseInferRequest(json({ parameters: [], inputs: [] }), undefined, LIMITS),
    'field "parameters" must be an object',
  );
  rejects(
    () => parseInferRequest(json({ parameters: { binary_data_output: 'yes' }, inputs: [] }), undefined, LIMITS),
    'parameter "binary_data_output" must be a boolean',
  );
  rejects(
    () => parseOne({ datatype: 'FP32', shape: [1], data: [1] }),
    /inputs\[0\] must be an object with a non-empty "name"/,
  );
});

test('tensor errors name the input', () => {
  const x = { name: 'x', datatype: 'FP32', shape: [4] };
  rejects(() => parseOne({ ...x, data: [1, 2, 3, 'abc'] }), 'input "x": element 3 is not a number');
  rejects(() => parseOne({ ...x, data: [1, 2, 3, true] }), 'input "x": element 3 is not a number');
  rejects(() => parseOne({ ...x, data: [1, 2, 3, [4]] }), 'input "x": element 3 is not a number');
  // null is JSON's NaN: a missing value.
  assert.ok(Number.isNaN((parseOne({ ...x, data: [1, 2, 3, null] }).inputs[0]!.data as Float32Array)[3]));
  rejects(() => parseOne({ ...x, data: [1, 2, 3] }), 'input "x": shape [4] needs 4 elements, "data" has 3');
  rejects(() => parseOne({ ...x, data: [1, 2, 3, 4, 5] }), /shape \[4\] needs 4 elements, "data" has 5/);
  rejects(() => parseOne({ ...x, shape: [2, 2], data: [[1, 2], [3, 4], [5]] }), /needs 4 elements, "data" has more/);
  rejects(() => parseOne({ ...x, shape: [4], data: [[[1, 2, 3, 4]]] }), /nested deeper than shape \[4\]/);
  rejects(() => parseOne({ ...x, data: 5 }), 'input "x": "data" must be an array');
  rejects(() => parseOne({ ...x }), 'input "x": "data" is missing');
  rejects(() => parseOne({ ...x, datatype: 'BF16', data: [1, 2, 3, 4] }), /input "x": unknown datatype "BF16"/);
  rejects(() => parseOne({ name: 'x', shape: [1], data: [1] }), 'input "x": "datatype" is missing');
  rejects(() => parseOne({ ...x, shape: [-1], data: [] }), /input "x": shape dimension 0 is -1/);
  rejects(() => parseOne({ ...x, shape: [1.5], data: [1] }), /input "x": shape dimension 0 is 1.5/);
  rejects(() => parseOne({ ...x, shape: '4', data: [1] }), /input "x": "shape" must be an array/);
  rejects(() => parseOne({ ...x, parameters: 3, data: [1, 2, 3, 4] }), 'input "x": "parameters" must be an object');
  rejects(
    () =>
      parseInferRequest(
        json({
          inputs: [
            { ...x, data: [1, 2, 3, 4] },
            { ...x, data: [1, 2, 3, 4] },
          ],
        }),
        undefined,
        LIMITS,
      ),
    'input "x" is given more than once',
  );
});

test('integer, boolean and string datatypes check their elements', () => {
  const one = (datatype: string, v: unknown) => parseOne({ name: 'v', datatype, shape: [1], data: [v] });
  rejects(() => one('INT8', 128), 'input "v": element 0 (128) is out of range for INT8');
  rejects(() => one('UINT8', -1), 'input "v": element 0 (-1) is out of range for UINT8');
  rejects(() => one('UINT32', 2 ** 32), /out of range for UINT32/);
  rejects(() => one('INT32', 1.5), 'input "v": element 0 is not an integer');
  rejects(() => one('INT64', '5'), 'input "v": element 0 is not an integer');
  rejects(() => one('INT64', 2 ** 60), /input "v": element 0 is beyond 2\^53/);
  rejects(() => one('UINT64', -1), /out of range for UINT64/);
  rejects(() => one('BOOL', 1), 'input "v": element 0 is not a boolean');
  rejects(() => one('BYTES', 1), 'input "v": element 0 is not a string');
  rejects(() => one('FP16', 'x'), 'input "v": element 0 is not a number');
  rejects(() => one('BYTES', 'x'.repeat(1025)), 'input "v": element 0 has 1025 bytes, more than the limit of 1024');
});

test('the element limit counts across inputs and names the input that crosses it', () => {
  const limits = { maxElements: 10 };
  const body = json({
    inputs: [
      { name: 'a', datatype: 'UINT8', shape: [6], data: [1, 2, 3, 4, 5, 6] },
      { name: 'b', datatype: 'UINT8', shape: [5], data: [1, 2, 3, 4, 5] },
    ],
  });
  rejects(
    () => parseInferRequest(body, undefined, limits),
    'input "b": 5 more elements make 11, over the limit of 10 elements per request',
  );
  // A huge shape is refused before any data is looked at.
  rejects(
    () => parseOne({ name: 'h', datatype: 'FP32', shape: [1e9, 1e9], data: [] }, limits),
    /input "h": 1000000000000000000 elements exceed/,
  );
});

test('binary sections must match the header and add up to the body exactly', () => {
  const x: Tensor = { name: 'x', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) };
  const { body, headerLength } = encodeInferRequestBinary({ inputs: [x] });
  rejects(
    () => parseInferRequest(body.subarray(0, body.length - 1), headerLength, LIMITS),
    /input "x": binary data truncated/,
  );
  rejects(
    () => parseInferRequest(Buffer.concat([body, Buffer.from([0])]), headerLength, LIMITS),
    /the binary section has 1 bytes more than/,
  );
  rejects(
    () => parseInferRequest(body.subarray(0, headerLength), undefined, LIMITS),
    /needs the Inference-Header-Content-Length header/,
  );
  rejects(
    () => parseInferRequest(body, body.length + 1, LIMITS),
    /Inference-Header-Content-Length \d+ is not between 0 and/,
  );
  rejects(() => parseInferRequest(body, -1, LIMITS), /Inference-Header-Content-Length -1/);
  rejects(() => parseInferRequest(body, 1.5, LIMITS), /Inference-Header-Content-Length 1.5/);
  rejects(() => parseInferRequest(body, headerLength - 1, LIMITS), /^malformed JSON/);

  const withHeader = (tensor: Record<string, unknown>, bin: Buffer) => {
    const header = json({ inputs: [tensor] });
    return parseInferRequest(Buffer.concat([header, bin]), header.length, LIMITS);
  };
  const p = (size: number) => ({ binary_data_size: size });
  rejects(
    () => withHeader({ name: 'x', datatype: 'FP32', shape: [4], parameters: p(12) }, Buffer.alloc(12)),
    'input "x": binary_data_size is 12 bytes, shape [4] of FP32 needs 16',
  );
  rejects(
    () => withHeader({ name: 'x', datatype: 'FP32', shape: [1], parameters: p(4), data: [1] }, Buffer.alloc(4)),
    'input "x": has both "data" and "binary_data_size"',
  );
  rejects(
    () => withHeader({ name: 'x', datatype: 'FP32', shape: [1], parameters: p(-4) }, Buffer.alloc(4)),
    'input "x": "binary_data_size" must be a non-negative integer',
  );
  rejects(
    () => withHeader({ name: 'f', datatype: 'BOOL', shape: [2], parameters: p(2) }, Buffer.from([1, 2])),
    'input "f": BOOL element 1 is 2, not 0 or 1',
  );
  const s = (len: number, ...bytes: number[]) =>
    Buffer.concat([Buffer.from(new Uint32Array([len]).buffer), Buffer.from(bytes)]);
  rejects(
    () => withHeader({ name: 's', datatype: 'BYTES', shape: [1], parameters: p(3) }, Buffer.from([1, 0, 0])),
    /input "s": binary element 0 is truncated \(no room for its 4-byte length\)/,
  );
  rejects(
    () => withHeader({ name: 's', datatype: 'BYTES', shape: [1], parameters: p(6) }, s(5, 1, 2)),
    /input "s": binary element 0 is truncated \(length 5, 2 bytes left\)/,
  );
  rejects(
    () => withHeader({ name: 's', datatype: 'BYTES', shape: [2], parameters: p(5) }, s(1, 65)),
    'input "s": shape [2] needs 2 elements, binary data has 1',
  );
  rejects(
    () =>
      withHeader({ name: 's', datatype: 'BYTES', shape: [1], parameters: p(10) }, Buffer.concat([s(1, 65), s(1, 66)])),
    /input "s": binary data holds more than the 1 elements/,
  );
  rejects(
    () =>
      withHeader(
        { name: 's', datatype: 'BYTES', shape: [1], parameters: p(1029) },
        s(1025, ...new Array<number>(1025).fill(65)),
      ),
    'input "s": element 0 has 1025 bytes, more than the limit of 1024',
  );
  // Empty tensors and empty strings are fine.
  const ok = withHeader({ name: 's', datatype: 'BYTES', shape: [2], parameters: p(8) }, Buffer.concat([s(0), s(0)]));
  assert.deepEqual(ok.inputs[0]!.data, [Buffer.alloc(0), Buffer.alloc(0)]);
  const empty = withHeader({ name: 'e', datatype: 'FP32', shape: [0, 4], parameters: p(0) }, Buffer.alloc(0));
  assert.deepEqual(empty.inputs[0]!.data, new Float32Array(0));
});

test('requested outputs are checked', () => {
  const inputs = [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }];
  const parse = (outputs: unknown, parameters?: unknown) =>
    parseInferRequest(json({ inputs, outputs, parameters }), undefined, LIMITS);
  rejects(() => parse({}), 'field "outputs" must be an array');
  rejects(() => parse([{}]), 'outputs[0] must be an object with a non-empty "name"');
  rejects(() => parse([{ name: 'y' }, { name: 'y' }]), 'output "y" is requested more than once');
  rejects(
    () => parse([{ name: 'y', parameters: { binary_data: 1 } }]),
    'output "y": parameter "binary_data" must be a boolean',
  );
  rejects(
    () => parse([{ name: 'y', parameters: { classification: 3 } }]),
    'output "y": parameter "classification" is not supported',
  );
  // binary_data_output is the default for listed outputs that do not say.
  const r = parse([{ name: 'y' }, { name: 'z', parameters: { binary_data: false } }], { binary_data_output: true });
  assert.deepEqual(r.outputs, [
    { name: 'y', binary: true },
    { name: 'z', binary: false },
  ]);
  assert.deepEqual(binaryOutputSelection(r), new Set(['y']));
});

test('malformed responses from another server are InferResponseErrors', () => {
  assert.throws(() => parseInferResponse(Buffer.from('nope'), undefined, LIMITS), InferResponseError);
  assert.throws(
    () => parseInferResponse(json({ model_name: 'm' }), undefined, LIMITS),
    /field "outputs" must be an array/,
  );
  assert.throws(
    () =>
      parseInferResponse(
        json({ outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data: [1] }] }),
        undefined,
        LIMITS,
      ),
    (e: unknown) => e instanceof InferResponseError && /output "y": shape \[2\] needs 2 elements/.test(e.message),
  );
  const ok = parseInferResponse(json({ model_name: 'm', outputs: [] }), undefined, LIMITS);
  assert.deepEqual(ok, { modelName: 'm', modelVersion: '', id: '', outputs: [] });
});

test('InferInputError is a 400-class input error', () => {
  const e = new InferInputError('input "x": bad', 'x');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'InferInputError');
  assert.equal(e.code, 'invalid_input');
});
