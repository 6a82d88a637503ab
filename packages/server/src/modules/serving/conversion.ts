import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { ArtifactStore } from '../../artifacts/index.js';
import { SYSTEM_CALLER, type Caller } from '../../core/auth.js';
import { InputError, InvalidStateError, NotFoundError } from '../../core/errors.js';
import type { DB } from '../../db/schema.js';
import type { PythonEnvProvider } from '../../jobs/executor/python-envs.js';
import { PermanentJobError, type JobContext, type JobHandler } from '../../jobs/job-handler.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { AuditLog } from '../audit/log.js';
import { storePathOf } from '../artifacts/service.js';
import { loadHeldOut } from '../gates/held-out.js';
import { readAll, requirementsOf, versionFiles } from '../gates/model-loader.js';
import type { GateStore } from '../gates/store.js';
import type { AccessService } from '../projects/access.js';
import type { RegistryService } from '../registry/service.js';
import { CONVERSION_TOLERANCE, CONVERT_SCRIPT, CONVERTER_REQUIREMENTS } from './conversion-script.js';
import type { DeploymentStore } from './store.js';
import { signatureColumns } from './version-loader.js';

export const CONVERT_JOB = 'model.convert';
/** Held-out rows the equivalence check scores with both models. */
export const EQUIVALENCE_ROWS = 2000;
const SMALL_FILE_LIMIT = 1024 * 1024;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const Payload = Type.Object(
  {
    modelId: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.Integer({ minimum: 1 }),
    flavor: Type.String({ minLength: 1, maxLength: 32 }),
  },
  { additionalProperties: false },
);
type Payload = Static<typeof Payload>;

export interface ConversionReport {
  rows: number;
  tolerance: number;
  flavor: string;
  maxAbsDiff: number;
  labelAgreement: number | null;
  equivalent: boolean;
}

export interface ConversionDeps {
  db: Kysely<DB>;
  store: DeploymentStore;
  access: AccessService;
  audit: AuditLog;
  jobs: JobStore;
  wake: () => void;
  registry: RegistryService;
  gates: GateStore;
  artifacts: ArtifactStore;
  pythonEnvs: PythonEnvProvider;
  workRoot: string;
}

/**
 * Conversion of a version to ONNX (scikit-learn, XGBoost, LightGBM, PyTorch), so it can serve
 * in-process. `request` checks the version can be converted and enqueues a background job; the
 * job converts in the version's own managed Python environment plus the converter, checks the
 * converted graph numerically against the original on the model's held-out set, and only when they
 * agree registers the graph as a new version (tagged `hangar.converted_from`), which is then
 * gated like any other. A conversion that does not agree registers nothing and fails the job with
 * the figures.
 */
export class ConversionService {
  constructor(private readonly deps: ConversionDeps) {}

  async request(
    caller: Caller,
    project: string,
    model: string,
    version: number,
  ): Promise<{ jobId: string; flavor: string }> {
    const { project: p, auth } = await this.deps.access.requireProject(
      caller,
      project,
      'developer',
      'model_version.convert',
    );
    const m = await this.deps.store.modelByName(p.id, model);
    if (!m) throw new NotFoundError(`no model "${model}" in project "${project}"`);
    const v = await this.version(m.id, version);
    if (!v) throw new NotFoundError(`model "${model}" has no version ${version}`);
    if (!v.run_id) throw new InvalidStateError(`version ${version} has no source run to hold the converted model`);
    const flavors = await this.flavors(v.storage_location);
    if ('onnx' in flavors) throw new InvalidStateError(`version ${version} is an ONNX model already`);
    const flavor = Object.keys(CONVERTER_REQUIREMENTS).find((f) => f in flavors);
    if (!flavor) {
      throw new InputError(
        `no ONNX converter for the flavors ${Object.keys(flavors).join(', ') || '(none)'}: scikit-learn, XGBoost, LightGBM and PyTorch models convert`,
        'version',
      );
    }
    if (!(await this.deps.gates.spec(m.id))) {
      throw new InvalidStateError(
        `model "${model}" has no evaluation spec: the equivalence check scores its held-out set, so set one first`,
      );
    }
    const job = await this.deps.jobs.enqueue({
      kind: CONVERT_JOB,
      payload: { modelId: m.id, version, flavor },
      maxAttempts: 2,
      createdBy: auth.userId,
    });
    this.deps.wake();
    await this.deps.audit.record(
      caller,
      'model_version.convert',
      { type: 'model_version', name: `${model}/${version}` },
      {
        projectId: p.id,
        details: { flavor, jobId: job.id },
      },
    );
    return { jobId: job.id, flavor };
  }

