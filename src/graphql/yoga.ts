/**
 * GraphQL over HTTP with graphql-yoga: the schema, the per-request context (viewer from the
 * JWT, client IP, rate limits), and the hardening of API.md §3 / ECOSYSTEM §1.2:
 * - masked errors: deliberate errors keep their `extensions.code`; anything else becomes
 *   INTERNAL_ERROR with a generic message and is logged;
 * - every error leaves with a code from the contract's list (parse, validation and armor
 *   errors → BAD_USER_INPUT; CSRF refusals → FORBIDDEN);
 * - CSRF prevention (a custom header on requests a browser would not preflight), no batching,
 *   a request body cap, graphql-armor limits on depth, aliases, cost, tokens and directives
 *   (introspection included);
 * - rate limits per operation class (read / write / auth), keyed by user or client IP.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { getOperationAST, GraphQLError, Kind, OperationTypeNode, type ASTVisitor, type DocumentNode, type ExecutionResult, type ValidationContext } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../app-context.ts';
import { ANONYMOUS, authenticate } from '../auth/viewer.ts';
import { limiterKey, type LimitClass, type RateLimits } from '../ratelimit/limiter.ts';
import { createSwarmLoader, type GraphQLContext } from './context.ts';
import { ApiError, ERROR_CODES, toClientError, type ErrorCode } from './errors.ts';
import type { GraphQLPubSub } from './pubsub.ts';
import { schema } from './schema.ts';

export const GRAPHQL_PATH = '/graphql';
/** JSON bodies are small; multipart uploads carry a .torrent of at most 4 MiB. */
export const MAX_JSON_BODY = 1_000_000;
export const MAX_MULTIPART_BODY = 4 * 1024 * 1024 + 64 * 1024;

/** What Yoga gets from the transport: Node's req/res, or an in-process caller's address. */
export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  /** In-process calls (execute.ts): the original client's address. */
  clientIp?: string;
}

export interface YogaDeps {
  app: AppContext;
  limits: RateLimits;
  pubsub: GraphQLPubSub;
}

export type OpenTrackerYoga = YogaServerInstance<ServerContext, GraphQLContext>;

/** Mutations that authenticate: limited by the auth budget, per client IP. */
const AUTH_MUTATIONS = new Set(['login', 'register', 'createFirstAdmin']);

function withCode(err: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    path: err.path,
    originalError: err.originalError,
    extensions: { ...err.extensions, code },
  });
}

/** Every error carries a code of the contract's list. */
export function normaliseError(err: GraphQLError): GraphQLError {
  const code = err.extensions.code;
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) return err;
  const status = err.extensions.http?.status;
  if (status === 403) return withCode(err, 'FORBIDDEN');
  if (status === 401) return withCode(err, 'UNAUTHORIZED');
  if (status !== undefined && status >= 500) return withCode(err, 'INTERNAL_ERROR');
  return withCode(err, 'BAD_USER_INPUT');
}

/**
 * GraphQLError by shape, not class: a test runner may load `graphql` twice (ESM and CJS), and
 * Yoga's errors then are not instances of this module's GraphQLError.
 */
export function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError' && typeof (e as { extensions?: unknown }).extensions === 'object';
}

function normaliseResult(result: ExecutionResult): ExecutionResult {
  if (!result.errors || result.errors.length === 0) return result;
  return { ...result, errors: result.errors.map((e) => (isGraphQLError(e) ? normaliseError(e) : e)) };
}

/**
 * The deliberate error inside `error` (it may be wrapped by graphql-js and Yoga, and graphql
 * may be loaded twice by a test runner, so this looks at codes rather than classes).
 */
function deliberateError(error: unknown): ApiError | null {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e; depth++) {
    const client = toClientError(e);
    if (client) return client;
    if (typeof e !== 'object') break;
    const ext = (e as { extensions?: Record<string, unknown> }).extensions;
    const code = ext?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_ERROR' && (ERROR_CODES as readonly string[]).includes(code)) {
      return new ApiError(code as ErrorCode, (e as { message?: string }).message ?? code, ext);
    }
    e = (e as { originalError?: unknown }).originalError;
  }
  return null;
}

/** Introspection fields that return lists: nesting them multiplies the work. */
const INTROSPECTION_LISTS = new Set(['types', 'fields', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'args']);
/** The standard introspection query nests at most 3 (types → fields → args). */
const MAX_INTROSPECTION_LISTS = 3;

