import { Type } from 'typebox';
import { EMAIL_MAX, FULL_NAME_MAX, ROLES, USERNAME_PATTERN } from './rules.js';
import { passwordPolicy } from './password.js';
import { Strict } from '../platform/web/schemas.js';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

// Lengths here bound the work done before the service checks each rule in full.
export const SignUpBody = Strict({
  email: Type.String({ maxLength: EMAIL_MAX, description: 'E-mail address' }),
  username: Type.String({ maxLength: 64, description: `Matches ${USERNAME_PATTERN}` }),
  password: Type.String({ maxLength: passwordPolicy.maxLength * 4 }),
  country: Type.String({ maxLength: 2, minLength: 2, description: 'ISO 3166-1 alpha-2' }),
  roles: Type.Array(RoleSchema, { minItems: 1, maxItems: 3 }),
  fullName: Type.Optional(Type.String({ maxLength: FULL_NAME_MAX })),
});

export const ProfileBody = Strict({
  roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1, maxItems: 3 })),
  fullName: Type.Optional(Type.String({ maxLength: FULL_NAME_MAX })),
  country: Type.Optional(Type.String({ maxLength: 2, minLength: 2 })),
});

export const TokenBody = Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const CloseBody = Strict({ password: Type.String({ minLength: 1, maxLength: 1024 }) });
export const PasswordChangeBody = Strict({
  password: Type.String({ minLength: 1, maxLength: 1024, description: 'The current password' }),
  newPassword: Type.String({ maxLength: passwordPolicy.maxLength * 4, description: `${passwordPolicy.minLength} to ${passwordPolicy.maxLength} characters, not easy to guess` }),
});

export const AccountSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    emailVerified: Type.Boolean(),
    username: Type.String(),
    fullName: Type.Union([Type.String(), Type.Null()]),
    roles: Type.Array(Type.String()),
    country: Type.String(),
    phone: Type.Union([Type.Object({ number: Type.String(), verified: Type.Boolean() }, { additionalProperties: true }), Type.Null()]),
    twoStep: Type.Object({ enabled: Type.Boolean(), methods: Type.Array(Type.String()) }, { additionalProperties: true }),
    staffRoles: Type.Array(Type.String()),
    status: Type.String(),
    createdAt: Type.String(),
  },
  { additionalProperties: true },
);

export const SessionTokenSchema = Type.Object({ token: Type.String(), expiresAt: Type.String() });
