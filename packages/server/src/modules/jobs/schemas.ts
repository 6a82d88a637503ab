import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from '../../core/schema.js';

export const JobStateSchema = literalUnion(['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const);

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    state: JobStateSchema,
    payload: Type.Unknown(),
    result: Type.Unknown(),
    error: Type.Union([Type.String(), Type.Null()]),
    priority: Type.Integer(),
    attempt: Type.Integer(),
    maxAttempts: Type.Integer(),
    runAt: Type.String({ format: 'date-time' }),
    cancelRequested: Type.Boolean(),
    worker: Type.Union([Type.String(), Type.Null()], { description: 'the worker that ran the latest attempt' }),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    usage: Type.Object({
      wallSeconds: Type.Union([Type.Number(), Type.Null()]),
      cpuSeconds: Type.Union([Type.Number(), Type.Null()]),
      peakRssBytes: Type.Union([Type.Number(), Type.Null()]),
    }),
    logBytes: Type.Integer(),
    logsTruncated: Type.Boolean(),
  },
  { $id: 'Job' },
);
export type Job = Static<typeof JobSchema>;

export const EnqueueJobBody = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 200 }),
    payload: Type.Optional(Type.Unknown()),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    runAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type EnqueueJobBody = Static<typeof EnqueueJobBody>;

export const ListJobsQuery = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    kind: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type ListJobsQuery = Static<typeof ListJobsQuery>;

export const JobPageSchema = Type.Object({
  items: Type.Array(JobSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const JobLogsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 25_000, default: 0 })),
  },
  { additionalProperties: false },
);
export type JobLogsQuery = Static<typeof JobLogsQuery>;

export const JobLogsSchema = Type.Object({
  chunks: Type.Array(
    Type.Object({
      id: Type.Integer(),
      attempt: Type.Integer(),
      stream: Type.String(),
      data: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
    }),
  ),
  /** Pass as `after` to get the next chunks. */
  next: Type.Integer(),
  /** True when the job has finished and every chunk up to `next` has been returned. */
  complete: Type.Boolean(),
  state: JobStateSchema,
});
export type JobLogs = Static<typeof JobLogsSchema>;
