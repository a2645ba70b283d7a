/**
 * The live pub/sub across processes (REDIS_URL): the same topics and payloads as the
 * in-process pub/sub, carried on one Redis channel. Every process delivers what arrives to its
 * own subscribers through a local in-memory pub/sub (bounded queues, slow subscribers dropped),
 * so a `swarmStats` subscriber on one process sees announces made on another.
 *
 * Publishers skip events nobody waits for (`subscribers`): interest is counted in a Redis hash
 * shared by all processes (refreshed locally twice a second), so a subscription on another
 * process counts too. A process that dies without unsubscribing leaves its counts behind; the
 * only cost is publishing events no one reads.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../shared/logger.ts';
import { subscribeJson } from '../shared/redis-channel.ts';
import { createMemoryPubSub, type LivePubSub, type LiveTopic, type LiveTopics, type SubscribeOptions } from './pubsub.ts';

const TOPICS = ['swarm:stats', 'site:stats', 'site:busiest', 'torrent:added', 'user:transfer', 'user:rules'] as const satisfies readonly LiveTopic[];
const message = z.object({ t: z.enum(TOPICS), k: z.string().optional(), p: z.unknown() });

export interface RedisPubSubOptions {
  url: string;
  prefix: string;
  logger: Logger;
  maxQueue?: number;
  /** How often the shared interest counts are re-read, ms. */
  interestRefreshMs?: number;
}

export interface RedisLivePubSub extends LivePubSub {
  /** Resolves once this process receives events. */
  ready: Promise<void>;
}

export function createRedisPubSub(options: RedisPubSubOptions): RedisLivePubSub {
  const local = createMemoryPubSub({ maxQueue: options.maxQueue ?? 64 });
  const channel = `${options.prefix}:live`;
  const interestKey = `${options.prefix}:live:interest`;
  const pub = new Redis(options.url, { maxRetriesPerRequest: 2 });
  const sub = new Redis(options.url);
  const field = (topic: string, key?: string) => (key === undefined ? topic : `${topic}\u0000${key}`);
  let interest = new Map<string, number>();
  let closed = false;
  const releases = new Set<() => void>();

  const refresh = () => {
    pub.hgetall(interestKey).then(
      (all) => {
        const next = new Map<string, number>();
        for (const [k, v] of Object.entries(all)) if (Number(v) > 0) next.set(k, Number(v));
        interest = next;
      },
      (err: unknown) => options.logger.warn({ err }, 'live interest refresh failed'),
    );
  };
  const timer = setInterval(refresh, options.interestRefreshMs ?? 500);
  timer.unref();
  refresh();

  const ready = subscribeJson(sub, channel, message, options.logger, 'live event', ({ t, k, p }) => {
    local.publish(t, p as never, k);
  });

  const count = (f: string, by: number) => {
    interest.set(f, Math.max(0, (interest.get(f) ?? 0) + by));
    pub.hincrby(interestKey, f, by).catch((err: unknown) => options.logger.warn({ err }, 'live interest update failed'));
  };

  return {
    ready,
    publish(topic, payload, key) {
      if (closed) return;
      pub.publish(channel, JSON.stringify({ t: topic, k: key, p: payload })).catch((err: unknown) => options.logger.error({ err }, 'live publish to Redis failed'));
    },
    subscribe<T extends LiveTopic>(topic: T, key?: string, opts?: SubscribeOptions): AsyncIterableIterator<LiveTopics[T]> {
      const f = field(topic, key);
      const inner = local.subscribe(topic, key, opts);
      count(f, 1);
      let counted = true;
      const release = () => {
        if (!counted) return;
        counted = false;
        releases.delete(release);
        count(f, -1);
      };
      releases.add(release);
      const it: AsyncIterableIterator<LiveTopics[T]> = {
        next: () =>
          inner.next().then(
            (r) => {
              if (r.done) release();
              return r;
            },
            (err: unknown) => {
              release();
              throw err;
            },
          ),
        return: (value?: unknown) => {
          release();
          return inner.return ? inner.return(value) : Promise.resolve({ value: undefined, done: true });
        },
        throw: (err?: unknown) => {
          release();
          return inner.throw ? inner.throw(err) : Promise.reject(err instanceof Error ? err : new Error(String(err)));
        },
        [Symbol.asyncIterator]() {
          return it;
        },
      };
      return it;
    },
    subscribers(topic, key) {
      return Math.max(local.subscribers(topic, key), interest.get(field(topic, key)) ?? 0);
    },
    close() {
      closed = true;
      clearInterval(timer);
      // Give back this process's interest before the connection goes (quit runs after them).
      for (const release of [...releases]) release();
      local.close();
      void pub.quit().catch(() => pub.disconnect());
      void sub.quit().catch(() => sub.disconnect());
    },
  };
}
