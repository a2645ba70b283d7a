/**
 * The Pothos schema builder: plugins and options only, no types (they live in types/*.ts).
 * Plugin order follows the scope-auth README: ScopeAuth first, then Prisma, Relay, Errors and
 * Dataloader. Scopes: `public`, `user` (any active signed-in account), `uploader`,
 * `moderator`, `admin` (each role includes the ones below it) and `ownerOf(userId)`.
 * Refusals: no viewer → UNAUTHORIZED (with the reason when a token was presented but refused),
 * a viewer without the scope → FORBIDDEN.
 */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import { hasRole } from '../auth/viewer.ts';
import type { GraphQLContext } from './context.ts';
import { forbidden, unauthorized } from './errors.ts';

export interface AuthScopes {
  public: boolean;
  user: boolean;
  uploader: boolean;
  moderator: boolean;
  admin: boolean;
  ownerOf: number;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    ID: { Input: string; Output: string | number };
    BigInt: { Input: bigint; Output: bigint | number | string };
    DateTime: { Input: Date; Output: Date };
    File: { Input: File; Output: never };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ErrorsPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Subscriptions are authorized when they start, not per event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      public: true,
      user: ctx.viewer !== null,
      uploader: ctx.viewer !== null && hasRole(ctx.viewer.role, 'UPLOADER'),
      moderator: ctx.viewer !== null && hasRole(ctx.viewer.role, 'MODERATOR'),
      admin: ctx.viewer !== null && hasRole(ctx.viewer.role, 'ADMIN'),
      ownerOf: (userId) => ctx.viewer !== null && ctx.viewer.id === userId,
    }),
    unauthorizedError: (_parent, ctx) => {
      if (ctx.viewer) return forbidden();
      const problem = ctx.auth.problem;
      if (problem === 'ACCOUNT_INACTIVE') return unauthorized('this account is banned or disabled', { reason: problem });
      if (problem === 'REVOKED_TOKEN') return unauthorized('the session token was revoked; sign in again', { reason: problem });
      if (problem === 'INVALID_TOKEN') return unauthorized('the session token is invalid or expired; sign in again', { reason: problem });
      return unauthorized();
    },
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {},
  errors: { defaultTypes: [] },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
