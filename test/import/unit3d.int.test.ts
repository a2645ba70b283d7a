/**
 * Importing a UNIT3D site from a real MariaDB database and real .torrent files: groups as
 * roles and states, bcrypt $2y$ kept, promotions as two factors with their two ends, history
 * with credited and raw bytes, UUID invite codes, and a second run that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/passwords.ts';
import { runImport, type ImportOptions } from '../../src/import/run.ts';
import type { ImportReport } from '../../src/import/report.ts';
import { openTestDatabase } from '../support/test-app.ts';
import { mariadbAvailable } from './fixtures.ts';
import { buildUnit3dSite, type Unit3dSite } from './unit3d-site.ts';

const available = await mariadbAvailable();
const utc = (wall: string) => new Date(`${wall.replace(' ', 'T')}Z`);

describe.skipIf(!available)('import unit3d', () => {
  let site: Unit3dSite;
  let t: Awaited<ReturnType<typeof openTestDatabase>>;
  let report: ImportReport;
  const options = (): ImportOptions => ({ kind: 'unit3d', from: site.url, torrentsDir: site.torrentsDir });

  beforeAll(async () => {
    site = await buildUnit3dSite();
    t = await openTestDatabase();
    report = await runImport(t.db, options());
  });
  afterAll(async () => {
    await t?.close();
    await site?.drop();
  });

  it('maps groups to roles and states, keeps bcrypt hashes and exact totals', async () => {
    const users = new Map((await t.db.prisma.user.findMany()).map((u) => [u.id, u]));
    expect(users.get(1)).toMatchObject({ role: 'ADMIN', status: 'ACTIVE', uploaded: 9223372036854775807n, bonus: 1000.25, passkey: site.users.owner.passkey, createdAt: utc('2020-01-01 00:00:00') });
    expect(users.get(2)).toMatchObject({ role: 'UPLOADER', invitedById: 1 });
    expect(users.get(3)).toMatchObject({ status: 'BANNED' });
    expect(users.get(4)).toMatchObject({ status: 'DISABLED' });
    expect(users.get(5)).toMatchObject({ role: 'USER', canLeech: false });
    expect(users.get(1)?.passwordHash.startsWith('$2y$')).toBe(true);
    expect(await verifyPassword(users.get(1)?.passwordHash ?? null, site.users.owner.password)).toBe(true);
    expect(report.totals.every((x) => x.equal)).toBe(true);
    expect(report.lost.join('\n')).toMatch(/user groups \(imported as plain users\): .*PowerUser 1/);
    expect(report.lost.join('\n')).toMatch(/client blacklist: 1/);
    expect(report.lost.join('\n')).toMatch(/secondary taxonomy types: 2/);
  });

  it('keeps torrents with UNIT3D promotions as two factors, each with its own end, and moderation states', async () => {
    const rows = new Map((await t.db.prisma.torrent.findMany()).map((r) => [r.id, r]));
    expect(rows.get(1)).toMatchObject({ infoHash: site.torrents.promoted.infoHash, downloadPercent: 0, downloadPercentUntil: utc('2030-01-01 00:00:00'), uploadPercent: 200, uploadPercentUntil: utc('2031-01-01 00:00:00'), categoryId: 1, uploaderId: 2, status: 'ACTIVE', timesCompleted: 3 });
    expect(Buffer.from(rows.get(1)?.info ?? []).equals(site.torrents.promoted.info)).toBe(true);
    // free = 25: a quarter of the download is not counted.
    expect(rows.get(2)).toMatchObject({ downloadPercent: 75, downloadPercentUntil: null, uploadPercent: 100, anonymous: true });
    expect(rows.get(3)).toMatchObject({ status: 'PENDING' });
    expect(rows.get(4)).toMatchObject({ status: 'DELETED' });
    expect(rows.get(5)).toMatchObject({ info: null, uploaderId: 4, files: [{ path: 'Missing.One', size: '10000' }] });
    expect(report.torrentFiles.notKept.map((p) => p.id)).toEqual([5]);
    expect(report.torrentFiles.verified).toBe(4);
    expect((await t.db.prisma.category.findMany({ orderBy: { id: 'asc' } })).map((c) => c.slug)).toEqual(['movies', 'tv', 'music-audio']);
  });

  it('keeps history with credited and raw bytes, thanks once, articles as news, UUID invites without dashes', async () => {
    const snatches = await t.db.query<Record<string, unknown>>('SELECT user_id, torrent_id, uploaded::text, downloaded::text, actual_uploaded::text, actual_downloaded::text, seed_time::text, completed_at FROM snatches ORDER BY user_id, torrent_id');
    expect(snatches.map((x) => [x.user_id, x.torrent_id, x.uploaded, x.downloaded, x.actual_uploaded, x.actual_downloaded, x.seed_time])).toEqual([
      [1, 1, '500', '0', '500', '0', '100'],
      [5, 1, '2000', '0', '1000', '120000', '7200'],
    ]);
    expect(report.tables.find((x) => x.table === 'snatches')?.skipped).toEqual({ 'deleted in UNIT3D': 1, 'its user no longer exists': 1 });
    expect(await t.db.prisma.thanks.count()).toBe(2);
    expect(await t.db.prisma.news.findMany({ select: { id: true, title: true, authorId: true } })).toEqual([{ id: 4, title: 'Welcome', authorId: 1 }]);
    const invites = await t.db.prisma.invite.findMany({ orderBy: { id: 'asc' } });
    expect(invites.map((i) => [i.id, i.code, i.inviteeId])).toEqual([
      [1, '7c2b9e1e3f4a4b8e9c1d2e3f4a5b6c7d', 2],
      [2, 'a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d', null],
    ]);
    expect(await t.db.prisma.clientAllow.count()).toBe(0);
  });

  it('changes nothing when run again', async () => {
    const again = await runImport(t.db, options());
    expect(again.changes).toBe(0);
  });
});
