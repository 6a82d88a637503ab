import { Type, type Static } from '@sinclair/typebox';
import type { Executor } from './executor/types.js';
import type { JobHandler } from './job-handler.js';

/** Does nothing and succeeds: used to measure queue overhead and to smoke-test a worker fleet. */
export const noopHandler: JobHandler = {
  kind: 'system.noop',
  payloadSchema: Type.Object({}, { additionalProperties: true }),
  run: () => Promise.resolve({ result: null }),
};

const ExecPayload = Type.Object(
  {
    command: Type.Array(Type.String({ maxLength: 10_000 }), { minItems: 1, maxItems: 1000 }),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 100_000 })),
    ),
    python: Type.Optional(
      Type.Object({ requirements: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 500 }) }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 7 * 86_400_000 })),
    executor: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  },
  { additionalProperties: false },
);
type ExecPayload = Static<typeof ExecPayload>;

/**
 * Runs a command (optionally in a managed Python environment) through an executor. A non-zero exit
 * fails the attempt (and is retried while attempts remain). Admin-only: it is arbitrary code.
 */
export function execHandler(executors: Map<string, Executor>): JobHandler<ExecPayload> {
  return {
    kind: 'system.exec',
    payloadSchema: ExecPayload,
    adminOnly: true,
    async run(ctx) {
      const name = ctx.payload.executor ?? 'local';
      const executor = executors.get(name);
      if (!executor) throw new Error(`no executor named ${name}; configured: ${[...executors.keys()].join(', ')}`);
      const res = await executor.run(
        {
          command: ctx.payload.command,
          env: ctx.payload.env,
          python: ctx.payload.python,
          timeoutMs: ctx.payload.timeoutMs,
        },
        { jobId: ctx.job.id, signal: ctx.signal, onOutput: (stream, chunk) => ctx.log(stream, chunk) },
      );
      const result = {
        exitCode: res.exitCode,
        signal: res.signal,
        timedOut: res.timedOut,
        logsTruncated: res.logsTruncated,
      };
      if (res.exitCode === 0) return { result, usage: res.usage };
      const why = res.timedOut
        ? `timed out after ${ctx.payload.timeoutMs} ms`
        : res.signal
          ? `killed by ${res.signal}`
          : `exited with code ${res.exitCode}`;
      throw Object.assign(new Error(`command ${why}`), { usage: res.usage });
    },
  };
}
