/**
 * The Python side of ONNX conversion, run in the version's managed virtualenv with the converter
 * packages added: `python -c CONVERT_SCRIPT <model dir> <flavor> <held-out.csv> <out dir>`.
 *
 * Loads the model with its MLflow flavor, converts it (scikit-learn with skl2onnx, classifiers
 * without ZipMap; XGBoost and LightGBM with onnxmltools; PyTorch with torch.onnx, batch dimension
 * free), then scores the held-out rows with the original and with onnxruntime on the converted
 * graph and writes <out>/model.onnx and <out>/report.json: rows, the largest absolute difference of
 * probabilities (classifiers) or values, the share of equal labels, and `equivalent` against the
 * tolerance. Kept in TypeScript so the compiled server needs no extra file beside it.
 */
export const CONVERSION_TOLERANCE = 1e-4;

export const CONVERT_SCRIPT = String.raw`
import csv, json, os, sys
import numpy as np

model_dir, flavor, heldout, out = sys.argv[1:5]
TOL = ${CONVERSION_TOLERANCE}

with open(heldout, newline="") as f:
    rows = list(csv.reader(f))
names, X = rows[0], np.array([[float(v) for v in r] for r in rows[1:]], dtype=np.float32)
n = X.shape[1]

def last_step(m):
    return m.steps[-1][1] if hasattr(m, "steps") else m

if flavor == "sklearn":
    import mlflow.sklearn
    from skl2onnx import to_onnx
    model = mlflow.sklearn.load_model(model_dir)
    est = last_step(model)
    options = {id(est): {"zipmap": False}} if hasattr(est, "predict_proba") else None
    onx = to_onnx(model, X[:1], options=options, target_opset=17)
elif flavor in ("xgboost", "lightgbm"):
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType
    types = [("input", FloatTensorType([None, n]))]
    if flavor == "xgboost":
        import mlflow.xgboost
        model = mlflow.xgboost.load_model(model_dir)
        onx = onnxmltools.convert_xgboost(model, initial_types=types, target_opset=15)
    else:
        import mlflow.lightgbm
        model = mlflow.lightgbm.load_model(model_dir)
        onx = onnxmltools.convert_lightgbm(model, initial_types=types, zipmap=False, target_opset=15)
elif flavor == "pytorch":
    import io, mlflow.pytorch, onnx, torch
    model = mlflow.pytorch.load_model(model_dir, map_location="cpu").eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.from_numpy(X[:1]), buf, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17)
    onx = onnx.load_from_string(buf.getvalue())
else:
    sys.exit(f"no converter for flavor {flavor}")

import onnxruntime as ort
data = onx.SerializeToString()
sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
got = sess.run(None, {sess.get_inputs()[0].name: X})
floats = [g for g in got if isinstance(g, np.ndarray) and g.dtype.kind == "f"]
labels = [g for g in got if isinstance(g, np.ndarray) and g.dtype.kind in "iuUSOb"]

report = {"rows": int(X.shape[0]), "tolerance": TOL, "flavor": flavor}
# float32 graphs against float64 originals: regressions compare relative to the values' scale.
scale = 1.0
if flavor == "pytorch":
    import torch
    with torch.no_grad():
        want = model(torch.from_numpy(X)).numpy()
    report["maxAbsDiff"] = float(np.max(np.abs(floats[0].reshape(want.shape) - want)))
    report["labelAgreement"] = None
elif hasattr(model, "predict_proba"):
    want_p = np.asarray(model.predict_proba(X))
    want_l = np.asarray(model.predict(X))
    proba = next(f for f in floats if f.ndim == 2 and f.shape[1] == want_p.shape[1])
    report["maxAbsDiff"] = float(np.max(np.abs(proba - want_p)))
    report["labelAgreement"] = float(np.mean(labels[0].reshape(-1) == want_l.reshape(-1))) if labels else None
else:
    want = np.asarray(model.predict(X), dtype=np.float64).reshape(-1)
    report["maxAbsDiff"] = float(np.max(np.abs(floats[0].reshape(-1).astype(np.float64) - want)))
    report["labelAgreement"] = None
    scale = max(1.0, float(np.max(np.abs(want))))
report["equivalent"] = bool(report["maxAbsDiff"] <= TOL * scale and (report["labelAgreement"] in (None, 1.0)))
report["inputs"] = [{"name": i.name, "type": i.type, "shape": [d if isinstance(d, int) else -1 for d in i.shape]} for i in sess.get_inputs()]
report["outputs"] = [o.name for o in sess.get_outputs()]
with open(os.path.join(out, "model.onnx"), "wb") as f:
    f.write(data)
with open(os.path.join(out, "report.json"), "w") as f:
    json.dump(report, f)
print(json.dumps(report))
`;

/** Converter packages per MLflow flavor, added to the model's own requirements. */
export const CONVERTER_REQUIREMENTS: Record<string, string[]> = {
  sklearn: ['skl2onnx==1.20.0', 'onnxruntime==1.32.0', 'onnx'],
  xgboost: ['onnxmltools==1.16.0', 'onnxruntime==1.32.0', 'onnx'],
  lightgbm: ['onnxmltools==1.16.0', 'onnxruntime==1.32.0', 'onnx'],
  pytorch: ['onnxruntime==1.32.0', 'onnx', 'onnxscript'],
};