  /** The job's work; see the class documentation. */
  async convert(ctx: JobContext<Payload>): Promise<{ version: number; report: ConversionReport }> {
    const { modelId, version, flavor } = ctx.payload;
    const say = (text: string) => ctx.log('system', `${text}\n`);
    const v = await this.version(modelId, version);
    if (!v?.run_id) throw new PermanentJobError(`version ${version} is gone or has no source run`);
    const model = await this.deps.db
      .selectFrom('registered_models as m')
      .innerJoin('projects as p', 'p.id', 'm.project_id')
      .select(['m.name', 'm.project_id'])
      .where('m.id', '=', modelId)
      .executeTakeFirstOrThrow();
    const requirements = CONVERTER_REQUIREMENTS[flavor];
    if (!requirements) throw new PermanentJobError(`no converter for flavor ${flavor}`);
    const work = path.join(this.deps.workRoot, `convert-${ctx.job.id}`);
    const modelDir = path.join(work, 'model');
    const outDir = path.join(work, 'out');
    await rm(work, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    try {
      // The model's files, as MLflow's loader expects them.
      const { prefix, relative } = await versionFiles(this.deps.artifacts, v.storage_location);
      const small = new Map<string, Buffer>();
      for (const rel of relative) {
        const target = path.join(modelDir, ...rel.split('/'));
        await mkdir(path.dirname(target), { recursive: true });
        if (['requirements.txt', 'python_env.yaml', 'MLmodel'].includes(rel)) {
          small.set(rel, await readAll(this.deps.artifacts, prefix + rel, SMALL_FILE_LIMIT));
        }
        const r = await this.deps.artifacts.get(prefix + rel);
        await pipeline(r.stream, createWriteStream(target));
      }
      const heldOut = await this.heldOutCsv(modelId, v.signature, path.join(work, 'heldout.csv'));
      say(`equivalence check on ${heldOut} held-out rows, tolerance ${CONVERSION_TOLERANCE}`);
      const env = await this.deps.pythonEnvs.ensure([...requirementsOf(small), ...requirements], (s, t) =>
        ctx.log(s, t),
      );
      await runPython(env.python, [modelDir, flavor, path.join(work, 'heldout.csv'), outDir], ctx);
      const report = JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')) as ConversionReport;
      if (!report.equivalent) {
        throw new PermanentJobError(
          `the converted model does not match the original on ${report.rows} held-out rows: largest difference ${report.maxAbsDiff} (tolerance ${report.tolerance})${report.labelAgreement === null ? '' : `, labels agree on ${(report.labelAgreement * 100).toFixed(2)} %`}; nothing was registered`,
        );
      }
      say(`equivalent: largest difference ${report.maxAbsDiff}; registering the ONNX graph as a new version`);
      // The graph goes beside the source run's artifacts, with an MLmodel MLflow can load.
      const run = await this.deps.db
        .selectFrom('runs')
        .select('artifact_uri')
        .where('id', '=', v.run_id)
        .executeTakeFirstOrThrow();
      const folder = `hangar-onnx/v${version}-${ctx.job.id}`;
      const root = `${storePathOf(run.artifact_uri)}/${folder}`;
      const original = small.has('MLmodel') ? (parseYaml(small.get('MLmodel')!.toString('utf8')) as unknown) : null;
      const mlmodel: Record<string, unknown> = {
        flavors: {
          onnx: { data: 'model.onnx', providers: ['CPUExecutionProvider'] },
          python_function: { loader_module: 'mlflow.onnx', data: 'model.onnx' },
        },
        ...(isObject(original) && original.signature ? { signature: original.signature } : {}),
      };
      await this.deps.artifacts.put(`${root}/model.onnx`, createReadStream(path.join(outDir, 'model.onnx')));
      await this.deps.artifacts.put(`${root}/MLmodel`, Readable.from([Buffer.from(stringifyYaml(mlmodel))]));
      await this.deps.artifacts.put(
        `${root}/requirements.txt`,
        Readable.from([Buffer.from('mlflow\nonnx\nonnxruntime\n')]),
      );
      await this.deps.artifacts.put(
        `${root}/conversion-report.json`,
        Readable.from([Buffer.from(JSON.stringify(report, null, 2))]),
      );
      const created = await this.deps.registry.createVersion(SYSTEM_CALLER, { id: model.project_id }, model.name, {
        source: `runs:/${v.run_id}/${folder}`,
        description: `ONNX conversion of version ${version} (${flavor}); equivalent on ${report.rows} held-out rows, largest difference ${report.maxAbsDiff}`,
        tags: [
          { key: 'hangar.converted_from', value: String(version) },
          { key: 'hangar.conversion.max_abs_diff', value: String(report.maxAbsDiff) },
        ],
      });
      say(`registered version ${created.version}`);
      return { version: created.version, report };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Writes up to EQUIVALENCE_ROWS held-out feature rows as CSV, in the signature's column order. */
  private async heldOutCsv(modelId: string, signature: string | null, file: string): Promise<number> {
    const spec = await this.deps.gates.spec(modelId);
    if (!spec) throw new PermanentJobError('the model has no evaluation spec any more');
    const dataset = await this.deps.gates.dataset(spec.dataset_id);
    if (!dataset) throw new PermanentJobError('the held-out dataset is gone');
    const h = await loadHeldOut(this.deps.artifacts, dataset, spec.label_column);
    const names = [...h.features.names];
    const order = signatureColumns(signature) ?? names;
    const index = order.map((c) => {
      const i = names.indexOf(c);
      if (i < 0) throw new PermanentJobError(`the model's input ${c} is not a column of the held-out set`);
      return i;
    });
    const rows = Math.min(EQUIVALENCE_ROWS, h.features.rows);
    const width = names.length;
    const lines = [order.join(',')];
    for (let r = 0; r < rows; r++) lines.push(index.map((i) => String(h.features.data[r * width + i])).join(','));
    await writeFile(file, `${lines.join('\n')}\n`);
    return rows;
  }

  private version(modelId: string, version: number) {
    return this.deps.db
      .selectFrom('model_versions')
      .select(['storage_location', 'run_id', 'signature'])
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  private async flavors(storageLocation: string): Promise<Record<string, unknown>> {
    const { prefix, relative } = await versionFiles(this.deps.artifacts, storageLocation);
    if (!relative.includes('MLmodel')) return {};
    const doc = parseYaml(
      (await readAll(this.deps.artifacts, `${prefix}MLmodel`, SMALL_FILE_LIMIT)).toString('utf8'),
    ) as unknown;
    return isObject(doc) && isObject(doc.flavors) ? doc.flavors : {};
  }
}

/** Runs the conversion script, its output in the job's log; cancelling the job kills it. */
function runPython(python: string, args: string[], ctx: JobContext<Payload>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', CONVERT_SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1' },
      timeout: 30 * 60_000,
      killSignal: 'SIGKILL',
    });
    let tail = '';
    child.stdout.on('data', (c: Buffer) => ctx.log('stdout', c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      ctx.log('stderr', c.toString('utf8'));
      tail = (tail + c.toString('utf8')).slice(-4000);
    });
    const abort = () => child.kill('SIGKILL');
    ctx.signal.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', abort);
      if (code === 0) return resolve();
      const why = signal ? `was killed (${signal})` : `exited ${code}`;
      // A model the converter refuses will be refused again: do not retry.
      reject(new PermanentJobError(`the conversion ${why}: ${tail.trim().split('\n').slice(-6).join('\n')}`));
    });
  });
}

/** The 'model.convert' job. */
export function conversionHandler(service: ConversionService): JobHandler<Payload> {
  return {
    kind: CONVERT_JOB,
    payloadSchema: Payload,
    adminOnly: true,
    async run(ctx) {
      return { result: await service.convert(ctx) };
    },
  };
}
