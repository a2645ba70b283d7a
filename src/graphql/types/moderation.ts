/**
 * Staff review of ratio-cheat suspicions (accounting/suspicion-log.ts): `suspiciousAnnounces`,
 * newest first, optionally for one user. Moderators and admins only; restoring download
 * privileges the tracker revoked is `setUserCanLeech` (user.ts).
 */
import { SuspicionReason } from '../../generated/prisma/enums.ts';
import { builder } from '../builder.ts';
import { boundedInt, parseId } from '../guards.ts';

const SuspicionReasonEnum = builder.enumType(SuspicionReason, {
  name: 'SuspicionReason',
  description: 'SPEED: above TRACKER_MAX_UPLOAD_RATE (credit capped); UPLOAD_WITHOUT_LEECHERS: no other leecher in the swarm (no upload credited); IMPOSSIBLE_SPEED: above TRACKER_REVOKE_LEECH_RATE (download privileges revoked)',
});

builder.prismaObject('SuspiciousAnnounce', {
  description: 'An announce whose reported upload was not credited in full (at most one per user, torrent and reason an hour)',
  fields: (t) => ({
    id: t.exposeID('id'),
    reason: t.expose('reason', { type: SuspicionReasonEnum }),
    reportedUploaded: t.field({ type: 'BigInt', description: 'The uploaded counter the client reported', resolve: (r) => r.reportedUploaded }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    user: t.relation('user'),
    torrent: t.relation('torrent'),
  }),
});

builder.queryField('suspiciousAnnounces', (t) =>
  t.prismaField({
    type: ['SuspiciousAnnounce'],
    authScopes: { moderator: true },
    args: { userId: t.arg.id(), first: t.arg.int({ defaultValue: 50 }), offset: t.arg.int({ defaultValue: 0 }) },
    description: 'Announces whose reported upload was not credited in full, newest first (moderators and admins)',
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.suspiciousAnnounce.findMany({
        ...query,
        where: args.userId ? { userId: parseId(args.userId, 'userId') } : {},
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: boundedInt(args.first, 50, 1, 200, 'first'),
        skip: boundedInt(args.offset, 0, 0, 1_000_000, 'offset'),
      }),
  }),
);
