import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import type { DomainEvent } from '../../src/shared/events.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createRedisEventBus } from '../../src/shared/redis-events.ts';

const url = process.env.REDIS_URL;

describe.skipIf(!url)('domain events over Redis (REDIS_URL)', () => {
  it('delivers an event to the other process once, not back to its sender, and drops malformed messages with a warning', async () => {
    const prefix = `ot-test-${randomBytes(4).toString('hex')}`;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const a = createRedisEventBus(url as string, prefix, createLogger('silent'));
    const b = createRedisEventBus(url as string, prefix, createLogger('warn', sink));
    const seenA: DomainEvent[] = [];
    const seenB: DomainEvent[] = [];
    a.subscribe((e) => seenA.push(e));
    b.subscribe((e) => seenB.push(e));
    try {
      await Promise.all([a.ready, b.ready]);
      const raw = new Redis(url as string);
      await raw.publish(`${prefix}:events`, 'not json');
      await raw.publish(`${prefix}:events`, JSON.stringify({ origin: 'x', event: { type: 'user.changed', userId: 'one' } }));
      raw.disconnect();
      a.publish({ type: 'user.changed', userId: 7 });
      await vi.waitFor(() => expect(seenB).toEqual([{ type: 'user.changed', userId: 7 }]));
      // Delivered locally at once, and not a second time through Redis.
      expect(seenA).toEqual([{ type: 'user.changed', userId: 7 }]);
      expect(lines.filter((l) => l.includes('dropped a malformed event from Redis'))).toHaveLength(2);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
