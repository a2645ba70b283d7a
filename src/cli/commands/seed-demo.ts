/**
 * `seed-demo`: a small, browsable site for trying the product out — categories, an admin, an
 * uploader and a few members (passwords printed once), ~50 torrents (valid v1 metainfo built
 * in memory, registered through the same path as uploads), news and fun-box entries.
 * Safe to run twice: existing users, torrents and categories are kept.
 */
import { randomBytes } from 'node:crypto';
import cliProgress from 'cli-progress';
import type { Role } from '../../generated/prisma/enums.ts';
import { PROMOTION_PRESETS, type PromotionPreset } from '../../torrents/promotion.ts';
import { createLocalEventBus } from '../../shared/events.ts';
import { makeV1Torrent } from '../../torrents/make.ts';
import { DuplicateTorrent, registerTorrent } from '../../torrents/register.ts';
import { sourceTagFor } from '../../torrents/source.ts';
import { createUser, normaliseUsername } from '../../users/accounts.ts';
import { UsageError, type Command } from '../command.ts';
import { seededRandom } from '../../shared/seeded-random.ts';

/** Slug, name and the standard newznab category the feeds report (src/feeds/newznab.ts). */
const CATEGORIES: [slug: string, name: string, newznabId: number][] = [
  ['movies', 'Movies', 2040],
  ['tv', 'TV', 5040],
  ['music', 'Music', 3040],
  ['software', 'Software', 4000],
  ['games', 'Games', 4050],
  ['books', 'Books', 7020],
  ['anime', 'Anime', 5070],
  ['other', 'Other', 8000],
];

const USERS: [name: string, role: Role][] = [
  ['admin', 'ADMIN'],
  ['moderator', 'MODERATOR'],
  ['uploader', 'UPLOADER'],
  ['alice', 'USER'],
  ['bob', 'USER'],
  ['carol', 'USER'],
];

const ADJECTIVES = ['Silent', 'Crimson', 'Electric', 'Hidden', 'Golden', 'Frozen', 'Distant', 'Wild', 'Broken', 'Midnight', 'Open', 'Lunar', 'Quiet', 'Rapid', 'Hollow'];
const NOUNS = ['River', 'Harbor', 'Signal', 'Forest', 'Engine', 'Archive', 'Garden', 'Voyage', 'Circuit', 'Lantern', 'Summit', 'Echo', 'Orbit', 'Atlas', 'Meadow'];
const KIND: Record<string, { ext: string; sizes: [number, number]; files: [number, number] }> = {
  movies: { ext: 'mkv', sizes: [700e6, 8e9], files: [1, 3] },
  tv: { ext: 'mkv', sizes: [200e6, 1.5e9], files: [4, 12] },
  music: { ext: 'flac', sizes: [10e6, 60e6], files: [6, 14] },
  software: { ext: 'iso', sizes: [50e6, 4e9], files: [1, 2] },
  games: { ext: 'bin', sizes: [500e6, 20e9], files: [2, 6] },
  books: { ext: 'epub', sizes: [200e3, 20e6], files: [1, 4] },
  anime: { ext: 'mkv', sizes: [150e6, 1.2e9], files: [3, 12] },
  other: { ext: 'zip', sizes: [1e6, 500e6], files: [1, 3] },
};
const PROMOTIONS: PromotionPreset[] = ['NONE', 'NONE', 'NONE', 'FREE', 'DOUBLE_UP', 'HALF_DOWN', 'FREE_DOUBLE_UP', 'DOUBLE_UP_HALF_DOWN', 'THIRTY_PERCENT'];

