/**
 * Live statistics subscriptions (API.md §3), fed by src/live (the coalescing stats feed and
 * its pub/sub): `swarmStats(infoHash)`, `swarmStatsByTorrent(id)`, `siteStats`,
 * `busiestSwarms`, `torrentAdded` and `myTransfer`. Each subscription first yields the current
 * value, then one event per change, at most one per torrent (or per site) per second.
 * Every field needs a signed-in viewer; torrents follow the visibility rules of torrent.ts.
 */
import type { Torrent } from '../../generated/prisma/client.ts';
import { liveIterator } from '../../live/iterators.ts';
import { liveOf } from '../../live/live.ts';
import type { BusySwarm, SiteStatsEvent, SwarmStatsEvent } from '../../live/pubsub.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput, notFound } from '../errors.ts';
import { parseId, requireViewer } from '../guards.ts';
import { canSee, TorrentRef } from './torrent.ts';

interface TransferStats {
  uploaded: bigint;
  downloaded: bigint;
  bonus: number;
}

const SwarmStatsRef = builder.objectRef<SwarmStatsEvent>('SwarmStats').implement({
  description: 'Live counts of one swarm (HTTP and WebTorrent peers together)',
  fields: (t) => ({
    infoHash: t.exposeString('infoHash', { description: '40 lower-case hex characters (v1)' }),
    torrentId: t.exposeID('torrentId'),
    seeders: t.exposeInt('seeders'),
    leechers: t.exposeInt('leechers'),
    completed: t.exposeInt('completed', { description: 'Times completed (first completion per user), counted at the announce that reports it' }),
  }),
});

const SiteStatsRef = builder.objectRef<SiteStatsEvent>('SiteStats').implement({
  description: 'Site-wide live numbers',
  fields: (t) => ({
    users: t.exposeInt('users'),
    torrents: t.exposeInt('torrents'),
    peers: t.exposeInt('peers'),
    seeders: t.exposeInt('seeders'),
    leechers: t.exposeInt('leechers'),
  }),
});

const TransferStatsRef = builder.objectRef<TransferStats>('TransferStats').implement({
  description: "The signed-in user's totals, as written by the accounting flush",
  fields: (t) => ({
    uploaded: t.field({ type: 'BigInt', resolve: (s) => s.uploaded }),
    downloaded: t.field({ type: 'BigInt', resolve: (s) => s.downloaded }),
    ratio: t.float({ nullable: true, description: 'uploaded / downloaded; null when nothing was downloaded yet', resolve: (s) => (s.downloaded === 0n ? null : Math.round((Number(s.uploaded) / Number(s.downloaded)) * 1000) / 1000) }),
    bonus: t.exposeFloat('bonus'),
  }),
});

const HEX40 = /^[0-9a-fA-F]{40}$/;

/**
 * The torrent behind a subscription, if the viewer may see it. ACTIVE torrents (visible to
 * every signed-in user) are answered from the registry cache without a query, so thousands of
 * dashboards subscribing at once do not queue on the database.
 */
async function visibleTorrent(ctx: GraphQLContext, where: { infoHash: string } | { id: number }) {
  const viewer = requireViewer(ctx);
  const hit = 'id' in where ? ctx.app.torrents.byId(where.id) : ctx.app.torrents.peek(Buffer.from(where.infoHash, 'hex').toString('latin1'));
  if (hit && hit.status === 'ACTIVE' && ('id' in where || hit.infoHash === where.infoHash)) return hit;
  const row = await ctx.prisma.torrent.findUnique({ where, select: { id: true, infoHash: true, status: true, uploaderId: true } });
  if (!row || !canSee(viewer, row)) throw notFound('torrent');
  const cached = ctx.app.torrents.byId(row.id) ?? (await ctx.app.torrents.reload(row.id));
  if (!cached) throw notFound('torrent');
  return cached;
}

async function swarmUpdates(ctx: GraphQLContext, where: { infoHash: string } | { id: number }): Promise<AsyncIterableIterator<SwarmStatsEvent>> {
  const torrent = await visibleTorrent(ctx, where);
  const live = liveOf(ctx.app);
  // Subscribed before the snapshot is read, so no change in between is missed.
  return liveIterator(live.pubsub.subscribe('swarm:stats', torrent.infoHash), { initial: () => live.feed.swarmStats(torrent), map: (e) => e });
}

builder.subscriptionFields((t) => ({
  swarmStats: t.field({
    type: SwarmStatsRef,
    description: 'Seeders, leechers and completed of one torrent: now, then as announces land (HTTP or WebTorrent), at most once per second',
    args: { infoHash: t.arg.string({ required: true, description: '40 hex characters (v1 info hash)' }) },
    subscribe: (_root, args, ctx) => {
      if (!HEX40.test(args.infoHash)) throw badInput('infoHash must be 40 hex characters');
      return swarmUpdates(ctx, { infoHash: args.infoHash.toLowerCase() });
    },
    resolve: (e) => e,
  }),
  swarmStatsByTorrent: t.field({
    type: SwarmStatsRef,
    description: 'swarmStats by torrent id',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => swarmUpdates(ctx, { id: parseId(args.id) }),
    resolve: (e) => e,
  }),
  siteStats: t.field({
    type: SiteStatsRef,
    description: 'Users, torrents and peers of the whole site: now, then at most once per second while anything changes',
    subscribe: (_root, _args, ctx) => {
      requireViewer(ctx);
      const live = liveOf(ctx.app);
      return liveIterator(live.pubsub.subscribe('site:stats'), { initial: () => live.feed.siteStats(), map: (e) => e });
    },
    resolve: (e) => e,
  }),
  busiestSwarms: t.field({
    type: [SwarmStatsRef],
    description: 'The swarms with the most peers (at most 10), busiest first: now, then at most once per second while anything changes',
    subscribe: (_root, _args, ctx) => {
      requireViewer(ctx);
      const live = liveOf(ctx.app);
      return liveIterator(live.pubsub.subscribe('site:busiest'), { initial: () => live.feed.busiest(), map: (e) => e });
    },
    resolve: (e: BusySwarm[]) => e,
  }),
  torrentAdded: t.field({
    type: TorrentRef,
    description: 'Torrents as they are uploaded (those the viewer may see)',
    subscribe: (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      return liveIterator(liveOf(ctx.app).pubsub.subscribe('torrent:added'), {
        map: async (e) => {
          const row = await ctx.prisma.torrent.findUnique({ where: { id: e.torrentId } });
          return row && canSee(viewer, row) ? row : undefined;
        },
      });
    },
    resolve: (row: Torrent) => row,
  }),
  myTransfer: t.field({
    type: TransferStatsRef,
    description: "The signed-in user's uploaded, downloaded, ratio and bonus: now, then after each accounting flush that credits them",
    subscribe: (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const read = () => ctx.prisma.user.findUniqueOrThrow({ where: { id: viewer.id }, select: { uploaded: true, downloaded: true, bonus: true } });
      return liveIterator(liveOf(ctx.app).pubsub.subscribe('user:transfer', String(viewer.id)), { initial: read, map: read });
    },
    resolve: (s) => s,
  }),
}));
