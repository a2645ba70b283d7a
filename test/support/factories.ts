/**
 * Test data written straight to the database (the tracker reads it through its caches):
 * users with known passkeys and registered torrents with minimal valid rows.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/open-database.ts';
import type { Role, TorrentStatus, UserStatus } from '../../src/generated/prisma/enums.ts';
import { PROMOTION_PRESETS, type PromotionPreset } from '../../src/torrents/promotion.ts';

let seq = 0;

export interface TestUser {
  id: number;
  username: string;
  passkey: string;
}

export async function aUser(db: Database, opts: { role?: Role; status?: UserStatus; canLeech?: boolean; bonus?: number; username?: string } = {}): Promise<TestUser> {
  seq += 1;
  const username = opts.username ?? `user${seq}_${randomBytes(3).toString('hex')}`;
  const passkey = randomBytes(16).toString('hex');
  const row = await db.prisma.user.create({
    data: {
      username,
      usernameLower: username.toLowerCase(),
      passwordHash: 'x',
      passkey,
      role: opts.role ?? 'USER',
      status: opts.status ?? 'ACTIVE',
      canLeech: opts.canLeech ?? true,
      bonus: opts.bonus ?? 0,
    },
  });
  return { id: row.id, username, passkey };
}

export interface TestTorrent {
  id: number;
  infoHash: string;
  /** The 20 raw bytes of the info hash. */
  hashBytes: Buffer;
}

export async function aTorrent(db: Database, uploaderId: number, opts: { promotion?: PromotionPreset; promotionUntil?: Date | null; status?: TorrentStatus; size?: bigint; name?: string } = {}): Promise<TestTorrent> {
  seq += 1;
  const name = opts.name ?? `torrent-${seq}`;
  const size = opts.size ?? 1n << 30n;
  const info = Buffer.from(`d6:lengthi${size}e4:name${name.length}:${name}12:piece lengthi262144e6:pieces20:${'x'.repeat(20)}7:privatei1ee`, 'latin1');
  const infoHash = createHash('sha1').update(info).digest('hex');
  const row = await db.prisma.torrent.create({
    data: {
      infoHash,
      name,
      size,
      fileCount: 1,
      files: [{ path: name, size: String(size) }],
      info,
      pieceLength: 262144,
      uploaderId,
      ...PROMOTION_PRESETS[opts.promotion ?? 'NONE'],
      downloadPercentUntil: opts.promotionUntil ?? null,
      uploadPercentUntil: opts.promotionUntil ?? null,
      status: opts.status ?? 'ACTIVE',
    },
  });
  return { id: row.id, infoHash, hashBytes: Buffer.from(infoHash, 'hex') };
}

/** Byte-wise percent-encoding as libtorrent sends info_hash and peer_id. */
export function encodeBytes(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    s += /[A-Za-z0-9.\-_~]/.test(c) ? c : `%${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

export function aPeerId(prefix = '-qB4630-'): Buffer {
  return Buffer.concat([Buffer.from(prefix, 'latin1'), randomBytes(20 - prefix.length)]);
}
