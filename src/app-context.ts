/**
 * Everything a running app holds, built once by app.ts (the composition root) and handed to
 * the HTTP routes and feature modules. Tests build it the same way with in-memory backends.
 */
import type { Redis } from 'ioredis';
import type { Ledger } from './accounting/ledger.ts';
import type { AccountingFlusher } from './accounting/flush.ts';
import type { ClientAllowList } from './cache/client-allow-list.ts';
import type { TorrentRegistry } from './cache/torrent-registry.ts';
import type { UserDirectory } from './cache/user-directory.ts';
import type { Config } from './config.ts';
import type { Database } from './db/open-database.ts';
import type { Metrics } from './metrics/registry.ts';
import type { ClientIpResolver } from './server/client-ip.ts';
import type { Clock } from './shared/clock.ts';
import type { EventBus } from './shared/events.ts';
import type { Logger } from './shared/logger.ts';
import type { SwarmStore } from './swarm/swarm-store.ts';
import type { TrackerDeps } from './tracker/announce.ts';

export interface AppContext {
  config: Config;
  db: Database;
  logger: Logger;
  clock: Clock;
  events: EventBus;
  users: UserDirectory;
  torrents: TorrentRegistry;
  clients: ClientAllowList;
  swarm: SwarmStore;
  ledger: Ledger;
  flusher: AccountingFlusher;
  metrics: Metrics;
  clientIp: ClientIpResolver;
  tracker: TrackerDeps;
  /** The shared Redis client when REDIS_URL is set (limiters, pub/sub); null when embedded. */
  redis: Redis | null;
}
