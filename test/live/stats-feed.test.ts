import { afterEach, describe, expect, it } from 'vitest';
import type { CachedTorrent } from '../../src/cache/torrent-registry.ts';
import { createMemoryPubSub, type SwarmStatsEvent } from '../../src/live/pubsub.ts';
import { createStatsFeed, type StatsFeed } from '../../src/live/stats-feed.ts';
import { createLocalEventBus } from '../../src/shared/events.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { MemorySwarmStore } from '../../src/swarm/stores/memory.ts';
import { AnnounceEvent } from '../../src/tracker/protocol/types.ts';

const torrent = (id: number): CachedTorrent => {
  const hex = id.toString(16).padStart(40, '0');
  return { id, infoHash: hex, keys: [Buffer.from(hex, 'hex').toString('latin1')], status: 'ACTIVE', downloadPercent: 100, downloadUntil: null, uploadPercent: 100, uploadUntil: null, completed: 7 };
};

function setup(windowMs = 200) {
  const swarm = new MemorySwarmStore({ peerTtl: 3600 });
  const pubsub = createMemoryPubSub({ maxQueue: 1000 });
  const torrents = new Map<string, CachedTorrent>();
  const deps = {
    swarm,
    torrents: { peek: (k: string) => torrents.get(k), size: 3 },
    users: { size: 2 },
    events: createLocalEventBus(),
    clock: { now: () => Date.now() },
    logger: createLogger('silent'),
    db: { prisma: { torrent: { findUnique: () => Promise.resolve(null) } } },
  };
  const feed = createStatsFeed(deps as unknown as Parameters<typeof createStatsFeed>[0], pubsub, { windowMs });
  let n = 0;
  const join = (t: CachedTorrent, left: number) =>
    swarm.announceSync({ infoHash: t.keys[0] as string, peerId: `-XX0001-${String(++n).padStart(12, '0')}`, userId: n, keyHash: 0, ip: Buffer.from([10, 0, 0, n & 255]), port: 6881, uploaded: 0, downloaded: 0, left, event: AnnounceEvent.Started, now: 1 }, { numwant: 0, peerIds: false });
  return { swarm, pubsub, feed, torrents, join };
}

async function collect<T>(it: AsyncIterator<T>, ms: number): Promise<T[]> {
  const out: T[] = [];
  const stop = Date.now() + ms;
  for (;;) {
    const left = stop - Date.now();
    if (left <= 0) break;
    const r = await Promise.race([it.next(), new Promise<null>((res) => setTimeout(() => res(null), left))]);
    if (r === null || r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('stats feed', () => {
  let feed: StatsFeed | null = null;
  afterEach(() => feed?.close());

  it('coalesces a burst into a leading and a trailing event with the latest counts', async () => {
    const s = setup(200);
    feed = s.feed;
    const t = torrent(1);
    const sub = s.pubsub.subscribe('swarm:stats', t.infoHash);
    s.join(t, 0);
    s.feed.swarmChanged(t);
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 500; i++) {
      s.join(t, 100);
      s.feed.swarmChanged(t);
    }
    const events = await collect<SwarmStatsEvent>(sub, 450);
    expect(events).toEqual([
      { infoHash: t.infoHash, torrentId: 1, seeders: 1, leechers: 0, completed: 7 },
      { infoHash: t.infoHash, torrentId: 1, seeders: 1, leechers: 500, completed: 7 },
    ]);
  });

  it('publishes at most one event per torrent per window under steady load', async () => {
    const s = setup(100);
    feed = s.feed;
    const a = torrent(2);
    const b = torrent(3);
    const subA = s.pubsub.subscribe('swarm:stats', a.infoHash);
    const subB = s.pubsub.subscribe('swarm:stats', b.infoHash);
    const timer = setInterval(() => {
      s.join(a, 1);
      s.feed.swarmChanged(a);
      s.feed.swarmChanged(b);
    }, 2);
    const [ea, eb] = await Promise.all([collect(subA, 550), collect(subB, 550)]);
    clearInterval(timer);
    for (const e of [ea, eb]) {
      expect(e.length).toBeGreaterThanOrEqual(4);
      expect(e.length).toBeLessThanOrEqual(7);
    }
  });

  it('does no work for torrents nobody subscribed to, and site stats at most once per window', async () => {
    const s = setup(100);
    feed = s.feed;
    const site = s.pubsub.subscribe('site:stats');
    const t = torrent(4);
    s.join(t, 0);
    for (let i = 0; i < 1000; i++) s.feed.swarmChanged(t);
    const events = await collect(site, 250);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(3);
    expect(events[0]).toEqual({ users: 2, torrents: 3, peers: 1, seeders: 1, leechers: 0 });
  });
});
