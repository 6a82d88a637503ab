import { Type } from '@sinclair/typebox';
import { DisplayName, Email, Slug, TEXT_PATTERN, Username } from '../../core/names.js';
import { Nullable } from '../../core/schema.js';

const DateTime = Type.String({ format: 'date-time' });

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    email: Nullable(Type.String()),
    isAdmin: Type.Boolean(),
    disabled: Type.Boolean(),
    createdAt: DateTime,
  },
  { $id: 'User' },
);

export const MeSchema = Type.Intersect(
  [
    UserSchema,
    Type.Object({
      tokenId: Nullable(Type.String()),
      projectId: Nullable(Type.String({ description: 'Set when the credential is confined to one project' })),
    }),
  ],
  { $id: 'Me' },
);

export const UserPageSchema = Type.Object(
  { items: Type.Array(UserSchema), nextCursor: Nullable(Type.String()) },
  { $id: 'UserPage' },
);

export const UsernameParams = Type.Object({ username: Username });

export const ListUsersQuery = Type.Object(
  {
    query: Type.Optional(
      Type.String({ maxLength: 100, pattern: TEXT_PATTERN, description: 'Matches username or display name' }),
    ),
    includeDisabled: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

const Password = Type.String({ minLength: 8, maxLength: 1024 });

export const CreateUserBody = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(DisplayName),
    email: Type.Optional(Nullable(Email)),
    password: Type.Optional(Password),
    isAdmin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const CreatedUserSchema = Type.Object(
  {
    user: UserSchema,
    generatedPassword: Nullable(Type.String({ description: 'Set when no password was given; shown once' })),
  },
  { $id: 'CreatedUser' },
);

export const UpdateUserBody = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    email: Type.Optional(Nullable(Email)),
    isAdmin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const SetPasswordBody = Type.Object(
  { currentPassword: Type.Optional(Type.String({ maxLength: 1024 })), newPassword: Password },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the secret, to recognise it' }),
    project: Nullable(Type.String({ description: 'The project the token is confined to; null: all' })),
    createdAt: DateTime,
    expiresAt: Nullable(DateTime),
    lastUsedAt: Nullable(DateTime),
    revokedAt: Nullable(DateTime),
  },
  { $id: 'Token' },
);

export const CreatedTokenSchema = Type.Intersect(
  [TokenSchema, Type.Object({ token: Type.String({ description: 'The secret; shown once' }) })],
  { $id: 'CreatedToken' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: TEXT_PATTERN }),
    project: Type.Optional(Slug),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const ListTokensQuery = Type.Object({ user: Type.Optional(Username) }, { additionalProperties: false });

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 200, pattern: TEXT_PATTERN }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const SessionSchema = Type.Object(
  {
    user: UserSchema,
    csrfToken: Type.String({ description: 'Send as x-csrf-token with every state-changing request' }),
  },
  { $id: 'Session' },
);
