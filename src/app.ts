/**
 * The composition root: builds every piece of a running server from a Config and an open
 * Database, wires the HTTP routes (tracker first, then operator endpoints, then the feature
 * modules of server/modules.ts), and owns start and graceful stop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { AccountingFlusher } from './accounting/flush.ts';
import { Ledger } from './accounting/ledger.ts';
import { ledgerSource } from './accounting/credit-source.ts';
import { createSuspicionLog } from './accounting/suspicion-log.ts';
import { CompletionSeeder } from './accounting/completion-seeder.ts';
import type { AppContext } from './app-context.ts';
import { ClientAllowList } from './cache/client-allow-list.ts';
import { TorrentRegistry } from './cache/torrent-registry.ts';
import { TorrentSecrets } from './cache/torrent-secrets.ts';
import { UserDirectory } from './cache/user-directory.ts';
import type { Config } from './config.ts';
import type { Database } from './db/open-database.ts';
import { keepPlannerStatistics } from './db/planner-statistics.ts';
import { withSiteJwtSecret } from './auth/site-secret.ts';
import { createMetrics } from './metrics/registry.ts';
import { createClientIpResolver } from './server/client-ip.ts';
import { listenServer, type Listening } from './server/listen.ts';
import { createTrackerConnections } from './server/tracker-connections.ts';
import type { ModuleFactory, ServerModule } from './server/module.ts';
import { moduleFactories } from './server/modules.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { createLocalEventBus, type EventBus } from './shared/events.ts';
import { createRedisEventBus } from './shared/redis-events.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { MemorySwarmStore } from './swarm/stores/memory.ts';
import { RedisSwarmStore } from './swarm/stores/redis.ts';
import { RedisCreditSource } from './accounting/redis-credit.ts';
import type { SwarmStore } from './swarm/swarm-store.ts';
import type { TrackerDeps } from './tracker/announce.ts';
import { createTrackerHttp, type TrackerReply, type TrackerRequest } from './tracker/http/tracker-routes.ts';
import { memoryAnnounceLimiter, redisAnnounceLimiter } from './tracker/announce-limiter.ts';

export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  events?: EventBus;
  swarm?: SwarmStore;
  /** Feature modules; default: all of server/modules.ts. */
  modules?: ModuleFactory[];
  /** Run the flush and sweep timers (tests drive them by hand). Default true. */
  timers?: boolean;
}

