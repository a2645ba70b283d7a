/**
 * `uploadTorrent` through the GraphQL multipart request spec: the file is read with a size cap,
 * parsed strictly and registered by torrents/register.ts (private flag and the site's source
 * tag set, so the info hash is the site's own); garbage and duplicates are BAD_USER_INPUT
 * (`extensions.rule`, and `existingTorrentId` for a duplicate).
 */
import { LIMITS } from '../../torrents/metainfo.ts';
import { registerTorrent } from '../../torrents/register.ts';
import { sourceTagFor } from '../../torrents/source.ts';
import { builder } from '../builder.ts';
import { badInput } from '../errors.ts';
import { parseOptionalId, requireViewer, torrentChanged } from '../guards.ts';
import { externalIds } from './torrent.ts';

const UploadTorrentInput = builder.inputType('UploadTorrentInput', {
  fields: (t) => ({
    file: t.field({ type: 'File', required: true }),
    name: t.string({ description: 'Display name; default: the name in the torrent' }),
    categoryId: t.id(),
    description: t.string(),
    anonymous: t.boolean({ defaultValue: false }),
    imdbId: t.string({ description: 'IMDb id (tt0944947 or 0944947)' }),
    tmdbId: t.int({ description: 'TMDB id' }),
    tvdbId: t.int({ description: 'TVDB id' }),
  }),
});

builder.mutationField('uploadTorrent', (t) =>
  t.prismaField({
    type: 'Torrent',
    authScopes: { user: true },
    args: { input: t.arg({ type: UploadTorrentInput, required: true }) },
    description: 'Uploads a .torrent (multipart request); returns the registered torrent with the site info hash',
    resolve: async (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const file = input.file;
      if (file.size > LIMITS.maxBytes) throw badInput(`the .torrent file is larger than ${LIMITS.maxBytes} bytes`, { rule: 'size' });
      if (file.size === 0) throw badInput('the .torrent file is empty', { rule: 'bencode' });
      const bytes = Buffer.from(await file.arrayBuffer());
      const registered = await registerTorrent(ctx.prisma, ctx.app.events, {
        bytes,
        uploaderId: viewer.id,
        name: input.name ?? null,
        description: input.description ?? null,
        categoryId: parseOptionalId(input.categoryId, 'categoryId'),
        anonymous: input.anonymous ?? false,
        ...externalIds(input),
        source: sourceTagFor(ctx.app.config.publicUrl),
      });
      await torrentChanged(ctx, registered.id);
      return ctx.prisma.torrent.findUniqueOrThrow({ ...query, where: { id: registered.id } });
    },
  }),
);
