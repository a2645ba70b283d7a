/**
 * GraphQL test helpers: an app with the GraphQL module only (generous rate limits unless a
 * test asks for the contract's), typed requests over real HTTP, and sessions for fixture users.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { signSession } from '../../src/auth/jwt.ts';
import { createGraphQLModule, type GraphQLModuleOptions } from '../../src/graphql/module.ts';
import type { Role, UserStatus } from '../../src/generated/prisma/enums.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { aUser, type TestUser } from '../support/factories.ts';

export const GENEROUS = { read: { points: 100_000, duration: 60 }, write: { points: 100_000, duration: 60 }, auth: { points: 100_000, duration: 300 } };

export async function startGraphQLApp(env: Record<string, string> = {}, options: GraphQLModuleOptions = {}): Promise<TestApp> {
  return startTestApp(env, { modules: [createGraphQLModule({ rateLimits: GENEROUS, ...options })], timers: false });
}

export interface GqlResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLFormattedError[] | undefined;
  headers: Headers;
}

export interface Caller {
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

export async function gql<TData, TVars>(t: TestApp, document: TypedDocumentNode<TData, TVars>, variables?: TVars, caller: Caller = {}): Promise<GqlResponse<TData>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...caller.headers };
  if (caller.token) headers.authorization = `Bearer ${caller.token}`;
  if (caller.cookie) headers.cookie = caller.cookie;
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: print(document), variables: variables ?? {} }) });
  const body = (await res.json()) as { data?: TData | null; errors?: GraphQLFormattedError[] };
  return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
}

/** The codes of a response's errors. */
export function codes(r: { errors?: readonly GraphQLFormattedError[] | undefined }): unknown[] {
  return (r.errors ?? []).map((e) => e.extensions?.code);
}

export interface Member extends TestUser {
  token: string;
  role: Role;
}

/** A fixture user with a valid session token (no password hashing). */
export async function aMember(t: TestApp, opts: { role?: Role; status?: UserStatus; bonus?: number; username?: string } = {}): Promise<Member> {
  const u = await aUser(t.db, opts);
  await t.app.ctx.users.reload(u.id);
  const { token } = signSession(t.app.ctx.config.auth, u.id, 0);
  return { ...u, token, role: opts.role ?? 'USER' };
}
