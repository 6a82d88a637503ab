import type { Tensor, TensorSpec } from './tensors.js';

/** Which runtime serves a model version. */
export type RuntimeKind = 'onnx' | 'process' | 'external';

/** A model's declared interface, as `GET /v2/models/{m}` reports it. */
export interface ModelMetadata {
  /** e.g. `onnxruntime_onnx`, `mlserver_mlflow`, or whatever an external server reports. */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * One loaded model version, whatever runs it: in-process onnxruntime, a supervised model-server
 * process, or an external Open Inference Protocol server. `infer` takes and returns OIP tensors; it
 * rejects with `RuntimeInputError` for inputs the model cannot take (the caller answers 400) and
 * with `RuntimeUnavailableError` when the backing process or server cannot answer now (503).
 * Any other rejection is the model failing (500 with the message).
 */
export interface ModelRuntime {
  readonly kind: RuntimeKind;
  metadata(): ModelMetadata;
  /** Whether it can take requests now (a process runtime is not while it restarts). */
  ready(): boolean;
  infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]>;
  close(): Promise<void>;
}

/** Inputs a model cannot take: wrong names, shapes, datatypes. The message names the input. */
export class RuntimeInputError extends Error {
  override readonly name = 'RuntimeInputError';
}

/** The runtime cannot answer now (process restarting, external server down). */
export class RuntimeUnavailableError extends Error {
  override readonly name = 'RuntimeUnavailableError';
}
