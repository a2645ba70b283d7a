/**
 * Passkey -> announce gate, for the tracker's hot path: an open-addressing table in one
 * Int32Array whose 8-int (32-byte) rows hold the passkey's 16 bytes, the user id, the gate
 * flags and the announce budget of the current minute. Admitting an announce reads one row,
 * where a Map<string, object> lookup touched the map entry, the key string and the user object,
 * each somewhere else in a heap of hundreds of MB (bench:hot-path: the gate was a quarter of
 * the announce handler). The user objects stay in UserDirectory for everything else.
 */

const ROW = 8;
const K0 = 0;
const ID = 4; // 0: empty row; -1: deleted row (the probe goes on past it)
const FLAGS = 5;
const WINDOW = 6;
const COUNT = 7;

export const GATE_ACTIVE = 1;
export const GATE_BANNED = 2;
export const GATE_DISABLED = 4;
export const GATE_CAN_LEECH = 8;
/** A site rule (leech_blocks) refuses the user's leeching announces; the reason is in UserDirectory. */
export const GATE_LEECH_BLOCKED = 16;
/** The user bought personal free leech; its end time is in UserDirectory. */
export const GATE_PERSONAL_FREE = 32;

const words = new Int32Array(4);

/** 32 lower-case hex characters into `words`; false for anything else. */
function toWords(passkey: string): boolean {
  if (passkey.length !== 32) return false;
  for (let w = 0; w < 4; w++) {
    let v = 0;
    for (let i = w * 8; i < w * 8 + 8; i++) {
      const c = passkey.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    words[w] = v;
  }
  return true;
}

export class PasskeyIndex {
  private rows = new Int32Array(1024 * ROW);
  private used = 0;
  private deleted = 0;

  /** The row of a passkey (an offset for the accessors below), or -1. */
  find(passkey: string): number {
    if (!toWords(passkey)) return -1;
    return this.probe(false);
  }

  /**
   * Adds or updates a passkey; the budget of a known passkey is kept. A passkey that is not 32
   * lower-case hex digits is not indexed: no announce can name it (parse-announce.ts).
   */
  set(passkey: string, userId: number, flags: number): void {
    if (!(userId > 0) || !toWords(passkey)) return;
    if ((this.used + this.deleted + 1) * 4 > (this.rows.length / ROW) * 3) {
      this.grow();
      toWords(passkey); // grow() used the scratch words
    }
    let r = this.probe(false);
    if (r < 0) {
      r = this.probe(true);
      if (this.rows[r + ID] === -1) this.deleted--;
      this.used++;
      this.rows.set(words, r + K0);
      this.rows[r + WINDOW] = 0;
      this.rows[r + COUNT] = 0;
    }
    this.rows[r + ID] = userId;
    this.rows[r + FLAGS] = flags;
  }

  delete(passkey: string): void {
    if (!toWords(passkey)) return;
    const r = this.probe(false);
    if (r < 0) return;
    this.rows[r + ID] = -1;
    this.used--;
    this.deleted++;
  }

  userId(row: number): number {
    return this.rows[row + ID] as number;
  }

  flags(row: number): number {
    return this.rows[row + FLAGS] as number;
  }

  /** Counts one announce in `minute`; true while the count stays within `limit`. */
  spend(row: number, minute: number, limit: number): boolean {
    const rows = this.rows;
    if (rows[row + WINDOW] !== minute) {
      rows[row + WINDOW] = minute;
      rows[row + COUNT] = 0;
    }
    const n = (rows[row + COUNT] as number) + 1;
    rows[row + COUNT] = n;
    return n <= limit;
  }

  get size(): number {
    return this.used;
  }

  /** With `free`, the first empty or deleted row on the probe path of `words`; else the row holding them or -1. */
  private probe(free: boolean): number {
    const rows = this.rows;
    const mask = rows.length / ROW - 1;
    // A passkey is 128 random bits: its first word is already a good hash.
    let i = (words[0] as number) & mask;
    for (;;) {
      const r = i * ROW;
      const id = rows[r + ID] as number;
      if (id === 0) return free ? r : -1;
      if (id === -1) {
        if (free) return r;
      } else if (rows[r] === words[0] && rows[r + 1] === words[1] && rows[r + 2] === words[2] && rows[r + 3] === words[3]) return r;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.rows;
    const capacity = this.used * 2 > old.length / ROW ? (old.length / ROW) * 2 : old.length / ROW;
    this.rows = new Int32Array(Math.max(1024, capacity) * ROW);
    this.used = 0;
    this.deleted = 0;
    for (let r = 0; r < old.length; r += ROW) {
      const id = old[r + ID] as number;
      if (id <= 0) continue;
      words.set(old.subarray(r, r + 4));
      const to = this.probe(true);
      this.rows.set(old.subarray(r, r + ROW), to);
      this.used++;
    }
  }
}
