import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Description, DisplayName, Slug, Username } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import { PROJECT_ROLES, TEAM_ROLES } from './roles.js';
import type { ProjectsService } from './service.js';

const ProjectRole = literalUnion(PROJECT_ROLES);
const ProjectSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    team: Type.String({ description: 'The owning team' }),
    role: ProjectRole,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Project' },
);
const ProjectMemberSchema = Type.Object(
  {
    username: Type.String(),
    displayName: Type.String(),
    role: ProjectRole,
    directRole: Type.Union([ProjectRole, Type.Null()]),
    teamRole: Type.Union([literalUnion(TEAM_ROLES), Type.Null()]),
  },
  { $id: 'ProjectMember' },
);
const ProjectParams = Type.Object({ project: Slug });
const MemberParams = Type.Object({ project: Slug, username: Username });
const tags = ['projects'];

export function projectRoutes(service: ProjectsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/projects',
      {
        schema: {
          operationId: 'listProjects',
          tags,
          summary: 'The projects the caller has a role in (platform admins: all)',
          response: { 200: Type.Object({ items: Type.Array(ProjectSchema) }) },
        },
      },
      async (req) => ({ items: await service.list(callerOf(req)) }),
    );
    app.post(
      '/api/v1/projects',
      {
        schema: {
          operationId: 'createProject',
          tags,
          summary: 'Create a project owned by a team (its leads, platform admins)',
          body: Type.Object(
            {
              name: Slug,
              team: Slug,
              displayName: Type.Optional(DisplayName),
              description: Type.Optional(Description),
            },
            { additionalProperties: false },
          ),
          response: { 201: ProjectSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(callerOf(req), req.body)),
    );
    app.get(
      '/api/v1/projects/:project',
      {
        schema: {
          operationId: 'getProject',
          tags,
          summary: 'One project',
          params: ProjectParams,
          response: { 200: ProjectSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.project),
    );
    app.patch(
      '/api/v1/projects/:project',
      {
        schema: {
          operationId: 'updateProject',
          tags,
          summary: 'Edit a project (project admins; moving it to another team: platform admins)',
          params: ProjectParams,
          body: Type.Object(
            {
              displayName: Type.Optional(DisplayName),
              description: Type.Optional(Description),
              team: Type.Optional(Slug),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: ProjectSchema },
        },
      },
      async (req) => service.update(callerOf(req), req.params.project, req.body),
    );
    app.delete(
      '/api/v1/projects/:project',
      {
        schema: {
          operationId: 'deleteProject',
          tags,
          summary: 'Delete a project and everything in it (platform admins)',
          params: ProjectParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.delete(callerOf(req), req.params.project);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/api/v1/projects/:project/members',
      {
        schema: {
          operationId: 'listProjectMembers',
          tags,
          summary: 'Everyone with a role in the project, direct or through the owning team',
          params: ProjectParams,
          response: { 200: Type.Object({ items: Type.Array(ProjectMemberSchema) }) },
        },
      },
      async (req) => ({ items: await service.members(callerOf(req), req.params.project) }),
    );
    app.put(
      '/api/v1/projects/:project/members/:username',
      {
        schema: {
          operationId: 'setProjectMember',
          tags,
          summary: 'Grant a role in the project (project admins)',
          params: MemberParams,
          body: Type.Object({ role: ProjectRole }, { additionalProperties: false }),
          response: { 200: ProjectMemberSchema },
        },
      },
      async (req) => service.setMember(callerOf(req), req.params.project, req.params.username, req.body.role),
    );
    app.delete(
      '/api/v1/projects/:project/members/:username',
      {
        schema: {
          operationId: 'removeProjectMember',
          tags,
          summary: "Remove a direct grant (team-derived roles stay; change the team's membership for those)",
          params: MemberParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.removeMember(callerOf(req), req.params.project, req.params.username);
        return reply.code(204).send(null);
      },
    );
  };
}
