import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/*
 * The floor for bench/serving: onnxruntime-node's session.run on the benchmark's ONNX model, one row
 * per call, one call at a time, in a loop: no HTTP, no JSON, no routing. The session is created with
 * the options Hangar's ONNX runtime uses (CPU provider, all graph optimizations, onnxruntime's default
 * thread pools), and each call builds its input tensor as Hangar does for a request. Runs as its own
 * process (so it can be pinned like the servers) and prints one JSON line with its figures.
 *   usage: floor.ts MODEL.onnx ROW_JSON WARMUP_S DURATION_S
 */

const [modelPath, rowJson, warmupArg, durationArg] = process.argv.slice(2);
if (!modelPath || !rowJson) throw new Error('usage: floor.ts MODEL.onnx ROW_JSON WARMUP_S DURATION_S');
const row = Float32Array.from(JSON.parse(rowJson) as number[]);
const session = await InferenceSession.create(new Uint8Array(readFileSync(modelPath)), {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
});
const input = session.inputNames[0]!;

async function loop(seconds: number): Promise<{ calls: number; wallS: number; cpuS: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let calls = 0;
  // Check the clock every 256 calls: reading it costs about as much as a small model's run.
  while (calls % 256 !== 0 || performance.now() < end) {
    await session.run({ [input]: new Tensor('float32', row.slice(), [1, row.length]) });
    calls++;
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { calls, wallS, cpuS: (cpu.user + cpu.system) / 1e6 };
}

await loop(Number(warmupArg ?? 1));
const r = await loop(Number(durationArg ?? 5));
process.stdout.write(
  `${JSON.stringify({ callsPerS: r.calls / r.wallS, usPerCall: (r.wallS * 1e6) / r.calls, cpuUsPerCall: (r.cpuS * 1e6) / r.calls, calls: r.calls })}\n`,
);
await session.release();
