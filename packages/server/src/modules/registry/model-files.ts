import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../core/errors.js';
import { REGISTRY_LIMITS } from './limits.js';

/** The model's files as the registry reads them (the artifact service, with the caller's rights). */
export interface ModelFileSource {
  /** Every file beneath the folder `path` (store paths, with sizes); empty when it is no folder. */
  listFiles(path: string): Promise<{ path: string; size?: number }[]>;
  /** Opens the file at `path`; NotFoundError when there is none. */
  open(path: string): Promise<{ stream: Readable; size: number }>;
}

/** The input and output schema of a model, from its MLmodel file (MLflow's ModelSignature). */
export interface ModelSignature {
  inputs: unknown;
  outputs: unknown;
  params: unknown;
}

/** What the registry records about a version's files. */
export interface ModelFacts {
  signature: ModelSignature | null;
  /** The model's flavor, e.g. sklearn, onnx, pytorch; python_function for custom pyfunc models. */
  framework: string | null;
  /** How the model is serialized, e.g. skops, cloudpickle, onnx, xgb. */
  format: string | null;
  sizeBytes: number;
  fileCount: number;
  /** `sha256:<hex>` over the sorted lines `<file sha256>  <relative path>\n` (sha256sum's format). */
  checksum: string;
}

/** Flavor config keys that name how a flavor serialized its model, in order of preference. */
const FORMAT_KEYS = ['serialization_format', 'model_format', 'save_format', 'format'];
/** Flavor config keys that name the model file, whose extension then tells the format. */
const FILE_KEYS = ['pickled_model', 'model_file', 'model_path', 'data', 'model_data'];
const EXTENSION_FORMATS: Record<string, string> = {
  onnx: 'onnx',
  pkl: 'pickle',
  pickle: 'pickle',
  skops: 'skops',
  joblib: 'joblib',
  pt: 'pytorch',
  pth: 'pytorch',
  safetensors: 'safetensors',
  h5: 'h5',
  keras: 'keras',
  ubj: 'ubj',
  json: 'json',
  xgb: 'xgb',
  cbm: 'cbm',
  txt: 'text',
};
/** Flavors whose name is also their format. */
const SELF_FORMATS = new Set(['onnx']);
const PYFUNC = 'python_function';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const extensionFormat = (file: string) => EXTENSION_FORMATS[file.slice(file.lastIndexOf('.') + 1).toLowerCase()];

/** A signature part: MLflow writes each as a JSON string; kept as written when it is not JSON. */
function signaturePart(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/**
 * Framework, format and signature from an MLmodel file's text. The framework is the first flavor
 * other than python_function (or python_function alone for custom models); the format comes from
 * the flavor's serialization setting, else from its model file's extension, else the flavor name.
 * A file that is not a YAML mapping is refused: such a version could not be loaded.
 */
export function describeMlmodel(text: string): Pick<ModelFacts, 'signature' | 'framework' | 'format'> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    throw new InputError(`the MLmodel file of the source is not valid YAML: ${(err as Error).message}`, 'source');
  }
  if (!isObject(doc)) throw new InputError('the MLmodel file of the source is not a YAML mapping', 'source');
  const flavors = isObject(doc.flavors) ? doc.flavors : {};
  const names = Object.keys(flavors);
  const framework = names.find((n) => n !== PYFUNC) ?? (names.includes(PYFUNC) ? PYFUNC : null);
  let format: string | null = null;
  if (framework !== null) {
    const config = isObject(flavors[framework]) ? flavors[framework] : {};
    const declared = FORMAT_KEYS.map((k) => config[k]).find((v) => typeof v === 'string' && v !== '');
    const file = FILE_KEYS.map((k) => config[k]).find((v) => typeof v === 'string' && v !== '');
    format =
      (declared as string | undefined) ??
      (SELF_FORMATS.has(framework) ? framework : undefined) ??
      (file ? extensionFormat(file as string) : undefined) ??
      framework;
  }
  const sig = isObject(doc.signature) ? doc.signature : null;
  return {
    framework,
    format,
    signature: sig
      ? { inputs: signaturePart(sig.inputs), outputs: signaturePart(sig.outputs), params: signaturePart(sig.params) }
      : null,
  };
}

async function sha256Of(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    hash.update(buf);
  }
  return { hex: hash.digest('hex'), bytes };
}

async function readSmall(stream: Readable, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += (chunk as Buffer).length;
    if (n > limit) {
      stream.destroy();
      throw new InputError(`the MLmodel file of the source is larger than ${limit} bytes`, 'source');
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

const compareBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Reads a model's files once: size, file count and checksum over every file beneath `root` (or of
 * the single file `root`), and framework, format and signature from its MLmodel file when it has
 * one. Files are streamed, a few at a time; none is held in memory (the MLmodel file, bounded,
 * excepted). A source without files, or with more than the registry's limit, is an InputError.
 */
export async function inspectModelFiles(files: ModelFileSource, root: string, concurrency = 4): Promise<ModelFacts> {
  let entries = await files.listFiles(root);
  let prefix = `${root}/`;
  if (entries.length === 0) {
    // Not a folder: a single file (e.g. model.onnx), or nothing at all.
    const single = await files.open(root).catch(() => null);
    if (!single) throw new InputError(`there are no model files at the source (${root})`, 'source');
    single.stream.destroy();
    entries = [{ path: root, size: single.size }];
    prefix = root.slice(0, root.lastIndexOf('/') + 1);
  }
  if (entries.length > REGISTRY_LIMITS.filesPerVersion) {
    throw new InputError(
      `the source holds ${entries.length} files; a model version may hold at most ${REGISTRY_LIMITS.filesPerVersion}`,
      'source',
    );
  }
  const relative = entries.map((e) => e.path.slice(prefix.length)).sort(compareBytes);
  const digests = new Map<string, { hex: string; bytes: number }>();
  let next = 0;
  const worker = async () => {
    while (next < relative.length) {
      const rel = relative[next++]!;
      const file = await files.open(prefix + rel);
      digests.set(rel, await sha256Of(file.stream));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, relative.length) }, worker));
  const manifest = createHash('sha256');
  let sizeBytes = 0;
  for (const rel of relative) {
    const d = digests.get(rel)!;
    sizeBytes += d.bytes;
    manifest.update(`${d.hex}  ${rel}\n`);
  }
  let described: Pick<ModelFacts, 'signature' | 'framework' | 'format'> = {
    signature: null,
    framework: null,
    format: null,
  };
  if (relative.includes('MLmodel')) {
    const file = await files.open(`${prefix}MLmodel`);
    described = describeMlmodel(await readSmall(file.stream, REGISTRY_LIMITS.mlmodelBytes));
  } else if (relative.length === 1) {
    // A lone model file (an ONNX graph, say): its extension is all there is to go by.
    described.format = extensionFormat(relative[0]!) ?? null;
    if (described.format === 'onnx') described.framework = 'onnx';
  }
  return { ...described, sizeBytes, fileCount: relative.length, checksum: `sha256:${manifest.digest('hex')}` };
}
