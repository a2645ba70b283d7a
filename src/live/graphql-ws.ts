/**
 * GraphQL subscriptions over WebSocket (`graphql-transport-ws`, graphql-ws) on `/graphql`
 * upgrades, running every operation through the same Yoga envelope as HTTP
 * (`yoga.getEnveloped`): the same context factory (viewer from the JWT), the same error
 * masking and the same armor limits (depth, cost, aliases, tokens) on parse and validate.
 *
 * Hardening (ECOSYSTEM.md §2.8): the token comes from the `connection_init` payload
 * (`{ authorization: "Bearer …" }` or `{ token }`) or the session cookie of the upgrade
 * request; without a valid one the socket is closed with 4403. `connection_init` must arrive
 * within `connectionInitWaitTimeout` (close 4408); at most `maxSubscriptionsPerSocket`
 * subscriptions per socket (more: an error message, socket kept), `maxSocketsPerUser` sockets
 * per user, 64 KiB frames; a subscriber whose socket does not drain is closed (4429) rather
 * than buffered without bound (the pub/sub also drops subscribers that fall behind).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../app-context.ts';
import { authenticate } from '../auth/viewer.ts';
import { graphqlModuleOf } from '../graphql/module.ts';
import type { ModuleFactory } from '../server/module.ts';

export interface GraphqlWsOptions {
  path: string;
  maxPayload: number;
  connectionInitWaitTimeout: number;
  maxSubscriptionsPerSocket: number;
  maxSocketsPerUser: number;
  /** Unsent bytes on a socket before its subscriber is considered too slow and closed. */
  maxBufferedBytes: number;
  /** Ping interval, ms. */
  keepAlive: number;
}

export const DEFAULT_GRAPHQL_WS_OPTIONS: GraphqlWsOptions = {
  path: '/graphql',
  maxPayload: 64 * 1024,
  connectionInitWaitTimeout: 3000,
  maxSubscriptionsPerSocket: 20,
  maxSocketsPerUser: 16,
  maxBufferedBytes: 1024 * 1024,
  keepAlive: 12_000,
};

/** What this needs of a Yoga instance (graphql-yoga's `YogaServerInstance` has it). */
export interface EnvelopedYoga {
  getEnveloped: (initialContext: never) => {
    schema: ExecutionArgs['schema'];
    parse: (source: string) => ExecutionArgs['document'];
    validate: (schema: ExecutionArgs['schema'], document: ExecutionArgs['document']) => readonly GraphQLError[];
    contextFactory: () => unknown;
    execute: (args: ExecutionArgs) => unknown;
    subscribe: (args: ExecutionArgs) => unknown;
  };
}

interface SocketState {
  headers: Headers;
  userId: number | null;
  subscriptions: Set<string>;
}

/**
 * graphql-ws accepts errors from onSubscribe only if they are `instanceof` *its* GraphQLError,
 * which is graphql's CommonJS build (what Node resolves `graphql` to). A bundler or test runner
 * may hand this module the ESM build instead (graphql 16 ships both): take the class from the
 * CommonJS build explicitly so both sides agree.
 */
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof GraphQL;
type GraphQLError = GraphQL.GraphQLError;

const CODES = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'INTERNAL_ERROR']);

/** Errors leave with a code of the contract's list, as over HTTP. */
function coded(err: GraphQLError, fallback = 'BAD_USER_INPUT'): GraphQLError {
  const code = err.extensions.code;
  if (typeof code === 'string' && CODES.has(code)) return err;
  return new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, path: err.path, originalError: err.originalError, extensions: { ...err.extensions, code: fallback } });
}

function tokenFrom(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  const auth = params.authorization ?? params.Authorization;
  if (typeof auth === 'string' && auth.trim()) return /^Bearer\s/i.test(auth.trim()) ? auth.trim() : `Bearer ${auth.trim()}`;
  if (typeof params.token === 'string' && params.token) return `Bearer ${params.token}`;
  return null;
}

