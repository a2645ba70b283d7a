/**
 * Compat test helpers: an app with the compat and GraphQL modules (generous GraphQL limits
 * unless a test asks otherwise), a counting executor that records every GraphQL operation a
 * legacy request runs, and raw HTTP helpers that keep status, headers and body.
 */
import { Kind, type OperationDefinitionNode } from 'graphql';
import { createCompatModule, type CompatModuleOptions } from '../../compat/module.ts';
import { defaultExecutor, type CompatExecutor } from '../../compat/execute.ts';
import { createGraphQLModule, type GraphQLModuleOptions } from '../../src/graphql/module.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { GENEROUS } from '../graphql/support.ts';

export interface Operations {
  /** Operation names executed, in order. */
  names: string[];
  reset(): void;
}

export function countingExecutor(): { execute: CompatExecutor; ops: Operations } {
  const names: string[] = [];
  const execute: CompatExecutor = (app, document, variables, options) => {
    const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    names.push(op?.name?.value ?? '?');
    return defaultExecutor(app, document, variables, options);
  };
  return { execute, ops: { names, reset: () => void names.splice(0) } };
}

/** Generous jsonapi limits for tests that are not about limits. */
export const GENEROUS_JSONAPI = { anonymous: { points: 100_000, duration: 60 }, perUserPoints: 100_000 };

export async function startCompatApp(
  opts: { graphql?: GraphQLModuleOptions; compat?: CompatModuleOptions; env?: Record<string, string> } = {},
): Promise<{ t: TestApp; ops: Operations }> {
  const { execute, ops } = countingExecutor();
  const t = await startTestApp(opts.env ?? {}, {
    modules: [createCompatModule({ execute, ...opts.compat }), createGraphQLModule({ rateLimits: GENEROUS, ...opts.graphql })],
    timers: false,
  });
  return { t, ops };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function http(t: TestApp, path: string, init: RequestInit & { token?: string } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(`${t.url}${path}`, { ...init, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const postJson = (body: unknown, extra: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) });
export const postForm = (fields: Record<string, string>, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
  body: new URLSearchParams(fields).toString(),
});
