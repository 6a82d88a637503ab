import type * as Ort from 'onnxruntime-node';

export type OnnxRuntimeModule = typeof Ort;
/** onnxruntime's Tensor class, which callers get from the loaded module rather than by import. */
export type OrtTensorClass = OnnxRuntimeModule['Tensor'];

let ort: Promise<OnnxRuntimeModule> | undefined;

/**
 * onnxruntime-node, loaded when the first ONNX model is opened: its native library costs a server
 * that runs no ONNX model (an API-only or worker-only process, or one with nothing deployed)
 * several megabytes of memory and some start-up time.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntimeModule> {
  ort ??= import('onnxruntime-node');
  return ort;
}
