/**
 * The suspicious-announce log (src/accounting/suspicion-log.ts) against a real database: the
 * announce path only counts; rows (one per user, torrent and reason an hour), leech
 * revocation and one summary line are written at the flush; a refused write is kept.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SUSPICION_IMPOSSIBLE, SUSPICION_NO_LEECHERS, SUSPICION_SPEED } from '../../src/accounting/deltas.ts';
import { createSuspicionLog, topUsers } from '../../src/accounting/suspicion-log.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { createLocalEventBus, type DomainEvent } from '../../src/shared/events.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { aTorrent, aUser } from '../support/factories.ts';
import { openTestDatabase } from '../support/test-app.ts';

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('suspicion log', () => {
  it('counts on the announce path, and writes rows, revocations and one summary at the flush', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const cheat = await aUser(t.db);
      const other = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      const tor2 = await aTorrent(t.db, owner.id);
      let now = Date.UTC(2026, 11, 7, 10, 0, 0);
      const events = createLocalEventBus();
      const published: DomainEvent[] = [];
      events.subscribe((e) => published.push(e));
      const metrics = createMetrics({ swarmTotals: () => Promise.resolve({ swarms: 0, peers: 0, seeders: 0, leechers: 0 }), flushLagSeconds: () => 0, pendingCredit: () => 0 }, { defaultMetrics: false });
      const { lines, logger } = captureLogs();
      const log = createSuspicionLog({ db: t.db, events, metrics, logger, nowMs: () => now });

      // A client that makes every announce suspicious: a thousand announces, no log line, no row yet.
      for (let i = 0; i < 1000; i++) log.record(cheat.id, tor.id, SUSPICION_SPEED | SUSPICION_NO_LEECHERS, 1e12 + i);
      log.record(cheat.id, tor2.id, SUSPICION_SPEED | SUSPICION_IMPOSSIBLE, 5e15);
      log.record(cheat.id, tor2.id, SUSPICION_IMPOSSIBLE, 6e15);
      log.record(other.id, tor.id, SUSPICION_NO_LEECHERS, 42 << 20);
      await settle();
      expect(lines).toEqual([]);
      expect(await t.db.prisma.suspiciousAnnounce.count()).toBe(0);
      expect(await metrics.registry.getSingleMetricAsString('tracker_suspicious_announces_total')).toMatch(/reason="speed"} 1001[\s\S]*reason="upload_without_leechers"} 1001[\s\S]*reason="impossible_speed"} 2/);

      await log.flush();
      const rows = await t.db.prisma.suspiciousAnnounce.findMany({ orderBy: [{ userId: 'asc' }, { torrentId: 'asc' }, { reason: 'asc' }], select: { userId: true, torrentId: true, reason: true, reportedUploaded: true, createdAt: true } });
      expect(rows).toEqual([
        { userId: cheat.id, torrentId: tor.id, reason: 'SPEED', reportedUploaded: BigInt(1e12), createdAt: new Date(now) },
        { userId: cheat.id, torrentId: tor.id, reason: 'UPLOAD_WITHOUT_LEECHERS', reportedUploaded: BigInt(1e12), createdAt: new Date(now) },
        { userId: cheat.id, torrentId: tor2.id, reason: 'SPEED', reportedUploaded: BigInt(5e15), createdAt: new Date(now) },
        { userId: cheat.id, torrentId: tor2.id, reason: 'IMPOSSIBLE_SPEED', reportedUploaded: BigInt(5e15), createdAt: new Date(now) },
        { userId: other.id, torrentId: tor.id, reason: 'UPLOAD_WITHOUT_LEECHERS', reportedUploaded: BigInt(42 << 20), createdAt: new Date(now) },
      ]);
      expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: cheat.id } })).canLeech).toBe(false);
      expect(published).toEqual([{ type: 'user.changed', userId: cheat.id }]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 40,
        msg: 'upload not credited in full since the last flush',
        announces: 1003,
        users: 2,
        reasons: { speed: 1001, upload_without_leechers: 1001, impossible_speed: 2 },
        topUsers: [
          { userId: cheat.id, announces: 1002 },
          { userId: other.id, announces: 1 },
        ],
        rowsWritten: 5,
        leechingRevoked: [cheat.id],
      });

      // Within the hour: counted again, no new row, no second revocation. A quiet flush logs nothing.
      now += 30 * 60_000;
      log.record(cheat.id, tor.id, SUSPICION_SPEED, 2e12);
      log.record(cheat.id, tor2.id, SUSPICION_IMPOSSIBLE, 7e15);
      await log.flush();
      expect(await t.db.prisma.suspiciousAnnounce.count()).toBe(5);
      expect(published).toHaveLength(1);
      expect(lines).toHaveLength(2);
      await log.flush();
      expect(lines).toHaveLength(2);

      // The next clock hour gets its rows again.
      now += 30 * 60_000;
      log.record(cheat.id, tor.id, SUSPICION_SPEED, 3e12);
      await log.flush();
      expect(await t.db.prisma.suspiciousAnnounce.count({ where: { userId: cheat.id, torrentId: tor.id, reason: 'SPEED' } })).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('keeps rows the database refused for the next flush, and skips rows of deleted users', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const u = await aUser(t.db);
      const gone = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      const metrics = createMetrics({ swarmTotals: () => Promise.resolve({ swarms: 0, peers: 0, seeders: 0, leechers: 0 }), flushLagSeconds: () => 0, pendingCredit: () => 0 }, { defaultMetrics: false });
      const { lines, logger } = captureLogs();
      const log = createSuspicionLog({ db: t.db, events: createLocalEventBus(), metrics, logger, nowMs: () => Date.UTC(2026, 11, 7, 10) });
      log.record(u.id, tor.id, SUSPICION_SPEED, 1);
      log.record(gone.id, tor.id, SUSPICION_SPEED, 1);
      await t.db.exec('ALTER TABLE suspicious_announces RENAME TO suspicious_away');
      await log.flush();
      expect(lines.map((l) => l.msg)).toEqual(['recording suspicious announces failed; kept for the next flush', 'upload not credited in full since the last flush']);
      await t.db.exec('ALTER TABLE suspicious_away RENAME TO suspicious_announces');
      await t.db.exec(`DELETE FROM users WHERE id = ${gone.id}`);
      log.record(u.id, tor.id, SUSPICION_NO_LEECHERS, 2);
      await log.flush();
      const rows = await t.db.prisma.suspiciousAnnounce.findMany({ select: { userId: true, reason: true }, orderBy: { reason: 'asc' } });
      expect(rows).toEqual([
        { userId: u.id, reason: 'SPEED' },
        { userId: u.id, reason: 'UPLOAD_WITHOUT_LEECHERS' },
      ]);
    } finally {
      await t.close();
    }
  });

  it('names the users seen most, most first', () => {
    const m = new Map([
      [1, 3],
      [2, 9],
      [3, 1],
      [4, 9],
      [5, 5],
      [6, 7],
    ]);
    expect(topUsers(m, 3)).toEqual([
      { userId: 2, announces: 9 },
      { userId: 4, announces: 9 },
      { userId: 6, announces: 7 },
    ]);
    expect(topUsers(new Map([[1, 1]]), 5)).toEqual([{ userId: 1, announces: 1 }]);
    expect(topUsers(new Map(), 5)).toEqual([]);
  });
});
