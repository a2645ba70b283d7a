/**
 * jsonapi's own rate limits (seed ourbits-jsonapi.md §频率限制), on top of GraphQL's read/write/
 * auth limits that every operation already passes through: requests without credentials 5 per
 * minute per client IP; with credentials 10 per minute per user and action (the route pattern),
 * torrent search 5. rate-limiter-flexible with an injectable store: memory, or Redis when the app
 * has the shared Redis (several processes then share the budgets), or any factory given.
 *
 * The user of a request is the subject of its token when the token's signature verifies
 * (auth/jwt.ts, a pure check: nothing is loaded); a token that does not verify counts as no
 * credentials, so a forged `sub` can never spend someone else's budget.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { limiterKey } from '../src/ratelimit/limiter.ts';

export interface CompatLimitRule {
  points: number;
  /** Seconds. */
  duration: number;
}

/** Builds a limiter for one budget; `name` is unique per budget (use it as the key prefix). */
export type CompatLimiterFactory = (name: string, rule: CompatLimitRule) => RateLimiterAbstract;

export const memoryCompatLimiterFactory: CompatLimiterFactory = (name, rule) => new RateLimiterMemory({ keyPrefix: `compat:${name}`, points: rule.points, duration: rule.duration });

/**
 * Budgets shared by several processes: rate-limiter-flexible's Redis store, with an in-memory
 * insurance limiter while Redis is unreachable.
 */
export function redisCompatLimiterFactory(redis: Redis, prefix: string): CompatLimiterFactory {
  return (name, rule) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:rl:compat:${name}`,
      points: rule.points,
      duration: rule.duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `compat:${name}`, points: rule.points, duration: rule.duration }),
    });
}

export interface JsonapiLimitOptions {
  /** Requests without (valid) credentials per client IP. Default 5 per 60 s. */
  anonymous?: CompatLimitRule;
  /** Window of the per-user-and-action budgets (their points come from the route table). Default 60 s. */
  perUserWindow?: number;
  /** Replaces every per-user budget's points (tests that are not about limits). */
  perUserPoints?: number;
  factory?: CompatLimiterFactory;
}

export class CompatRateLimited extends Error {
  override name = 'CompatRateLimited';
  constructor(readonly retryAfter: number) {
    super(`too many requests; retry in ${retryAfter} s`);
  }
}

export interface JsonapiLimits {
  /** Consumes one request of the caller's budget, or throws CompatRateLimited. */
  consume(caller: { userId: number | null; ip: string }, action: { pattern: string; perMinute: number }): Promise<void>;
}

export function createJsonapiLimits(options: JsonapiLimitOptions = {}): JsonapiLimits {
  const factory = options.factory ?? memoryCompatLimiterFactory;
  const anonymous = factory('jsonapi:anon', options.anonymous ?? { points: 5, duration: 60 });
  const window = options.perUserWindow ?? 60;
  const perAction = new Map<string, RateLimiterAbstract>();
  const limiterFor = (points: number) => {
    const name = `jsonapi:user:${points}`;
    let l = perAction.get(name);
    if (!l) {
      l = factory(name, { points, duration: window });
      perAction.set(name, l);
    }
    return l;
  };
  return {
    consume: async (caller, action) => {
      const [limiter, key] = caller.userId === null ? [anonymous, limiterKey(null, caller.ip)] : [limiterFor(options.perUserPoints ?? action.perMinute), `u:${caller.userId}:${action.pattern}`];
      try {
        await limiter.consume(key, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new CompatRateLimited(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
        throw err;
      }
    },
  };
}
