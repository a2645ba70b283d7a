/**
 * Turns tracker activity into live events, coalesced: a busy swarm announcing thousands of
 * times a second publishes at most one `swarm:stats` event per torrent per window (default
 * 1 s), and `site:stats` (plus the busiest swarms) at most once per window when anything
 * changed. The first change of a quiet torrent goes out at once (leading edge); later ones in
 * the same window are folded into one event at its end (trailing edge). Counts are read from
 * the swarm store when the event is sent, so the event carries the latest numbers.
 *
 * Work is only done for what somebody subscribed to: a swarm nobody watches costs one Map
 * lookup per announce. Memory is bounded by the torrents changed within one window.
 *
 * Also publishes `torrent:added` (from the domain event bus) and `user:transfer` (after an
 * accounting flush credited the user, via `transferFlushed`).
 */
import type { AppContext } from '../app-context.ts';
import { liveCompleted, type CachedTorrent } from '../cache/torrent-registry.ts';
import type { BusySwarm, LivePubSub, SiteStatsEvent, SwarmStatsEvent } from './pubsub.ts';

export interface StatsFeedOptions {
  /** Coalescing window, ms: at most one event per torrent (and one site event) per window. */
  windowMs: number;
  /** Swarms in the `site:busiest` event. */
  busiest: number;
}

export const DEFAULT_STATS_FEED_OPTIONS: StatsFeedOptions = { windowMs: 1000, busiest: 10 };

type FeedDeps = Pick<AppContext, 'swarm' | 'torrents' | 'users' | 'events' | 'clock' | 'logger' | 'db'>;

export interface StatsFeed {
  /** The tracker's `onSwarmChange` hook: O(1), never throws, never waits. */
  swarmChanged(torrent: CachedTorrent): void;
  /** Accounting flush wrote credit for these users. */
  transferFlushed(userIds: Iterable<number>): void;
  /** Current counts of one torrent (the first event of a new subscription). */
  swarmStats(torrent: CachedTorrent): Promise<SwarmStatsEvent>;
  siteStats(): Promise<SiteStatsEvent>;
  busiest(): Promise<BusySwarm[]>;
  close(): void;
}

