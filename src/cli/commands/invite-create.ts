import { createInvite } from '../../users/accounts.ts';
import { UsageError, type Command } from '../command.ts';

export const inviteCreate: Command = {
  usage: 'invite create [--days N] [--by <username>]',
  summary: 'create an invite code for registration',
  options: { days: { type: 'string' }, by: { type: 'string' } },
  run: async ({ db, positionals, values, out }) => {
    if (positionals[0] !== 'create') throw new UsageError('unknown subcommand');
    const days = values.days === undefined ? 7 : Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError('--days must be a whole number from 1 to 365');
    let inviterId: number | null = null;
    if (typeof values.by === 'string') {
      const inviter = await db.prisma.user.findUnique({ where: { usernameLower: values.by.toLowerCase() }, select: { id: true } });
      if (!inviter) throw new UsageError(`no user named ${values.by}`);
      inviterId = inviter.id;
    }
    const invite = await createInvite(db.prisma, inviterId, days);
    out(`invite code ${invite.code} (expires ${invite.expiresAt.toISOString()})`);
  },
};
