import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GATE_ACTIVE, GATE_CAN_LEECH, PasskeyIndex } from '../../src/cache/passkey-index.ts';

const key = () => randomBytes(16).toString('hex');

describe('PasskeyIndex', () => {
  it('finds every passkey it holds, across growth, and nothing else', () => {
    const index = new PasskeyIndex();
    const keys = Array.from({ length: 20_000 }, key);
    keys.forEach((k, i) => index.set(k, i + 1, GATE_ACTIVE));
    expect(index.size).toBe(20_000);
    keys.forEach((k, i) => {
      const row = index.find(k);
      expect(row).toBeGreaterThanOrEqual(0);
      expect(index.userId(row)).toBe(i + 1);
    });
    for (let i = 0; i < 1000; i++) expect(index.find(key())).toBe(-1);
  });

  it('refuses what is not 32 lower-case hex digits, and never indexes it', () => {
    const index = new PasskeyIndex();
    const k = key();
    index.set(k, 1, GATE_ACTIVE);
    for (const bad of [k.toUpperCase(), k.slice(1), `${k}0`, `${k.slice(0, 31)}g`, '', 'x'.repeat(32)]) {
      expect(index.find(bad)).toBe(-1);
      index.set(bad, 2, GATE_ACTIVE);
    }
    expect(index.size).toBe(1);
  });

  it('updates flags in place, keeps the budget, and forgets deleted passkeys (their rows reused)', () => {
    const index = new PasskeyIndex();
    const k = key();
    index.set(k, 7, GATE_ACTIVE | GATE_CAN_LEECH);
    const row = index.find(k);
    expect(index.spend(row, 100, 2)).toBe(true);
    expect(index.spend(row, 100, 2)).toBe(true);
    expect(index.spend(row, 100, 2)).toBe(false);
    index.set(k, 7, GATE_ACTIVE);
    expect(index.flags(index.find(k))).toBe(GATE_ACTIVE);
    expect(index.spend(index.find(k), 100, 2)).toBe(false); // same minute, same budget
    expect(index.spend(index.find(k), 101, 2)).toBe(true); // a new minute
    index.delete(k);
    expect(index.find(k)).toBe(-1);
    expect(index.size).toBe(0);
    // Many insertions and deletions: tombstones are cleared on growth, lookups stay correct.
    const live = new Map<string, number>();
    for (let i = 1; i <= 30_000; i++) {
      const n = key();
      index.set(n, i, GATE_ACTIVE);
      live.set(n, i);
      if (i % 3 === 0) {
        const first = live.keys().next().value as string;
        index.delete(first);
        live.delete(first);
      }
    }
    expect(index.size).toBe(live.size);
    for (const [k2, id] of live) expect(index.userId(index.find(k2))).toBe(id);
  });
});
