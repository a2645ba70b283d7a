/**
 * Credit waiting to be written: an in-memory sum per (user, torrent), appended to
 * synchronously on the announce path and drained by accounting/flush.ts. Nothing here does
 * I/O. A failed write puts the drained entries back (`restore`), so credit is never dropped.
 */
import type { Credit } from './deltas.ts';

export interface LedgerEntry {
  userId: number;
  torrentId: number;
  uploaded: number;
  downloaded: number;
  seedSeconds: number;
  leechSeconds: number;
  bonus: number;
  completed: boolean;
  /** Unix seconds of the latest announce. */
  lastAnnounce: number;
}

export interface LedgerBatch {
  entries: LedgerEntry[];
  /** Torrents whose swarm changed since the last drain (their counts are mirrored to SQL). */
  torrents: number[];
  /** Unix ms of the oldest entry in the batch; null when empty. */
  oldest: number | null;
}

export class Ledger {
  private entries = new Map<number, Map<number, LedgerEntry>>();
  private touched = new Set<number>();
  private oldest: number | null = null;
  private size = 0;

  constructor(private readonly nowMs: () => number) {}

  append(userId: number, torrentId: number, credit: Credit, now: number): void {
    this.touched.add(torrentId);
    let byTorrent = this.entries.get(userId);
    if (!byTorrent) {
      byTorrent = new Map();
      this.entries.set(userId, byTorrent);
    }
    let e = byTorrent.get(torrentId);
    if (!e) {
      e = { userId, torrentId, uploaded: 0, downloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false, lastAnnounce: now };
      byTorrent.set(torrentId, e);
      this.size++;
      if (this.oldest === null) this.oldest = this.nowMs();
    }
    e.uploaded += credit.uploaded;
    e.downloaded += credit.downloaded;
    e.seedSeconds += credit.seedSeconds;
    e.leechSeconds += credit.leechSeconds;
    e.bonus += credit.bonus;
    if (credit.completed) e.completed = true;
    if (now > e.lastAnnounce) e.lastAnnounce = now;
  }

  /** Marks a torrent's swarm as changed without credit (e.g. a stopped peer that sent nothing new). */
  touch(torrentId: number): void {
    this.touched.add(torrentId);
  }

  get pending(): number {
    return this.size;
  }

  /** Age in ms of the oldest unwritten credit (0 when nothing waits). */
  lagMs(): number {
    return this.oldest === null ? 0 : this.nowMs() - this.oldest;
  }

  drain(): LedgerBatch {
    const entries: LedgerEntry[] = [];
    for (const byTorrent of this.entries.values()) for (const e of byTorrent.values()) entries.push(e);
    const batch = { entries, torrents: [...this.touched], oldest: this.oldest };
    this.entries = new Map();
    this.touched = new Set();
    this.oldest = null;
    this.size = 0;
    return batch;
  }

  /** Puts a batch that could not be written back in front of newer credit. */
  restore(batch: LedgerBatch): void {
    for (const e of batch.entries) {
      this.append(e.userId, e.torrentId, { uploaded: e.uploaded, downloaded: e.downloaded, seedSeconds: e.seedSeconds, leechSeconds: e.leechSeconds, bonus: e.bonus, completed: e.completed }, e.lastAnnounce);
    }
    for (const t of batch.torrents) this.touched.add(t);
    if (batch.oldest !== null && (this.oldest === null || batch.oldest < this.oldest)) this.oldest = batch.oldest;
  }
}
