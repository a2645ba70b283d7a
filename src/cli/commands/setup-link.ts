import { setupLink } from '../../setup/first-admin.ts';
import type { Command } from '../command.ts';

export const setupLinkCommand: Command = {
  usage: 'setup-link',
  summary: "print the one-time link that creates a new site's first admin (a new one if this DATA_DIR does not hold it)",
  options: {},
  run: async ({ db, config, out }) => {
    const s = await setupLink(db.prisma, config, { replace: true });
    if (s.kind !== 'issued') throw new Error('this site already has an account: add users with `user add`, or sign in and create invites');
    out(s.link);
    out(s.fresh ? `(a new link, also in ${s.file}; any earlier link no longer works)` : `(also in ${s.file})`);
  },
};
