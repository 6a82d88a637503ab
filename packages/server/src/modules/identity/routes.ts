import '../../core/fastify-types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../core/request.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './credentials.js';
import {
  CreatedTokenSchema,
  CreatedUserSchema,
  CreateTokenBody,
  CreateUserBody,
  ListTokensQuery,
  ListUsersQuery,
  LoginBody,
  MeSchema,
  SessionSchema,
  SetPasswordBody,
  TokenSchema,
  UpdateUserBody,
  UsernameParams,
  UserPageSchema,
  UserSchema,
} from './schemas.js';
import type { SessionsService } from './sessions-service.js';
import type { TokensService } from './tokens-service.js';
import type { UsersService } from './users-service.js';

export interface IdentityServices {
  users: UsersService;
  tokens: TokensService;
  sessions: SessionsService;
  /** Mark session cookies Secure (the server speaks HTTPS). */
  secureCookies: boolean;
}

const tags = ['identity'];

export function identityRoutes(s: IdentityServices): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/me',
      { schema: { operationId: 'whoami', tags, summary: 'Who the caller is', response: { 200: MeSchema } } },
      (req) => s.users.whoami(callerOf(req)),
    );

    app.post(
      '/api/v1/session',
      {
        config: { public: true },
        schema: {
          operationId: 'login',
          tags,
          summary: 'Log in with username and password; sets an HttpOnly session cookie',
          body: LoginBody,
          response: { 200: SessionSchema },
        },
      },
      async (req, reply) => {
        const r = await s.sessions.login(callerOf(req), {
          ...req.body,
          previousCookie: readCookie(req.headers.cookie, SESSION_COOKIE),
          userAgent: req.headers['user-agent'] ?? null,
        });
        reply.header('set-cookie', sessionCookie(r.cookie, r.maxAgeSeconds, s.secureCookies));
        return { user: r.user, csrfToken: r.csrfToken };
      },
    );
    app.get(
      '/api/v1/session',
      {
        config: { public: true },
        schema: {
          operationId: 'getSession',
          tags,
          summary: "The browser session's user and CSRF token (401 without a session)",
          response: { 200: SessionSchema },
        },
      },
      async (req) => s.sessions.current(readCookie(req.headers.cookie, SESSION_COOKIE)),
    );
    app.delete(
      '/api/v1/session',
      {
        config: { public: true },
        schema: { operationId: 'logout', tags, summary: 'End the browser session', response: { 204: Type.Null() } },
      },
      async (req, reply) => {
        await s.sessions.logout(callerOf(req), readCookie(req.headers.cookie, SESSION_COOKIE));
        return reply.header('set-cookie', clearedSessionCookie(s.secureCookies)).code(204).send(null);
      },
    );

    app.get(
      '/api/v1/users',
      {
        schema: {
          operationId: 'listUsers',
          tags,
          summary: 'The user directory',
          querystring: ListUsersQuery,
          response: { 200: UserPageSchema },
        },
      },
      async (req) => s.users.list(callerOf(req), req.query),
    );
    app.post(
      '/api/v1/users',
      {
        schema: {
          operationId: 'createUser',
          tags,
          summary: 'Create a user (platform admins); joins the default team',
          body: CreateUserBody,
          response: { 201: CreatedUserSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await s.users.create(callerOf(req), req.body)),
    );
    app.get(
      '/api/v1/users/:username',
      {
        schema: {
          operationId: 'getUser',
          tags,
          summary: 'One user',
          params: UsernameParams,
          response: { 200: UserSchema },
        },
      },
      async (req) => s.users.get(callerOf(req), req.params.username),
    );
    app.patch(
      '/api/v1/users/:username',
      {
        schema: {
          operationId: 'updateUser',
          tags,
          summary: 'Edit a profile (self), or admin flag and disabled state (platform admins)',
          params: UsernameParams,
          body: UpdateUserBody,
          response: { 200: UserSchema },
        },
      },
      async (req) => s.users.update(callerOf(req), req.params.username, req.body),
    );
    app.put(
      '/api/v1/users/:username/password',
      {
        schema: {
          operationId: 'setPassword',
          tags,
          summary: "Change a password (self: give the current one; platform admins: anyone's)",
          params: UsernameParams,
          body: SetPasswordBody,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await s.users.setPassword(callerOf(req), req.params.username, req.body);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/tokens',
      {
        schema: {
          operationId: 'listTokens',
          tags,
          summary: "The caller's API tokens (platform admins: ?user=)",
          querystring: ListTokensQuery,
          response: { 200: Type.Object({ items: Type.Array(TokenSchema) }) },
        },
      },
      async (req) => ({ items: await s.tokens.list(callerOf(req), req.query.user) }),
    );
    app.post(
      '/api/v1/tokens',
      {
        schema: {
          operationId: 'createToken',
          tags,
          summary: 'Create an API token for the caller (the secret is returned once)',
          body: CreateTokenBody,
          response: { 201: CreatedTokenSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await s.tokens.create(callerOf(req), req.body)),
    );
    app.delete(
      '/api/v1/tokens/:id',
      {
        schema: {
          operationId: 'revokeToken',
          tags,
          summary: 'Revoke an API token',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await s.tokens.revoke(callerOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
