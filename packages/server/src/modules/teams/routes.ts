import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Description, DisplayName, Slug, Username } from '../../core/names.js';
import { callerOf } from '../../core/request.js';
import { literalUnion } from '../../core/schema.js';
import { TEAM_ROLES } from '../projects/roles.js';
import type { TeamsService } from './service.js';

const TeamRole = literalUnion(TEAM_ROLES);
const TeamSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    memberCount: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Team' },
);
const TeamMemberSchema = Type.Object(
  {
    username: Type.String(),
    displayName: Type.String(),
    role: TeamRole,
    addedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'TeamMember' },
);
const TeamDetailSchema = Type.Intersect([TeamSchema, Type.Object({ members: Type.Array(TeamMemberSchema) })], {
  $id: 'TeamDetail',
});
const TeamParams = Type.Object({ team: Slug });
const MemberParams = Type.Object({ team: Slug, username: Username });
const tags = ['teams'];

export function teamRoutes(service: TeamsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/teams',
      {
        schema: {
          operationId: 'listTeams',
          tags,
          summary: 'All teams',
          response: { 200: Type.Object({ items: Type.Array(TeamSchema) }) },
        },
      },
      async (req) => ({ items: await service.list(callerOf(req)) }),
    );
    app.post(
      '/api/v1/teams',
      {
        schema: {
          operationId: 'createTeam',
          tags,
          summary: 'Create a team (platform admins)',
          body: Type.Object(
            { name: Slug, displayName: Type.Optional(DisplayName), description: Type.Optional(Description) },
            { additionalProperties: false },
          ),
          response: { 201: TeamSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await service.create(callerOf(req), req.body)),
    );
    app.get(
      '/api/v1/teams/:team',
      {
        schema: {
          operationId: 'getTeam',
          tags,
          summary: 'A team and its members',
          params: TeamParams,
          response: { 200: TeamDetailSchema },
        },
      },
      async (req) => service.get(callerOf(req), req.params.team),
    );
    app.patch(
      '/api/v1/teams/:team',
      {
        schema: {
          operationId: 'updateTeam',
          tags,
          summary: 'Edit a team (its leads, platform admins)',
          params: TeamParams,
          body: Type.Object(
            { displayName: Type.Optional(DisplayName), description: Type.Optional(Description) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: TeamSchema },
        },
      },
      async (req) => service.update(callerOf(req), req.params.team, req.body),
    );
    app.delete(
      '/api/v1/teams/:team',
      {
        schema: {
          operationId: 'deleteTeam',
          tags,
          summary: 'Delete a team that owns no projects (platform admins)',
          params: TeamParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.delete(callerOf(req), req.params.team);
        return reply.code(204).send(null);
      },
    );
    app.put(
      '/api/v1/teams/:team/members/:username',
      {
        schema: {
          operationId: 'setTeamMember',
          tags,
          summary: 'Add a member or change their role (team leads, platform admins)',
          params: MemberParams,
          body: Type.Object({ role: TeamRole }, { additionalProperties: false }),
          response: { 200: TeamMemberSchema },
        },
      },
      async (req) => service.setMember(callerOf(req), req.params.team, req.params.username, req.body.role),
    );
    app.delete(
      '/api/v1/teams/:team/members/:username',
      {
        schema: {
          operationId: 'removeTeamMember',
          tags,
          summary: 'Remove a member (team leads, platform admins)',
          params: MemberParams,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await service.removeMember(callerOf(req), req.params.team, req.params.username);
        return reply.code(204).send(null);
      },
    );
  };
}