export function createStatsFeed(deps: FeedDeps, pubsub: LivePubSub, overrides: Partial<StatsFeedOptions> = {}): StatsFeed {
  const opts = { ...DEFAULT_STATS_FEED_OPTIONS, ...overrides };
  const logger = deps.logger.child({ module: 'stats-feed' });
  const now = () => deps.clock.now();
  /** Torrents waiting for their event, with the time it is due. */
  const pending = new Map<number, { torrent: CachedTorrent; due: number }>();
  /** When each torrent last emitted (pruned once older than a window). */
  const lastEmit = new Map<number, number>();
  let timer: NodeJS.Timeout | null = null;
  let timerDue = Infinity;
  let siteDirty = false;
  let siteLast = -Infinity;
  let siteTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const swarmStats = async (t: CachedTorrent): Promise<SwarmStatsEvent> => {
    const [c] = await deps.swarm.scrape([t.keys[0] as string]);
    return { infoHash: t.infoHash, torrentId: t.id, seeders: c?.seeders ?? 0, leechers: c?.leechers ?? 0, completed: liveCompleted(t, c?.completed ?? -1) };
  };

  const siteStats = async (): Promise<SiteStatsEvent> => {
    const totals = await deps.swarm.totals();
    return { users: deps.users.size, torrents: deps.torrents.size, peers: totals.peers, seeders: totals.seeders, leechers: totals.leechers };
  };

  const busiest = async (): Promise<BusySwarm[]> => {
    const top = await deps.swarm.busiest(opts.busiest);
    const out: BusySwarm[] = [];
    for (const s of top) {
      const t = deps.torrents.peek(s.infoHash);
      if (t) out.push({ infoHash: t.infoHash, torrentId: t.id, seeders: s.seeders, leechers: s.leechers, completed: t.completed });
    }
    return out;
  };

  function arm(due: number): void {
    if (closed || (timer && timerDue <= due)) return;
    if (timer) clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(flushSwarms, Math.max(0, due - now()));
    timer.unref();
  }

  function flushSwarms(): void {
    timer = null;
    timerDue = Infinity;
    const t = now();
    const ready: CachedTorrent[] = [];
    let next = Infinity;
    for (const [id, p] of pending) {
      if (p.due <= t) {
        pending.delete(id);
        lastEmit.set(id, t);
        if (pubsub.subscribers('swarm:stats', p.torrent.infoHash) > 0) ready.push(p.torrent);
      } else if (p.due < next) next = p.due;
    }
    for (const [id, at] of lastEmit) if (at + opts.windowMs <= t && !pending.has(id)) lastEmit.delete(id);
    if (next !== Infinity) arm(next);
    if (ready.length === 0) return;
    deps.swarm.scrape(ready.map((r) => r.keys[0] as string)).then(
      (counts) => {
        ready.forEach((r, i) => {
          const c = counts[i];
          pubsub.publish('swarm:stats', { infoHash: r.infoHash, torrentId: r.id, seeders: c?.seeders ?? 0, leechers: c?.leechers ?? 0, completed: liveCompleted(r, c?.completed ?? -1) }, r.infoHash);
        });
      },
      (err: unknown) => logger.error({ err }, 'swarm stats for subscribers failed'),
    );
  }

  function flushSite(): void {
    siteTimer = null;
    if (!siteDirty || closed) return;
    siteDirty = false;
    siteLast = now();
    const wantSite = pubsub.subscribers('site:stats') > 0;
    const wantBusy = pubsub.subscribers('site:busiest') > 0;
    if (wantSite) siteStats().then((s) => pubsub.publish('site:stats', s), (err: unknown) => logger.error({ err }, 'site stats failed'));
    if (wantBusy) busiest().then((b) => pubsub.publish('site:busiest', b), (err: unknown) => logger.error({ err }, 'busiest swarms failed'));
  }

  function markSite(): void {
    siteDirty = true;
    if (siteTimer || closed) return;
    siteTimer = setTimeout(flushSite, Math.max(0, siteLast + opts.windowMs - now()));
    siteTimer.unref();
  }

  // torrent:added — ids are serial, so an id above every id seen is new; checked against the
  // row's age so an edit of an old torrent after a restart is not mistaken for an upload.
  const announced = new Set<number>();
  const unsubscribe = deps.events.subscribe((e) => {
    if (e.type !== 'torrent.changed' || closed) return;
    markSite();
    if (pubsub.subscribers('torrent:added') === 0 || announced.has(e.torrentId)) return;
    deps.db.prisma.torrent.findUnique({ where: { id: e.torrentId }, select: { createdAt: true } }).then(
      (row) => {
        if (!row || now() - row.createdAt.getTime() > 60_000 || announced.has(e.torrentId)) return;
        if (announced.size >= 1000) announced.clear();
        announced.add(e.torrentId);
        pubsub.publish('torrent:added', { torrentId: e.torrentId });
      },
      (err: unknown) => logger.error({ err }, 'torrent added lookup failed'),
    );
  });

  return {
    swarmChanged(torrent) {
      if (closed) return;
      markSite();
      // The announce hot path: nothing more to do for a swarm nobody is watching.
      if (pending.has(torrent.id) || pubsub.subscribers('swarm:stats', torrent.infoHash) === 0) return;
      const last = lastEmit.get(torrent.id);
      const due = last === undefined ? now() : Math.max(now(), last + opts.windowMs);
      pending.set(torrent.id, { torrent, due });
      arm(due);
    },
    transferFlushed(userIds) {
      for (const id of new Set(userIds)) if (pubsub.subscribers('user:transfer', String(id)) > 0) pubsub.publish('user:transfer', { userId: id }, String(id));
    },
    swarmStats,
    siteStats,
    busiest,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (siteTimer) clearTimeout(siteTimer);
      unsubscribe();
      pending.clear();
      lastEmit.clear();
    },
  };
}
