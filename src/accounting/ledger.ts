/**
 * Credit waiting to be written: an in-memory sum per (user, torrent), appended to
 * synchronously on the announce path and drained by accounting/flush.ts. Nothing here does
 * I/O. A failed write puts the drained entries back (`restore`), so credit is never dropped.
 *
 * The sums live in typed-array columns behind an open-addressing table keyed by (user,
 * torrent), not in objects: every new session's entry would otherwise be a few heap objects
 * that live until the next flush, i.e. exactly what the young generation promotes, and the
 * old generation then has to mark and compact them (measured on the announce benchmark: about
 * 1 MB promoted per scavenge, mark-compact steps up to 20 ms, the p99). A drain hands the
 * columns themselves to the flush (credit-rows.ts) and starts new ones.
 */
import type { CreditAmounts } from './deltas.ts';
import { type CreditRows, S_BONUS, S_COMPLETED_AT, S_DOWNLOADED, S_LAST, S_LEECH, S_RAW_DOWNLOADED, S_RAW_UPLOADED, S_SEED, S_UPLOADED, SUM_FIELDS, sliceRows } from './credit-rows.ts';

export interface LedgerBatch {
  rows: CreditRows;
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
  /** SUM_FIELDS per row (credit-rows.ts). */
  private sums = new Float64Array(MIN_ROWS * SUM_FIELDS);
  private touched = new Set<number>();
  private oldest: number | null = null;

  constructor(private readonly nowMs: () => number) {}

  append(userId: number, torrentId: number, credit: CreditAmounts, now: number): void {
    this.touched.add(torrentId);
    const row = this.rowOf(userId, torrentId, now);
    const s = this.sums;
    const at = row * SUM_FIELDS;
    s[at + S_UPLOADED] = (s[at + S_UPLOADED] as number) + credit.uploaded;
    s[at + S_DOWNLOADED] = (s[at + S_DOWNLOADED] as number) + credit.downloaded;
    s[at + S_RAW_UPLOADED] = (s[at + S_RAW_UPLOADED] as number) + credit.rawUploaded;
    s[at + S_RAW_DOWNLOADED] = (s[at + S_RAW_DOWNLOADED] as number) + credit.rawDownloaded;
    s[at + S_SEED] = (s[at + S_SEED] as number) + credit.seedSeconds;
    s[at + S_LEECH] = (s[at + S_LEECH] as number) + credit.leechSeconds;
    s[at + S_BONUS] = (s[at + S_BONUS] as number) + credit.bonus;
    if (now > (s[at + S_LAST] as number)) s[at + S_LAST] = now;
    if (credit.completed) this.complete(row, now);
  }

  /** The first completion in the batch keeps its time. */
  private complete(row: number, at: number): void {
    this.completed[row] = 1;
    const i = row * SUM_FIELDS + S_COMPLETED_AT;
    const was = this.sums[i] as number;
    if (was === 0 || at < was) this.sums[i] = at;
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
    const rows = sliceRows({ length: this.rows, userId: this.userId, torrentId: this.torrentId, completed: this.completed, sums: this.sums }, 0, this.rows);
    const batch = { rows, torrents: [...this.touched], oldest: this.oldest };
    // The batch owns these columns now. Start small again: memory follows the credit pending
    // now, not the largest burst ever seen (a fill of 1M peers would otherwise keep ~65 MB of
    // table). Growing back by doubling costs a copy of each row about once per interval.
    if (this.rows > 0) this.allocate(MIN_ROWS);
    this.rows = 0;
    this.touched = new Set();
    this.oldest = null;
    return batch;
  }

  /** Puts a batch that could not be written back in front of newer credit. */
  restore(batch: LedgerBatch): void {
    const r = batch.rows;
    const s = r.sums;
    for (let i = 0; i < r.length; i++) {
      const from = i * SUM_FIELDS;
      const last = s[from + S_LAST] as number;
      const row = this.rowOf(r.userId[i] as number, r.torrentId[i] as number, last);
      const to = row * SUM_FIELDS;
      // Every field before S_LAST is a sum.
      for (let f = 0; f < S_LAST; f++) this.sums[to + f] = (this.sums[to + f] as number) + (s[from + f] as number);
      if (last > (this.sums[to + S_LAST] as number)) this.sums[to + S_LAST] = last;
      if (r.completed[i] === 1) this.complete(row, s[from + S_COMPLETED_AT] as number);
      this.touched.add(r.torrentId[i] as number);
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
    this.sums.fill(0, row * SUM_FIELDS, row * SUM_FIELDS + SUM_FIELDS);
    this.sums[row * SUM_FIELDS + S_LAST] = now;
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
    this.sums.set(old.sums.subarray(0, rows * SUM_FIELDS));
    const mask = this.slots.length - 1;
    for (let row = 0; row < rows; row++) {
      let i = home(this.userId[row] as number, this.torrentId[row] as number, mask);
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = row + 1;
    }
  }

  /** Fresh, empty storage for `capacity` rows; the old columns may belong to a drained batch. */
  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 2);
    this.userId = new Int32Array(capacity);
    this.torrentId = new Int32Array(capacity);
    this.completed = new Uint8Array(capacity);
    this.sums = new Float64Array(capacity * SUM_FIELDS);
  }
}
