/**
 * Community: thanks, bonus gifts to uploaders ("magic"), the bonus ledger, the fun box, news,
 * invites and site statistics.
 */
import { BonusKind, FunStatus } from '../../generated/prisma/enums.ts';
import { createInvite } from '../../users/accounts.ts';
import { GIFT_AMOUNTS, giftBonus, thankTorrent } from '../../community/bonus.ts';
import { funListWhere, validateFunPost, VIEW_HIDDEN, voteFun } from '../../community/fun.ts';
import { builder } from '../builder.ts';
import { badInput, notFound } from '../errors.ts';
import { boundedInt, parseId, requireViewer } from '../guards.ts';

// ---------------------------------------------------------------- thanks and bonus

const BonusKindEnum = builder.enumType(BonusKind, { name: 'BonusKind' });

builder.prismaObject('BonusTransaction', {
  fields: (t) => ({
    id: t.exposeID('id'),
    amount: t.exposeFloat('amount', { description: 'Positive: credited; negative: debited' }),
    kind: t.expose('kind', { type: BonusKindEnum }),
    note: t.exposeString('note'),
    torrent: t.relation('torrent', { nullable: true }),
    counterparty: t.relation('counterparty', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const GiftResult = builder.objectRef<{ torrentId: string; amount: number; received: number; balance: number }>('GiftBonusResult').implement({
  fields: (t) => ({
    torrentId: t.exposeID('torrentId'),
    amount: t.exposeInt('amount'),
    received: t.exposeFloat('received', { description: 'What the uploader received after tax' }),
    balance: t.exposeFloat('balance', { description: 'Your bonus afterwards' }),
  }),
});

builder.mutationFields((t) => ({
  thankTorrent: t.boolean({
    authScopes: { user: true },
    args: { torrentId: t.arg.id({ required: true }) },
    description: 'Thanks the uploader of a torrent (once per torrent)',
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      await thankTorrent(ctx.prisma, { userId: viewer.id, torrentId: parseId(args.torrentId, 'torrentId') });
      return true;
    },
  }),
  giftBonus: t.field({
    type: GiftResult,
    authScopes: { user: true },
    args: { torrentId: t.arg.id({ required: true }), amount: t.arg.int({ required: true, description: `One of ${GIFT_AMOUNTS.join(', ')}` }) },
    description: 'Sends bonus points to the uploader of a torrent, who receives them after tax',
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const r = await giftBonus(ctx.prisma, { fromUserId: viewer.id, torrentId: parseId(args.torrentId, 'torrentId'), amount: args.amount, tax: ctx.app.config.accounting.giftTax });
      return { torrentId: String(r.torrentId), amount: r.amount, received: r.received, balance: r.balance };
    },
  }),
}));

builder.queryField('bonusTransactions', (t) =>
  t.prismaField({
    type: ['BonusTransaction'],
    authScopes: { user: true },
    args: { first: t.arg.int({ defaultValue: 50 }), offset: t.arg.int({ defaultValue: 0 }) },
    description: 'Your bonus ledger, newest first',
    resolve: (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      return ctx.prisma.bonusTransaction.findMany({
        ...query,
        where: { userId: viewer.id },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: boundedInt(args.first, 50, 1, 100, 'first'),
        skip: boundedInt(args.offset, 0, 0, 1_000_000, 'offset'),
      });
    },
  }),
);

// ---------------------------------------------------------------- fun box

const FunStatusEnum = builder.enumType(FunStatus, { name: 'FunStatus' });
const FunSearchFieldEnum = builder.enumType('FunSearchField', { values: ['TITLE', 'BODY', 'BOTH'] as const });

const FunVotes = builder.objectRef<{ total: number; funny: number }>('FunVotes').implement({ fields: (t) => ({ total: t.exposeInt('total'), funny: t.exposeInt('funny') }) });

builder.prismaObject('FunEntry', {
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    body: t.exposeString('body', { description: 'BBCode' }),
    status: t.expose('status', { type: FunStatusEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    author: t.relation('user'),
    votes: t.field({
      type: FunVotes,
      select: { votes: { select: { funny: true } } },
      resolve: (e) => ({ total: e.votes.length, funny: e.votes.filter((v) => v.funny).length }),
    }),
  }),
});

const FunPage = builder.objectRef<{ totalCount: number; page: number; limit: number }>('FunPage').implement({
  fields: (t) => ({ totalCount: t.exposeInt('totalCount'), page: t.exposeInt('page', { description: '0-based' }), limit: t.exposeInt('limit') }),
});

builder.queryFields((t) => ({
  funEntry: t.prismaField({
    type: 'FunEntry',
    nullable: true,
    authScopes: { user: true },
    args: { id: t.arg.id() },
    description: 'One fun box entry, the latest when no id is given; never DULL or BANNED ones',
    resolve: async (query, _root, args, ctx) => {
      if (args.id == null) return ctx.prisma.funEntry.findFirst({ ...query, where: { status: { notIn: VIEW_HIDDEN } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      const row = await ctx.prisma.funEntry.findFirst({ ...query, where: { id: parseId(args.id), status: { notIn: VIEW_HIDDEN } } });
      if (!row) throw notFound('fun entry');
      return row;
    },
  }),
  funEntries: t.prismaField({
    type: ['FunEntry'],
    authScopes: { user: true },
    args: {
      search: t.arg.string(),
      field: t.arg({ type: FunSearchFieldEnum, defaultValue: 'TITLE' }),
      page: t.arg.int({ defaultValue: 0, description: '0-based' }),
      limit: t.arg.int({ defaultValue: 10 }),
    },
    description: 'Fun box entries, newest first, without BANNED ones (limit at most 50)',
    resolve: (query, _root, args, ctx) => {
      const limit = boundedInt(args.limit, 10, 1, 50, 'limit');
      const page = boundedInt(args.page, 0, 0, 100_000, 'page');
      return ctx.prisma.funEntry.findMany({ ...query, where: funListWhere(args.search ?? null, args.field ?? 'TITLE'), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, skip: page * limit });
    },
  }),
  funEntriesPage: t.field({
    type: FunPage,
    authScopes: { user: true },
    args: { search: t.arg.string(), field: t.arg({ type: FunSearchFieldEnum, defaultValue: 'TITLE' }), page: t.arg.int({ defaultValue: 0 }), limit: t.arg.int({ defaultValue: 10 }) },
    description: 'The pager of funEntries with the same arguments',
    resolve: async (_root, args, ctx) => {
      const limit = boundedInt(args.limit, 10, 1, 50, 'limit');
      const page = boundedInt(args.page, 0, 0, 100_000, 'page');
      return { totalCount: await ctx.prisma.funEntry.count({ where: funListWhere(args.search ?? null, args.field ?? 'TITLE') }), page, limit };
    },
  }),
}));

const PostFunInput = builder.inputType('PostFunInput', { fields: (t) => ({ title: t.string({ required: true }), body: t.string({ required: true }) }) });

builder.mutationFields((t) => ({
  postFun: t.prismaField({
    type: 'FunEntry',
    authScopes: { user: true },
    args: { input: t.arg({ type: PostFunInput, required: true }) },
    resolve: (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const { title, body } = validateFunPost(input.title, input.body);
      return ctx.prisma.funEntry.create({ ...query, data: { userId: viewer.id, title, body } });
    },
  }),
  voteFun: t.boolean({
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }), funny: t.arg.boolean({ required: true }) },
    description: 'Votes an entry funny or not funny (once)',
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      await voteFun(ctx.prisma, { userId: viewer.id, funId: parseId(args.id), funny: args.funny });
      return true;
    },
  }),
  setFunStatus: t.prismaField({
    type: 'FunEntry',
    authScopes: { moderator: true },
    args: { id: t.arg.id({ required: true }), status: t.arg({ type: FunStatusEnum, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = parseId(args.id);
      if (!(await ctx.prisma.funEntry.findUnique({ where: { id }, select: { id: true } }))) throw notFound('fun entry');
      return ctx.prisma.funEntry.update({ ...query, where: { id }, data: { status: args.status } });
    },
  }),
}));

// ---------------------------------------------------------------- news

builder.prismaObject('News', {
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    author: t.relation('author'),
  }),
});

builder.queryField('news', (t) =>
  t.prismaField({
    type: ['News'],
    args: { first: t.arg.int({ defaultValue: 10 }) },
    description: 'Site news, newest first (at most 50)',
    resolve: (query, _root, args, ctx) => ctx.prisma.news.findMany({ ...query, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: boundedInt(args.first, 10, 1, 50, 'first') }),
  }),
);

const PostNewsInput = builder.inputType('PostNewsInput', { fields: (t) => ({ title: t.string({ required: true }), body: t.string({ required: true }) }) });

builder.mutationField('postNews', (t) =>
  t.prismaField({
    type: 'News',
    authScopes: { admin: true },
    args: { input: t.arg({ type: PostNewsInput, required: true }) },
    resolve: (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const title = input.title.trim();
      if (title.length < 1 || title.length > 200) throw badInput('title must be 1-200 characters');
      if (input.body.trim().length < 1 || input.body.length > 50_000) throw badInput('body must be 1-50000 characters');
      return ctx.prisma.news.create({ ...query, data: { authorId: viewer.id, title, body: input.body } });
    },
  }),
);

// ---------------------------------------------------------------- invites

builder.prismaObject('Invite', {
  fields: (t) => ({
    id: t.exposeID('id'),
    code: t.exposeString('code'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    usedAt: t.expose('usedAt', { type: 'DateTime', nullable: true }),
    invitee: t.relation('invitee', { nullable: true }),
  }),
});

/** Open invites a user may hold at once (staff: unlimited). */
const MAX_OPEN_INVITES = 5;

builder.queryField('myInvites', (t) =>
  t.prismaField({
    type: ['Invite'],
    authScopes: { user: true },
    resolve: (query, _root, _args, ctx) => ctx.prisma.invite.findMany({ ...query, where: { inviterId: requireViewer(ctx).id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 100 }),
  }),
);

builder.mutationField('createInvite', (t) =>
  t.prismaField({
    type: 'Invite',
    authScopes: { user: true },
    description: `Creates an invite code valid for 7 days (at most ${MAX_OPEN_INVITES} open at once)`,
    resolve: async (query, _root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const now = new Date(ctx.app.clock.now());
      if (viewer.role === 'USER' || viewer.role === 'UPLOADER') {
        const open = await ctx.prisma.invite.count({ where: { inviterId: viewer.id, usedAt: null, expiresAt: { gt: now } } });
        if (open >= MAX_OPEN_INVITES) throw badInput(`you already have ${MAX_OPEN_INVITES} open invites`);
      }
      const { code } = await createInvite(ctx.prisma, viewer.id);
      return ctx.prisma.invite.findUniqueOrThrow({ ...query, where: { code } });
    },
  }),
);

// ---------------------------------------------------------------- site statistics

interface SiteStatsShape {
  users: number;
  torrents: number;
  peers: number;
  seeders: number;
  leechers: number;
  totalUploaded: bigint;
  totalDownloaded: bigint;
}

const SiteStats = builder.objectRef<SiteStatsShape>('SiteTotals').implement({
  fields: (t) => ({
    users: t.exposeInt('users'),
    torrents: t.exposeInt('torrents'),
    peers: t.exposeInt('peers'),
    seeders: t.exposeInt('seeders'),
    leechers: t.exposeInt('leechers'),
    totalUploaded: t.expose('totalUploaded', { type: 'BigInt' }),
    totalDownloaded: t.expose('totalDownloaded', { type: 'BigInt' }),
  }),
});

builder.queryField('siteStats', (t) =>
  t.field({
    type: SiteStats,
    description: 'Site totals; peers, seeders and leechers are live from the swarm store',
    resolve: async (_root, _args, ctx) => {
      const [users, torrents, totals, swarm] = await Promise.all([
        ctx.prisma.user.count({ where: { status: 'ACTIVE' } }),
        ctx.prisma.torrent.count({ where: { status: 'ACTIVE' } }),
        ctx.prisma.user.aggregate({ _sum: { uploaded: true, downloaded: true } }),
        ctx.app.swarm.totals(),
      ]);
      return {
        users,
        torrents,
        peers: swarm.peers,
        seeders: swarm.seeders,
        leechers: swarm.leechers,
        totalUploaded: totals._sum.uploaded ?? 0n,
        totalDownloaded: totals._sum.downloaded ?? 0n,
      };
    },
  }),
);