const NEWS = [
  ['Welcome to OpenTracker', 'This is a demo site. Log in with one of the printed accounts, download a torrent and point your client at it.'],
  ['Free leech weekend', 'Torrents marked FREE do not count against your download total until Monday.'],
  ['Rules reminder', 'Keep your ratio above 0.5 and seed what you download. Your passkey is personal: never share a .torrent you downloaded.'],
];
const FUN = [
  ['Why did the seeder cross the road?', 'To get to the other peer.'],
  ['My ratio', 'It is not a bug, it is a feature: infinite ratio through never downloading anything.'],
  ['Tracker haiku', 'announce every half hour / peers drift in like leaves / the swarm remembers'],
  ['Overheard in IRC', '"Is it seeding?" "It is thinking about it."'],
  ['Bandwidth', 'There are 10 kinds of users: those who seed and those who leech.'],
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

interface Progress {
  tick(label: string): void;
  stop(): void;
}

function progress(total: number, title: string, out: (line: string) => void): Progress {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${title} [{bar}] {value}/{total} {label}`, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { label: '' });
    return { tick: (label) => bar.increment(1, { label }), stop: () => bar.stop() };
  }
  let done = 0;
  return {
    tick: (label) => {
      done += 1;
      if (done % 10 === 0 || done === total) out(`${title}: ${done}/${total} (${label})`);
    },
    stop: () => undefined,
  };
}

export function demoTorrent(i: number): { name: string; category: string; bytes: Buffer; promotion: PromotionPreset } {
  const r = seededRandom(1000 + i);
  const category = (CATEGORIES[i % CATEGORIES.length] as [string, string, number])[0];
  const kind = KIND[category] as (typeof KIND)[string];
  const title = `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`;
  const year = 1990 + Math.floor(r() * 36);
  // Episodes get scene-style SxxEyy names, which the feeds' tvsearch season/ep filters read.
  const episode = category === 'tv' || category === 'anime' ? `.S0${1 + (i % 3)}E${String(1 + (i % 12)).padStart(2, '0')}` : '';
  const name = `${title.replace(/ /g, '.')}${episode}.${year}.${category.toUpperCase()}-${i + 1}`;
  const count = kind.files[0] + Math.floor(r() * (kind.files[1] - kind.files[0] + 1));
  const total = kind.sizes[0] + r() * (kind.sizes[1] - kind.sizes[0]);
  const pieceLength = total > 4e9 ? 1 << 24 : total > 5e8 ? 1 << 22 : 1 << 18;
  const files = Array.from({ length: count }, (_, f) => ({
    path: count === 1 ? [`${name}.${kind.ext}`] : category === 'tv' || category === 'anime' ? [`Season 1`, `${title} S01E${String(f + 1).padStart(2, '0')}.${kind.ext}`] : [`${String(f + 1).padStart(2, '0')} - ${pick(r, NOUNS)}.${kind.ext}`],
    length: Math.max(1, Math.floor(total / count)),
  }));
  const bytes = makeV1Torrent({
    name,
    files,
    pieceLength,
    top: { comment: `Demo torrent ${i + 1}: ${title} (${year})`, 'created by': 'OpenTracker seed-demo' },
  });
  return { name: name.replace(/\./g, ' '), category, bytes, promotion: pick(r, PROMOTIONS) };
}

export const seedDemo: Command = {
  usage: 'seed-demo [--torrents N]',
  summary: 'fill the database with demo categories, users (passwords printed), torrents, news and fun',
  options: { torrents: { type: 'string' } },
  run: async ({ db, config, values, out }) => {
    const count = values.torrents === undefined ? 50 : Number(values.torrents);
    if (!Number.isInteger(count) || count < 0 || count > 10_000) throw new UsageError('--torrents must be an integer 0..10000');
    const prisma = db.prisma;
    const events = createLocalEventBus();

    const categoryIds = new Map<string, number>();
    for (const [i, [slug, name, newznabId]] of CATEGORIES.entries()) {
      const c = await prisma.category.upsert({ where: { slug }, create: { slug, name, sortIndex: i, newznabId }, update: {} });
      if (c.newznabId === null) await prisma.category.update({ where: { id: c.id }, data: { newznabId } });
      categoryIds.set(slug, c.id);
    }
    out(`categories: ${CATEGORIES.map(([s]) => s).join(', ')}`);

    const userIds = new Map<string, number>();
    const bar = progress(USERS.length, 'users', out);
    const created: string[] = [];
    for (const [name, role] of USERS) {
      const existing = await prisma.user.findUnique({ where: { usernameLower: normaliseUsername(name) }, select: { id: true } });
      if (existing) {
        userIds.set(name, existing.id);
        created.push(`  ${name.padEnd(10)} ${role.toLowerCase().padEnd(10)} (already existed; password unchanged)`);
      } else {
        const password = randomBytes(9).toString('base64url');
        const u = await createUser(prisma, { username: name, password, role });
        userIds.set(name, u.id);
        created.push(`  ${name.padEnd(10)} ${role.toLowerCase().padEnd(10)} password ${password}  passkey ${u.passkey}`);
      }
      bar.tick(name);
    }
    bar.stop();
    out('users:');
    for (const line of created) out(line);

    const uploaders = ['uploader', 'admin', 'alice'].map((n) => userIds.get(n) as number);
    const source = sourceTagFor(config.publicUrl);
    const tbar = progress(count, 'torrents', out);
    let added = 0;
    for (let i = 0; i < count; i += 1) {
      const t = demoTorrent(i);
      try {
        const r = await registerTorrent(prisma, events, {
          bytes: t.bytes,
          uploaderId: uploaders[i % uploaders.length] as number,
          name: t.name,
          description: `A demo ${t.category} torrent. Nothing real is behind it: the piece hashes are made up.`,
          categoryId: categoryIds.get(t.category) ?? null,
          anonymous: i % 7 === 3,
          source,
        });
        if (t.promotion !== 'NONE') await prisma.torrent.update({ where: { id: r.id }, data: PROMOTION_PRESETS[t.promotion] });
        added += 1;
      } catch (err) {
        if (!(err instanceof DuplicateTorrent)) throw err;
      }
      tbar.tick(t.name);
    }
    tbar.stop();
    out(`torrents: ${added} added, ${count - added} already present`);

    const admin = userIds.get('admin') as number;
    if ((await prisma.news.count()) === 0) {
      for (const [title, body] of NEWS) await prisma.news.create({ data: { authorId: admin, title: title as string, body: body as string } });
      out(`news: ${NEWS.length} items`);
    }
    if ((await prisma.funEntry.count()) === 0) {
      const members = ['alice', 'bob', 'carol'].map((n) => userIds.get(n) as number);
      for (const [i, [title, body]] of FUN.entries()) {
        const entry = await prisma.funEntry.create({ data: { userId: members[i % members.length] as number, title: title as string, body: body as string } });
        for (const [j, voter] of members.entries()) if (voter !== entry.userId) await prisma.funVote.create({ data: { funId: entry.id, userId: voter, funny: (i + j) % 3 !== 0 } });
      }
      out(`fun box: ${FUN.length} entries`);
    }
    out('demo data ready');
  },
};
