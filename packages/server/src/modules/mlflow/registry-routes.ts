import '../../core/fastify-types.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/auth.js';
import { InputError } from '../../core/errors.js';
import { callerOf } from '../../core/request.js';
import type { ModelVersion, ProjectRef, RegisteredModel, RegistryService } from '../registry/service.js';
import { mlflowErrorHandler } from './errors.js';
import { body, optionalInt, query, type Body } from './routes.js';

/*
 * MLflow's model registry REST API (ModelRegistryService in model_registry.proto) as a thin adapter
 * over the registry service. Every call acts in one project: the project of a project-scoped token,
 * otherwise the default project, as experiments created through MLflow do. Answers use MLflow's
 * JSON shapes; request fields are checked by the service, so the native API and this one share
 * their rules and messages.
 */

const PREFIX = '/api/2.0/mlflow';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Handler = (caller: Caller, ref: ProjectRef, input: Body) => Promise<unknown>;

export const modelVersionJson = (v: ModelVersion) => ({
  name: v.name,
  version: String(v.version),
  creation_timestamp: v.createdAt,
  last_updated_timestamp: v.updatedAt,
  user_id: v.creator,
  current_stage: v.stage,
  ...(v.description !== null ? { description: v.description } : {}),
  source: v.source,
  ...(v.runId !== null ? { run_id: v.runId } : {}),
  status: v.status,
  ...(v.statusMessage !== null ? { status_message: v.statusMessage } : {}),
  tags: v.tags,
  ...(v.runLink !== null ? { run_link: v.runLink } : {}),
  aliases: v.aliases,
  ...(v.loggedModelId !== null ? { model_id: v.loggedModelId } : {}),
});

export const registeredModelJson = (m: RegisteredModel) => ({
  name: m.name,
  creation_timestamp: m.createdAt,
  last_updated_timestamp: m.updatedAt,
  user_id: m.creator,
  ...(m.description !== null ? { description: m.description } : {}),
  latest_versions: m.latestVersions.map(modelVersionJson),
  tags: m.tags,
  aliases: m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
});

/** A request's fields: the JSON body, or the query string of a GET (and of a DELETE without a body). */
function input(req: FastifyRequest): Body {
  const b = body(req);
  if (Object.keys(b).length > 0 || req.method === 'POST' || req.method === 'PATCH') return b;
  return query(req) as Body;
}

/** A repeated field: a list in JSON, one or more repeated parameters in a query string. */
function stringList(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  const items = Array.isArray(v) ? (v as unknown[]) : typeof v === 'string' ? [v] : null;
  if (items === null || !items.every((x) => typeof x === 'string')) {
    throw new InputError(`Invalid value for parameter '${key}': expected a list of strings`, key);
  }
  return items as string[];
}

const optionalText = (b: Body, key: string): string | undefined => {
  const v = b[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new InputError(`Invalid value ${JSON.stringify(v)} for parameter '${key}': expected a string`, key);
  }
  return v;
};

