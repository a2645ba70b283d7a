/**
 * The in-memory ledger (src/accounting/ledger.ts): sums per (user, torrent) across appends,
 * through its table growing and shrinking, drained exactly once, and a failed batch restored
 * in front of newer credit. Checked against a plain Map model on generated sequences.
 */
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { CreditAmounts } from '../../src/accounting/deltas.ts';
import { concatRows, type CreditRows, entriesOf, type LedgerEntry, rowsFromEntries, sliceRows } from '../../src/accounting/credit-rows.ts';
import { Ledger, type LedgerBatch } from '../../src/accounting/ledger.ts';

const credit = (over: Partial<CreditAmounts> = {}): CreditAmounts => ({ uploaded: 0, downloaded: 0, rawUploaded: 0, rawDownloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false, ...over });

/** The drained entries as objects, for assertions. */
const drained = (batch: LedgerBatch): LedgerEntry[] => entriesOf(batch.rows);

function byKey(entries: LedgerEntry[]): Map<string, LedgerEntry> {
  return new Map(entries.map((e) => [`${e.userId}/${e.torrentId}`, e]));
}

describe('Ledger', () => {
  it('sums the credit of one user and torrent, keeps the latest announce and a completion', () => {
    let clock = 1_000;
    const ledger = new Ledger(() => clock);
    ledger.append(7, 3, credit({ uploaded: 100, seedSeconds: 30, bonus: 0.5 }), 1_700_000_010);
    clock = 4_000;
    ledger.append(7, 3, credit({ uploaded: 50, downloaded: 20, rawUploaded: 25, rawDownloaded: 40, leechSeconds: 5, completed: true }), 1_700_000_005);
    ledger.append(8, 3, credit({ downloaded: 1 }), 1_700_000_020);
    expect(ledger.pending).toBe(2);
    expect(ledger.lagMs()).toBe(3_000);
    const batch = ledger.drain();
    expect(byKey(drained(batch)).get('7/3')).toEqual({
      userId: 7,
      torrentId: 3,
      uploaded: 150,
      downloaded: 20,
      rawUploaded: 25,
      rawDownloaded: 40,
      seedSeconds: 30,
      leechSeconds: 5,
      bonus: 0.5,
      completed: true,
      lastAnnounce: 1_700_000_010,
      completedAt: 1_700_000_005,
    });
    expect(byKey(drained(batch)).get('8/3')).toMatchObject({ downloaded: 1, completed: false, lastAnnounce: 1_700_000_020, completedAt: 0 });
    expect(batch).toMatchObject({ torrents: [3], oldest: 1_000 });
    expect(ledger.pending).toBe(0);
    expect(ledger.lagMs()).toBe(0);
    expect(ledger.drain()).toMatchObject({ rows: { length: 0 }, torrents: [], oldest: null });
  });

  it('lists touched torrents without credit, and drains each entry once', () => {
    const ledger = new Ledger(() => 0);
    ledger.touch(5);
    ledger.append(1, 6, credit({ uploaded: 1 }), 10);
    const first = ledger.drain();
    expect(first.torrents).toEqual([5, 6]);
    expect(drained(first)).toEqual([expect.objectContaining({ userId: 1, torrentId: 6, uploaded: 1 })]);
    ledger.append(1, 6, credit({ uploaded: 2 }), 11);
    expect(drained(ledger.drain())).toEqual([expect.objectContaining({ uploaded: 2, lastAnnounce: 11 })]);
  });

  it('grows past its initial table and shrinks after the burst without losing or mixing entries', () => {
    const ledger = new Ledger(() => 0);
    const n = 20_000;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) ledger.append(i + 1, (i % 97) + 1, credit({ uploaded: i, seedSeconds: round + 1 }), i);
      const entries = byKey(drained(ledger.drain()));
      expect(entries.size).toBe(n);
      for (const i of [0, 1, 1023, 1024, 4095, n - 1]) expect(entries.get(`${i + 1}/${(i % 97) + 1}`)).toMatchObject({ uploaded: i, seedSeconds: round + 1, lastAnnounce: i });
    }
    // Small batches after the burst (each drain starts from a small table again).
    for (let round = 0; round < 6; round++) {
      ledger.append(3, 4, credit({ uploaded: 1 }), 1);
      ledger.append(3, 4, credit({ uploaded: 1 }), 2);
      expect(drained(ledger.drain())).toEqual([expect.objectContaining({ userId: 3, torrentId: 4, uploaded: 2, lastAnnounce: 2 })]);
    }
  });

  it('hands its columns to the drained batch: credit appended afterwards never changes it', () => {
    const ledger = new Ledger(() => 0);
    for (let i = 0; i < 1500; i++) ledger.append(i + 1, 1, credit({ uploaded: 10 }), 100);
    const batch = ledger.drain();
    const before = drained(batch);
    // The same keys again, and enough new ones to reuse and then outgrow a small table.
    for (let i = 0; i < 3000; i++) ledger.append((i % 2000) + 1, 1 + (i % 3), credit({ uploaded: 7, completed: true }), 200);
    expect(drained(batch)).toEqual(before);
    expect(before.every((e) => e.uploaded === 10 && !e.completed && e.lastAnnounce === 100)).toBe(true);
  });

  it('slices and joins drained rows without losing or reordering any', () => {
    const entries: LedgerEntry[] = Array.from({ length: 2500 }, (_, i) => ({
      userId: i + 1,
      torrentId: (i % 7) + 1,
      uploaded: i * 1e9,
      downloaded: i,
      rawUploaded: i * 5e8,
      rawDownloaded: i * 2,
      seedSeconds: 1,
      leechSeconds: 2,
      bonus: i / 3,
      completed: i % 5 === 0,
      lastAnnounce: 1_700_000_000 + i,
      completedAt: i % 5 === 0 ? 1_700_000_000 + i : 0,
    }));
    const rows = rowsFromEntries(entries);
    const parts = [sliceRows(rows, 0, 1000), sliceRows(rows, 1000, 2000), sliceRows(rows, 2000, 3000), sliceRows(rows, 3000, 4000)];
    expect(parts.map((p) => p.length)).toEqual([1000, 1000, 500, 0]);
    expect(entriesOf(concatRows(parts))).toEqual(entries);
    expect(entriesOf(concatRows([parts[2] as CreditRows, parts[0] as CreditRows]))).toEqual([...entries.slice(2000), ...entries.slice(0, 1000)]);
  });

  it('puts a failed batch back in front of newer credit', () => {
    let clock = 100;
    const ledger = new Ledger(() => clock);
    ledger.append(1, 1, credit({ uploaded: 10, rawUploaded: 5, completed: true }), 50);
    const failed = ledger.drain();
    clock = 200;
    ledger.append(1, 1, credit({ uploaded: 5, rawUploaded: 5, completed: true }), 60);
    ledger.append(2, 1, credit({ downloaded: 3, rawDownloaded: 6 }), 61);
    ledger.restore(failed);
    const batch = ledger.drain();
    // The earlier completion keeps its time; every sum adds up.
    expect(byKey(drained(batch)).get('1/1')).toMatchObject({ uploaded: 15, rawUploaded: 10, completed: true, lastAnnounce: 60, completedAt: 50 });
    expect(byKey(drained(batch)).get('2/1')).toMatchObject({ downloaded: 3, rawDownloaded: 6, completed: false, completedAt: 0 });
    expect(batch.oldest).toBe(100);
    expect(batch.rows.length).toBe(2);
  });

  propTest.prop(
    [
      fc.array(
        fc.record({
          user: fc.integer({ min: 1, max: 2_000_000_000 }),
          torrent: fc.integer({ min: 1, max: 40 }),
          uploaded: fc.integer({ min: 0, max: 1e12 }),
          seconds: fc.integer({ min: 0, max: 3600 }),
          at: fc.integer({ min: 0, max: 1e9 }),
          drain: fc.boolean(),
        }),
        { maxLength: 400 },
      ),
    ],
    { numRuns: 200 },
  )('matches a Map of sums, whatever the ids and the drain points', (ops) => {
    const ledger = new Ledger(() => 0);
    let model = new Map<string, { uploaded: number; seedSeconds: number; lastAnnounce: number }>();
    const check = () => {
      const got = byKey(drained(ledger.drain()));
      expect(got.size).toBe(model.size);
      for (const [key, want] of model) expect(got.get(key)).toMatchObject(want);
      model = new Map();
    };
    // A few users repeat so that keys collide in the model as they do in real traffic.
    for (const op of ops) {
      const user = op.user % 5 === 0 ? 5 : op.user;
      ledger.append(user, op.torrent, credit({ uploaded: op.uploaded, seedSeconds: op.seconds }), op.at);
      const key = `${user}/${op.torrent}`;
      const m = model.get(key);
      if (m) model.set(key, { uploaded: m.uploaded + op.uploaded, seedSeconds: m.seedSeconds + op.seconds, lastAnnounce: Math.max(m.lastAnnounce, op.at) });
      else model.set(key, { uploaded: op.uploaded, seedSeconds: op.seconds, lastAnnounce: op.at });
      if (op.drain) check();
    }
    check();
  });
});
