/**
 * The GraphQL feature as a server module: `/graphql` (Yoga: POST, GET, multipart, GraphiQL in
 * development) and `GET /download/{id}` (the .torrent with the caller's passkey, authenticated
 * by the same Bearer token or session cookie). Also exposes `execute` for in-process callers
 * (the compat layer) through execute.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../app-context.ts';
import { authenticate } from '../auth/viewer.ts';
import type { ModuleFactory, ServerModule } from '../server/module.ts';
import { createRateLimits, limiterKey, RateLimited, redisLimiterFactory, type LimitClass, type LimitRule, type LimiterFactory, type RateLimits } from '../ratelimit/limiter.ts';
import { torrentFileHeaders } from '../shared/content-disposition.ts';
import { personalDownload } from '../torrents/download.ts';
import { createGraphQLPubSub, type GraphQLPubSub } from './pubsub.ts';
import { createGraphQLYoga, GRAPHQL_PATH, MAX_JSON_BODY, type OpenTrackerYoga } from './yoga.ts';

export interface GraphQLModuleOptions {
  /** Override the contract's limits (tests). */
  rateLimits?: Partial<Record<LimitClass, LimitRule>>;
  /** Limiter store (default: in-process memory). */
  limiterFactory?: LimiterFactory;
  pubsub?: GraphQLPubSub;
}

export interface GraphQLModule extends ServerModule {
  yoga: OpenTrackerYoga;
  limits: RateLimits;
  pubsub: GraphQLPubSub;
}

const instances = new WeakMap<AppContext, GraphQLModule>();

/** The GraphQL module mounted on an app (for execute.ts and tests). */
export function graphqlModuleOf(app: AppContext): GraphQLModule | undefined {
  return instances.get(app);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

const DOWNLOAD = /^\/download\/([1-9][0-9]{0,9})(?:\.torrent)?$/;

export function createGraphQLModule(options: GraphQLModuleOptions = {}): ModuleFactory {
  return (app) => {
    // Several processes share one budget through Redis when the app has it.
    const factory = options.limiterFactory ?? (app.redis ? redisLimiterFactory(app.redis, app.config.redisPrefix) : undefined);
    const limits = createRateLimits({ ...(options.rateLimits ? { rules: options.rateLimits } : {}), ...(factory ? { factory } : {}) });
    const pubsub = options.pubsub ?? createGraphQLPubSub();
    const yoga = createGraphQLYoga({ app, limits, pubsub });
    const log = app.logger.child({ module: 'graphql' });

    async function download(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
      const auth = await authenticate({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null }, app.config.auth, app.users);
      const ip = app.clientIp.text(req);
      try {
        await limits.consume('read', limiterKey(auth.viewer?.id ?? null, ip));
      } catch (err) {
        if (err instanceof RateLimited) return sendJson(res, 429, { error: { code: 'RATE_LIMITED', message: err.message } }, { 'retry-after': String(err.retryAfter) });
        throw err;
      }
      if (!auth.viewer) return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'sign in first', ...(auth.problem ? { reason: auth.problem } : {}) } }, { 'www-authenticate': 'Bearer' });
      const user = app.users.byId(auth.viewer.id);
      if (!user) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'torrent not found' } });
      const found = await personalDownload(app.db.prisma, id, auth.viewer, app.config.publicUrl, user.passkey);
      if (!found.ok) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: found.message } });
      res.writeHead(200, torrentFileHeaders(found.name, found.body.length));
      res.end(found.body);
    }

    const module: GraphQLModule = {
      name: 'graphql',
      yoga,
      limits,
      pubsub,
      handle(req, res, path) {
        if (path === GRAPHQL_PATH) {
          const type = req.headers['content-type'] ?? '';
          const length = Number(req.headers['content-length'] ?? 0);
          if (!type.startsWith('multipart/form-data') && length > MAX_JSON_BODY) {
            sendJson(res, 413, { errors: [{ message: 'request body too large', extensions: { code: 'BAD_USER_INPUT' } }] });
            req.resume();
            return true;
          }
          void Promise.resolve(yoga(req, res, { req, res })).catch((err: unknown) => {
            log.error({ err }, 'GraphQL request failed');
            if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_ERROR' } }] });
            else res.end();
          });
          return true;
        }
        const m = DOWNLOAD.exec(path);
        if (m && (req.method === 'GET' || req.method === 'HEAD')) {
          download(req, res, Number(m[1])).catch((err: unknown) => {
            log.error({ err }, 'download failed');
            if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'internal server error' } });
            else res.end();
          });
          return true;
        }
        return false;
      },
      close: async () => {
        instances.delete(app);
        await yoga.dispose();
      },
    };
    instances.set(app, module);
    return module;
  };
}

export const graphqlModule: ModuleFactory = createGraphQLModule();
