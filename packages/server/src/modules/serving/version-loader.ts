import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse as parseYaml } from 'yaml';
import type { ArtifactStore } from '../../artifacts/index.js';
import type { PythonEnvProvider } from '../../jobs/executor/python-envs.js';
import { readAll, requirementsOf, versionFiles } from '../gates/model-loader.js';
import type { LoadedVersion, VersionLoader } from './plane.js';
import { chooseRuntime } from './runtimes/open-runtime.js';
import { ExternalRuntime } from './runtimes/external-runtime.js';
import { OnnxRuntime } from './runtimes/onnx-runtime.js';
import { MLSERVER_REQUIREMENTS, ProcessRuntime } from './runtimes/process-runtime.js';
import type { ExternalTarget } from './service.js';
import type { DeploymentWithModel, ServableVersion } from './store.js';

const ONNX_BYTES_LIMIT = 2 * 1024 ** 3;
const SMALL_FILE_LIMIT = 1024 * 1024;

export interface VersionLoaderDeps {
  artifacts: ArtifactStore;
  pythonEnvs: PythonEnvProvider;
  /** Model folders and model-server settings live under here, one folder per deployment version. */
  workRoot: string;
  log: (msg: string, details: Record<string, unknown>) => void;
}

/**
 * Loads a deployment's version with the runtime the deployment asks for (`auto` picks by the
 * version's files: an ONNX graph runs in-process, any other MLflow model in a supervised MLServer
 * process in a virtualenv built from its own requirements). The signature's column order comes
 * along for the records endpoint.
 */
export class ArtifactVersionLoader implements VersionLoader {
  constructor(private readonly deps: VersionLoaderDeps) {}

  async load(d: DeploymentWithModel, v: ServableVersion): Promise<LoadedVersion> {
    const columns = signatureColumns(v.signature);
    if (d.runtime === 'external') {
      const target = JSON.parse(d.external!) as ExternalTarget;
      const runtime = await ExternalRuntime.open({
        url: target.url,
        model: target.model ?? d.model_name,
        version: target.version,
      });
      return { runtime, columns };
    }
    const { prefix, relative } = await versionFiles(this.deps.artifacts, v.storage_location);
    let mlmodel: Record<string, unknown> | null = null;
    if (relative.includes('MLmodel')) {
      const doc = parseYaml(
        (await readAll(this.deps.artifacts, `${prefix}MLmodel`, SMALL_FILE_LIMIT)).toString('utf8'),
      ) as unknown;
      mlmodel = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
    }
    const choice = chooseRuntime(relative, mlmodel);
    const kind = d.runtime === 'auto' ? choice.kind : d.runtime;
    if (kind === 'onnx') {
      if (choice.kind !== 'onnx') throw new Error(`runtime "onnx" cannot serve version ${v.version}: ${choice.reason}`);
      const file = choice.file!;
      const bytes = await readAll(this.deps.artifacts, prefix + file, ONNX_BYTES_LIMIT);
      this.deps.log('serving: loading an ONNX model in-process', {
        deployment: d.name,
        version: v.version,
        bytes: bytes.length,
      });
      return { runtime: await OnnxRuntime.open(new Uint8Array(bytes)), columns };
    }
    // A model-server process: the files go to a local folder MLServer loads from.
    const dir = path.join(this.deps.workRoot, d.name, `v${v.version}-${Date.now().toString(36)}`);
    const modelDir = path.join(dir, 'model');
    await rm(dir, { recursive: true, force: true });
    const small = new Map<string, Buffer>();
    for (const rel of relative) {
      const target = path.join(modelDir, ...rel.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      if (rel === 'requirements.txt' || rel === 'python_env.yaml')
        small.set(rel, await readAll(this.deps.artifacts, prefix + rel, SMALL_FILE_LIMIT));
      const r = await this.deps.artifacts.get(prefix + rel);
      await pipeline(r.stream, createWriteStream(target));
    }
    const requirements = [...MLSERVER_REQUIREMENTS, ...requirementsOf(small)];
    this.deps.log('serving: building (or reusing) the model server environment', {
      deployment: d.name,
      version: v.version,
      requirements,
    });
    const env = await this.deps.pythonEnvs.ensure(requirements);
    const runtime = await ProcessRuntime.start({
      modelDir,
      name: d.name,
      python: env.python,
      workDir: dir,
      onEvent: (e) =>
        this.deps.log(`serving: model server ${e.type}`, { deployment: d.name, version: v.version, detail: e.detail }),
    });
    return { runtime, columns };
  }
}

/** The column names of a column-based MLflow signature, in order; null for tensor-based or none. */
export function signatureColumns(signature: string | null): string[] | null {
  if (!signature) return null;
  const inputs = (JSON.parse(signature) as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) return null;
  const names: string[] = [];
  for (const i of inputs as { name?: unknown; type?: unknown }[]) {
    if (typeof i?.name !== 'string' || i.type === 'tensor') return null;
    names.push(i.name);
  }
  return names;
}
