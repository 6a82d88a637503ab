export type {
  ExecResult,
  ExecRunOptions,
  Executor,
  OutputSink,
  OutputStream,
  ProcessSpec,
  ResourceUsage,
} from './types.js';
export { LocalProcessExecutor, parseTimesOutput, type LocalProcessExecutorOptions } from './local-process-executor.js';
export {
  PythonEnvManager,
  normalizeRequirements,
  type PythonEnv,
  type PythonEnvManagerOptions,
  type PythonEnvProvider,
} from './python-envs.js';
export { OutputLimiter } from './output-limiter.js';
export { createLineSplitter, type LineSplitter } from './line-splitter.js';
export {
  ProcessTreeMonitor,
  parseProcStat,
  readProcessStartTime,
  readProcessTable,
  type ProcStat,
} from './process-tree-monitor.js';
