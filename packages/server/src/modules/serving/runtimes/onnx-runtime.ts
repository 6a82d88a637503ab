import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { loadOnnxRuntime, type OrtTensorClass } from '../../../core/onnxruntime.js';
import {
  RuntimeInputError,
  RuntimeUnavailableError,
  type ModelMetadata,
  type ModelRuntime,
  type RuntimeKind,
} from '../runtime.js';
import type { Datatype, Tensor, TensorSpec } from '../tensors.js';
import { checkInputs, checkOutputs, specMap } from './check-inputs.js';

type OrtType = OrtTensor.Type;

const OIP_OF_ORT: Partial<Record<OrtType, Datatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const ORT_OF_OIP: Record<Datatype, OrtType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

// A failing run is answered to its caller with onnxruntime's message; logging it again to stderr
// on every bad request would only flood the server's log.
const RUN_OPTIONS: InferenceSession.RunOptions = { logSeverityLevel: 4 };

/** A declared input or output as OIP metadata; null for values OIP cannot carry (maps, sequences). */
function specOf(meta: InferenceSession.ValueMetadata): TensorSpec | null {
  if (!meta.isTensor) return null;
  const datatype = OIP_OF_ORT[meta.type];
  if (datatype === undefined) return null;
  // Symbolic dimensions come as strings ('' when unnamed); OIP writes any variable size as -1.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

export interface OnnxRuntimeOptions {
  /** onnxruntime's intra-op thread pool size; its default (one per core) when absent. */
  intraOpThreads?: number;
}

/**
 * An ONNX model served in-process by onnxruntime-node (CPU). The hot path: tensors pass between OIP
 * and onnxruntime without copying numeric data, inputs are checked against the graph's declared
 * inputs first so a bad request gets a RuntimeInputError naming the input instead of onnxruntime's
 * message, and only the requested outputs are computed.
 */
export class OnnxRuntime implements ModelRuntime {
  readonly kind: RuntimeKind = 'onnx';
  private closed = false;
  private readonly inputSpecs: Map<string, TensorSpec>;
  private readonly outputSpecs: Map<string, TensorSpec>;
  private readonly allOutputs: string[];
  private readonly meta: ModelMetadata;

  private constructor(
    private readonly session: InferenceSession,
    private readonly OrtTensor: OrtTensorClass,
  ) {
    const inputs: TensorSpec[] = [];
    for (const m of session.inputMetadata) {
      const spec = specOf(m);
      if (spec === null) {
        const type = m.isTensor ? `a ${m.type} tensor` : 'not a tensor';
        throw new Error(`the model's input "${m.name}" is ${type}: the Open Inference Protocol cannot carry it`);
      }
      inputs.push(spec);
    }
    // Outputs OIP cannot carry (skl2onnx's ZipMap: a sequence of maps) are left out rather than
    // refusing the model: the other outputs still serve.
    const outputs = session.outputMetadata.map(specOf).filter((s): s is TensorSpec => s !== null);
    if (outputs.length === 0) throw new Error('the model has no tensor outputs the Open Inference Protocol can carry');
    this.inputSpecs = specMap(inputs);
    this.outputSpecs = specMap(outputs);
    this.allOutputs = outputs.map((o) => o.name);
    this.meta = { platform: 'onnxruntime_onnx', inputs, outputs };
  }

  /**
   * Loads an ONNX graph (bytes or a file path) into a CPU session. Rejects with onnxruntime's
   * message when it cannot load the graph, and when an input is of a type the Open Inference
   * Protocol cannot carry (a map or sequence, a 4-bit integer).
   */
  static async open(model: Uint8Array | string, opts: OnnxRuntimeOptions = {}): Promise<OnnxRuntime> {
    const options: InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(opts.intraOpThreads !== undefined ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    };
    const ort = await loadOnnxRuntime();
    const session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
    try {
      return new OnnxRuntime(session, ort.Tensor);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  metadata(): ModelMetadata {
    return this.meta;
  }

  ready(): boolean {
    return !this.closed;
  }

  async infer(inputs: Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    if (this.closed) throw new RuntimeUnavailableError('the ONNX model has been unloaded');
    checkInputs(this.inputSpecs, inputs);
    checkOutputs(this.outputSpecs, outputs);
    const feeds: Record<string, OrtTensor> = {};
    for (const t of inputs) feeds[t.name] = toOrt(this.OrtTensor, t);
    const fetches = outputs !== undefined && outputs.length > 0 ? outputs : this.allOutputs;
    let result: InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds, fetches as string[], RUN_OPTIONS);
    } catch (err) {
      if (this.closed) throw new RuntimeUnavailableError('the ONNX model has been unloaded');
      throw new Error(`onnxruntime failed: ${(err as Error).message}`);
    }
    const out: Tensor[] = new Array<Tensor>(fetches.length);
    for (let i = 0; i < fetches.length; i++) {
      const name = fetches[i]!;
      out[i] = fromOrt(name, result[name] as OrtTensor);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function toOrt(OrtTensor: OrtTensorClass, t: Tensor): OrtTensor {
  if (t.datatype === 'BYTES') {
    const bytes = t.data as Buffer[];
    const strings = new Array<string>(bytes.length);
    for (let i = 0; i < bytes.length; i++) strings[i] = bytes[i]!.toString('utf8');
    return new OrtTensor('string', strings, t.shape);
  }
  try {
    // Typed arrays go in as they are (BOOL's Uint8Array of 0/1 is onnxruntime's bool layout).
    return new OrtTensor(ORT_OF_OIP[t.datatype], t.data as Exclude<Tensor['data'], Buffer[]>, t.shape);
  } catch (err) {
    throw new RuntimeInputError(`input "${t.name}": ${(err as Error).message}`);
  }
}

function fromOrt(name: string, value: OrtTensor): Tensor {
  const datatype = OIP_OF_ORT[value.type];
  if (datatype === undefined) throw new Error(`the model's output "${name}" is a ${value.type} tensor`);
  const shape = value.dims as number[];
  if (datatype === 'BYTES') {
    const strings = value.data as string[];
    const data = new Array<Buffer>(strings.length);
    for (let i = 0; i < strings.length; i++) data[i] = Buffer.from(strings[i]!, 'utf8');
    return { name, datatype, shape, data };
  }
  return { name, datatype, shape, data: value.data as Exclude<Tensor['data'], Buffer[]> };
}
