/**
 * Runs a GraphQL document in-process through the same Yoga instance as `/graphql` (yoga.fetch,
 * no socket), so in-process callers (the REST and jsonapi compat layers, tests) get exactly the
 * same authentication, masking, limits and rate limits. The caller passes the original
 * request's credentials (Authorization and/or Cookie) and client address, and gets the result
 * plus the response headers (e.g. Set-Cookie from `login`).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import type { AppContext } from '../app-context.ts';
import { graphqlModuleOf } from './module.ts';
import { GRAPHQL_PATH } from './yoga.ts';

export interface ExecuteOptions {
  /** The caller's credential headers, passed through unchanged. */
  authorization?: string | null | undefined;
  cookie?: string | null | undefined;
  /** The original client's address (rate limits are keyed by it when anonymous). */
  clientIp: string;
  operationName?: string;
}

export interface ExecuteResult<TData> {
  data: TData | null;
  errors: readonly GraphQLFormattedError[];
  /** HTTP status Yoga chose (200 for most GraphQL errors). */
  status: number;
  /** Response headers; `setCookies` lists every Set-Cookie value. */
  headers: Headers;
  setCookies: string[];
}

const printed = new WeakMap<DocumentNode, string>();

function source(document: DocumentNode | string): string {
  if (typeof document === 'string') return document;
  let s = printed.get(document);
  if (s === undefined) {
    s = print(document);
    printed.set(document, s);
  }
  return s;
}

export async function executeOperation<TData, TVariables extends Record<string, unknown>>(
  app: AppContext,
  document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
  variables: TVariables | undefined,
  options: ExecuteOptions,
): Promise<ExecuteResult<TData>> {
  const module = graphqlModuleOf(app);
  if (!module) throw new Error('the GraphQL module is not mounted on this app');
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (options.authorization) headers.authorization = options.authorization;
  if (options.cookie) headers.cookie = options.cookie;
  const response = await module.yoga.fetch(
    `http://in-process${GRAPHQL_PATH}`,
    { method: 'POST', headers, body: JSON.stringify({ query: source(document), variables: variables ?? {}, ...(options.operationName ? { operationName: options.operationName } : {}) }) },
    { clientIp: options.clientIp },
  );
  const text = await response.text();
  let body: { data?: TData | null; errors?: GraphQLFormattedError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { data: null, errors: [{ message: text || 'Unexpected error.', extensions: { code: 'INTERNAL_ERROR' } }] };
  }
  return {
    data: body.data ?? null,
    errors: body.errors ?? [],
    status: response.status,
    headers: response.headers,
    setCookies: response.headers.getSetCookie(),
  };
}
