/**
 * Live events (swarm and site stats, torrents added, transfer credited) behind one small
 * interface: `publish(topic, payload, key?)` and `subscribe(topic, key?)`, in-process now; a
 * Redis implementation later carries the same topics and payloads (channel `topic` or
 * `topic:key`), so neither publishers nor GraphQL subscriptions change.
 *
 * Delivery is fan-out to bounded per-subscriber queues. A subscriber that falls more than
 * `maxQueue` events behind is dropped (its iterator throws `SlowSubscriberError`), never
 * buffered without bound; the stats feed coalesces upstream, so a healthy consumer never
 * comes close to the bound.
 */

export interface SwarmStatsEvent {
  /** 40 lower-case hex characters (v1). */
  infoHash: string;
  torrentId: number;
  seeders: number;
  leechers: number;
  completed: number;
}

export interface SiteStatsEvent {
  users: number;
  torrents: number;
  peers: number;
  seeders: number;
  leechers: number;
}

export type BusySwarm = SwarmStatsEvent;

/** A site rule changed something of one user (src/rules): a hit-and-run case, a leech block, a ratio watch. */
export interface RulesEvent {
  userId: number;
  change:
    | 'CASE_OPENED'
    | 'CASE_PREWARNED'
    | 'CASE_REACHED'
    | 'CASE_UNREACHED'
    | 'CASE_PARDONED'
    | 'LEECHING_BLOCKED'
    | 'LEECHING_RESTORED'
    | 'RATIO_WATCH_STARTED'
    | 'RATIO_WATCH_ENDED';
  hitAndRunId?: number;
  /** For leech blocks: HIT_AND_RUN or RATIO_WATCH. */
  reason?: string;
}

export interface LiveTopics {
  /** Keyed by info hash (hex): at most one per torrent per coalescing window. */
  'swarm:stats': SwarmStatsEvent;
  /** At most one per coalescing window, when anything changed. */
  'site:stats': SiteStatsEvent;
  /** The busiest swarms, with site stats (dashboards). */
  'site:busiest': BusySwarm[];
  'torrent:added': { torrentId: number };
  /** Keyed by user id: credit for the user was written by an accounting flush. */
  'user:transfer': { userId: number };
  /** Keyed by user id: a site rule changed something of the user's. */
  'user:rules': RulesEvent;
}

export type LiveTopic = keyof LiveTopics;

export interface SubscribeOptions {
  /** Events queued for a subscriber before it is dropped (default: the pubsub's). */
  maxQueue?: number;
}

export interface LivePubSub {
  publish<T extends LiveTopic>(topic: T, payload: LiveTopics[T], key?: string): void;
  /** An iterator of the topic's events (only those published with `key`, when given). Return it to unsubscribe. */
  subscribe<T extends LiveTopic>(topic: T, key?: string, options?: SubscribeOptions): AsyncIterableIterator<LiveTopics[T]>;
  /** Subscribers of topic (and key): publishers skip work nobody waits for. */
  subscribers(topic: LiveTopic, key?: string): number;
  /** Ends every subscription. */
  close(): void;
}

export class SlowSubscriberError extends Error {
  override name = 'SlowSubscriberError';
  constructor() {
    super('subscriber too slow: events were dropped; subscribe again');
  }
}

interface Subscriber {
  queue: unknown[];
  wake: ((r: IteratorResult<unknown>) => void) | null;
  failed: Error | null;
  done: boolean;
  maxQueue: number;
}

export interface MemoryPubSubOptions {
  maxQueue?: number;
  /** Called when a slow subscriber is dropped (metrics, logs). */
  onDrop?: (topic: string) => void;
}

export function createMemoryPubSub(options: MemoryPubSubOptions = {}): LivePubSub {
  const defaultMax = options.maxQueue ?? 64;
  // By topic, then by key ('' when none; real keys are never empty). Two lookups with the
  // caller's own strings, whose hashes V8 keeps: the announce path asks `subscribers` once per
  // announce, and a channel name built per call cost a concatenation, a flatten and a hash.
  const channels = new Map<string, Map<string, Set<Subscriber>>>();
  const setOf = (topic: string, key: string | undefined) => channels.get(topic)?.get(key ?? '');

  const end = (topic: string, key: string | undefined, s: Subscriber) => {
    s.done = true;
    const byKey = channels.get(topic);
    const set = byKey?.get(key ?? '');
    if (!byKey || !set) return;
    set.delete(s);
    if (set.size > 0) return;
    byKey.delete(key ?? '');
    if (byKey.size === 0) channels.delete(topic);
  };

  return {
    publish(topic, payload, key) {
      const set = setOf(topic, key);
      if (!set) return;
      for (const s of set) {
        if (s.wake) {
          const wake = s.wake;
          s.wake = null;
          wake({ value: payload, done: false });
        } else if (s.queue.length >= s.maxQueue) {
          s.failed = new SlowSubscriberError();
          s.queue.length = 0;
          end(topic, key, s);
          options.onDrop?.(topic);
        } else s.queue.push(payload);
      }
    },

    subscribe<T extends LiveTopic>(topic: T, key?: string, opts: SubscribeOptions = {}): AsyncIterableIterator<LiveTopics[T]> {
      const s: Subscriber = { queue: [], wake: null, failed: null, done: false, maxQueue: opts.maxQueue ?? defaultMax };
      let byKey = channels.get(topic);
      if (!byKey) {
        byKey = new Map();
        channels.set(topic, byKey);
      }
      let set = byKey.get(key ?? '');
      if (!set) {
        set = new Set();
        byKey.set(key ?? '', set);
      }
      set.add(s);
      const finish = (): Promise<IteratorResult<LiveTopics[T]>> => {
        end(topic, key, s);
        s.queue.length = 0;
        const wake = s.wake;
        s.wake = null;
        wake?.({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      };
      const it: AsyncIterableIterator<LiveTopics[T]> = {
        next: () => {
          if (s.queue.length > 0) return Promise.resolve({ value: s.queue.shift() as LiveTopics[T], done: false });
          if (s.failed) {
            const err = s.failed;
            s.failed = null;
            return Promise.reject(err);
          }
          if (s.done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => {
            s.wake = resolve as (r: IteratorResult<unknown>) => void;
          });
        },
        return: finish,
        throw: (err?: unknown) => {
          void finish();
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        },
        [Symbol.asyncIterator]() {
          return it;
        },
      };
      return it;
    },

    subscribers(topic, key) {
      return setOf(topic, key)?.size ?? 0;
    },

    close() {
      for (const [topic, byKey] of [...channels]) {
        for (const [key, set] of [...byKey]) {
          for (const s of [...set]) {
            end(topic, key, s);
            const wake = s.wake;
            s.wake = null;
            wake?.({ value: undefined, done: true });
          }
        }
      }
    },
  };
}
