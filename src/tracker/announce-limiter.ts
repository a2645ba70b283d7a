/**
 * The per-passkey announce budget (API.md: 200 per minute; scrapes count too). In one
 * process a fixed one-minute window kept on the cached user costs two field writes; with
 * Redis the budget is shared by every process through rate-limiter-flexible's Redis store
 * (one round trip, atomic), with an in-memory insurance limiter if Redis is unreachable.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { CachedUser } from '../cache/user-directory.ts';

export interface AnnounceLimiter {
  /** 0 when allowed, else the minutes to wait (BEP 31 `retry in`). */
  consume(user: CachedUser, nowMs: number): number | Promise<number>;
}

export function memoryAnnounceLimiter(limit: number): AnnounceLimiter {
  return {
    consume(user, nowMs) {
      const minute = Math.floor(nowMs / 60_000);
      if (user.rateWindow !== minute) {
        user.rateWindow = minute;
        user.rateCount = 0;
      }
      user.rateCount++;
      return user.rateCount > limit ? 1 : 0;
    },
  };
}

export function redisAnnounceLimiter(redis: Redis, limit: number, prefix: string): AnnounceLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}:rl:announce`,
    points: limit,
    duration: 60,
    insuranceLimiter: new RateLimiterMemory({ points: limit, duration: 60 }),
  });
  return {
    consume: (user) =>
      limiter.consume(String(user.id)).then(
        () => 0,
        (res: unknown) => {
          if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 60_000));
          throw res;
        },
      ),
  };
}
