/**
 * A new site's first admin (src/setup/): `firstAdminNeeded` tells the dashboard to explain the
 * setup link, and `createFirstAdmin` spends the link's token to create the admin and signs
 * them in. Nothing here ever returns the token.
 */
import { createFirstAdmin, firstAdminNeeded, SetupRefused } from '../../setup/first-admin.ts';
import { builder } from '../builder.ts';
import { forbidden } from '../errors.ts';
import { userChanged } from '../guards.ts';
import { AuthPayload, issue } from './user.ts';

builder.queryFields((t) => ({
  firstAdminNeeded: t.boolean({
    description: 'True while the site has no account: the operator creates the first admin with the one-time setup link the server printed at start (and wrote to DATA_DIR/setup-link)',
    resolve: (_root, _args, ctx) => firstAdminNeeded(ctx.prisma),
  }),
}));

builder.mutationFields((t) => ({
  createFirstAdmin: t.field({
    type: AuthPayload,
    args: {
      token: t.arg.string({ required: true, description: 'The token of the setup link (after #token=)' }),
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    description: 'Creates the first admin of a site with no account, with the one-time setup link\'s token (which it spends), and signs them in. FORBIDDEN for a used or wrong token and once any account exists; BAD_USER_INPUT for a bad name or password (the token is kept)',
    resolve: async (_root, args, ctx) => {
      try {
        const user = await createFirstAdmin({ prisma: ctx.prisma, events: ctx.app.events }, args, ctx.app.config.dataDir);
        await userChanged(ctx, user.id);
        return issue(ctx, user);
      } catch (err) {
        if (err instanceof SetupRefused) throw forbidden(err.message);
        throw err;
      }
    },
  }),
}));
