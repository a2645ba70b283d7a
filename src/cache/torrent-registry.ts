/**
 * Registered torrents as the tracker needs them, in memory, keyed by the 20-byte info hash
 * as a binary string: the v1 hash, and for v2/hybrid torrents also the first 20 bytes of the
 * v2 hash (BEP 52 clients announce under both). Loaded whole at start; misses are looked up
 * once and remembered; `torrent.changed` events reload a row, `caches.reload` all of them.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { TorrentStatus } from '../generated/prisma/enums.ts';
import type { EventBus } from '../shared/events.ts';
import type { StoredFactors } from '../torrents/promotion.ts';

/** The promotion is `StoredFactors`: two transfer factors with their ends (unix ms). */
export interface CachedTorrent extends StoredFactors {
  id: number;
  /** 40 lower-case hex characters. */
  infoHash: string;
  /** Binary keys this torrent answers to. */
  keys: string[];
  status: TorrentStatus;
  /**
   * Times completed (first completion per user): the swarm store's live count when the tracker
   * last read one, else the database's. Never lowered by a database read that lags behind it.
   */
  completed: number;
}

const SELECT = {
  id: true,
  infoHash: true,
  infoHashV2: true,
  status: true,
  downloadPercent: true,
  downloadPercentUntil: true,
  uploadPercent: true,
  uploadPercentUntil: true,
  timesCompleted: true,
} as const;
type Row = {
  id: number;
  infoHash: string;
  infoHashV2: string | null;
  status: TorrentStatus;
  downloadPercent: number;
  downloadPercentUntil: Date | null;
  uploadPercent: number;
  uploadPercentUntil: Date | null;
  timesCompleted: number;
};
const NEGATIVE_TTL_MS = 60_000;
const NEGATIVE_MAX = 100_000;

export function hexToBinary(hex: string): string {
  return Buffer.from(hex, 'hex').toString('latin1');
}

export function binaryToHex(bin: string): string {
  return Buffer.from(bin, 'latin1').toString('hex');
}

/**
 * The torrent's times completed, given the count a swarm store answered (-1: it has none yet):
 * the store's live count replaces the cached one; otherwise the cached one stands.
 */
export function liveCompleted(torrent: CachedTorrent, storeCount: number): number {
  if (storeCount >= 0) torrent.completed = storeCount;
  return torrent.completed;
}

export class TorrentRegistry {
  private readonly byKey = new Map<string, CachedTorrent>();
  private readonly byIdMap = new Map<number, CachedTorrent>();
  private readonly unknown = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    events: EventBus,
    private readonly now: () => number,
  ) {
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'torrent.changed') void this.reload(e.torrentId).catch(() => undefined);
      else if (e.type === 'caches.reload') {
        this.unknown.clear();
        void this.loadAll().catch(() => undefined);
      }
    });
  }

  async loadAll(): Promise<number> {
    let cursor = 0;
    for (;;) {
      const rows = await this.prisma.torrent.findMany({ select: SELECT, where: { id: { gt: cursor } }, orderBy: { id: 'asc' }, take: 10_000 });
      for (const row of rows) this.put(row);
      if (rows.length < 10_000) break;
      cursor = (rows[rows.length - 1] as Row).id;
    }
    return this.byIdMap.size;
  }

  private drop(id: number): void {
    const old = this.byIdMap.get(id);
    if (!old) return;
    this.byIdMap.delete(id);
    for (const k of old.keys) this.byKey.delete(k);
  }

  private put(row: Row): CachedTorrent {
    const before = this.byIdMap.get(row.id)?.completed ?? 0;
    this.drop(row.id);
    const keys = [hexToBinary(row.infoHash)];
    if (row.infoHashV2) keys.push(hexToBinary(row.infoHashV2.slice(0, 40)));
    const entry: CachedTorrent = {
      id: row.id,
      infoHash: row.infoHash,
      keys,
      status: row.status,
      downloadPercent: row.downloadPercent,
      downloadUntil: row.downloadPercentUntil ? row.downloadPercentUntil.getTime() : null,
      uploadPercent: row.uploadPercent,
      uploadUntil: row.uploadPercentUntil ? row.uploadPercentUntil.getTime() : null,
      completed: Math.max(before, row.timesCompleted),
    };
    this.byIdMap.set(row.id, entry);
    for (const k of keys) {
      this.byKey.set(k, entry);
      this.unknown.delete(k);
    }
    return entry;
  }

  async reload(id: number): Promise<CachedTorrent | undefined> {
    const row = await this.prisma.torrent.findUnique({ select: SELECT, where: { id } });
    if (row) return this.put(row);
    this.drop(id);
    return undefined;
  }

  peek(key: string): CachedTorrent | undefined {
    return this.byKey.get(key);
  }

  async getOrLoad(key: string): Promise<CachedTorrent | undefined> {
    const hit = this.byKey.get(key);
    if (hit) return hit;
    const until = this.unknown.get(key);
    if (until !== undefined && until > this.now()) return undefined;
    if (key.length !== 20) return undefined;
    const hex = binaryToHex(key);
    const row = await this.prisma.torrent.findFirst({ select: SELECT, where: { OR: [{ infoHash: hex }, { infoHashV2: { startsWith: hex } }] } });
    if (row) return this.put(row);
    if (this.unknown.size >= NEGATIVE_MAX) this.unknown.clear();
    this.unknown.set(key, this.now() + NEGATIVE_TTL_MS);
    return undefined;
  }

  byId(id: number): CachedTorrent | undefined {
    return this.byIdMap.get(id);
  }

  /** A count read from the database or the swarm store: the cache keeps the higher. */
  setCompleted(id: number, completed: number): void {
    const t = this.byIdMap.get(id);
    if (t && completed > t.completed) t.completed = completed;
  }

  get size(): number {
    return this.byIdMap.size;
  }

  close(): void {
    this.unsubscribe();
  }
}
