/**
 * Site rules (API.md §8), a thin adapter over src/rules: hit-and-run cases with their progress,
 * counts and limit, ratio watch, leech blocks and personal free leech on `User`; staff queries
 * over every user's cases; `payHitAndRun`, `pardonHitAndRun`, the bonus shop (`bonusShop`,
 * `buyShopItem`) and `grantBonus`; the `myRules` subscription. Reads are Prisma queries here;
 * every write goes through the rules engine, which refreshes the tracker's caches.
 */
import { HitAndRunResolution, HitAndRunStatus, LeechBlockReason } from '../../generated/prisma/enums.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import { liveIterator } from '../../live/iterators.ts';
import { liveOf } from '../../live/live.ts';
import type { RulesEvent } from '../../live/pubsub.ts';
import { rulesOf } from '../../rules/engine.ts';
import type { ShopItem } from '../../rules/shop.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput } from '../errors.ts';
import { boundedInt, parseId, parseOptionalId, requireViewer } from '../guards.ts';

const HitAndRunStatusEnum = builder.enumType(HitAndRunStatus, {
  name: 'HitAndRunStatus',
  description: 'INSPECTING: open, to be seeded; REACHED: seeded (or uploaded) enough; UNREACHED: absent from the swarm past the grace; PARDONED: cleared with bonus, by staff, or because the torrent was deleted',
});
const HitAndRunResolutionEnum = builder.enumType(HitAndRunResolution, { name: 'HitAndRunResolution', description: 'How a case was closed' });
const LeechBlockReasonEnum = builder.enumType(LeechBlockReason, { name: 'LeechBlockReason' });

/** When the absence that fails an INSPECTING case began (the later of the last announce and the opening). */
function absentSince(h: { openedAt: Date; snatch: { lastAnnounceAt: Date } }): number {
  return Math.max(h.snatch.lastAnnounceAt.getTime(), h.openedAt.getTime());
}

builder.prismaObject('HitAndRun', {
  select: { id: true },
  description: 'A hit-and-run case: one per user and downloaded torrent, with its requirement fixed when it opened',
  fields: (t) => ({
    id: t.exposeID('id'),
    user: t.relation('user'),
    torrent: t.relation('torrent'),
    status: t.expose('status', { type: HitAndRunStatusEnum }),
    openedAt: t.expose('openedAt', { type: 'DateTime' }),
    seedSeconds: t.int({ description: 'Seconds seeded so far, in all', select: { snatch: { select: { seedTime: true } } }, resolve: (h) => Number(h.snatch.seedTime) }),
    requiredSeedSeconds: t.exposeInt('requiredSeedSeconds'),
    seedSecondsLeft: t.int({
      description: 'Seeding still needed to reach the case by seeding time (0 once met)',
      select: { requiredSeedSeconds: true, snatch: { select: { seedTime: true } } },
      resolve: (h) => Math.max(0, h.requiredSeedSeconds - Number(h.snatch.seedTime)),
    }),
    uploaded: t.field({ type: 'BigInt', description: 'Bytes uploaded on this torrent, before promotions', select: { snatch: { select: { actualUploaded: true } } }, resolve: (h) => h.snatch.actualUploaded }),
    requiredUploaded: t.field({
      type: 'BigInt',
      nullable: true,
      description: 'Raw upload that also reaches the case (requiredRatio × size); null when only seeding time does',
      select: { requiredRatio: true, torrent: { select: { size: true } } },
      resolve: (h) => (h.requiredRatio > 0 ? BigInt(Math.ceil(h.requiredRatio * Number(h.torrent.size))) : null),
    }),
    requiredRatio: t.exposeFloat('requiredRatio', { description: 'Raw upload / size that reaches the case; 0: none' }),
    graceEndsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'While INSPECTING: when the case fails if the user stays away from the swarm (every announce moves it; a user still in the swarm never fails)',
      select: { status: true, openedAt: true, graceSeconds: true, snatch: { select: { lastAnnounceAt: true } } },
      resolve: (h) => (h.status === 'INSPECTING' ? new Date(absentSince(h) + h.graceSeconds * 1000) : null),
    }),
    graceSeconds: t.exposeInt('graceSeconds', { description: 'Absence from the swarm, seconds, that fails the case' }),
    prewarnedAt: t.expose('prewarnedAt', { type: 'DateTime', nullable: true, description: 'When the user was warned of an absence that will fail the case; cleared when they announce again' }),
    unreachedAt: t.expose('unreachedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When an unreached case stops counting against the user (null: never)' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    resolution: t.expose('resolution', { type: HitAndRunResolutionEnum, nullable: true }),
  }),
});

