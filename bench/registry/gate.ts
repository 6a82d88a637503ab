import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildServer, REPO_ROOT, tempDir } from '../core/lib/hangar.js';
import { ensureMlflow } from '../core/lib/mlflow.js';
import { unquietRuns, waitForQuiet } from '../core/lib/quiet.js';
import { heading, isMain, line, median, num, ratio, table, target } from '../core/lib/report.js';

/*
 * Evaluation gate throughput: rows/s evaluating a held-out set of 100k rows (20 features, binary
 * labels) with a logistic-regression pipeline, through Hangar's gate path (the CSV reader, the ONNX
 * scorer on onnxruntime-node, the metrics module: accuracy, precision, recall, F1, ROC AUC, log
 * loss, Brier, ECE) against what a data scientist would run in Python: pandas.read_csv, scikit-learn's
 * predict_proba and sklearn.metrics on the same data and model (bench/registry/gate_python.py).
 * Two figures per side: scoring + metrics on data in memory, and the same including reading the CSV.
 * The metrics of both sides are printed too; they must agree.
 */

const QUICK_RUN = process.env.HANGAR_BENCH_QUICK === '1' || process.argv.includes('--quick');
const ROWS = QUICK_RUN ? 10_000 : 100_000;
const ROUNDS = QUICK_RUN ? 1 : 5;
const PY = path.join(REPO_ROOT, 'bench/.venv/bin/python');
const DIST = path.join(REPO_ROOT, 'packages/server/dist/modules/evaluation');

/** bench/.venv with MLflow (bench/setup.sh), plus what the Python side needs: scikit-learn and skl2onnx. */
function ensurePython(): void {
  ensureMlflow();
  try {
    execFileSync(PY, ['-c', 'import sklearn, skl2onnx, onnxruntime, pandas'], { stdio: 'ignore' });
  } catch {
    line('installing scikit-learn, skl2onnx and onnxruntime into bench/.venv ...');
    execFileSync(PY, ['-m', 'pip', 'install', '--quiet', 'scikit-learn', 'skl2onnx', 'onnxruntime', 'pandas'], {
      stdio: 'inherit',
    });
  }
}

interface Side {
  score: number[];
  total: number[];
  metrics: Record<string, number | null>;
}

async function hangarSide(dir: string): Promise<Side> {
  const { readHeldOut, evaluate } = (await import(
    path.join(DIST, 'evaluate.js')
  )) as typeof import('../../packages/server/src/modules/evaluation/evaluate.js');
  const { OnnxScorer } = (await import(
    path.join(DIST, 'scoring.js')
  )) as typeof import('../../packages/server/src/modules/evaluation/scoring.js');
  const model = new Uint8Array(readFileSync(path.join(dir, 'model.onnx')));
  const score: number[] = [];
  const total: number[] = [];
  let metrics: Record<string, number | null> = {};
  for (let i = 0; i <= ROUNDS; i++) {
    await waitForQuiet();
    const t0 = performance.now();
    const heldOut = await readHeldOut(createReadStream(path.join(dir, 'heldout.csv')), 'csv', 'label');
    const t1 = performance.now();
    // The gate opens the model once per evaluation; so do we.
    const scorer = await OnnxScorer.open(model);
    metrics = { ...(await evaluate(scorer, heldOut, 'binary')) } as unknown as Record<string, number | null>;
    const t2 = performance.now();
    await scorer.close();
    if (i === 0) continue; // warm-up
    score.push((t2 - t1) / 1000);
    total.push((t2 - t0) / 1000);
  }
  return { score, total, metrics };
}

function pythonSide(dir: string): Side {
  const out = execFileSync(PY, [path.join(REPO_ROOT, 'bench/registry/gate_python.py'), 'time', dir, String(ROUNDS)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(out) as { score_s: number[]; total_s: number[]; metrics: Record<string, number> };
  return { score: r.score_s, total: r.total_s, metrics: r.metrics };
}

export async function runGate(): Promise<void> {
  heading(
    `evaluation gate throughput: ${num(ROWS)} held-out rows, ONNX gate path vs scikit-learn${QUICK_RUN ? ' (quick)' : ''}`,
  );
  buildServer();
  ensurePython();
  const dir = tempDir('gate');
  try {
    line('making the held-out set and the model (gate_python.py make) ...');
    execFileSync(PY, [path.join(REPO_ROOT, 'bench/registry/gate_python.py'), 'make', dir, String(ROWS)], {
      stdio: 'inherit',
    });
    if (!existsSync(path.join(dir, 'model.onnx'))) throw new Error('gate_python.py made no model');
    const hangar = await hangarSide(dir);
    await waitForQuiet();
    const python = pythonSide(dir);
    const rps = (s: number[]) => ROWS / median(s);
    table([
      ['', 'Hangar rows/s', 'scikit-learn rows/s', 'Hangar / sklearn'],
      ['score + metrics', num(rps(hangar.score)), num(rps(python.score)), ratio(rps(hangar.score), rps(python.score))],
      [
        'read CSV + score + metrics',
        num(rps(hangar.total)),
        num(rps(python.total)),
        ratio(rps(hangar.total), rps(python.total)),
      ],
    ]);
    line(`medians of ${ROUNDS} round(s) after a warm-up; ${unquietRuns()} started on a busy machine`);
    const names = Object.keys(python.metrics);
    table([
      ['metric', 'Hangar', 'scikit-learn', '|diff|'],
      ...names.map((k) => {
        const h = hangar.metrics[k] ?? NaN;
        const p = python.metrics[k]!;
        return [k, h.toPrecision(12), p.toPrecision(12), Math.abs(h - p).toExponential(1)];
      }),
    ]);
    const worst = Math.max(...names.map((k) => Math.abs((hangar.metrics[k] ?? NaN) - python.metrics[k]!)));
    // float32 (ONNX) vs float64 (scikit-learn) probabilities: agreement to about 1e-6, not bit for bit.
    target('metrics agree with scikit-learn', worst < 1e-5, `largest difference ${worst.toExponential(1)}`);
    target(
      'gate evaluation at least as fast as scikit-learn (score + metrics)',
      rps(hangar.score) >= rps(python.score),
      ratio(rps(hangar.score), rps(python.score)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  runGate().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
