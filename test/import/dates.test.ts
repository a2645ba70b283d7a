/** The old site's wall-clock dates (src/import/dates.ts): offsets, zone names across DST, zero dates. */
import { describe, expect, it } from 'vitest';
import { wallClock } from '../../src/import/dates.ts';

describe('wallClock', () => {
  it('reads a fixed offset, UTC, and a zone name the same way for the same instant', () => {
    expect(wallClock('+08:00')('2020-01-01 08:00:00')?.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(wallClock('Asia/Shanghai')('2020-01-01 08:00:00')?.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(wallClock('UTC')('2020-01-01 08:00:00.25')?.toISOString()).toBe('2020-01-01T08:00:00.250Z');
    expect(wallClock('-05:30')('2020-01-01')?.toISOString()).toBe('2020-01-01T05:30:00.000Z');
  });

  it('follows daylight saving time in a zone name', () => {
    const ny = wallClock('America/New_York');
    expect(ny('2021-07-01 12:00:00')?.toISOString()).toBe('2021-07-01T16:00:00.000Z');
    expect(ny('2021-01-01 12:00:00')?.toISOString()).toBe('2021-01-01T17:00:00.000Z');
  });

  it("reads NexusPHP 1.5's zero dates, NULLs and junk as no date", () => {
    const at = wallClock('+08:00');
    for (const v of ['0000-00-00 00:00:00', '0000-00-00', '2020-00-10 00:00:00', null, undefined, 'yesterday']) expect(at(v)).toBeNull();
  });

  it('refuses an offset or zone that does not exist', () => {
    expect(() => wallClock('+15:00')).toThrow('--source-tz +15:00: an offset must be within ±14:00');
    expect(() => wallClock('Mars/Olympus')).toThrow('not an offset (+08:00) nor a time zone name');
  });
});
