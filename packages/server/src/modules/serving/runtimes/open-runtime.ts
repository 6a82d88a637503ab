import type { RuntimeKind } from '../runtime.js';

export interface RuntimeChoice {
  kind: RuntimeKind;
  /** Why, in words for a deployment's status. */
  reason: string;
  /** For `onnx`: the graph's path among the model's files. */
  file?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Which runtime a model folder needs, from its file list (paths relative to the folder) and its
 * parsed MLmodel (null when it has none): an MLmodel with an `onnx` flavor, or a lone `.onnx`
 * file, runs in-process with onnxruntime (`file` names the graph, which must be among `files`);
 * any other MLflow model with a `python_function` flavor runs in an MLServer process. Throws an
 * Error saying why nothing can serve anything else. The same decision as the evaluation gate's
 * openVersionScorer, so a version is gated by the path that will serve it.
 */
export function chooseRuntime(files: string[], mlmodel: Record<string, unknown> | null): RuntimeChoice {
  if (mlmodel !== null) {
    const flavors = isObject(mlmodel.flavors) ? mlmodel.flavors : {};
    const names = Object.keys(flavors).join(', ') || 'none';
    if ('onnx' in flavors) {
      const onnx = flavors.onnx;
      const file = isObject(onnx) && typeof onnx.data === 'string' && onnx.data !== '' ? onnx.data : 'model.onnx';
      if (!files.includes(file)) {
        throw new Error(`the MLmodel's onnx flavor names ${file}, which is not among the model's files`);
      }
      return {
        kind: 'onnx',
        file,
        reason: `the MLmodel has an onnx flavor (${file}): served in-process by onnxruntime`,
      };
    }
    if ('python_function' in flavors) {
      return {
        kind: 'process',
        reason: `an MLflow model with a python_function flavor (flavors: ${names}): served by an MLServer process`,
      };
    }
    throw new Error(`the model's flavors (${names}) include neither onnx nor python_function: nothing can serve it`);
  }
  if (files.length === 1 && files[0]!.toLowerCase().endsWith('.onnx')) {
    return {
      kind: 'onnx',
      file: files[0]!,
      reason: `a lone ONNX graph (${files[0]}): served in-process by onnxruntime`,
    };
  }
  if (files.length === 0) throw new Error('the model has no files: nothing can serve it');
  throw new Error(
    `the model has no MLmodel file and is not a lone ONNX graph (${files.length} ${files.length === 1 ? 'file' : 'files'}): nothing can serve it`,
  );
}
