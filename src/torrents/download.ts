/**
 * The .torrent a user downloads: a new top-level dictionary around the stored, canonical
 * `info` bytes (spliced verbatim, so the info hash is exactly the registered one) and, for
 * v2/hybrid torrents, the stored `piece layers` bytes. `announce` carries the user's passkey;
 * there is no `announce-list` (a private torrent talks to this tracker only).
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { encodeDict, RawBencode } from './bencode.ts';
import { TorrentFileMissing } from './errors.ts';
import { canSee } from './visibility.ts';

export interface DownloadableTorrent {
  /** Null for a torrent imported without its .torrent file. */
  info: Uint8Array | null;
  pieceLayers?: Uint8Array | null;
  comment?: string | null;
  createdBy?: string | null;
  createdAt: Date;
}

/** `{PUBLIC_URL}/announce?passkey={passkey}` */
export function announceUrlFor(publicUrl: string, passkey: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/announce?passkey=${encodeURIComponent(passkey)}`;
}

/** Throws TorrentFileMissing for a torrent without stored metadata. */
export function buildDownload(torrent: DownloadableTorrent, announceUrl: string): Buffer {
  if (!torrent.info) throw new TorrentFileMissing();
  const raw = (b: Uint8Array) => new RawBencode(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  return encodeDict({
    announce: announceUrl,
    comment: torrent.comment || undefined,
    'created by': torrent.createdBy || undefined,
    'creation date': Math.floor(torrent.createdAt.getTime() / 1000),
    info: raw(torrent.info),
    'piece layers': torrent.pieceLayers && torrent.pieceLayers.length > 0 ? raw(torrent.pieceLayers) : undefined,
  });
}

/** On failure, what the 404 says: the same words on every route that serves a download. */
export type PersonalDownload = { ok: true; name: string; body: Buffer } | { ok: false; message: string };

/**
 * The torrent `id` as `viewer` downloads it, with `passkey` in its announce URL; not found for
 * a torrent the viewer may not see, as for an unknown one, and a failure naming the lost file
 * for one imported without its .torrent file.
 */
export async function personalDownload(
  prisma: PrismaClient,
  id: number,
  viewer: { id: number; role: Role },
  publicUrl: string,
  passkey: string,
): Promise<PersonalDownload> {
  const torrent = await prisma.torrent.findUnique({
    where: { id },
    select: { name: true, info: true, pieceLayers: true, comment: true, createdBy: true, createdAt: true, status: true, uploaderId: true },
  });
  if (!torrent || !canSee(viewer, torrent)) return { ok: false, message: 'torrent not found' };
  if (!torrent.info) return { ok: false, message: new TorrentFileMissing().message };
  return { ok: true, name: torrent.name, body: buildDownload(torrent, announceUrlFor(publicUrl, passkey)) };
}
