/**
 * The in-memory ledger (src/accounting/ledger.ts): sums per (user, torrent) across appends,
 * through its table growing and shrinking, drained exactly once, and a failed batch restored
 * in front of newer credit. Checked against a plain Map model on generated sequences.
 */
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Credit } from '../../src/accounting/deltas.ts';
import { Ledger, type LedgerEntry } from '../../src/accounting/ledger.ts';

const credit = (over: Partial<Credit> = {}): Credit => ({ uploaded: 0, downloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false, ...over });

function byKey(entries: LedgerEntry[]): Map<string, LedgerEntry> {
  return new Map(entries.map((e) => [`${e.userId}/${e.torrentId}`, e]));
}

describe('Ledger', () => {
  it('sums the credit of one user and torrent, keeps the latest announce and a completion', () => {
    let clock = 1_000;
    const ledger = new Ledger(() => clock);
    ledger.append(7, 3, credit({ uploaded: 100, seedSeconds: 30, bonus: 0.5 }), 1_700_000_010);
    clock = 4_000;
    ledger.append(7, 3, credit({ uploaded: 50, downloaded: 20, leechSeconds: 5, completed: true }), 1_700_000_005);
    ledger.append(8, 3, credit({ downloaded: 1 }), 1_700_000_020);
    expect(ledger.pending).toBe(2);
    expect(ledger.lagMs()).toBe(3_000);
    const batch = ledger.drain();
    expect(byKey(batch.entries).get('7/3')).toEqual({ userId: 7, torrentId: 3, uploaded: 150, downloaded: 20, seedSeconds: 30, leechSeconds: 5, bonus: 0.5, completed: true, lastAnnounce: 1_700_000_010 });
    expect(byKey(batch.entries).get('8/3')).toMatchObject({ downloaded: 1, completed: false, lastAnnounce: 1_700_000_020 });
    expect(batch).toMatchObject({ torrents: [3], oldest: 1_000 });
    expect(ledger.pending).toBe(0);
    expect(ledger.lagMs()).toBe(0);
    expect(ledger.drain()).toEqual({ entries: [], torrents: [], oldest: null });
  });

  it('lists touched torrents without credit, and drains each entry once', () => {
    const ledger = new Ledger(() => 0);
    ledger.touch(5);
    ledger.append(1, 6, credit({ uploaded: 1 }), 10);
    expect(ledger.drain()).toMatchObject({ torrents: [5, 6], entries: [{ userId: 1, torrentId: 6, uploaded: 1 }] });
    ledger.append(1, 6, credit({ uploaded: 2 }), 11);
    expect(ledger.drain().entries).toEqual([expect.objectContaining({ uploaded: 2, lastAnnounce: 11 })]);
  });

  it('grows past its initial table and shrinks after the burst without losing or mixing entries', () => {
    const ledger = new Ledger(() => 0);
    const n = 20_000;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) ledger.append(i + 1, (i % 97) + 1, credit({ uploaded: i, seedSeconds: round + 1 }), i);
      const entries = byKey(ledger.drain().entries);
      expect(entries.size).toBe(n);
      for (const i of [0, 1, 1023, 1024, 4095, n - 1]) expect(entries.get(`${i + 1}/${(i % 97) + 1}`)).toMatchObject({ uploaded: i, seedSeconds: round + 1, lastAnnounce: i });
    }
    // Small batches after the burst (each drain starts from a small table again).
    for (let round = 0; round < 6; round++) {
      ledger.append(3, 4, credit({ uploaded: 1 }), 1);
      ledger.append(3, 4, credit({ uploaded: 1 }), 2);
      expect(ledger.drain().entries).toEqual([expect.objectContaining({ userId: 3, torrentId: 4, uploaded: 2, lastAnnounce: 2 })]);
    }
  });

  it('puts a failed batch back in front of newer credit', () => {
    let clock = 100;
    const ledger = new Ledger(() => clock);
    ledger.append(1, 1, credit({ uploaded: 10, completed: true }), 50);
    const failed = ledger.drain();
    clock = 200;
    ledger.append(1, 1, credit({ uploaded: 5 }), 60);
    ledger.append(2, 1, credit({ downloaded: 3 }), 61);
    ledger.restore(failed);
    const batch = ledger.drain();
    expect(byKey(batch.entries).get('1/1')).toMatchObject({ uploaded: 15, completed: true, lastAnnounce: 60 });
    expect(batch.oldest).toBe(100);
    expect(batch.entries).toHaveLength(2);
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
      const drained = byKey(ledger.drain().entries);
      expect(drained.size).toBe(model.size);
      for (const [key, want] of model) expect(drained.get(key)).toMatchObject(want);
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