export function mlflowRegistryRoutes(registry: RegistryService) {
  return async (app: FastifyInstance) => {
    app.setErrorHandler(mlflowErrorHandler(app, 'MLflow registry request'));
    const route = (methods: Method | Method[], path: string, h: Handler) =>
      app.route({
        method: methods,
        url: `${PREFIX}/${path}`,
        schema: { hide: true },
        handler: async (req) => {
          const caller = callerOf(req);
          const b = input(req);
          return (await h(caller, await registry.mlflowProject(caller), b)) ?? {};
        },
      });
    const searchInput = (b: Body) => ({
      filter: optionalText(b, 'filter'),
      orderBy: stringList(b, 'order_by'),
      maxResults: optionalInt(b, 'max_results'),
      pageToken: optionalText(b, 'page_token'),
    });

    // ---- registered models ----
    route('POST', 'registered-models/create', async (c, p, b) => ({
      registered_model: registeredModelJson(
        await registry.createModel(c, p, { name: b.name, description: b.description, tags: b.tags }),
      ),
    }));
    route('GET', 'registered-models/get', async (c, p, b) => ({
      registered_model: registeredModelJson(await registry.getModel(c, p, b.name)),
    }));
    route('GET', 'registered-models/search', async (c, p, b) => {
      const r = await registry.searchModels(c, p, searchInput(b));
      return {
        registered_models: r.models.map(registeredModelJson),
        ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}),
      };
    });
    route('POST', 'registered-models/rename', async (c, p, b) => ({
      registered_model: registeredModelJson(await registry.renameModel(c, p, b.name, b.new_name)),
    }));
    // MLflow's update sets the description to what is sent: leaving it out clears it.
    route('PATCH', 'registered-models/update', async (c, p, b) => ({
      registered_model: registeredModelJson(
        await registry.updateModel(c, p, b.name, { description: b.description ?? null }),
      ),
    }));
    route('DELETE', 'registered-models/delete', async (c, p, b) => {
      await registry.deleteModel(c, p, b.name);
    });
    route(['POST', 'GET'], 'registered-models/get-latest-versions', async (c, p, b) => ({
      model_versions: (await registry.latestVersions(c, p, b.name, stringList(b, 'stages'))).map(modelVersionJson),
    }));
    route('POST', 'registered-models/set-tag', async (c, p, b) => {
      await registry.setModelTag(c, p, b.name, b.key, b.value);
    });
    route('DELETE', 'registered-models/delete-tag', async (c, p, b) => {
      await registry.deleteModelTag(c, p, b.name, b.key);
    });
    route('POST', 'registered-models/alias', async (c, p, b) => {
      await registry.setAlias(c, p, b.name, b.alias, b.version);
    });
    route('GET', 'registered-models/alias', async (c, p, b) => ({
      model_version: modelVersionJson(await registry.getByAlias(c, p, b.name, b.alias)),
    }));
    route('DELETE', 'registered-models/alias', async (c, p, b) => {
      await registry.deleteAlias(c, p, b.name, b.alias);
    });

    // ---- model versions ----
    route('POST', 'model-versions/create', async (c, p, b) => ({
      model_version: modelVersionJson(
        await registry.createVersion(c, p, b.name, {
          source: b.source,
          runId: b.run_id,
          modelId: b.model_id,
          runLink: b.run_link,
          description: b.description,
          tags: b.tags,
        }),
      ),
    }));
    route('GET', 'model-versions/get', async (c, p, b) => ({
      model_version: modelVersionJson(await registry.getVersion(c, p, b.name, b.version)),
    }));
    route('PATCH', 'model-versions/update', async (c, p, b) => ({
      model_version: modelVersionJson(
        await registry.updateVersion(c, p, b.name, b.version, { description: b.description ?? null }),
      ),
    }));
    route('DELETE', 'model-versions/delete', async (c, p, b) => {
      await registry.deleteVersion(c, p, b.name, b.version);
    });
    route('POST', 'model-versions/transition-stage', async (c, p, b) => ({
      model_version: modelVersionJson(
        await registry.transitionStage(c, p, b.name, b.version, b.stage, b.archive_existing_versions),
      ),
    }));
    route('GET', 'model-versions/get-download-uri', async (c, p, b) => ({
      artifact_uri: await registry.downloadUri(c, p, b.name, b.version),
    }));
    route('GET', 'model-versions/search', async (c, p, b) => {
      const r = await registry.searchVersions(c, p, searchInput(b));
      return {
        model_versions: r.versions.map(modelVersionJson),
        ...(r.nextPageToken ? { next_page_token: r.nextPageToken } : {}),
      };
    });
    route('POST', 'model-versions/set-tag', async (c, p, b) => {
      await registry.setVersionTag(c, p, b.name, b.version, b.key, b.value);
    });
    route('DELETE', 'model-versions/delete-tag', async (c, p, b) => {
      await registry.deleteVersionTag(c, p, b.name, b.version, b.key);
    });
  };
}
