/**
 * Subscriptions of this module. Other modules add theirs with `builder.subscriptionField` in
 * their own types file, imported by schema.ts.
 */
import { builder } from '../builder.ts';
import { parseOptionalId } from '../guards.ts';

builder.subscriptionField('torrentChanged', (t) =>
  t.id({
    authScopes: { user: true },
    args: { id: t.arg.id({ description: 'Only this torrent; default all' }) },
    description: 'Ids of torrents as they are uploaded, edited, promoted or deleted',
    subscribe: async function* (_root, args, ctx) {
      const only = parseOptionalId(args.id);
      for await (const id of ctx.pubsub.subscribe('torrent:changed')) {
        if (only === null || id === only) yield id;
      }
    },
    resolve: (id) => String(id),
  }),
);
