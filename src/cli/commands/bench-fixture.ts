/**
 * `bench-fixture --pools <dir>`: loads the load harness's pools (shared/perf gen-pools.mjs) as
 * a private tracker's data: peer p becomes user `bench{p}` whose passkey is the first 32 hex
 * characters of line p of peers.hex, and every line of torrents.hex becomes a registered
 * torrent with that info hash. Batched INSERTs from unnest(arrays), one shared password hash:
 * 100k users load in seconds on PGlite. Re-running adds only what is missing.
 *
 * The torrents have no real metainfo (the harness only announces): `info` is empty and their
 * downloads are not usable.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../auth/passwords.ts';
import { newPasskey } from '../../users/accounts.ts';
import { UsageError, type Command } from '../command.ts';

const BATCH = 10_000;
const HEX40 = /^[0-9a-f]{40}$/;

function readPool(dir: string, file: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch {
    throw new Error(`cannot read ${join(dir, file)} (generate the pools with gen-pools.mjs first)`);
  }
  const lines = text.split('\n').map((l) => l.trim().toLowerCase()).filter(Boolean);
  lines.forEach((l, i) => {
    if (!HEX40.test(l)) throw new Error(`${file} line ${i + 1} is not 40 hex characters`);
  });
  return lines;
}

export const benchFixture: Command = {
  usage: 'bench-fixture --pools <dir>',
  summary: 'load the load-harness pools (peers.hex, torrents.hex) as users and torrents, fast',
  options: { pools: { type: 'string' } },
  run: async ({ db, values, out }) => {
    if (typeof values.pools !== 'string') throw new UsageError('--pools <dir> is required');
    const started = Date.now();
    const peers = readPool(values.pools, 'peers.hex');
    const torrents = readPool(values.pools, 'torrents.hex');
    const prisma = db.prisma;
    const passwordHash = await hashPassword(randomBytes(24).toString('base64url'));

    const ownerName = 'bench-owner';
    await prisma.$executeRaw`INSERT INTO users (username, username_lower, password_hash, passkey, role) VALUES (${ownerName}, ${ownerName}, ${passwordHash}, ${newPasskey()}, 'ADMIN') ON CONFLICT DO NOTHING`;
    const owner = await prisma.user.findUniqueOrThrow({ where: { usernameLower: ownerName }, select: { id: true } });

    let users = 0;
    for (let from = 0; from < peers.length; from += BATCH) {
      const slice = peers.slice(from, from + BATCH);
      const names = slice.map((_, i) => `bench${from + i}`);
      const passkeys = slice.map((l) => l.slice(0, 32));
      users += await prisma.$executeRaw`
        INSERT INTO users (username, username_lower, password_hash, passkey)
        SELECT n, n, ${passwordHash}, p FROM unnest(${names}::text[], ${passkeys}::text[]) AS t(n, p)
        ON CONFLICT DO NOTHING`;
    }

    let added = 0;
    for (let from = 0; from < torrents.length; from += BATCH) {
      const hashes = torrents.slice(from, from + BATCH);
      const names = hashes.map((_, i) => `bench torrent ${from + i}`);
      const files = hashes.map((_, i) => JSON.stringify([{ path: `bench torrent ${from + i}`, size: '1073741824' }]));
      added += await prisma.$executeRaw`
        INSERT INTO torrents (info_hash, name, size, file_count, files, info, piece_length, uploader_id, updated_at)
        SELECT h, n, 1073741824, 1, f::jsonb, ''::bytea, 262144, ${owner.id}, now()
        FROM unnest(${hashes}::text[], ${names}::text[], ${files}::text[]) AS t(h, n, f)
        ON CONFLICT DO NOTHING`;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    out(`bench fixture: ${users} users and ${added} torrents added (${peers.length} peers, ${torrents.length} torrents in the pools) in ${seconds} s`);
  },
};
