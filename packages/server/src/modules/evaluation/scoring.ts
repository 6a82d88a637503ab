import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadOnnxRuntime, type OrtTensorClass } from '../../core/onnxruntime.js';
import { sortedUnion, type Label, type Labels, type ProbabilityData } from './metrics.js';

/** Numeric feature rows, row-major, with the feature names in column order. */
export interface FeatureBatch {
  names: readonly string[];
  rows: number;
  /** rows × names.length values. */
  data: Float32Array;
}

/**
 * What a model answers for a batch: class labels and probabilities, or regression values. Typed
 * arrays throughout (held-out sets run to 100k rows: no small array per row).
 */
export interface Scores {
  /** A Float64Array when the labels are numeric. */
  labels?: Labels;
  /** Row-major, one row per input row, `width` columns: one per class, in `classes` order. */
  probabilities?: { width: number; data: ProbabilityData };
  classes?: Label[];
  values?: Float32Array | Float64Array;
}

/**
 * The one scoring interface: the evaluation gate scores held-out sets through it, and the serving
 * runtimes (in-process ONNX, model-server processes, external Open Inference Protocol servers)
 * implement it, so a version is judged by the code path that will serve it.
 */
export interface Scorer {
  score(batch: FeatureBatch): Promise<Scores>;
  close(): Promise<void>;
}

/**
 * Scores an ONNX model in-process with onnxruntime (CPU). Inputs: one 2-D float tensor of all
 * features (scikit-learn exports through skl2onnx), or one `[rows, 1]` tensor per feature, named
 * like the columns. Outputs: `label` + `probabilities` for classifiers exported without ZipMap
 * (the class order is `classes`, the estimator's classes_, sorted as scikit-learn sorts them), or
 * a single float tensor for regressors.
 */
export class OnnxScorer implements Scorer {
  private constructor(
    private readonly session: InferenceSession,
    private readonly classes: Label[] | undefined,
    private readonly OrtTensor: OrtTensorClass,
  ) {}

  static async open(model: string | Uint8Array, opts: { classes?: Label[] } = {}): Promise<OnnxScorer> {
    const ort = await loadOnnxRuntime();
    const session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, { executionProviders: ['cpu'] })
        : await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
    return new OnnxScorer(session, opts.classes, ort.Tensor);
  }

  async score(batch: FeatureBatch): Promise<Scores> {
    const width = batch.names.length;
    if (batch.data.length !== batch.rows * width) throw new Error('feature batch data does not match rows × columns');
    const feeds: Record<string, Tensor> = {};
    const inputs = this.session.inputNames;
    if (inputs.length === 1) {
      feeds[inputs[0]!] = new this.OrtTensor('float32', batch.data, [batch.rows, width]);
    } else {
      for (const name of inputs) {
        const col = batch.names.indexOf(name);
        if (col < 0) throw new Error(`the model needs input "${name}", which the data does not have`);
        const values = new Float32Array(batch.rows);
        for (let r = 0; r < batch.rows; r++) values[r] = batch.data[r * width + col]!;
        feeds[name] = new this.OrtTensor('float32', values, [batch.rows, 1]);
      }
    }
    const out = await this.session.run(feeds);
    const tensors = this.session.outputNames.map((n) => out[n]!);
    const probability = tensors.find((t) => t.type === 'float32' && t.dims.length === 2 && t.dims[1]! > 1);
    const label = tensors.find((t) => t !== probability && (t.type === 'int64' || t.type === 'string'));
    if (label) {
      const labels = toLabels(label.data as ArrayLike<bigint | string>);
      if (!probability) return { labels };
      const c = probability.dims[1]!;
      // A copy: the scores outlive the session, and with it whatever memory onnxruntime owns.
      const data = (probability.data as Float32Array).slice(0, batch.rows * c);
      const classes = this.classes ?? sortedUnion(labels);
      return { labels, probabilities: { width: c, data }, ...(classes.length === c ? { classes } : {}) };
    }
    const value = tensors.find((t) => t.type === 'float32' || t.type === 'float64');
    if (!value) throw new Error('the model has no label, probability or numeric output');
    return { values: (value.data as Float32Array | Float64Array).slice() };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** An int64 label tensor as a Float64Array, a string one as strings. */
function toLabels(data: ArrayLike<bigint | string>): Labels {
  if (data instanceof BigInt64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
    return out;
  }
  return Array.from(data, (v) => (typeof v === 'bigint' ? Number(v) : v));
}
