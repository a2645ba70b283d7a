/** API rate limits shared by several processes through Redis (skipped without REDIS_URL). */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisLimiterFactory } from '../../src/ratelimit/limiter.ts';
import { LoginDocument } from '../generated/graphql.ts';
import type { TestApp } from '../support/test-app.ts';
import { codes, GENEROUS, gql, startGraphQLApp } from './support.ts';

const url = process.env.REDIS_URL;

describe.skipIf(!url)('API rate limits on Redis', () => {
  const apps: TestApp[] = [];
  const redis = url ? new Redis(url) : null;
  afterAll(async () => {
    for (const a of apps) await a.stop();
    redis?.disconnect();
  });

  it('share one budget between two servers', async () => {
    if (!redis) return;
    const factory = redisLimiterFactory(redis, `test-${randomBytes(4).toString('hex')}`);
    const rateLimits = { ...GENEROUS, auth: { points: 3, duration: 300 } };
    apps.push(...(await Promise.all([startGraphQLApp({}, { rateLimits, limiterFactory: factory }), startGraphQLApp({}, { rateLimits, limiterFactory: factory })])));
    const [a, b] = apps as [TestApp, TestApp];
    const seen = [];
    for (const app of [a, b, a, b]) seen.push(codes(await gql(app, LoginDocument, { username: 'nobody', password: 'whatever1' }))[0]);
    expect(seen).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'RATE_LIMITED']);
  }, 240_000);
});