/** A validation rule bounding nested introspection lists (armor's static cost skips them here). */
export function introspectionFanOutRule(context: ValidationContext): ASTVisitor {
  let depth = 0;
  let reported = false;
  return {
    Field: {
      enter(node) {
        if (!INTROSPECTION_LISTS.has(node.name.value)) return;
        depth += 1;
        if (depth > MAX_INTROSPECTION_LISTS && !reported) {
          reported = true;
          context.reportError(new GraphQLError(`Introspection lists nested more than ${MAX_INTROSPECTION_LISTS} deep`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
        }
      },
      leave(node) {
        if (INTROSPECTION_LISTS.has(node.name.value)) depth -= 1;
      },
    },
  };
}

export function createGraphQLYoga(deps: YogaDeps): OpenTrackerYoga {
  const { app, limits, pubsub } = deps;
  const log = app.logger.child({ module: 'graphql' });
  const cookieJar = new WeakMap<Request, string[]>();

  const errorCodes: Plugin = {
    onResultProcess(payload) {
      const result = payload.result;
      if (Array.isArray(result)) payload.setResult(result.map((r: ExecutionResult) => normaliseResult(r)));
      else if (result && typeof result === 'object' && 'errors' in result) payload.setResult(normaliseResult(result as ExecutionResult));
    },
  };

  const rateLimit: Plugin<GraphQLContext> = {
    async onExecute({ args, setResultAndStopExecution }) {
      const op = getOperationAST(args.document as DocumentNode, args.operationName as string | null | undefined);
      if (!op || op.operation === OperationTypeNode.SUBSCRIPTION) return;
      const ctx = args.contextValue;
      let cls: LimitClass = op.operation === OperationTypeNode.MUTATION ? 'write' : 'read';
      if (op.operation === OperationTypeNode.MUTATION && op.selectionSet.selections.some((s) => s.kind === Kind.FIELD && AUTH_MUTATIONS.has(s.name.value))) cls = 'auth';
      const key = cls === 'auth' ? limiterKey(null, ctx.clientIp) : limiterKey(ctx.viewer?.id ?? null, ctx.clientIp);
      try {
        await limits.consume(cls, key);
      } catch (err) {
        const client = toClientError(err);
        if (!client) throw err;
        setResultAndStopExecution({ errors: [client] });
      }
    },
  };

  const introspectionFanOut: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(introspectionFanOutRule);
    },
  };

  const cookies: Plugin = {
    onResponse({ request, response }) {
      const set = cookieJar.get(request);
      if (set) for (const c of set) response.headers.append('set-cookie', c);
    },
  };

  const armor = EnvelopArmorPlugin({
    // 15: what the standard introspection query needs (fragments flattened).
    maxDepth: { n: 15, ignoreIntrospection: false, flattenFragments: true },
    maxAliases: { n: 15 },
    // Introspection is bounded by depth, aliases and tokens; its static cost (~90k) is not.
    costLimit: { maxCost: 5000, ignoreIntrospection: true },
    maxTokens: { n: 2000 },
    maxDirectives: { n: 20 },
    blockFieldSuggestion: { enabled: app.config.env === 'production' },
  });

  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: app.config.graphiql ? { title: 'OpenTracker GraphQL', headers: JSON.stringify({ 'x-graphql-yoga-csrf': '1' }) } : false,
    landingPage: false,
    batching: false,
    maxRequestBodySize: MAX_MULTIPART_BODY,
    logging: {
      debug: (...a: unknown[]) => log.debug({ args: a }, 'yoga'),
      info: (...a: unknown[]) => log.info({ args: a }, 'yoga'),
      warn: (...a: unknown[]) => log.warn({ args: a }, 'yoga'),
      error: (...a: unknown[]) => log.error({ args: a }, 'yoga'),
    },
    maskedErrors: {
      maskError: (error) => {
        const located = isGraphQLError(error) ? error : null;
        const client = deliberateError(error);
        if (client) {
          return located ? new GraphQLError(client.message, { nodes: located.nodes, source: located.source, positions: located.positions, path: located.path, extensions: client.extensions }) : client;
        }
        // GraphQL's own errors (syntax, validation, variables, transport) are deliberate too.
        if (located && !located.originalError) return located;
        log.error({ err: located ? (located.originalError ?? located) : error }, 'unexpected error in a GraphQL operation');
        return located
          ? new GraphQLError('Unexpected error.', { nodes: located.nodes, source: located.source, positions: located.positions, path: located.path, extensions: { code: 'INTERNAL_ERROR' } })
          : new ApiError('INTERNAL_ERROR', 'Unexpected error.');
      },
    },
    plugins: [useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'graphql-require-preflight', 'apollo-require-preflight'] }), armor, introspectionFanOut, rateLimit, errorCodes, cookies],
    context: async ({ request, req, clientIp }): Promise<GraphQLContext> => {
      const headers = { authorization: request.headers.get('authorization'), cookie: request.headers.get('cookie') };
      const auth = headers.authorization || headers.cookie ? await authenticate(headers, app.config.auth, app.users) : ANONYMOUS;
      const setCookies: string[] = [];
      cookieJar.set(request, setCookies);
      return {
        app,
        prisma: app.db.prisma,
        auth,
        viewer: auth.viewer,
        clientIp: clientIp ?? (req ? app.clientIp.text(req) : '127.0.0.1'),
        limits,
        pubsub,
        swarmCounts: createSwarmLoader((keys) => app.swarm.scrape(keys)),
        setCookies,
      };
    },
  });
}
