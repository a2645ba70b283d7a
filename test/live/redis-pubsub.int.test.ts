import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createRedisPubSub } from '../../src/live/redis-pubsub.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { dropRedisPrefix } from '../support/test-app.ts';

const url = process.env.REDIS_URL;

describe.skipIf(!url)('live pub/sub over Redis (REDIS_URL)', () => {
  it('delivers an event published by one process to a subscriber of another, and shares interest', async () => {
    const prefix = `ot-test-${randomBytes(4).toString('hex')}`;
    const logger = createLogger('silent');
    const a = createRedisPubSub({ url: url as string, prefix, logger, interestRefreshMs: 50 });
    const b = createRedisPubSub({ url: url as string, prefix, logger, interestRefreshMs: 50 });
    try {
      await Promise.all([a.ready, b.ready]);
      const key = 'ab'.repeat(20);
      expect(a.subscribers('swarm:stats', key)).toBe(0);
      const it = b.subscribe('swarm:stats', key);
      // The publisher learns of the remote subscriber from the shared counts.
      await vi.waitFor(() => expect(a.subscribers('swarm:stats', key)).toBe(1));
      const next = it.next();
      a.publish('swarm:stats', { infoHash: key, torrentId: 7, seeders: 2, leechers: 3, completed: 1 }, key);
      expect(await next).toEqual({ done: false, value: { infoHash: key, torrentId: 7, seeders: 2, leechers: 3, completed: 1 } });
      // Other keys do not reach this subscriber; a malformed message is dropped.
      const raw = new Redis(url as string);
      await raw.publish(`${prefix}:live`, '{"t":"nope"}');
      await raw.publish(`${prefix}:live`, 'not json');
      raw.disconnect();
      a.publish('swarm:stats', { infoHash: 'cd'.repeat(20), torrentId: 8, seeders: 0, leechers: 0, completed: 0 }, 'cd'.repeat(20));
      const again = it.next();
      a.publish('swarm:stats', { infoHash: key, torrentId: 7, seeders: 9, leechers: 9, completed: 1 }, key);
      expect((await again).value).toMatchObject({ seeders: 9 });
      await it.return?.();
      await vi.waitFor(() => expect(a.subscribers('swarm:stats', key)).toBe(0));
    } finally {
      a.close();
      b.close();
      await dropRedisPrefix(url as string, prefix);
    }
  });
});
