/**
 * The per-passkey announce budget (API.md: 200 per minute; scrapes count too). In one
 * process a fixed one-minute window kept in the user's gate row costs two writes; with
 * Redis the budget is shared by every process through rate-limiter-flexible's Redis store
 * (one round trip, atomic), with an in-memory insurance limiter if Redis is unreachable.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { PasskeyIndex } from '../cache/passkey-index.ts';

export interface AnnounceLimiter {
  /** 0 when allowed, else the minutes to wait (BEP 31 `retry in`). `row`: the user's row in `gates`, read at once. */
  consume(gates: PasskeyIndex, row: number, nowMs: number): number | Promise<number>;
}

export function memoryAnnounceLimiter(limit: number): AnnounceLimiter {
  return {
    consume(gates, row, nowMs) {
      return gates.spend(row, Math.floor(nowMs / 60_000), limit) ? 0 : 1;
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
    consume: (gates, row) =>
      limiter.consume(String(gates.userId(row))).then(
        () => 0,
        (res: unknown) => {
          if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 60_000));
          throw res;
        },
      ),
  };
}
