import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../core/request.js';
import { acceptRawBodies, sendArtifact, uploadOf } from './http.js';
import type { ArtifactsService } from './service.js';

const RunParams = Type.Object({ runId: Type.String({ pattern: '^[0-9a-f]{32}$' }) });
const ArtifactPath = Type.String({
  maxLength: 1024,
  description: "a path inside the run's artifacts, e.g. model/MLmodel",
});
const FileQuery = Type.Object(
  { path: Type.String({ ...ArtifactPath, minLength: 1 }) },
  { additionalProperties: false },
);
const ArtifactEntrySchema = Type.Object(
  {
    path: Type.String({ description: "relative to the run's artifact root" }),
    isDir: Type.Boolean(),
    size: Type.Optional(Type.Integer({ description: 'bytes; files only' })),
  },
  { $id: 'ArtifactEntry' },
);
const tags = ['artifacts'];

/**
 * The native artifact API of runs: list, download (with HTTP ranges), upload and delete. Bodies
 * stream in both directions; uploads are raw bytes of any content type.
 */
export function artifactRoutes(service: ArtifactsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/runs/:runId/artifacts',
      {
        schema: {
          operationId: 'listRunArtifacts',
          tags,
          summary: "A folder of a run's artifacts (viewers); recursive lists every file beneath it",
          params: RunParams,
          querystring: Type.Object(
            { path: Type.Optional(ArtifactPath), recursive: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ root: Type.String(), items: Type.Array(ArtifactEntrySchema) }) },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const { root, path } = await service.runPath(caller, req.params.runId, req.query.path ?? '');
        const entries = await service.list(caller, path, req.query.recursive === true);
        return {
          root: `mlflow-artifacts:/${root}`,
          items: entries.map((e) => ({ ...e, path: e.path.slice(root.length + 1) })),
        };
      },
    );
    app.get(
      '/api/v1/runs/:runId/artifacts/file',
      {
        schema: {
          operationId: 'downloadRunArtifact',
          tags,
          summary: 'One artifact file, or the byte range the Range header asks for (viewers)',
          params: RunParams,
          querystring: FileQuery,
          response: {
            200: {
              description: 'The file',
              content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
            },
            206: {
              description: 'The range asked for',
              content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
            },
          },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        const { path } = await service.runPath(caller, req.params.runId, req.query.path);
        return sendArtifact(req, reply, path, (range) => service.get(caller, path, range));
      },
    );
    await app.register(async (scope) => {
      acceptRawBodies(scope);
      scope.put(
        '/api/v1/runs/:runId/artifacts/file',
        {
          schema: {
            operationId: 'uploadRunArtifact',
            tags,
            summary: 'Stores the request body as an artifact file, replacing any file there (developers)',
            params: RunParams,
            querystring: FileQuery,
            response: {
              200: Type.Object({ path: Type.String(), size: Type.Integer(), sha256: Type.String() }),
            },
          },
          // The body is a raw stream, never validated; the spec documents it (see app.ts).
          config: { rawUpload: true },
        },
        async (req) => {
          const caller = callerOf(req);
          const { runId } = req.params as { runId: string };
          const { root, path } = await service.runPath(caller, runId, (req.query as { path: string }).path);
          const upload = uploadOf(req);
          const stored = await service.put(caller, path, upload.body, upload);
          return { ...stored, path: stored.path.slice(root.length + 1) };
        },
      );
    });
    app.delete(
      '/api/v1/runs/:runId/artifacts/file',
      {
        schema: {
          operationId: 'deleteRunArtifact',
          tags,
          summary: 'Deletes an artifact file, or a folder and everything in it (developers; audited)',
          params: RunParams,
          querystring: FileQuery,
          response: { 200: Type.Object({ deleted: Type.Integer() }) },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const { path } = await service.runPath(caller, req.params.runId, req.query.path);
        return { deleted: await service.delete(caller, path) };
      },
    );
  };
}
