import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import type { ArtifactStore } from '../../artifacts/index.js';
import { readAll, requirementsOf, versionFiles } from '../gates/model-loader.js';
import { chooseRuntime } from './runtimes/open-runtime.js';
import { MLSERVER_REQUIREMENTS } from './runtimes/process-runtime.js';

/** A version's bundle lives here in the artifact store; rebuilding replaces it with identical bytes. */
export const bundlePath = (modelId: string, version: number) => `bundles/${modelId}/v${version}`;

const SMALL_FILE_LIMIT = 1024 * 1024;
/** What an ONNX model needs under MLflow's pyfunc loader when it runs in the bundle's container. */
const ONNX_REQUIREMENTS = ['mlflow==3.17.2', 'onnx', 'onnxruntime'];

export interface BundleFile {
  path: string;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: 'hangar-bundle/1';
  model: string;
  version: number;
  /** Where the version's files came from. */
  source: string;
  /** How Hangar serves it: in-process ONNX, or a model-server process. */
  runtime: 'onnx' | 'process';
  runtimeReason: string;
  signature: unknown;
  /** The container's Python requirements (MLServer plus the model's own). */
  requirements: string[];
  /** The model's files under model/, with their checksums, sorted by path. */
  files: BundleFile[];
}

export interface BundleInput {
  modelId: string;
  modelName: string;
  version: number;
  storageLocation: string;
  /** The version's stored signature (JSON), or null. */
  signature: string | null;
}

/**
 * Builds a version's reproducible bundle in the artifact store: the model files (model/…), a
 * manifest with the runtime, signature, requirements and each file's sha256, and an OCI build
 * context that serves the model with MLServer anywhere (Dockerfile, requirements.txt, MLServer's
 * settings). Nothing in it depends on when or where it was built, so the same version always
 * yields the same bytes. Returns the manifest and the bundle's folder.
 */
export async function buildBundle(
  artifacts: ArtifactStore,
  input: BundleInput,
): Promise<{ path: string; manifest: BundleManifest }> {
  const { prefix, relative } = await versionFiles(artifacts, input.storageLocation);
  const root = bundlePath(input.modelId, input.version);
  let mlmodel: Record<string, unknown> | null = null;
  const small = new Map<string, Buffer>();
  for (const name of ['MLmodel', 'requirements.txt', 'python_env.yaml']) {
    if (relative.includes(name)) small.set(name, await readAll(artifacts, prefix + name, SMALL_FILE_LIMIT));
  }
  if (small.has('MLmodel')) {
    const doc = parseYaml(small.get('MLmodel')!.toString('utf8')) as unknown;
    mlmodel = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  }
  const choice = chooseRuntime(relative, mlmodel);
  const files: BundleFile[] = [];
  for (const rel of [...relative].sort()) {
    const r = await artifacts.get(prefix + rel);
    const put = await artifacts.put(`${root}/model/${rel}`, r.stream);
    files.push({ path: `model/${rel}`, size: put.size, sha256: put.sha256 });
  }
  const own =
    small.has('requirements.txt') || small.has('python_env.yaml')
      ? requirementsOf(small)
      : choice.kind === 'onnx'
        ? ONNX_REQUIREMENTS
        : [];
  const requirements = [...MLSERVER_REQUIREMENTS, ...own.filter((r) => !/^mlserver\b/i.test(r))];
  const manifest: BundleManifest = {
    format: 'hangar-bundle/1',
    model: input.modelName,
    version: input.version,
    source: input.storageLocation,
    runtime: choice.kind === 'onnx' ? 'onnx' : 'process',
    runtimeReason: choice.reason,
    signature: input.signature ? (JSON.parse(input.signature) as unknown) : null,
    requirements,
    files,
  };
  const text = (s: string) => Readable.from([Buffer.from(s)]);
  await artifacts.put(`${root}/requirements.txt`, text(`${requirements.join('\n')}\n`));
  await artifacts.put(
    `${root}/settings.json`,
    text(`${JSON.stringify({ http_port: 8080, grpc_port: 8081, metrics_endpoint: null }, null, 2)}\n`),
  );
  await artifacts.put(
    `${root}/model-settings.json`,
    text(
      `${JSON.stringify(
        {
          name: input.modelName,
          implementation: 'mlserver_mlflow.MLflowRuntime',
          parameters: { uri: './model', version: String(input.version) },
        },
        null,
        2,
      )}\n`,
    ),
  );
  await artifacts.put(`${root}/Dockerfile`, text(dockerfile(manifest)));
  await artifacts.put(`${root}/manifest.json`, text(`${JSON.stringify(manifest, null, 2)}\n`));
  return { path: root, manifest };
}

/** The build context's Dockerfile: MLServer (Open Inference Protocol on 8080) serving model/. */
function dockerfile(m: BundleManifest): string {
  return [
    `# ${m.model} version ${m.version}, built by Hangar. Serves the Open Inference Protocol on port 8080:`,
    `#   docker build -t ${m.model.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:${m.version} . && docker run -p 8080:8080 <image>`,
    'FROM python:3.11-slim',
    'WORKDIR /srv',
    'COPY requirements.txt .',
    'RUN pip install --no-cache-dir -r requirements.txt',
    'COPY settings.json model-settings.json ./',
    'COPY model ./model',
    'EXPOSE 8080',
    'CMD ["mlserver", "start", "."]',
    '',
  ].join('\n');
}
