import '../../core/fastify-types.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError } from '../../core/errors.js';
import { callerOf } from '../../core/request.js';
import { acceptRawBodies, sendArtifact, uploadOf } from '../artifacts/http.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { endpointNotFound, mlflowErrorHandler } from './errors.js';

const PREFIX = '/api/2.0/mlflow-artifacts';
/** mlflow.exceptions._UnsupportedMultipartUploadException.MESSAGE, which the client tests for. */
const MULTIPART_UNSUPPORTED = 'Multipart upload is not supported for the current artifact repository';

/** The artifact path of a `/artifacts/<path>` request (Fastify has percent-decoded it). */
const pathOf = (req: FastifyRequest) => (req.params as { '*': string })['*'];

/**
 * MLflow's artifact proxy (`mlflow-artifacts:/` URIs, served by `mlflow server` with
 * `--serve-artifacts`): upload, download (with HTTP ranges), list and delete, over the artifact
 * service, so the same paths rules and project roles apply as to the native API. Multipart and
 * presigned uploads are not offered: a client with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD set is told
 * so in the words it looks for, and falls back to a single streaming PUT, which the store streams
 * to disk or S3 without buffering.
 */
export function mlflowArtifactRoutes(artifacts: ArtifactsService) {
  return async (app: FastifyInstance) => {
    await app.register(
      async (scope) => {
        scope.setErrorHandler(mlflowErrorHandler(scope, 'MLflow artifact request'));
        scope.setNotFoundHandler((req, reply) => reply.code(404).send(endpointNotFound(req.method, req.url)));
        acceptRawBodies(scope);

        scope.get('/artifacts', { schema: { hide: true } }, async (req) => {
          const path = (req.query as { path?: unknown }).path;
          if (typeof path !== 'string' || path === '') {
            throw new InputError("list artifacts needs 'path' (an experiment id and the folder below it)", 'path');
          }
          const entries = await artifacts.list(callerOf(req), path);
          // MLflow answers with names relative to the listed folder; the client joins them back.
          return {
            files: entries.map((e) => ({
              path: e.path.slice(e.path.lastIndexOf('/') + 1),
              is_dir: e.isDir,
              ...(e.isDir ? {} : { file_size: e.size ?? 0 }),
            })),
          };
        });
        scope.get('/artifacts/*', { schema: { hide: true } }, async (req, reply) =>
          sendArtifact(req, reply, pathOf(req), (range) => artifacts.get(callerOf(req), pathOf(req), range)),
        );
        scope.put('/artifacts/*', { schema: { hide: true } }, async (req) => {
          const upload = uploadOf(req);
          await artifacts.put(callerOf(req), pathOf(req), upload.body, upload);
          return {};
        });
        scope.delete('/artifacts/*', { schema: { hide: true } }, async (req) => {
          await artifacts.delete(callerOf(req), pathOf(req));
          return {};
        });
        // MLflow's own server answers this for stores without presigned multipart uploads (its
        // local-folder store, like ours); the client matches the message's start and falls back.
        scope.post('/mpu/:operation/*', { schema: { hide: true } }, async (req, reply) => {
          const { operation } = req.params as { operation: string };
          if (!['create', 'complete', 'abort'].includes(operation)) {
            return reply.code(404).send(endpointNotFound(req.method, req.url));
          }
          return reply.code(501).send({ error_code: 'NOT_IMPLEMENTED', message: MULTIPART_UNSUPPORTED });
        });
      },
      { prefix: PREFIX },
    );
  };
}
