import { readFile, stat } from 'node:fs/promises';
import { createLocalEventBus } from '../../shared/events.ts';
import { LIMITS } from '../../torrents/metainfo.ts';
import { DuplicateTorrent, registerTorrent } from '../../torrents/register.ts';
import { sourceTagFor } from '../../torrents/source.ts';
import { normaliseUsername } from '../../users/accounts.ts';
import { UsageError, type Command } from '../command.ts';

export const torrentAdd: Command = {
  usage: 'torrent add <file.torrent> --owner <name> [--category slug] [--name N] [--description D] [--anonymous]',
  summary: 'register a .torrent file (same checks as an upload); prints its id and info hash',
  options: { owner: { type: 'string' }, category: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, anonymous: { type: 'boolean' } },
  run: async ({ db, config, positionals, values, out }) => {
    const [sub, file] = positionals;
    if (sub !== 'add' || !file || positionals.length > 2) throw new UsageError('expected: torrent add <file.torrent>');
    if (typeof values.owner !== 'string') throw new UsageError('--owner is required');
    const owner = await db.prisma.user.findUnique({ where: { usernameLower: normaliseUsername(values.owner) }, select: { id: true } });
    if (!owner) throw new Error(`no user named ${values.owner}`);
    let categoryId: number | null = null;
    if (typeof values.category === 'string') {
      const category = await db.prisma.category.findUnique({ where: { slug: values.category }, select: { id: true } });
      if (!category) throw new Error(`no category with slug ${values.category}`);
      categoryId = category.id;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new Error(`cannot read ${file}`);
    if (info.size > LIMITS.maxBytes) throw new Error(`${file}: the .torrent file is larger than ${LIMITS.maxBytes / 1024 / 1024} MiB`);
    const bytes = await readFile(file);
    try {
      const t = await registerTorrent(db.prisma, createLocalEventBus(), {
        bytes,
        uploaderId: owner.id,
        categoryId,
        name: typeof values.name === 'string' ? values.name : null,
        description: typeof values.description === 'string' ? values.description : null,
        anonymous: values.anonymous === true,
        source: sourceTagFor(config.publicUrl),
      });
      out(`registered torrent ${t.id}: infohash ${t.infoHash}${t.infoHashV2 ? ` (v2 ${t.infoHashV2})` : ''}, ${t.parsed.files.length} file(s), ${t.size} bytes, "${t.name}"`);
    } catch (err) {
      if (err instanceof DuplicateTorrent) throw new Error(`this torrent is already registered as torrent ${err.existingId}`, { cause: err });
      throw err;
    }
  },
};
