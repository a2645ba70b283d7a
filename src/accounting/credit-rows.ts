/**
 * Credit on its way to the database: one row per (user, torrent), in typed-array columns. The
 * ledger hands its own columns over when drained, so a drain copies nothing and makes no
 * object per entry: a flush of a million entries used to hold about 100 MB of entry objects
 * (and stall the event loop making them) for the minute PGlite takes to write them.
 */

/** One row as an object: for the Redis credit source, tests and benchmarks, not the hot path. */
export interface LedgerEntry {
  userId: number;
  torrentId: number;
  uploaded: number;
  downloaded: number;
  /** Bytes before the promotion (accounting/deltas.ts `rawUploaded`/`rawDownloaded`). */
  rawUploaded: number;
  rawDownloaded: number;
  seedSeconds: number;
  leechSeconds: number;
  bonus: number;
  completed: boolean;
  /** Unix seconds of the latest announce. */
  lastAnnounce: number;
  /** Unix seconds of the announce that reported the completion (0: none). */
  completedAt: number;
}

/** Float64 sums per row, in this order (the last two are times, not sums). */
export const SUM_FIELDS = 9;
export const S_UPLOADED = 0;
export const S_DOWNLOADED = 1;
export const S_RAW_UPLOADED = 2;
export const S_RAW_DOWNLOADED = 3;
export const S_SEED = 4;
export const S_LEECH = 5;
export const S_BONUS = 6;
export const S_LAST = 7;
export const S_COMPLETED_AT = 8;

export interface CreditRows {
  readonly length: number;
  readonly userId: Int32Array;
  readonly torrentId: Int32Array;
  /** 1 when the session completed. */
  readonly completed: Uint8Array;
  /** SUM_FIELDS per row: uploaded, downloaded, raw uploaded, raw downloaded, seed s, leech s, bonus, last announce and completion (unix s). */
  readonly sums: Float64Array;
}

export function emptyRows(capacity = 0): CreditRows {
  return { length: 0, userId: new Int32Array(capacity), torrentId: new Int32Array(capacity), completed: new Uint8Array(capacity), sums: new Float64Array(capacity * SUM_FIELDS) };
}

/** Rows [start, end) as views of the same columns. */
export function sliceRows(rows: CreditRows, start: number, end: number): CreditRows {
  const to = Math.min(end, rows.length);
  const from = Math.min(start, to);
  return {
    length: to - from,
    userId: rows.userId.subarray(from, to),
    torrentId: rows.torrentId.subarray(from, to),
    completed: rows.completed.subarray(from, to),
    sums: rows.sums.subarray(from * SUM_FIELDS, to * SUM_FIELDS),
  };
}

export function concatRows(parts: readonly CreditRows[]): CreditRows {
  const out = emptyRows(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    const view = sliceRows(p, 0, p.length);
    out.userId.set(view.userId, at);
    out.torrentId.set(view.torrentId, at);
    out.completed.set(view.completed, at);
    out.sums.set(view.sums, at * SUM_FIELDS);
    at += p.length;
  }
  return { ...out, length: at };
}

export function rowsFromEntries(entries: readonly LedgerEntry[]): CreditRows {
  const rows = emptyRows(entries.length);
  entries.forEach((e, i) => {
    rows.userId[i] = e.userId;
    rows.torrentId[i] = e.torrentId;
    rows.completed[i] = e.completed ? 1 : 0;
    rows.sums.set([e.uploaded, e.downloaded, e.rawUploaded, e.rawDownloaded, e.seedSeconds, e.leechSeconds, e.bonus, e.lastAnnounce, e.completedAt], i * SUM_FIELDS);
  });
  return { ...rows, length: entries.length };
}

function entryAt(rows: CreditRows, i: number): LedgerEntry {
  const s = rows.sums;
  const at = i * SUM_FIELDS;
  return {
    userId: rows.userId[i] as number,
    torrentId: rows.torrentId[i] as number,
    uploaded: s[at + S_UPLOADED] as number,
    downloaded: s[at + S_DOWNLOADED] as number,
    rawUploaded: s[at + S_RAW_UPLOADED] as number,
    rawDownloaded: s[at + S_RAW_DOWNLOADED] as number,
    seedSeconds: s[at + S_SEED] as number,
    leechSeconds: s[at + S_LEECH] as number,
    bonus: s[at + S_BONUS] as number,
    completed: rows.completed[i] === 1,
    lastAnnounce: s[at + S_LAST] as number,
    completedAt: s[at + S_COMPLETED_AT] as number,
  };
}

export function entriesOf(rows: CreditRows): LedgerEntry[] {
  return Array.from({ length: rows.length }, (_, i) => entryAt(rows, i));
}
