import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { chooseRuntime } from './open-runtime.js';

// MLmodel files as MLflow 3 writes them (trimmed to what matters).
const ONNX_MLMODEL = `
artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_version: 1.17.0
    providers: [CUDAExecutionProvider, CPUExecutionProvider]
  python_function:
    data: model.onnx
    env: {conda: conda.yaml, virtualenv: python_env.yaml}
    loader_module: mlflow.onnx
    python_version: 3.11.7
mlflow_version: 3.17.2
`;

const SKLEARN_MLMODEL = `
flavors:
  python_function:
    env: {conda: conda.yaml, virtualenv: python_env.yaml}
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
  sklearn:
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
`;

const doc = (text: string) => parseYaml(text) as Record<string, unknown>;
const MLFLOW_FILES = ['MLmodel', 'conda.yaml', 'python_env.yaml', 'requirements.txt'];

describe('chooseRuntime', () => {
  it('serves an MLmodel with an onnx flavor in-process, even though it also has python_function', () => {
    const choice = chooseRuntime([...MLFLOW_FILES, 'model.onnx'], doc(ONNX_MLMODEL));
    assert.equal(choice.kind, 'onnx');
    assert.equal(choice.file, 'model.onnx');
    assert.match(choice.reason, /onnx flavor \(model\.onnx\)/);
  });

  it('takes the graph file the onnx flavor names, model.onnx when it names none', () => {
    const named = chooseRuntime(['MLmodel', 'sub/graph.onnx'], { flavors: { onnx: { data: 'sub/graph.onnx' } } });
    assert.equal(named.file, 'sub/graph.onnx');
    const unnamed = chooseRuntime(['MLmodel', 'model.onnx'], { flavors: { onnx: {} } });
    assert.equal(unnamed.file, 'model.onnx');
  });

  it('refuses an onnx flavor whose graph file is missing', () => {
    assert.throws(
      () => chooseRuntime(MLFLOW_FILES, doc(ONNX_MLMODEL)),
      /the MLmodel's onnx flavor names model\.onnx, which is not among the model's files/,
    );
    assert.throws(
      () => chooseRuntime(['MLmodel', 'x.onnx'], { flavors: { onnx: { data: '../x.onnx' } } }),
      /names \.\.\/x\.onnx, which is not among/,
    );
  });

  it('serves any other MLflow model with a python_function flavor by a model-server process', () => {
    const choice = chooseRuntime([...MLFLOW_FILES, 'model.skops'], doc(SKLEARN_MLMODEL));
    assert.deepEqual(choice.kind, 'process');
    assert.equal(choice.file, undefined);
    assert.match(choice.reason, /python_function flavor \(flavors: python_function, sklearn\)/);
  });

  it('refuses an MLmodel without python_function or onnx, naming its flavors', () => {
    assert.throws(
      () => chooseRuntime(MLFLOW_FILES, { flavors: { sklearn: {}, keras: {} } }),
      /flavors \(sklearn, keras\) include neither onnx nor python_function/,
    );
    assert.throws(() => chooseRuntime(MLFLOW_FILES, {}), /flavors \(none\)/);
  });

  it('serves a lone ONNX graph without an MLmodel', () => {
    assert.deepEqual(chooseRuntime(['classifier.ONNX'], null), {
      kind: 'onnx',
      file: 'classifier.ONNX',
      reason: 'a lone ONNX graph (classifier.ONNX): served in-process by onnxruntime',
    });
  });

  it('refuses files that are neither an MLflow model nor a lone ONNX graph', () => {
    assert.throws(() => chooseRuntime([], null), /the model has no files/);
    assert.throws(() => chooseRuntime(['model.pkl'], null), /no MLmodel file and is not a lone ONNX graph \(1 file\)/);
    assert.throws(() => chooseRuntime(['a.onnx', 'b.onnx'], null), /not a lone ONNX graph \(2 files\)/);
  });
});
