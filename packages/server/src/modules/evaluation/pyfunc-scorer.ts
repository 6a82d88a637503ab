import { spawn } from 'node:child_process';
import type { PythonEnv } from '../../jobs/executor/python-envs.js';
import type { Label, Labels } from './metrics.js';
import type { FeatureBatch, Scorer, Scores } from './scoring.js';

/*
 * The scoring side of a Python model: MLflow's pyfunc loader, run in the model's own managed
 * virtualenv (built from its requirements.txt by PythonEnvManager). Features go in on stdin as
 * JSON, scores come out on stdout as JSON. For scikit-learn flavors the native estimator is
 * loaded too, for class probabilities (predict_proba) and the class order (classes_).
 */
const LOAD_FAILED = 'hangar: the model could not be loaded: ';
const SCRIPT = String.raw`
LOAD_FAILED = ${JSON.stringify(LOAD_FAILED)}
import json, sys
import numpy as np
import pandas as pd
import mlflow.pyfunc

model_dir = sys.argv[1]
req = json.load(sys.stdin)
frame = pd.DataFrame(np.asarray(req["data"], dtype=np.float64).reshape(req["rows"], len(req["names"])), columns=req["names"])
out = {}
estimator = None
try:
    from mlflow.models import Model
    if "sklearn" in Model.load(model_dir).flavors:
        import mlflow.sklearn
        estimator = mlflow.sklearn.load_model(model_dir)
except Exception:
    estimator = None
native = estimator is not None and hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_")
if not native:
    try:
        model = mlflow.pyfunc.load_model(model_dir)
    except Exception as e:
        first = str(e).strip().splitlines()
        sys.stderr.write("%s%s: %s\n" % (LOAD_FAILED, type(e).__name__, first[0] if first else ""))
        sys.exit(3)
if native:
    out["labels"] = [v.item() if hasattr(v, "item") else v for v in estimator.predict(frame)]
    out["probabilities"] = np.asarray(estimator.predict_proba(frame), dtype=np.float64).tolist()
    out["classes"] = [v.item() if hasattr(v, "item") else v for v in estimator.classes_]
else:
    pred = np.asarray(model.predict(frame))
    if pred.ndim > 1:
        pred = pred.reshape(len(frame), -1)[:, 0]
    if pred.dtype.kind in "fc":
        out["values"] = [float(v) for v in pred]
    else:
        out["labels"] = [v.item() if hasattr(v, "item") else v for v in pred]
json.dump(out, sys.stdout)
`;

/** Output beyond this is not a score (it would be a runaway print); the scorer fails instead. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export interface PyfuncScorerOptions {
  /** The model's MLflow folder (MLmodel and its files), on local disk. */
  modelDir: string;
  env: PythonEnv;
  timeoutMs?: number;
}

/** Scores through MLflow's pyfunc in a subprocess of the model's managed environment. */
export class PyfuncScorer implements Scorer {
  constructor(private readonly options: PyfuncScorerOptions) {}

  score(batch: FeatureBatch): Promise<Scores> {
    const { env, modelDir, timeoutMs = 10 * 60_000 } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(env.python, ['-c', SCRIPT, modelDir], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1' },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      });
      const out: Buffer[] = [];
      let size = 0;
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
        else out.push(c);
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString('utf8')).slice(-8000);
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        // A model that does not load says so in one line (its traceback means nothing to users).
        const unloadable = stderr.split('\n').find((l) => l.startsWith(LOAD_FAILED));
        if (code === 3 && unloadable) return reject(new Error(unloadable.slice('hangar: '.length)));
        if (code !== 0) {
          const why = signal ? `was killed (${signal})` : `exited ${code}`;
          return reject(
            new Error(`scoring with MLflow's pyfunc ${why}: ${stderr.trim().split('\n').slice(-5).join('\n')}`),
          );
        }
        let json: PyfuncOutput;
        try {
          json = JSON.parse(Buffer.concat(out).toString('utf8')) as PyfuncOutput;
        } catch (err) {
          return reject(new Error(`the pyfunc scorer wrote something that is not JSON: ${String(err)}`));
        }
        try {
          resolve(toScores(json));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      child.stdin.on('error', () => {
        // The process died before reading everything; 'close' reports why.
      });
      child.stdin.end(JSON.stringify({ names: batch.names, rows: batch.rows, data: Array.from(batch.data) }));
    });
  }

  async close(): Promise<void> {}
}

/** What the script writes: JSON arrays, probabilities one array per row. */
interface PyfuncOutput {
  labels?: Label[];
  probabilities?: number[][];
  classes?: Label[];
  values?: number[];
}

/** The script's JSON in the typed layout of {@link Scores}. */
function toScores(out: PyfuncOutput): Scores {
  const scores: Scores = {};
  if (out.labels) scores.labels = numericOrAsIs(out.labels);
  if (out.classes) scores.classes = out.classes;
  if (out.values) scores.values = Float64Array.from(out.values);
  if (out.probabilities) {
    const rows = out.probabilities;
    const width = rows[0]?.length ?? 0;
    const data = new Float64Array(rows.length * width);
    rows.forEach((row, r) => {
      if (row.length !== width) throw new Error('need one probability per class for every row');
      data.set(row, r * width);
    });
    scores.probabilities = { width, data };
  }
  return scores;
}

/** Labels that are all numbers as a Float64Array; anything else (strings, booleans) as it came. */
function numericOrAsIs(labels: Label[]): Labels {
  return labels.every((l) => typeof l === 'number') ? Float64Array.from(labels as number[]) : labels;
}
