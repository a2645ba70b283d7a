/**
 * The domain event bus across processes (REDIS_URL): an event published by one process
 * (passkey reset, ban, torrent deleted) reaches every process's caches within milliseconds.
 * Events are delivered locally at once and through Redis to the others; messages from Redis
 * are validated before use, and a malformed one is logged and dropped.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { DomainEvent, EventBus } from './events.ts';
import type { Logger } from './logger.ts';
import { subscribeJson } from './redis-channel.ts';

const message = z.object({
  origin: z.string(),
  event: z.discriminatedUnion('type', [
    z.object({ type: z.literal('user.changed'), userId: z.number().int() }),
    z.object({ type: z.literal('torrent.changed'), torrentId: z.number().int() }),
    z.object({ type: z.literal('clients.changed') }),
    z.object({ type: z.literal('categories.changed') }),
    z.object({ type: z.literal('caches.reload') }),
  ]),
});

export interface RedisEventBus extends EventBus {
  /** Resolves once the subscription is live (events published before may be missed). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function createRedisEventBus(url: string, prefix: string, logger: Logger): RedisEventBus {
  const origin = randomBytes(8).toString('hex');
  const channel = `${prefix}:events`;
  const pub = new Redis(url, { maxRetriesPerRequest: 2 });
  const sub = new Redis(url);
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const ready = subscribeJson(sub, channel, message, logger, 'event', (m) => {
    if (m.origin !== origin) emitter.emit('event', m.event);
  });
  return {
    ready,
    publish: (event: DomainEvent) => {
      emitter.emit('event', event);
      pub.publish(channel, JSON.stringify({ origin, event })).catch((err: unknown) => logger.error({ err }, 'event publish to Redis failed'));
    },
    subscribe: (listener) => {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    close: async () => {
      await Promise.all([pub.quit().catch(() => pub.disconnect()), sub.quit().catch(() => sub.disconnect())]);
    },
  };
}
