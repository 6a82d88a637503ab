import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { InputError, NotFoundError } from '../../core/errors.js';
import { describeMlmodel, inspectModelFiles, type ModelFileSource } from './model-files.js';

/** An in-memory folder tree keyed by store path. */
function memory(files: Record<string, string | Buffer>): ModelFileSource & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    listFiles: (path) =>
      Promise.resolve(
        Object.keys(files)
          .filter((p) => p.startsWith(`${path}/`))
          .sort()
          .map((p) => ({ path: p, size: Buffer.byteLength(files[p]!) })),
      ),
    open: (path) => {
      const content = files[path];
      if (content === undefined) return Promise.reject(new NotFoundError(`no ${path}`));
      opened.push(path);
      const buf = Buffer.from(content);
      // Several chunks, so the hash is computed over a real stream.
      const chunks = [buf.subarray(0, 3), buf.subarray(3)];
      return Promise.resolve({ stream: Readable.from(chunks), size: buf.length });
    },
  };
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

test('framework, format and signature from MLmodel files of common flavors', () => {
  const sklearn = describeMlmodel(`
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}
  sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle, sklearn_version: 1.5.0}
signature:
  inputs: '[{"type": "double", "name": "a"}]'
  outputs: '[{"type": "long"}]'
  params: null
`);
  assert.deepEqual(sklearn, {
    framework: 'sklearn',
    format: 'cloudpickle',
    signature: { inputs: [{ type: 'double', name: 'a' }], outputs: [{ type: 'long' }], params: null },
  });
  const cases: [string, string | null, string | null][] = [
    ['flavors: {onnx: {data: model.onnx, onnx_version: 1.17}, python_function: {}}', 'onnx', 'onnx'],
    ['flavors: {xgboost: {data: model.ubj, model_format: ubj}, python_function: {}}', 'xgboost', 'ubj'],
    ['flavors: {pytorch: {model_data: data, pytorch_version: 2.5}}', 'pytorch', 'pytorch'],
    ['flavors: {sklearn: {pickled_model: model.skops}}', 'sklearn', 'skops'],
    [
      'flavors: {python_function: {loader_module: my_model, python_model: python_model.pkl}}',
      'python_function',
      'python_function',
    ],
    ['flavors: {}', null, null],
    ['mlflow_version: 3.0.0', null, null],
  ];
  for (const [text, framework, format] of cases) {
    const d = describeMlmodel(text);
    assert.deepEqual([d.framework, d.format, d.signature], [framework, format, null], text);
  }
  // A signature part that is not JSON is kept as written.
  assert.deepEqual(describeMlmodel("signature: {inputs: 'not json'}").signature, {
    inputs: 'not json',
    outputs: null,
    params: null,
  });
});

test('a malformed or non-mapping MLmodel file is refused', () => {
  for (const text of ['flavors: [unclosed', '- a list', 'just text', 'a: b: c']) {
    assert.throws(() => describeMlmodel(text), InputError, text);
  }
});

test('size, file count and checksum over a folder; the MLmodel file is described', async () => {
  const files = {
    'exp/run/artifacts/model/MLmodel': 'flavors: {onnx: {data: model.onnx}}',
    'exp/run/artifacts/model/model.onnx': Buffer.from([0, 1, 2, 3, 255]),
    'exp/run/artifacts/model/sub/Z.txt': 'zzz',
    'exp/run/artifacts/model/sub/a.txt': 'a',
    'exp/run/artifacts/other/ignored.txt': 'not part of the model',
  };
  const source = memory(files);
  const facts = await inspectModelFiles(source, 'exp/run/artifacts/model', 2);
  const rel = ['MLmodel', 'model.onnx', 'sub/Z.txt', 'sub/a.txt'];
  const lines = rel.map((r) => `${sha(files[`exp/run/artifacts/model/${r}` as keyof typeof files])}  ${r}\n`).join('');
  assert.deepEqual(facts, {
    framework: 'onnx',
    format: 'onnx',
    signature: null,
    sizeBytes: 35 + 5 + 3 + 1,
    fileCount: 4,
    checksum: `sha256:${sha(lines)}`,
  });
  assert.ok(!source.opened.some((p) => p.includes('other/')));
});

test('a single file is a model of one file; nothing at all is refused', async () => {
  const source = memory({ 'e/r/artifacts/graph.onnx': 'g' });
  const facts = await inspectModelFiles(source, 'e/r/artifacts/graph.onnx');
  assert.equal(facts.checksum, `sha256:${sha(`${sha('g')}  graph.onnx\n`)}`);
  assert.deepEqual([facts.framework, facts.format, facts.fileCount, facts.sizeBytes], ['onnx', 'onnx', 1, 1]);
  await assert.rejects(inspectModelFiles(source, 'e/r/artifacts/missing'), InputError);
});

test('an oversized MLmodel file is refused', async () => {
  const source = memory({ 'm/MLmodel': `a: "${'x'.repeat(1024 * 1024)}"` });
  await assert.rejects(inspectModelFiles(source, 'm'), /larger than/);
});
