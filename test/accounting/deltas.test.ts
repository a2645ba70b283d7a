import { describe, expect, it } from 'vitest';
import { computeCredit, type CreditInput, SUSPICION_IMPOSSIBLE, SUSPICION_NO_LEECHERS, SUSPICION_SPEED } from '../../src/accounting/deltas.ts';
import { AnnounceEvent } from '../../src/tracker/protocol/types.ts';

const rules = { maxGapSeconds: 2400, bonusPerSeedHour: 1, maxUploadRate: 0, revokeLeechRate: 0 };
const T = 1_800_000_000;
const MiB = 1 << 20;
const GiB = 1024 * MiB;

function input(over: Partial<CreditInput>): CreditInput {
  return { previous: { uploaded: 0, downloaded: 0, seeder: false, everLeecher: true, lastSeen: T, othersLeeching: true }, uploaded: 0, downloaded: 0, left: 1, event: AnnounceEvent.None, now: T + 60, downloadPercent: 100, uploadPercent: 100, ...over };
}

describe('computeCredit', () => {
  it('credits nothing to a new session, whatever its counters say (ghost peers)', () => {
    expect(computeCredit(input({ previous: null, uploaded: 5 * 1024 * MiB }), rules)).toMatchObject({ uploaded: 0, downloaded: 0, completed: false });
  });

  it('credits the difference between successive announces', () => {
    const prev = { uploaded: 100 * MiB, downloaded: 10, seeder: false, everLeecher: true, lastSeen: T, othersLeeching: true };
    expect(computeCredit(input({ previous: prev, uploaded: 110 * MiB, downloaded: 30 }), rules)).toMatchObject({ uploaded: 10 * MiB, downloaded: 20 });
  });

  it('starts a new baseline when a counter goes backwards', () => {
    const prev = { uploaded: 100 * MiB, downloaded: 50, seeder: false, everLeecher: true, lastSeen: T, othersLeeching: true };
    expect(computeCredit(input({ previous: prev, uploaded: 50 * MiB, downloaded: 60 }), rules)).toMatchObject({ uploaded: 0, downloaded: 10 });
  });

  it('applies the transfer factors in force, and keeps the raw bytes beside the credited ones', () => {
    const prev = { uploaded: 0, downloaded: 0, seeder: false, everLeecher: true, lastSeen: T, othersLeeching: true };
    const base = { previous: prev, uploaded: 101, downloaded: 101 };
    const raw = { rawUploaded: 101, rawDownloaded: 101 };
    expect(computeCredit(input({ ...base, downloadPercent: 0 }), rules)).toEqual(expect.objectContaining({ uploaded: 101, downloaded: 0, ...raw }));
    expect(computeCredit(input({ ...base, uploadPercent: 200 }), rules)).toEqual(expect.objectContaining({ uploaded: 202, downloaded: 101, ...raw }));
    expect(computeCredit(input({ ...base, downloadPercent: 50 }), rules)).toEqual(expect.objectContaining({ uploaded: 101, downloaded: 50, ...raw }));
    expect(computeCredit(input({ ...base, downloadPercent: 50, uploadPercent: 200 }), rules)).toEqual(expect.objectContaining({ uploaded: 202, downloaded: 50, ...raw }));
    // NexusPHP's 30 % and a UNIT3D 25 % free: whole bytes, rounded down.
    expect(computeCredit(input({ ...base, downloadPercent: 30 }), rules)).toEqual(expect.objectContaining({ downloaded: 30, ...raw }));
    expect(computeCredit(input({ ...base, downloadPercent: 75, uploadPercent: 150 }), rules)).toEqual(expect.objectContaining({ uploaded: 151, downloaded: 75, ...raw }));
  });

  it('accrues seeding time and bonus for seeders, leeching time otherwise, capped at the gap limit', () => {
    const seeder = { uploaded: 0, downloaded: 0, seeder: true, everLeecher: false, lastSeen: T, othersLeeching: true };
    expect(computeCredit(input({ previous: seeder, now: T + 1800, left: 0 }), rules)).toMatchObject({ seedSeconds: 1800, leechSeconds: 0, bonus: 0.5 });
    expect(computeCredit(input({ previous: seeder, now: T + 99999, left: 0 }), rules)).toMatchObject({ seedSeconds: 2400 });
    expect(computeCredit(input({ now: T + 600 }), rules)).toMatchObject({ seedSeconds: 0, leechSeconds: 600, bonus: 0 });
  });

  it('counts a completion only after the session was seen leeching', () => {
    expect(computeCredit(input({ event: AnnounceEvent.Completed, left: 0 }), rules).completed).toBe(true);
    const neverLeeched = { uploaded: 0, downloaded: 0, seeder: true, everLeecher: false, lastSeen: T, othersLeeching: true };
    expect(computeCredit(input({ previous: neverLeeched, event: AnnounceEvent.Completed, left: 0 }), rules).completed).toBe(false);
    expect(computeCredit(input({ previous: null, event: AnnounceEvent.Completed, left: 0 }), rules).completed).toBe(false);
    // aria2 stopping right after it finished: stopped with left = 0, never completed.
    expect(computeCredit(input({ event: AnnounceEvent.Stopped, left: 0 }), rules).completed).toBe(true);
    expect(computeCredit(input({ event: AnnounceEvent.None, left: 5 }), rules).completed).toBe(false);
  });

  describe('ratio cheating (ECOSYSTEM.md 2.4)', () => {
    const capped = { ...rules, maxUploadRate: 10 * MiB };
    const seeder = (over: object = {}) => ({ uploaded: 0, downloaded: 0, seeder: true, everLeecher: false, lastSeen: T, othersLeeching: true, ...over });

    it('caps upload at the rate limit over the time since the previous announce, before promotions, and says so', () => {
      expect(computeCredit(input({ previous: seeder(), uploaded: 600 * MiB, left: 0 }), capped)).toMatchObject({ uploaded: 600 * MiB, suspicion: 0 });
      expect(computeCredit(input({ previous: seeder(), uploaded: 1024 * GiB, left: 0 }), capped)).toMatchObject({ uploaded: 600 * MiB, suspicion: SUSPICION_SPEED });
      expect(computeCredit(input({ previous: seeder(), uploaded: 1024 * GiB, left: 0, uploadPercent: 200 }), capped)).toMatchObject({ uploaded: 1200 * MiB, rawUploaded: 600 * MiB });
      // Two announces within a second count as one second, not zero.
      expect(computeCredit(input({ previous: seeder(), uploaded: 20 * MiB, left: 0, now: T }), capped)).toMatchObject({ uploaded: 10 * MiB, suspicion: SUSPICION_SPEED });
      // Download is not capped: over-reporting it only hurts the reporter.
      expect(computeCredit(input({ previous: seeder(), downloaded: 1024 * GiB }), capped)).toMatchObject({ downloaded: 1024 * GiB, suspicion: 0 });
      expect(computeCredit(input({ previous: seeder(), uploaded: 1024 * GiB, left: 0 }), rules)).toMatchObject({ uploaded: 1024 * GiB, suspicion: 0 });
    });

    it('credits no upload without another leecher, flagging it above 10 MiB; download and time still count', () => {
      const alone = seeder({ othersLeeching: false });
      expect(computeCredit(input({ previous: alone, uploaded: 10 * GiB, left: 0 }), rules)).toMatchObject({ uploaded: 0, seedSeconds: 60, suspicion: SUSPICION_NO_LEECHERS });
      expect(computeCredit(input({ previous: alone, uploaded: 1 * MiB, left: 0 }), rules)).toMatchObject({ uploaded: 0, suspicion: 0 });
      expect(computeCredit(input({ previous: { ...alone, seeder: false, everLeecher: true }, uploaded: 5 * MiB, downloaded: 7 * MiB }), rules)).toMatchObject({ uploaded: 0, downloaded: 7 * MiB });
      expect(computeCredit(input({ previous: alone, uploaded: 1024 * GiB, left: 0 }), capped)).toMatchObject({ uploaded: 0, suspicion: SUSPICION_SPEED | SUSPICION_NO_LEECHERS });
    });

    it('marks reported upload beyond revokeLeechRate as impossible, on the bytes reported, whatever is credited', () => {
      const strict = { ...capped, revokeLeechRate: 100 * MiB };
      expect(computeCredit(input({ previous: seeder(), uploaded: 6000 * MiB, left: 0 }), strict)).toMatchObject({ uploaded: 600 * MiB, suspicion: SUSPICION_SPEED });
      expect(computeCredit(input({ previous: seeder(), uploaded: 6001 * MiB, left: 0 }), strict)).toMatchObject({ uploaded: 600 * MiB, suspicion: SUSPICION_SPEED | SUSPICION_IMPOSSIBLE });
      expect(computeCredit(input({ previous: seeder({ othersLeeching: false }), uploaded: 6001 * MiB, left: 0 }), strict).suspicion).toBe(SUSPICION_SPEED | SUSPICION_NO_LEECHERS | SUSPICION_IMPOSSIBLE);
    });
  });
});
