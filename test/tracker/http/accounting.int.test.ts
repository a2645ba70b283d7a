import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSession } from '../../../src/auth/jwt.ts';
import { manualClock } from '../../../src/shared/clock.ts';
import { aPeerId, aTorrent, aUser, type TestUser } from '../../support/factories.ts';
import { startTestApp, swarmBackends, type TestApp } from '../../support/test-app.ts';
import { announce, failureOf } from '../../support/tracker-client.ts';

const MiB = 1 << 20;
const GiB = 1024 * MiB;

describe.each(swarmBackends)('transfer accounting over HTTP announces (%s swarm store)', (backend) => {
  let t: TestApp;
  const clock = manualClock(Date.UTC(2026, 10, 25, 10, 0, 0));

  beforeAll(async () => {
    t = await startTestApp({}, { timers: false, clock, swarmBackend: backend });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function totals(u: TestUser) {
    await t.app.ctx.flusher.flush();
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: u.id }, select: { uploaded: true, downloaded: true, bonus: true } });
    return { uploaded: Number(row.uploaded), downloaded: Number(row.downloaded), bonus: row.bonus };
  }

  it('credits deltas between announces, starts a new baseline when a counter goes backwards, and ignores ghost counters', async () => {
    const s = await aUser(t.db);
    const l = await aUser(t.db);
    const tor = await aTorrent(t.db, s.id);
    const seeder = aPeerId();
    await announce(t.url, { passkey: l.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: GiB, event: 'started' });
    const base = { passkey: s.passkey, infoHash: tor.hashBytes, peerId: seeder, left: 0 };
    await announce(t.url, { ...base, event: 'started', uploaded: 0 });
    await announce(t.url, { ...base, uploaded: 100 * MiB });
    expect((await totals(s)).uploaded).toBe(100 * MiB);
    await announce(t.url, { ...base, uploaded: 50 * MiB }); // went backwards: new baseline, no credit
    expect((await totals(s)).uploaded).toBe(100 * MiB);
    await announce(t.url, { ...base, uploaded: 60 * MiB });
    expect((await totals(s)).uploaded).toBe(110 * MiB);
    // A brand-new session that starts with huge counters gets nothing for them.
    await announce(t.url, { ...base, peerId: aPeerId(), event: 'started', uploaded: 5 * GiB });
    expect((await totals(s)).uploaded).toBe(110 * MiB);
  });

  it('applies free leech and double upload, and counts a stopped announce once', async () => {
    const u = await aUser(t.db);
    const free = await aTorrent(t.db, u.id, { promotion: 'FREE' });
    const double = await aTorrent(t.db, u.id, { promotion: 'DOUBLE_UP' });
    const other = await aUser(t.db);
    for (const tor of [free, double]) {
      // Another leecher to upload to: upload with nobody to receive it is not credited.
      await announce(t.url, { passkey: other.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 100, event: 'started' });
      const p = aPeerId();
      await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 100, event: 'started' });
      await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 50, uploaded: 1000, downloaded: 500, event: 'stopped' });
      // A repeated stopped (session already gone) credits nothing more.
      await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 50, uploaded: 1000, downloaded: 500, event: 'stopped' });
    }
    expect(await totals(u)).toMatchObject({ uploaded: 1000 + 2000, downloaded: 0 + 500 });
  });

  it('applies two transfer factors until each one ends, keeps the raw bytes in the snatch, and stamps a completion with the announce time', async () => {
    const u = await aUser(t.db);
    const other = await aUser(t.db);
    const tor = await aTorrent(t.db, other.id);
    const start = clock.now();
    // NexusPHP's 30 % download until +60 s, and 150 % upload until +120 s (UNIT3D's separate ends).
    await t.db.prisma.torrent.update({
      where: { id: tor.id },
      data: { downloadPercent: 30, downloadPercentUntil: new Date(start + 60_000), uploadPercent: 150, uploadPercentUntil: new Date(start + 120_000) },
    });
    await t.app.ctx.torrents.reload(tor.id);
    await announce(t.url, { passkey: other.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 100 * MiB, event: 'started' });
    const base = { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId() };
    await announce(t.url, { ...base, left: 3000, event: 'started' });
    clock.advance(10_000);
    await announce(t.url, { ...base, left: 2000, uploaded: 1000, downloaded: 1000 });
    expect(await totals(u)).toMatchObject({ uploaded: 1500, downloaded: 300 });
    clock.advance(60_000); // download factor over
    await announce(t.url, { ...base, left: 1000, uploaded: 2000, downloaded: 2000 });
    expect(await totals(u)).toMatchObject({ uploaded: 3000, downloaded: 1300 });
    clock.advance(60_000); // upload factor over
    await announce(t.url, { ...base, left: 0, uploaded: 3000, downloaded: 3000, event: 'completed' });
    expect(await totals(u)).toMatchObject({ uploaded: 4000, downloaded: 2300 });
    const snatch = await t.db.prisma.snatch.findUniqueOrThrow({ where: { userId_torrentId: { userId: u.id, torrentId: tor.id } } });
    expect({ up: snatch.uploaded, down: snatch.downloaded, actualUp: snatch.actualUploaded, actualDown: snatch.actualDownloaded }).toEqual({ up: 4000n, down: 2300n, actualUp: 3000n, actualDown: 3000n });
    expect(snatch.completedAt?.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it('counts a completion once per user, only after the session leeched, also when a client stops at left=0 without completed', async () => {
    const owner = await aUser(t.db);
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, owner.id);
    const p1 = aPeerId();
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p1, left: 100, event: 'started' });
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p1, left: 0, downloaded: 100, event: 'completed' });
    // The same user downloads it again with another client: still one completion.
    const p2 = aPeerId();
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p2, left: 100, event: 'started' });
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p2, left: 0, downloaded: 100, event: 'completed' });
    // A spoofed completion from a session never seen leeching does not count.
    const spoof = await aUser(t.db);
    const p3 = aPeerId();
    await announce(t.url, { passkey: spoof.passkey, infoHash: tor.hashBytes, peerId: p3, left: 0, event: 'started' });
    await announce(t.url, { passkey: spoof.passkey, infoHash: tor.hashBytes, peerId: p3, left: 0, event: 'completed' });
    // aria2 stopping right after it finished sends stopped with left=0 and never completed.
    const quitter = await aUser(t.db);
    const p4 = aPeerId('A2-1-36-0-');
    await announce(t.url, { passkey: quitter.passkey, infoHash: tor.hashBytes, peerId: p4, left: 100, event: 'started' });
    await announce(t.url, { passkey: quitter.passkey, infoHash: tor.hashBytes, peerId: p4, left: 0, downloaded: 100, event: 'stopped' });
    await t.app.ctx.flusher.flush();
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } });
    expect(row.timesCompleted).toBe(2);
    const snatch = await t.db.prisma.snatch.findUniqueOrThrow({ where: { userId_torrentId: { userId: u.id, torrentId: tor.id } } });
    expect(snatch.completedAt).not.toBeNull();
    expect(Number(snatch.downloaded)).toBe(200);
    // The announce answer reports the completion count once flushed.
    const a = await announce(t.url, { passkey: owner.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 });
    expect(a.body.downloaded).toBe(2);
  });

  it('accrues seeding time and bonus per user and torrent; a session silent past the peer TTL starts over', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    const p = aPeerId();
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 0, event: 'started' });
    clock.advance(1800_000);
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 0 });
    clock.advance(2399_000);
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 0 });
    expect((await totals(u)).bonus).toBeCloseTo((1800 + 2399) / 3600, 6);
    const snatch = await t.db.prisma.snatch.findUniqueOrThrow({ where: { userId_torrentId: { userId: u.id, torrentId: tor.id } } });
    expect(Number(snatch.seedTime)).toBe(4199);
    expect(snatch.lastAnnounceAt.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000);
    // Gone for a day: the peer expires, and its return is a new session with no credit for the gap.
    clock.advance(86_400_000);
    await t.app.ctx.swarm.sweep(Math.floor(clock.now() / 1000));
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 0 });
    expect((await totals(u)).bonus).toBeCloseTo((1800 + 2399) / 3600, 6);
  });

  it('mirrors swarm counts to the torrent row for SQL sorting', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 });
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 9 });
    await t.app.ctx.flusher.flush();
    expect(await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id }, select: { seeders: true, leechers: true } })).toEqual({ seeders: 1, leechers: 1 });
  });

  it('keeps credit through a failed flush and writes it on the next one, exactly once', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    const p = aPeerId();
    await announce(t.url, { passkey: (await aUser(t.db)).passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, event: 'started' });
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 10, event: 'started' });
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 10, uploaded: 777 });
    await t.db.exec('ALTER TABLE snatches RENAME TO snatches_away');
    await expect(t.app.ctx.flusher.flush()).rejects.toThrow();
    await t.db.exec('ALTER TABLE snatches_away RENAME TO snatches');
    expect((await totals(u)).uploaded).toBe(777);
    expect(failureOf(await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: p, left: 10 }))).toBeUndefined();
  });

  describe('ratio cheating (ECOSYSTEM.md 2.4): the client gets its normal answer, the upload is not credited', () => {
    const suspicious = async (reason: string) => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      return Number(new RegExp(`^tracker_suspicious_announces_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    };

    it('credits no upload to a seeder alone in its swarm, and counts it as suspicious', async () => {
      const s = await aUser(t.db);
      const tor = await aTorrent(t.db, s.id);
      const base = { passkey: s.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 };
      const flagged = await suspicious('upload_without_leechers');
      await announce(t.url, { ...base, event: 'started' });
      clock.advance(60_000);
      const res = await announce(t.url, { ...base, uploaded: 10 * GiB });
      expect(failureOf(res)).toBeUndefined();
      expect(res.body).toMatchObject({ complete: 1, incomplete: 0 });
      expect((await totals(s)).uploaded).toBe(0);
      expect(await suspicious('upload_without_leechers')).toBe(flagged + 1);
      // Once a leecher is there, the next interval's upload counts.
      await announce(t.url, { passkey: (await aUser(t.db)).passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: GiB, event: 'started' });
      clock.advance(60_000);
      await announce(t.url, { ...base, uploaded: 10 * GiB + 100 * MiB });
      expect((await totals(s)).uploaded).toBe(100 * MiB);
    });

    it('caps upload at TRACKER_MAX_UPLOAD_RATE per second since the previous announce, and counts it as suspicious', async () => {
      const rate = t.app.ctx.config.tracker.maxUploadRate;
      const s = await aUser(t.db);
      const tor = await aTorrent(t.db, s.id);
      await announce(t.url, { passkey: (await aUser(t.db)).passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: GiB, event: 'started' });
      const base = { passkey: s.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 };
      const flagged = await suspicious('speed');
      await announce(t.url, { ...base, event: 'started' });
      clock.advance(60_000);
      expect(failureOf(await announce(t.url, { ...base, uploaded: 1024 * GiB }))).toBeUndefined();
      expect((await totals(s)).uploaded).toBe(rate * 60);
      expect(await suspicious('speed')).toBe(flagged + 1);
    });

    it('takes download privileges away for upload no real link carries (TRACKER_REVOKE_LEECH_RATE), and keeps the user seeding', async () => {
      const revokeRate = t.app.ctx.config.tracker.revokeLeechRate;
      const s = await aUser(t.db);
      const tor = await aTorrent(t.db, s.id);
      await announce(t.url, { passkey: (await aUser(t.db)).passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: GiB, event: 'started' });
      const base = { passkey: s.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 };
      const flagged = await suspicious('impossible_speed');
      await announce(t.url, { ...base, event: 'started' });
      clock.advance(60_000);
      // 1 TiB in 60 s is about 18 GB/s.
      expect(1024 * GiB).toBeGreaterThan(revokeRate * 60);
      expect(failureOf(await announce(t.url, { ...base, uploaded: 1024 * GiB }))).toBeUndefined();
      expect(await suspicious('impossible_speed')).toBe(flagged + 1);
      // Rows and the revocation are written with the credit, at the flush.
      await t.app.ctx.flusher.flush();
      const other = await aTorrent(t.db, s.id);
      await expect
        .poll(async () => failureOf(await announce(t.url, { passkey: s.passkey, infoHash: other.hashBytes, peerId: aPeerId(), left: 10, event: 'started' })), { timeout: 5000 })
        .toMatch(/downloading is disabled for your account/);
      expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: s.id } })).canLeech).toBe(false);
      expect(failureOf(await announce(t.url, { ...base, uploaded: 1024 * GiB + 1 }))).toBeUndefined();

      // Staff see why, and give leeching back.
      const mod = await aUser(t.db, { role: 'MODERATOR' });
      await t.app.ctx.users.reload(mod.id);
      const { token } = signSession(t.app.ctx.config.auth, mod.id, 0);
      const gql = async (query: string) => {
        const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
        return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      };
      await expect
        .poll(async () => ((await gql(`{ suspiciousAnnounces(userId: "${s.id}") { reason reportedUploaded torrent { id } user { id } } }`)).data?.suspiciousAnnounces as unknown[]) ?? [], { timeout: 5000 })
        .toEqual(
          expect.arrayContaining([
            { reason: 'SPEED', reportedUploaded: String(1024 * GiB), torrent: { id: String(tor.id) }, user: { id: String(s.id) } },
            { reason: 'IMPOSSIBLE_SPEED', reportedUploaded: String(1024 * GiB), torrent: { id: String(tor.id) }, user: { id: String(s.id) } },
          ]),
        );
      // The second impossible report within the hour added no row.
      expect(await t.db.prisma.suspiciousAnnounce.count({ where: { userId: s.id, reason: 'IMPOSSIBLE_SPEED' } })).toBe(1);
      expect((await gql(`mutation { setUserCanLeech(userId: "${s.id}", canLeech: true) { canLeech } }`)).data).toEqual({ setUserCanLeech: { canLeech: true } });
      expect(failureOf(await announce(t.url, { passkey: s.passkey, infoHash: other.hashBytes, peerId: aPeerId(), left: 10, event: 'started' }))).toBeUndefined();
    });
  });
});