export interface App {
  ctx: AppContext;
  /** The listening socket: tracker requests are served from it, the rest by `http`. */
  server: NetServer;
  http: Server;
  /** On `host`, or on both IPv4 and IPv6 when it is null (server/listen.ts); defaults from the config. */
  listen(port?: number, host?: string | null): Promise<Listening>;
  /** Graceful stop: no new connections, in-flight requests finish, credit flushed. Leaves the database open. */
  stop(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

function nodeReply(res: ServerResponse): TrackerReply {
  return {
    send(status, body, retryAfterSeconds) {
      const headers = ['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store', 'content-length', String(body.length)];
      if (retryAfterSeconds !== undefined) headers.push('retry-after', String(retryAfterSeconds));
      res.writeHead(status, headers);
      res.end(body);
    },
  };
}

export async function createApp(settings: Config, db: Database, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const config = await withSiteJwtSecret(settings, db, logger);
  const clock = options.clock ?? systemClock;
  const redisEvents = !options.events && config.redisUrl ? createRedisEventBus(config.redisUrl, config.redisPrefix, logger) : null;
  if (redisEvents) await redisEvents.ready;
  const events = options.events ?? redisEvents ?? createLocalEventBus();
  const now = () => clock.now();
  const users = new UserDirectory(db.prisma, events, now);
  const torrents = new TorrentRegistry(db.prisma, events, now);
  const clients = new ClientAllowList(db.prisma, events);
  const secrets = new TorrentSecrets(db.prisma, events);
  await Promise.all([users.loadAll(), torrents.loadAll(), clients.load(), secrets.load()]);
  const peerTtl = config.tracker.interval + config.tracker.peerGrace;
  const redisStore = !options.swarm && config.redisUrl ? new RedisSwarmStore({ url: config.redisUrl, peerTtl, prefix: config.redisPrefix }) : null;
  const swarm = options.swarm ?? redisStore ?? new MemorySwarmStore({ peerTtl });
  const ledger = new Ledger(now);
  const creditSource = redisStore ? new RedisCreditSource(redisStore, torrents) : ledgerSource(ledger);
  const flusher = new AccountingFlusher({
    db,
    source: creditSource,
    logger,
    nowMs: now,
    swarmCounts: async (ids) => {
      const keys = ids.map((id) => torrents.byId(id)?.keys[0] ?? '');
      return swarm.scrape(keys);
    },
    onCompleted: (updates) => {
      for (const u of updates) torrents.setCompleted(u.id, u.completed);
    },
  });
  const metrics = createMetrics(
    { swarmTotals: () => swarm.totals(), flushLagSeconds: () => flusher.lagMs() / 1000, pendingCredit: () => flusher.pendingEntries() },
    { defaultMetrics: config.env !== 'test' },
  );
  const suspicions = createSuspicionLog({ db, events, metrics, logger, nowMs: now });
  const completions = new CompletionSeeder(db, swarm, torrents, logger);
  flusher.alsoWrite = () => suspicions.flush();
  const tracker: TrackerDeps = {
    users,
    torrents,
    clients,
    swarm,
    ledger,
    clock,
    rules: { maxGapSeconds: peerTtl, bonusPerSeedHour: config.accounting.bonusPerSeedHour, maxUploadRate: config.tracker.maxUploadRate, revokeLeechRate: config.tracker.revokeLeechRate },
    announceRateLimit: config.tracker.announceRateLimit,
    onSuspicious: suspicions.record,
    completions,
    limiter: redisStore ? redisAnnounceLimiter(redisStore.redis, config.tracker.announceRateLimit, config.redisPrefix) : memoryAnnounceLimiter(config.tracker.announceRateLimit),
  };
  const clientIp = createClientIpResolver(config.trustProxy);
  const ctx: AppContext = { config, db, logger, clock, events, users, torrents, clients, swarm, ledger, flusher, metrics, clientIp, tracker, redis: redisStore?.redis ?? null };
  const authkey = (key: string) => users.byId(secrets.userOf(key))?.passkey;
  const trackerHttp = createTrackerHttp(tracker, { ...config.tracker, authkey }, clientIp, metrics, logger);
  const modules: ServerModule[] = [];
  for (const factory of options.modules ?? moduleFactories) modules.push(await factory(ctx));

  const announceAliases = new Set(config.tracker.announceAliases);
  const timers = metrics.routeTimers;

  function operatorRoute(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/healthz') {
      res.writeHead(200, JSON_HEADERS);
      res.end(JSON.stringify({ status: 'ok', database: db.kind, swarmStore: config.redisUrl ? 'redis' : 'memory' }));
      return true;
    }
    if (path === '/metrics') {
      if (config.metricsToken && req.headers.authorization !== `Bearer ${config.metricsToken}`) {
        res.writeHead(401, { ...JSON_HEADERS, 'www-authenticate': 'Bearer' });
        res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'metrics need the operator token' } }));
        return true;
      }
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          logger.error({ err }, 'metrics collection failed');
          res.writeHead(500, JSON_HEADERS);
          res.end('{}');
        },
      );
      return true;
    }
    if (path === '/__perf' && config.perfProbe) {
      const g = (globalThis as { gc?: () => void }).gc;
      if (req.url?.includes('gc=1') && g) {
        g();
        g();
      }
      void swarm.totals().then((t) => {
        res.writeHead(200, JSON_HEADERS);
        res.end(JSON.stringify({ ...process.memoryUsage(), peers: t.peers, torrents: t.swarms, registered: torrents.size, users: users.size }));
      });
      return true;
    }
    return false;
  }

  /** Serves announce and scrape on their paths; false for every other path. */
  function trackerRoute(req: TrackerRequest, path: string, query: number, reply: TrackerReply, started: number): boolean {
    const route = matchTrackerPath(path, announceAliases);
    if (!route) return false;
    if (route.kind === 'announce') trackerHttp.announce(req, reply, query, route.passkey, started);
    else trackerHttp.scrape(req, reply, query, route.passkey, started);
    return true;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const started = performance.now();
    // Tracker requests node:http got (a body, HEAD-like oddities, a connection that began with another request).
    if (trackerRoute(req as TrackerRequest, path, q < 0 ? url.length : q + 1, nodeReply(res), started)) return;
    try {
      if (operatorRoute(req, res, path)) return;
      for (const m of modules) {
        if (m.handle?.(req, res, path)) {
          const timer = m.name === 'graphql' ? timers.graphql : m.name === 'compat' ? timers.compat : timers.other;
          res.once('finish', () => timer.observe((performance.now() - started) / 1000));
          return;
        }
      }
    } catch (err) {
      logger.error({ err }, 'request handler failed');
      if (!res.headersSent) res.writeHead(500, JSON_HEADERS);
      res.end(JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'internal server error' } }));
      return;
    }
    res.writeHead(404, JSON_HEADERS);
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${req.method ?? 'GET'} ${path}` } }));
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const m of modules) if (m.upgrade?.(req, socket, head, path)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  const limits = { keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 30_000, maxHeaderSize: 16 * 1024 };
  const http = createServer(limits, onRequest);
  http.on('upgrade', onUpgrade);
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  // node:http starts its header and request timeout checks when it starts listening; it never
  // listens itself here (connections come from tracker-connections.ts), so it is told.
  http.emit('listening');
  const connections = createTrackerConnections({ route: trackerRoute, http, maxHeaderSize: limits.maxHeaderSize, headersTimeoutMs: limits.headersTimeout, keepAliveTimeoutMs: limits.keepAliveTimeout });
  const server = connections.server;

  let sweeper: NodeJS.Timeout | null = null;
  let stopStatistics: () => void = () => undefined;
  if (options.timers !== false) {
    stopStatistics = keepPlannerStatistics(db, logger);
    flusher.start(config.accounting.flushIntervalMs);
    sweeper = setInterval(() => {
      void swarm.sweep(Math.floor(clock.now() / 1000)).catch((err: unknown) => logger.error({ err }, 'swarm sweep failed'));
    }, 60_000);
    sweeper.unref();
  }

  let stopping: Promise<void> | null = null;
  return {
    ctx,
    server,
    http,
    listen: (port = config.port, host = config.host) => listenServer(server, port, host, logger),
    stop: () => {
      stopping ??= (async () => {
        if (sweeper) clearInterval(sweeper);
        stopStatistics();
        const closed = new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          server.close(() => resolve());
          connections.closeIdle();
          // Closes node:http's idle keep-alive connections and stops its timeout checks.
          http.close(() => undefined);
        });
        const deadline = setTimeout(() => {
          connections.destroyAll();
          http.closeAllConnections();
        }, 10_000);
        for (const m of modules) await m.close?.().catch((err: unknown) => logger.error({ err, module: m.name }, 'module close failed'));
        await closed;
        clearTimeout(deadline);
        const flushed = await flusher.stop().catch((err: unknown) => {
          logger.error({ err }, 'final accounting flush failed');
          return null;
        });
        if (flushed) logger.info({ entries: flushed.entries }, 'accounting flushed');
        await swarm.close();
        await redisEvents?.close();
        users.close();
        torrents.close();
        clients.close();
        secrets.close();
      })();
      return stopping;
    },
  };
}

export interface TrackerRoute {
  kind: 'announce' | 'scrape';
  passkey: string | undefined;
}

/** `/announce`, `/announce/{passkey}`, `/{passkey}/announce` and configured aliases (likewise scrape). */
export function matchTrackerPath(path: string, aliases: ReadonlySet<string>): TrackerRoute | null {
  if (path === '/announce' || aliases.has(path)) return { kind: 'announce', passkey: undefined };
  if (path === '/scrape' || path === '/scrape.php') return { kind: 'scrape', passkey: undefined };
  if (path.startsWith('/announce/')) return { kind: 'announce', passkey: path.slice(10) };
  if (path.startsWith('/scrape/')) return { kind: 'scrape', passkey: path.slice(8) };
  if (path.endsWith('/announce') && path.lastIndexOf('/', path.length - 10) === 0) return { kind: 'announce', passkey: path.slice(1, -9) };
  if (path.endsWith('/scrape') && path.lastIndexOf('/', path.length - 8) === 0) return { kind: 'scrape', passkey: path.slice(1, -7) };
  return null;
}
