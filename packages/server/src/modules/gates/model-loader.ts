import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse as parseYaml } from 'yaml';
import type { ArtifactStore } from '../../artifacts/index.js';
import type { PythonEnvProvider } from '../../jobs/executor/python-envs.js';
import { PermanentJobError } from '../../jobs/job-handler.js';
import { PyfuncScorer } from '../evaluation/pyfunc-scorer.js';
import { OnnxScorer, type Scorer } from '../evaluation/scoring.js';
import { PROXY_SCHEME, storePathOf } from '../artifacts/service.js';
import { chooseRuntime, type RuntimeChoice } from '../serving/runtimes/open-runtime.js';

/** Which scoring path scored a version. */
export type ScorerKind = 'onnx' | 'pyfunc';

export interface LoadedScorer {
  kind: ScorerKind;
  scorer: Scorer;
}

export interface ModelLoaderDeps {
  artifacts: ArtifactStore;
  pythonEnvs: PythonEnvProvider;
  /** A scratch folder of this gate, removed by the caller afterwards. */
  workDir: string;
  /** Progress for the job's log (venv builds print pip's output). */
  log: (stream: 'stdout' | 'stderr' | 'system', text: string) => void;
}

const ONNX_BYTES_LIMIT = 2 * 1024 ** 3;
const SMALL_FILE_LIMIT = 1024 * 1024;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function readAll(artifacts: ArtifactStore, file: string, limit: number): Promise<Buffer> {
  const r = await artifacts.get(file);
  if (r.size > limit) {
    r.stream.destroy();
    throw new PermanentJobError(`${path.posix.basename(file)} is larger than ${limit} bytes`);
  }
  const parts: Buffer[] = [];
  for await (const chunk of r.stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** The pip requirement lines of a model folder: requirements.txt, else python_env.yaml's dependencies. */
export function requirementsOf(files: Map<string, Buffer>): string[] {
  const lines = (text: string) =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  let reqs: string[] | null = null;
  const txt = files.get('requirements.txt');
  if (txt) reqs = lines(txt.toString('utf8'));
  else {
    const env = files.get('python_env.yaml');
    if (env) {
      const doc = parseYaml(env.toString('utf8')) as unknown;
      const deps = isObject(doc) && Array.isArray(doc.dependencies) ? doc.dependencies : [];
      reqs = deps.filter((d): d is string => typeof d === 'string' && !d.startsWith('-'));
    }
  }
  if (reqs === null) {
    throw new PermanentJobError(
      'the model has no requirements.txt or python_env.yaml: its Python environment cannot be built',
    );
  }
  // MLflow's loader runs the model; a custom model that does not list it still needs it.
  if (!reqs.some((r) => /^mlflow(-skinny)?\b/i.test(r))) reqs.push('mlflow');
  return reqs;
}

/**
 * The files of a model version in the artifact store: their common prefix and paths relative to it
 * (a version stored as one file, such as a lone ONNX graph, is that file). PermanentJobErrors for
 * versions stored elsewhere or with no files.
 */
export async function versionFiles(
  artifacts: ArtifactStore,
  storageLocation: string,
): Promise<{ prefix: string; relative: string[] }> {
  if (!storageLocation.startsWith(PROXY_SCHEME)) {
    throw new PermanentJobError(`the version's files are not in this server's artifact store (${storageLocation})`);
  }
  const root = storePathOf(storageLocation);
  let entries = (await artifacts.list(root, { recursive: true })).filter((e) => !e.isDir);
  let prefix = `${root}/`;
  if (entries.length === 0 && (await artifacts.exists(root))) {
    entries = [{ path: root, isDir: false }];
    prefix = root.slice(0, root.lastIndexOf('/') + 1);
  }
  if (entries.length === 0) throw new PermanentJobError(`the version has no files at ${storageLocation}`);
  return { prefix, relative: entries.map((e) => e.path.slice(prefix.length)) };
}

/**
 * Opens the scorer of a model version from its files in the artifact store, as serving would:
 * a version whose MLmodel has an `onnx` flavor (or a lone ONNX graph) scores in-process with
 * onnxruntime; any other MLflow model scores through MLflow's pyfunc loader in a managed virtualenv
 * built from the version's own requirements (cached by requirements hash). Deterministic problems
 * (no loadable model, a graph onnxruntime refuses) are PermanentJobErrors; a venv build that fails
 * (the package index unreachable) is an ordinary error, retried.
 */
export async function openVersionScorer(storageLocation: string, deps: ModelLoaderDeps): Promise<LoadedScorer> {
  const { prefix, relative } = await versionFiles(deps.artifacts, storageLocation);
  let flavors: Record<string, unknown> | null = null;
  if (relative.includes('MLmodel')) {
    const text = (await readAll(deps.artifacts, `${prefix}MLmodel`, SMALL_FILE_LIMIT)).toString('utf8');
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new PermanentJobError(`the MLmodel file is not valid YAML: ${(err as Error).message}`);
    }
    flavors = isObject(doc) && isObject(doc.flavors) ? doc.flavors : {};
  }

  let choice: RuntimeChoice;
  try {
    // The serving layer's decision, so a version is gated by the path that will serve it.
    choice = chooseRuntime(relative, flavors === null ? null : { flavors });
  } catch (err) {
    throw new PermanentJobError((err as Error).message);
  }
  if (choice.kind === 'onnx') {
    const onnxFile = choice.file!;
    const bytes = await readAll(deps.artifacts, prefix + onnxFile, ONNX_BYTES_LIMIT);
    deps.log('system', `scoring with onnxruntime (in-process): ${onnxFile}, ${bytes.length} bytes\n`);
    try {
      return { kind: 'onnx', scorer: await OnnxScorer.open(new Uint8Array(bytes)) };
    } catch (err) {
      throw new PermanentJobError(`the ONNX model failed to load: ${(err as Error).message}`);
    }
  }
  const modelDir = path.join(deps.workDir, 'model');
  const small = new Map<string, Buffer>();
  for (const rel of relative) {
    const target = path.join(modelDir, ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    if (rel === 'requirements.txt' || rel === 'python_env.yaml') {
      const bytes = await readAll(deps.artifacts, prefix + rel, SMALL_FILE_LIMIT);
      small.set(rel, bytes);
    }
    const r = await deps.artifacts.get(prefix + rel);
    await pipeline(r.stream, createWriteStream(target));
  }
  const requirements = requirementsOf(small);
  deps.log('system', `building (or reusing) the model's Python environment: ${requirements.join(' ')}\n`);
  let env;
  try {
    env = await deps.pythonEnvs.ensure(requirements, (stream, text) => deps.log(stream, text));
  } catch (err) {
    const message = (err as Error).message;
    // A requirement line pip refuses outright will never install; anything else may be the index.
    if (message.startsWith('invalid requirement line')) throw new PermanentJobError(message);
    throw new Error(`building the model's Python environment failed: ${message}`);
  }
  deps.log('system', `scoring with MLflow's pyfunc loader in ${env.dir}${env.reused ? ' (reused)' : ''}\n`);
  return { kind: 'pyfunc', scorer: new PyfuncScorer({ modelDir, env }) };
}
