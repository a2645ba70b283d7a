/**
 * Credit waiting to be written: an in-memory sum per (user, torrent), appended to
 * synchronously on the announce path and drained by accounting/flush.ts. Nothing here does
 * I/O. A failed write puts the drained entries back (`restore`), so credit is never dropped.
 *
 * The sums live in typed-array columns behind an open-addressing table keyed by (user,
 * torrent), not in objects: every new session's entry would otherwise be a few heap objects
 * that live until the next flush, i.e. exactly what the young generation promotes, and the
 * old generation then has to mark and compact them (measured on the announce benchmark: about
 * 1 MB promoted per scavenge, mark-compact steps up to 20 ms, the p99). Entry objects are made
 * only when a batch is drained.
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

const MIN_ROWS = 1024;

/** First probe slot of (user, torrent): multiplicative hashing of both ids. */
function home(userId: number, torrentId: number, mask: number): number {
  return (Math.imul(userId, 0x9e3779b1) ^ Math.imul(torrentId, 0x85ebca77)) & mask;
}

export class Ledger {
  private rows = 0;
  private capacity = MIN_ROWS;
  /** Hash slots (twice the rows, a power of two): row index + 1, or 0 when empty. */
  private slots = new Int32Array(MIN_ROWS * 2);
  private userId = new Int32Array(MIN_ROWS);
  private torrentId = new Int32Array(MIN_ROWS);
  private completed = new Uint8Array(MIN_ROWS);
  /** uploaded, downloaded, seed s, leech s, bonus, last announce: one row of six per entry. */
  private sums = new Float64Array(MIN_ROWS * 6);
  private touched = new Set<number>();
  private oldest: number | null = null;

  constructor(private readonly nowMs: () => number) {}

  append(userId: number, torrentId: number, credit: Credit, now: number): void {
    this.touched.add(torrentId);
    const row = this.rowOf(userId, torrentId, now);
    const s = this.sums;
    const at = row * 6;
    s[at] = (s[at] as number) + credit.uploaded;
    s[at + 1] = (s[at + 1] as number) + credit.downloaded;
    s[at + 2] = (s[at + 2] as number) + credit.seedSeconds;
    s[at + 3] = (s[at + 3] as number) + credit.leechSeconds;
    s[at + 4] = (s[at + 4] as number) + credit.bonus;
    if (now > (s[at + 5] as number)) s[at + 5] = now;
    if (credit.completed) this.completed[row] = 1;
  }

  /** Marks a torrent's swarm as changed without credit (e.g. a stopped peer that sent nothing new). */
  touch(torrentId: number): void {
    this.touched.add(torrentId);
  }

  get pending(): number {
    return this.rows;
  }

  /** Age in ms of the oldest unwritten credit (0 when nothing waits). */
  lagMs(): number {
    return this.oldest === null ? 0 : this.nowMs() - this.oldest;
  }

  drain(): LedgerBatch {
    const entries: LedgerEntry[] = new Array<LedgerEntry>(this.rows);
    const s = this.sums;
    for (let row = 0; row < this.rows; row++) {
      const at = row * 6;
      entries[row] = {
        userId: this.userId[row] as number,
        torrentId: this.torrentId[row] as number,
        uploaded: s[at] as number,
        downloaded: s[at + 1] as number,
        seedSeconds: s[at + 2] as number,
        leechSeconds: s[at + 3] as number,
        bonus: s[at + 4] as number,
        completed: this.completed[row] === 1,
        lastAnnounce: s[at + 5] as number,
      };
    }
    const batch = { entries, torrents: [...this.touched], oldest: this.oldest };
    // Start small again: memory follows the credit pending now, not the largest burst ever seen
    // (a fill of 1M peers would otherwise keep ~65 MB of table). Growing back by doubling costs
    // a copy of each row about once per interval.
    this.allocate(MIN_ROWS);
    this.rows = 0;
    this.touched = new Set();
    this.oldest = null;
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

  /** The row of (user, torrent), added (zeroed, last announce `now`) when new. */
  private rowOf(userId: number, torrentId: number, now: number): number {
    const mask = this.slots.length - 1;
    // Linear probing: the table is at most half full.
    let i = home(userId, torrentId, mask);
    for (;;) {
      const slot = this.slots[i] as number;
      if (slot === 0) break;
      const row = slot - 1;
      if (this.userId[row] === userId && this.torrentId[row] === torrentId) return row;
      i = (i + 1) & mask;
    }
    if (this.rows === this.capacity) {
      this.grow();
      return this.rowOf(userId, torrentId, now);
    }
    const row = this.rows++;
    this.slots[i] = row + 1;
    this.userId[row] = userId;
    this.torrentId[row] = torrentId;
    this.completed[row] = 0;
    this.sums.fill(0, row * 6, row * 6 + 5);
    this.sums[row * 6 + 5] = now;
    if (this.oldest === null) this.oldest = this.nowMs();
    return row;
  }

  private grow(): void {
    const rows = this.rows;
    const old = { userId: this.userId, torrentId: this.torrentId, completed: this.completed, sums: this.sums };
    this.allocate(this.capacity * 2);
    this.userId.set(old.userId.subarray(0, rows));
    this.torrentId.set(old.torrentId.subarray(0, rows));
    this.completed.set(old.completed.subarray(0, rows));
    this.sums.set(old.sums.subarray(0, rows * 6));
    const mask = this.slots.length - 1;
    for (let row = 0; row < rows; row++) {
      let i = home(this.userId[row] as number, this.torrentId[row] as number, mask);
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = row + 1;
    }
  }

  /** Fresh, empty storage for `capacity` rows (an empty table when the size is unchanged). */
  private allocate(capacity: number): void {
    if (capacity === this.capacity && this.rows === 0) return;
    if (capacity === this.capacity) {
      this.slots.fill(0);
      return;
    }
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 2);
    this.userId = new Int32Array(capacity);
    this.torrentId = new Int32Array(capacity);
    this.completed = new Uint8Array(capacity);
    this.sums = new Float64Array(capacity * 6);
  }
}
