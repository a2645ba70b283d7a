/**
 * The per-request GraphQL context: the app's dependencies, the authenticated viewer (or why
 * presented credentials were refused), the client's address for rate limits, a batched swarm
 * counter loader, and response headers to add (Set-Cookie from login/logout).
 */
import type { AppContext } from '../app-context.ts';
import type { Authentication, Viewer } from '../auth/viewer.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { RateLimits } from '../ratelimit/limiter.ts';
import type { SwarmScrape } from '../swarm/swarm-store.ts';
import type { GraphQLPubSub } from './pubsub.ts';

export interface GraphQLContext {
  app: AppContext;
  prisma: PrismaClient;
  auth: Authentication;
  viewer: Viewer | null;
  clientIp: string;
  limits: RateLimits;
  pubsub: GraphQLPubSub;
  /** Live swarm counts by 40-hex info hash, batched per request (one scrape per tick). */
  swarmCounts(infoHash: string): Promise<SwarmScrape>;
  /** Set-Cookie values to send with the response. */
  setCookies: string[];
}

/** Collects the keys asked for in one tick and scrapes them in one call. */
export function createSwarmLoader(scrape: (keys: readonly string[]) => Promise<SwarmScrape[]>): (infoHash: string) => Promise<SwarmScrape> {
  const cache = new Map<string, Promise<SwarmScrape>>();
  let pending: Array<{ hex: string; resolve: (c: SwarmScrape) => void; reject: (e: unknown) => void }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    scrape(batch.map((p) => Buffer.from(p.hex, 'hex').toString('latin1'))).then(
      (counts) => batch.forEach((p, i) => p.resolve(counts[i] ?? { seeders: 0, leechers: 0, completed: -1 })),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  };
  return (infoHash) => {
    const hit = cache.get(infoHash);
    if (hit) return hit;
    const promise = new Promise<SwarmScrape>((resolve, reject) => {
      if (pending.length === 0) process.nextTick(flush);
      pending.push({ hex: infoHash, resolve, reject });
    });
    cache.set(infoHash, promise);
    return promise;
  };
}