interface Counts {
  inspecting: number;
  unreached: number;
  limit: number;
}

const HitAndRunCountsRef = builder.objectRef<Counts>('HitAndRunCounts').implement({
  fields: (t) => ({
    inspecting: t.exposeInt('inspecting', { description: 'Open cases' }),
    unreached: t.exposeInt('unreached', { description: 'Unreached cases that still count (not expired)' }),
    limit: t.exposeInt('limit', { description: 'Unreached cases at which leeching is refused (HNR_MAX_UNREACHED)' }),
  }),
});

async function countsOf(ctx: GraphQLContext, userId: number): Promise<Counts> {
  const now = new Date(ctx.app.clock.now());
  const [inspecting, unreached] = await Promise.all([
    ctx.prisma.hitAndRun.count({ where: { userId, status: 'INSPECTING' } }),
    ctx.prisma.hitAndRun.count({ where: { userId, status: 'UNREACHED', OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } }),
  ]);
  return { inspecting, unreached, limit: ctx.app.config.rules.hnr.maxUnreached };
}

builder.prismaObject('LeechBlock', {
  description: 'A site rule refusing the user\'s leeching announces (seeding goes on)',
  fields: (t) => ({
    reason: t.expose('reason', { type: LeechBlockReasonEnum }),
    message: t.exposeString('message', { description: 'What the tracker answers a leeching announce with' }),
    since: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ownerOrStaff = (u: { id: number }) => ({ ownerOf: u.id, moderator: true });

builder.prismaObjectFields('User', (t) => ({
  hitAndRuns: t.relation('hitAndRuns', {
    authScopes: ownerOrStaff,
    args: { status: t.arg({ type: HitAndRunStatusEnum }), first: t.arg.int({ defaultValue: 50 }), offset: t.arg.int({ defaultValue: 0 }) },
    description: 'Hit-and-run cases, newest first (the user themself, or staff)',
    query: (args) => ({
      where: args.status ? { status: args.status } : {},
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: boundedInt(args.first, 50, 1, 200, 'first'),
      skip: boundedInt(args.offset, 0, 0, 1_000_000, 'offset'),
    }),
  }),
  hitAndRunCounts: t.field({ type: HitAndRunCountsRef, authScopes: ownerOrStaff, resolve: (u, _args, ctx) => countsOf(ctx, u.id) }),
  requiredRatio: t.float({
    authScopes: ownerOrStaff,
    description: 'The ratio ratio watch requires of this user now (0: none)',
    select: { ratioWatch: { select: { requiredRatio: true } } },
    resolve: (u) => u.ratioWatch?.requiredRatio ?? 0,
  }),
  ratioWatchEndsAt: t.field({
    type: 'DateTime',
    nullable: true,
    authScopes: ownerOrStaff,
    description: 'On ratio watch: the deadline to get back to the required ratio (past it, leeching is refused until the ratio is back); null when not on watch',
    select: { ratioWatch: { select: { endsAt: true } } },
    resolve: (u) => u.ratioWatch?.endsAt ?? null,
  }),
  leechBlocks: t.relation('leechBlocks', { authScopes: ownerOrStaff, description: 'Site rules refusing this user\'s leeching announces now' }),
  freeleechUntil: t.field({
    type: 'DateTime',
    nullable: true,
    authScopes: ownerOrStaff,
    description: 'Personal free leech (bought in the bonus shop) in force until then; null when none is',
    select: { freeleechUntil: true },
    resolve: (u, _args, ctx) => (u.freeleechUntil && u.freeleechUntil.getTime() > ctx.app.clock.now() ? u.freeleechUntil : null),
  }),
}));

builder.queryField('hitAndRuns', (t) =>
  t.prismaField({
    type: ['HitAndRun'],
    authScopes: { moderator: true },
    args: { status: t.arg({ type: HitAndRunStatusEnum }), userId: t.arg.id(), torrentId: t.arg.id(), first: t.arg.int({ defaultValue: 50 }), offset: t.arg.int({ defaultValue: 0 }) },
    description: 'Every user\'s hit-and-run cases, newest first, optionally by status, user or torrent (moderators and admins)',
    resolve: (query, _root, args, ctx) => {
      const where: Prisma.HitAndRunWhereInput = {};
      if (args.status) where.status = args.status;
      const userId = parseOptionalId(args.userId, 'userId');
      const torrentId = parseOptionalId(args.torrentId, 'torrentId');
      if (userId !== null) where.userId = userId;
      if (torrentId !== null) where.torrentId = torrentId;
      return ctx.prisma.hitAndRun.findMany({
        ...query,
        where,
        orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
        take: boundedInt(args.first, 50, 1, 200, 'first'),
        skip: boundedInt(args.offset, 0, 0, 1_000_000, 'offset'),
      });
    },
  }),
);

builder.mutationFields((t) => ({
  payHitAndRun: t.prismaField({
    type: 'HitAndRun',
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }) },
    description: 'Clears one of your INSPECTING or UNREACHED cases with bonus points (HNR_PARDON_PRICE): PARDONED, one bonus transaction',
    resolve: async (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const id = parseId(args.id);
      await rulesOf(ctx.app).payHitAndRun(viewer.id, id);
      return ctx.prisma.hitAndRun.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  pardonHitAndRun: t.prismaField({
    type: 'HitAndRun',
    authScopes: { moderator: true },
    args: { id: t.arg.id({ required: true }) },
    description: 'Pardons an INSPECTING or UNREACHED case (moderators and admins)',
    resolve: async (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const id = parseId(args.id);
      await rulesOf(ctx.app).pardonHitAndRun(id, viewer.id);
      return ctx.prisma.hitAndRun.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
}));

// ---------------------------------------------------------------- the shop

const ShopItemKindEnum = builder.enumType('ShopItemKind', {
  values: {
    UPLOAD_CREDIT: { description: 'Adds `amount` bytes to your uploaded total' },
    INVITE: { description: 'An invite code' },
    HIT_AND_RUN_PARDON: { description: 'Clears one hit-and-run case (buy with hitAndRunId, or payHitAndRun)' },
    FREELEECH: { description: 'Personal free leech for `amount` seconds: none of your download counts' },
  } as const,
});

const ShopItemRef = builder.objectRef<ShopItem>('ShopItem').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: ShopItemKindEnum }),
    price: t.exposeFloat('price', { description: 'Bonus points' }),
    amount: t.field({ type: 'BigInt', description: 'Bytes of upload credit, invites, cases, or seconds of free leech', resolve: (i) => BigInt(i.amount) }),
    description: t.exposeString('description'),
  }),
});

interface PurchaseShape {
  item: ShopItem;
  balance: number;
  inviteCode: string | null;
  hitAndRunId: number | null;
  freeleechUntil: Date | null;
}

const ShopPurchaseRef = builder.objectRef<PurchaseShape>('ShopPurchase').implement({
  fields: (t) => ({
    item: t.expose('item', { type: ShopItemRef }),
    balance: t.exposeFloat('balance', { description: 'Your bonus afterwards' }),
    inviteCode: t.exposeString('inviteCode', { nullable: true, description: 'INVITE: the code to hand on' }),
    hitAndRun: t.prismaField({
      type: 'HitAndRun',
      nullable: true,
      description: 'HIT_AND_RUN_PARDON: the case cleared',
      resolve: (query, p, _args, ctx) => (p.hitAndRunId === null ? null : ctx.prisma.hitAndRun.findUnique({ ...query, where: { id: p.hitAndRunId } })),
    }),
    freeleechUntil: t.expose('freeleechUntil', { type: 'DateTime', nullable: true, description: 'FREELEECH: when your free leech ends now' }),
  }),
});

builder.queryField('bonusShop', (t) =>
  t.field({
    type: [ShopItemRef],
    authScopes: { user: true },
    description: 'What bonus points buy on this site',
    resolve: (_root, _args, ctx) => rulesOf(ctx.app).items(),
  }),
);

const BonusGrantRef = builder.objectRef<{ transactionId: number; balance: number }>('BonusGrant').implement({
  fields: (t) => ({
    transaction: t.prismaField({ type: 'BonusTransaction', resolve: (query, g, _args, ctx) => ctx.prisma.bonusTransaction.findUniqueOrThrow({ ...query, where: { id: g.transactionId } }) }),
    balance: t.exposeFloat('balance', { description: "The user's bonus afterwards" }),
  }),
});

builder.mutationFields((t) => ({
  buyShopItem: t.field({
    type: ShopPurchaseRef,
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }), hitAndRunId: t.arg.id({ description: 'For the hit-and-run pardon: the case to clear' }) },
    description: 'Buys one shop item with bonus points: one bonus transaction, never more than you have',
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const p = await rulesOf(ctx.app).buy(viewer.id, String(args.id), parseOptionalId(args.hitAndRunId, 'hitAndRunId'));
      return { item: p.item, balance: p.balance, inviteCode: p.inviteCode ?? null, hitAndRunId: p.hitAndRunId ?? null, freeleechUntil: p.freeleechUntil === undefined ? null : new Date(p.freeleechUntil) };
    },
  }),
  grantBonus: t.field({
    type: BonusGrantRef,
    authScopes: { moderator: true },
    args: {
      userId: t.arg.id({ required: true }),
      amount: t.arg.float({ required: true, description: 'Positive: given; negative: taken (never below zero)' }),
      reason: t.arg.string({ required: true, description: '1-200 characters, kept in the ledger' }),
    },
    description: "Gives or takes a user's bonus points with a reason: one bonus transaction (moderators and admins; not your own)",
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const userId = parseId(args.userId, 'userId');
      if (userId === viewer.id) throw badInput('you cannot grant bonus to yourself');
      return rulesOf(ctx.app).grantBonus(viewer.id, userId, args.amount, args.reason);
    },
  }),
}));

