import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { ArtifactStore } from '../../artifacts/index.js';
import type { PythonEnvProvider } from '../../jobs/executor/python-envs.js';
import { PermanentJobError, type JobContext, type JobHandler } from '../../jobs/job-handler.js';
import { evaluate, type HeldOut } from '../evaluation/evaluate.js';
import { loadHeldOut } from './held-out.js';
import { openVersionScorer } from './model-loader.js';
import { GATE_JOB, type GatesService } from './service.js';
import { checksOf, failureReason, type EvaluationSpec } from './spec.js';
import type { GateStore } from './store.js';

const GatePayload = Type.Object(
  { gateId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
type GatePayload = Static<typeof GatePayload>;

export interface GateHandlerDeps {
  gates: GatesService;
  store: GateStore;
  artifacts: ArtifactStore;
  pythonEnvs: PythonEnvProvider;
  /** Scratch space for models scored through pyfunc (one folder per gate, removed afterwards). */
  workRoot: string;
}

type Metrics = Record<string, number | null>;

/** Scores a held-out set with one version's model and computes the task's metrics. */
async function scoreVersion(
  deps: GateHandlerDeps,
  ctx: JobContext<GatePayload>,
  storageLocation: string,
  heldOut: HeldOut,
  spec: EvaluationSpec,
  workDir: string,
): Promise<{ kind: string; metrics: Metrics }> {
  const { kind, scorer } = await openVersionScorer(storageLocation, {
    artifacts: deps.artifacts,
    pythonEnvs: deps.pythonEnvs,
    workDir,
    log: (stream, text) => ctx.log(stream, text),
  });
  try {
    const metrics = await evaluate(scorer, heldOut, spec.task).catch((err: unknown) => {
      throw new PermanentJobError(`scoring the held-out set failed: ${(err as Error).message}`);
    });
    return { kind, metrics: { ...metrics } as unknown as Metrics };
  } finally {
    await scorer.close();
  }
}

/**
 * The 'registry.gate' job: evaluates one gate. It snapshots the model's spec, reads the held-out
 * set, scores it through the version's scoring path (ONNX in-process, or MLflow's pyfunc in the
 * version's managed venv), computes the task's metrics, checks the thresholds and the champion
 * rule (the champion's newest passed metrics on the same set, or the champion scored now), and
 * stores the outcome. Deterministic failures fail the gate with the reason and are not retried;
 * other errors are retried, and fail the gate on the last attempt.
 */
export function gateHandler(deps: GateHandlerDeps): JobHandler<GatePayload> {
  return {
    kind: GATE_JOB,
    payloadSchema: GatePayload,
    // Gates are created by the registry, never through the jobs API.
    adminOnly: true,
    async run(ctx) {
      const { gateId } = ctx.payload;
      const started = await deps.gates.begin(gateId);
      if (!started) return { result: { gateId, settled: true } };
      const { gate, spec } = started;
      const work = path.join(deps.workRoot, gateId);
      let scorerKind: string | null = null;
      try {
        const dataset = await deps.store.dataset(spec.datasetId);
        if (!dataset) throw new PermanentJobError(`the held-out dataset ${spec.datasetId} no longer exists`);
        const heldOut = await loadHeldOut(deps.artifacts, dataset, spec.labelColumn);
        ctx.log('system', `held-out set: ${heldOut.features.rows} rows, ${heldOut.features.names.length} features\n`);
        const version = await deps.store.version(gate.model_id, gate.version);
        if (!version) return { result: { gateId, settled: true } };
        const own = await scoreVersion(
          deps,
          ctx,
          version.storage_location,
          heldOut,
          spec,
          path.join(work, 'candidate'),
        );
        scorerKind = own.kind;
        let champion: { version: number; metrics: Metrics } | null = null;
        const known = spec.championRule ? await deps.gates.championFor(gate.model_id, gate.version, spec) : null;
        if (known?.metrics) champion = { version: known.version, metrics: known.metrics };
        else if (known) {
          const row = await deps.store.version(gate.model_id, known.version);
          if (row) {
            ctx.log('system', `scoring the champion, version ${known.version}, on the same set\n`);
            const scored = await scoreVersion(
              deps,
              ctx,
              row.storage_location,
              heldOut,
              spec,
              path.join(work, 'champion'),
            ).catch((err: unknown) => {
              throw new PermanentJobError(
                `the champion (version ${known.version}) could not be scored: ${(err as Error).message}`,
              );
            });
            champion = { version: known.version, metrics: scored.metrics };
          }
        }
        const checks = checksOf(spec, own.metrics, champion?.metrics ?? null);
        const reason = failureReason(checks);
        await deps.gates.finish(gateId, {
          scorer: own.kind,
          rows: heldOut.features.rows,
          metrics: own.metrics,
          checks,
          champion,
          reason,
        });
        return { result: { gateId, status: reason ? 'failed' : 'passed', metrics: own.metrics } };
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        const last = ctx.attempt >= ctx.job.max_attempts;
        // A cancelled job never runs again, so its gate would stay 'running' and the releases
        // waiting on it would wait forever: fail it (a re-run evaluates again). A lost lease or a
        // worker shutdown also aborts, but then the job runs again and settles the gate itself.
        const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : null;
        if (reason instanceof Error && reason.message === 'cancelled') {
          await deps.gates.fail(gateId, 'the gate job was cancelled', scorerKind);
          throw err;
        }
        if (err instanceof PermanentJobError || last) {
          await deps.gates.fail(gateId, message, scorerKind);
          throw err instanceof PermanentJobError ? err : new PermanentJobError(message);
        }
        throw err;
      } finally {
        await rm(work, { recursive: true, force: true }).catch(() => {});
      }
    },
    async onEndedWithoutAttempt(job, why) {
      const { gateId } = JSON.parse(job.payload) as GatePayload;
      await deps.gates.fail(
        gateId,
        why === 'cancelled' ? 'the gate job was cancelled' : "the worker of the gate job's last attempt was lost",
      );
    },
  };
}
