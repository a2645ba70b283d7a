/**
 * Registering an uploaded torrent: parse and validate (metainfo.ts), refuse duplicates by v1
 * or v2 hash, store the canonical info bytes and file list, and tell every process's caches
 * (the tracker's torrent registry) through the event bus.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { EventBus } from '../shared/events.ts';
import { DuplicateTorrent, TorrentRejected } from './errors.ts';
import { parseTorrentUpload, type ParsedTorrent } from './metainfo.ts';

export { DuplicateTorrent, TorrentRejected } from './errors.ts';

export interface RegisterInput {
  bytes: Buffer;
  uploaderId: number;
  /** Display name; defaults to the torrent's own name. */
  name?: string | null;
  description?: string | null;
  categoryId?: number | null;
  anonymous?: boolean;
  /** External ids (IMDb as its number). */
  imdbId?: number | null;
  tmdbId?: number | null;
  tvdbId?: number | null;
  /** The site's source tag (written into info.source). */
  source: string;
}

export interface RegisteredTorrent {
  id: number;
  infoHash: string;
  infoHashV2: string | null;
  name: string;
  size: bigint;
  parsed: ParsedTorrent;
}

const MAX_NAME = 255;
const MAX_DESCRIPTION = 64 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

async function existing(prisma: PrismaClient, parsed: ParsedTorrent): Promise<number | null> {
  const hashes = [parsed.infoHash];
  if (parsed.infoHashV2) hashes.push(parsed.infoHashV2.slice(0, 40));
  const or: Prisma.TorrentWhereInput[] = [{ infoHash: { in: hashes } }];
  if (parsed.infoHashV2) or.push({ infoHashV2: parsed.infoHashV2 });
  const row = await prisma.torrent.findFirst({ where: { OR: or }, select: { id: true } });
  return row?.id ?? null;
}

/** Prisma's P2002, or the driver adapter's own error (PGlite's adapter does not map it). */
function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } };
  return e.code === 'P2002' || e.cause?.kind === 'UniqueConstraintViolation' || e.cause?.originalCode === '23505' || e.cause?.code === '23505';
}

export async function registerTorrent(prisma: PrismaClient, events: EventBus, input: RegisterInput): Promise<RegisteredTorrent> {
  const parsed = parseTorrentUpload(input.bytes, { source: input.source });
  const name = (input.name ?? '').replace(CONTROL, '').trim() || parsed.name;
  if (name.length > MAX_NAME) throw new TorrentRejected('name', `the name is longer than ${MAX_NAME} characters`);
  const description = input.description ?? '';
  if (description.length > MAX_DESCRIPTION) throw new TorrentRejected('description', 'the description is longer than 64 KiB');
  if (input.categoryId != null) {
    const category = await prisma.category.findUnique({ where: { id: input.categoryId }, select: { id: true } });
    if (!category) throw new TorrentRejected('category', 'the category does not exist');
  }
  const dup = await existing(prisma, parsed);
  if (dup !== null) throw new DuplicateTorrent(dup);
  let row: { id: number };
  try {
    row = await prisma.torrent.create({
      data: {
        infoHash: parsed.infoHash,
        infoHashV2: parsed.infoHashV2,
        name,
        description,
        size: parsed.size,
        fileCount: parsed.files.length,
        files: parsed.files.map((f) => ({ path: f.path, size: f.size.toString() })),
        info: new Uint8Array(parsed.info),
        pieceLayers: parsed.pieceLayers ? new Uint8Array(parsed.pieceLayers) : null,
        pieceLength: parsed.pieceLength,
        comment: parsed.comment,
        createdBy: parsed.createdBy,
        uploaderId: input.uploaderId,
        anonymous: input.anonymous ?? false,
        categoryId: input.categoryId ?? null,
        imdbId: input.imdbId ?? null,
        tmdbId: input.tmdbId ?? null,
        tvdbId: input.tvdbId ?? null,
      },
      select: { id: true },
    });
  } catch (err) {
    // A concurrent upload of the same torrent won the race.
    if (isUniqueViolation(err)) {
      const winner = await existing(prisma, parsed);
      if (winner !== null) throw new DuplicateTorrent(winner);
    }
    throw err;
  }
  events.publish({ type: 'torrent.changed', torrentId: row.id });
  return { id: row.id, infoHash: parsed.infoHash, infoHashV2: parsed.infoHashV2, name, size: parsed.size, parsed };
}