// ---------------------------------------------------------------- live

const RulesChangeEnum = builder.enumType('RulesChange', {
  values: ['CASE_OPENED', 'CASE_PREWARNED', 'CASE_REACHED', 'CASE_UNREACHED', 'CASE_PARDONED', 'LEECHING_BLOCKED', 'LEECHING_RESTORED', 'RATIO_WATCH_STARTED', 'RATIO_WATCH_ENDED'] as const,
});

interface RulesUpdate {
  event: RulesEvent;
  counts: Counts;
}

const RulesUpdateRef = builder.objectRef<RulesUpdate>('RulesUpdate').implement({
  description: 'A change the site rules made to the signed-in user',
  fields: (t) => ({
    change: t.field({ type: RulesChangeEnum, resolve: (u) => u.event.change }),
    hitAndRun: t.prismaField({
      type: 'HitAndRun',
      nullable: true,
      description: 'The case, for CASE_* changes',
      resolve: (query, u, _args, ctx) => (u.event.hitAndRunId === undefined ? null : ctx.prisma.hitAndRun.findUnique({ ...query, where: { id: u.event.hitAndRunId } })),
    }),
    reason: t.field({ type: LeechBlockReasonEnum, nullable: true, description: 'For LEECHING_* changes', resolve: (u) => (u.event.reason as LeechBlockReason | undefined) ?? null }),
    counts: t.field({ type: HitAndRunCountsRef, description: 'Your hit-and-run counts after the change', resolve: (u) => u.counts }),
  }),
});

builder.subscriptionField('myRules', (t) =>
  t.field({
    type: RulesUpdateRef,
    description: "Changes the site rules make to the signed-in user: cases opened, warned of (prewarn), reached, unreached or pardoned; leeching blocked or restored; ratio watch started or ended",
    subscribe: (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      return liveIterator(liveOf(ctx.app).pubsub.subscribe('user:rules', String(viewer.id)), { map: async (event) => ({ event, counts: await countsOf(ctx, viewer.id) }) });
    },
    resolve: (u) => u,
  }),
);