export interface GraphqlWs {
  /** For a ServerModule: takes `/graphql` upgrades. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
  sockets(): number;
  close(): Promise<void>;
}

export function createGraphqlWs(yoga: EnvelopedYoga, app: AppContext, overrides: Partial<GraphqlWsOptions> = {}): GraphqlWs {
  const opts = { ...DEFAULT_GRAPHQL_WS_OPTIONS, ...overrides };
  const logger = app.logger.child({ module: 'graphql-ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false });
  const state = new WeakMap<WebSocket, SocketState>();
  const perUser = new Map<number, number>();
  let open = 0;
  const stateOf = (socket: WebSocket): SocketState => {
    let s = state.get(socket);
    if (!s) {
      s = { headers: new Headers(), userId: null, subscriptions: new Set() };
      state.set(socket, s);
    }
    return s;
  };

  wss.on('connection', (socket) => {
    open++;
    socket.on('error', (err) => logger.debug({ err: err.message }, 'graphql-ws socket error'));
    socket.once('close', () => open--);
  });

  const disposable = useServer(
    {
      connectionInitWaitTimeout: opts.connectionInitWaitTimeout,
      onConnect: async (c) => {
        const s = stateOf(c.extra.socket);
        const token = tokenFrom(c.connectionParams);
        if (token) s.headers.set('authorization', token);
        const cookie = c.extra.request.headers.cookie;
        if (cookie) s.headers.set('cookie', cookie);
        const auth = await authenticate({ authorization: s.headers.get('authorization'), cookie: s.headers.get('cookie') }, app.config.auth, app.users);
        if (!auth.viewer) return false; // 4403 Forbidden
        const n = perUser.get(auth.viewer.id) ?? 0;
        if (n >= opts.maxSocketsPerUser) {
          c.extra.socket.close(4429, `too many subscription connections: at most ${opts.maxSocketsPerUser} per user`);
          return false;
        }
        perUser.set(auth.viewer.id, n + 1);
        s.userId = auth.viewer.id;
        return true;
      },
      onClose: (c) => {
        const s = state.get(c.extra.socket);
        if (s?.userId != null) {
          const n = (perUser.get(s.userId) ?? 1) - 1;
          if (n <= 0) perUser.delete(s.userId);
          else perUser.set(s.userId, n);
          s.userId = null;
        }
      },
      onSubscribe: async (c, id, payload) => {
        const s = stateOf(c.extra.socket);
        if (s.subscriptions.size >= opts.maxSubscriptionsPerSocket) {
          return [new GraphQLError(`too many subscriptions on this connection: at most ${opts.maxSubscriptionsPerSocket}`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        const request = new Request(`http://localhost${opts.path}`, { method: 'POST', headers: s.headers });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ request, req: c.extra.request, params: payload } as never);
        let document;
        try {
          document = parse(payload.query);
          // Armor's limits throw from validate; either way they reach the client as errors.
          const errors = validate(schema, document);
          if (errors.length > 0) return errors.map((e) => coded(e instanceof GraphQLError ? e : new GraphQLError((e as Error).message, { extensions: (e as GraphQLError).extensions })));
        } catch (err) {
          // Armor's limits throw; any GraphQLError (of either graphql build) goes to the client.
          if (err instanceof GraphQLError) return [coded(err)];
          if (err instanceof Error && err.name === 'GraphQLError') return [new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT' } })];
          throw err;
        }
        s.subscriptions.add(id);
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args),
      onNext: (c, _id, _payload, _args, result: ExecutionResult) => {
        if (c.extra.socket.bufferedAmount > opts.maxBufferedBytes) {
          c.extra.socket.close(4429, 'subscriber too slow: events were dropped; reconnect');
          return;
        }
        if (result.errors?.length) return { ...result, errors: result.errors.map((e) => coded(e, 'INTERNAL_ERROR').toJSON()) };
        return undefined;
      },
      onError: (_c, _id, _payload, errors) => errors.map((e) => coded(e).toJSON()),
      onComplete: (c, id) => {
        state.get(c.extra.socket)?.subscriptions.delete(id);
      },
    },
    wss,
    opts.keepAlive,
  );

  return {
    upgrade(req, socket, head, path) {
      if (path !== opts.path) return false;
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    sockets: () => open,
    close: async () => {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await disposable.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Module factory: graphql-ws on the Yoga instance of the GraphQL module, which must be mounted
 * before it (server/modules.ts order). Without one, WebSocket subscriptions are off (logged).
 */
export function createGraphqlWsModule(options: Partial<GraphqlWsOptions> = {}): ModuleFactory {
  return (app) => {
    const gql = graphqlModuleOf(app);
    if (!gql) {
      app.logger.warn('graphql-ws: no GraphQL module is mounted before it; subscriptions over WebSocket are off');
      return { name: 'graphql-ws' };
    }
    const ws = createGraphqlWs(gql.yoga, app, options);
    return { name: 'graphql-ws', upgrade: (req, socket, head, path) => ws.upgrade(req, socket, head, path), close: () => ws.close() };
  };
}

export const graphqlWsModule: ModuleFactory = createGraphqlWsModule();
