/**
 * Request rate limits for the APIs (GraphQL, and through it REST and jsonapi; the feeds): one limiter per
 * class of operation, keyed by user id when signed in and by client IP otherwise (IPv6 by its
 * /64). Backed by rate-limiter-flexible; the store is injected so that Redis can replace the
 * in-process memory store when several processes serve one site.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type LimitClass = 'read' | 'write' | 'auth' | 'feed';

export interface LimitRule {
  points: number;
  /** Window, seconds. */
  duration: number;
}

/** From the contract: read 100/min, write 10/min, auth 5 per 5 min; feeds per passkey (FEED_RATE_LIMIT). */
export const DEFAULT_LIMITS: Record<LimitClass, LimitRule> = {
  read: { points: 100, duration: 60 },
  write: { points: 10, duration: 60 },
  auth: { points: 5, duration: 300 },
  feed: { points: 60, duration: 60 },
};

export class RateLimited extends Error {
  override name = 'RateLimited';
  constructor(
    readonly limit: LimitClass,
    /** Whole seconds until a request would be accepted. */
    readonly retryAfter: number,
  ) {
    super(`too many ${limit} requests; retry in ${retryAfter} s`);
  }
}

export interface RateLimits {
  /** Takes `points` from the key's budget for the class, or throws RateLimited. */
  consume(limit: LimitClass, key: string, points?: number): Promise<void>;
}

export type LimiterFactory = (name: LimitClass, rule: LimitRule) => RateLimiterAbstract;

export const memoryLimiterFactory: LimiterFactory = (name, rule) => new RateLimiterMemory({ keyPrefix: `gql:${name}`, points: rule.points, duration: rule.duration });

/**
 * Shared limits for several processes: rate-limiter-flexible's Redis store (one atomic round
 * trip), with an in-memory insurance limiter while Redis is unreachable.
 */
export function redisLimiterFactory(redis: Redis, prefix: string): LimiterFactory {
  return (name, rule) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:rl:api:${name}`,
      points: rule.points,
      duration: rule.duration,
      insuranceLimiter: new RateLimiterMemory({ points: rule.points, duration: rule.duration }),
    });
}

export function createRateLimits(options: { rules?: Partial<Record<LimitClass, LimitRule>>; factory?: LimiterFactory } = {}): RateLimits {
  const factory = options.factory ?? memoryLimiterFactory;
  const limiters = new Map<LimitClass, RateLimiterAbstract>();
  for (const name of ['read', 'write', 'auth', 'feed'] as const) limiters.set(name, factory(name, options.rules?.[name] ?? DEFAULT_LIMITS[name]));
  return {
    consume: async (limit, key, points = 1) => {
      const limiter = limiters.get(limit) as RateLimiterAbstract;
      try {
        await limiter.consume(key, points);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new RateLimited(limit, Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
        throw err;
      }
    },
  };
}

/** The limiter key of a caller: `u:<id>` when signed in, else `ip:<address>` (IPv6 by /64). */
export function limiterKey(userId: number | null, ip: string): string {
  if (userId !== null) return `u:${userId}`;
  if (ip.includes(':')) {
    const groups = expandIpv6(ip);
    return groups ? `ip6:${groups.slice(0, 4).join(':')}` : `ip:${ip}`;
  }
  return `ip:${ip}`;
}

function expandIpv6(ip: string): string[] | null {
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  if (tail === undefined) return h.length === 8 ? h : null;
  const missing = 8 - h.length - t.length;
  if (missing < 0) return null;
  return [...h, ...Array<string>(missing).fill('0'), ...t];
}
