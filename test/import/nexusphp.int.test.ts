/**
 * Importing a NexusPHP site (1.5 and 1.6+ shapes) from a real MariaDB database and real
 * .torrent files into this site's database (PGlite; PostgreSQL in the `postgres` project):
 * every mapped value, the verification report, a second run that changes nothing, and a dry
 * run that writes nothing.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport, type ImportOptions } from '../../src/import/run.ts';
import type { ImportReport } from '../../src/import/report.ts';
import { openTestDatabase } from '../support/test-app.ts';
import { mariadbAvailable } from './fixtures.ts';
import { buildNexusSite, type NexusSite } from './nexusphp-site.ts';

const available = await mariadbAvailable();
const DAY = 86_400_000;
/** The site's wall clock is +08:00. */
const at = (wall: string) => new Date(`${wall.replace(' ', 'T')}+08:00`);

describe.skipIf(!available).each(['1.5', '1.6'] as const)('import nexusphp %s', (variant) => {
  let site: NexusSite;
  let t: Awaited<ReturnType<typeof openTestDatabase>>;
  let report: ImportReport;
  const options = (): ImportOptions => ({ kind: 'nexusphp', from: site.url, torrentsDir: site.torrentsDir, sourceTz: '+08:00', batch: 2 });

  beforeAll(async () => {
    site = await buildNexusSite(variant);
    t = await openTestDatabase();
    report = await runImport(t.db, options());
  });
  afterAll(async () => {
    await t?.close();
    await site?.drop();
  });

  it('reports every table, exact totals, and what could not be kept', () => {
    const table = (name: string) => report.tables.find((x) => x.table === name);
    expect(table('users')).toMatchObject({ source: 8, inserted: 8, updated: 0, unchanged: 0 });
    expect(table('torrents')).toMatchObject({ source: 6, inserted: 6 });
    expect(table('snatches')).toMatchObject({ source: 6, inserted: 3, skipped: { 'its user no longer exists': 1, 'its torrent was not imported': 1, 'duplicate of another row of the same user and torrent (merged into it)': 1 } });
    expect(table('thanks')).toMatchObject({ source: 4, inserted: 2, skipped: { 'the same user thanked the same torrent again': 1, 'its user no longer exists': 1 } });
    expect(table('fun votes')).toMatchObject({ source: 3, inserted: 2 });
    expect(report.totals.every((x) => x.equal)).toBe(true);
    expect(report.totals.find((x) => x.what === "users' uploaded bytes")?.imported).toBe((4611686018427400000n + 1000n + 5n + 7n + 1n).toString());
    expect(report.totals.find((x) => x.what === "users' bonus")?.imported).toBe('12349.10');
    expect(report.torrentFiles.kept).toBe(3);
    expect(report.torrentFiles.verified).toBe(3);
    expect(report.torrentFiles.notKept.map((p) => [p.id, p.reason.split(':')[0]])).toEqual([
      [3, 'missing'],
      [4, 'hash mismatch'],
      [5, 'corrupt'],
    ]);
    expect(report.passkeys.regenerated.map((r) => [r.id, r.reason.split(' ')[0]])).toEqual([
      [3, 'empty'],
      [4, 'shared'],
      [9, 'malformed'],
    ]);
    expect(report.passkeys).toMatchObject({ kept: 5, lowerCased: 1 });
    expect(report.emailsDropped).toEqual([{ id: 7, reason: 'address shared with user 1' }]);
    expect(report.lost.join('\n')).toMatch(/rank classes .*Elite User 1/);
    expect(report.lost.join('\n')).toMatch(/secondary taxonomy sources: 2/);
    expect(report.lost.join('\n')).toMatch(/parked accounts: 1/);
    expect(report.lost.join('\n')).toMatch(/invite quotas: 3 invites held by 1 users/);
  });

  it('keeps users: ids, names, roles, states, exact totals, old hashes, passkeys lower-cased, who invited whom', async () => {
    const users = await t.db.prisma.user.findMany({ orderBy: { id: 'asc' } });
    const byId = new Map(users.map((u) => [u.id, u]));
    expect(byId.get(1)).toMatchObject({ username: 'Alice', usernameLower: 'alice', role: 'ADMIN', status: 'ACTIVE', uploaded: 4611686018427400000n, downloaded: 10737418240n, bonus: 12345.6, passkey: site.users.alice.passkey, email: 'alice@old.example', createdAt: at('2011-03-04 05:06:07') });
    expect(byId.get(1)?.passwordHash).toMatch(/^\$nexus-md5\$[0-9a-f]{40}\$[0-9a-f]{32}$/);
    expect(byId.get(2)?.passwordHash).toMatch(variant === '1.6' ? /^\$nexus-sha256\$/ : /^\$nexus-md5\$/);
    expect(byId.get(2)).toMatchObject({ passkey: site.users.bob.passkey.toLowerCase(), invitedById: 1 });
    expect(byId.get(3)).toMatchObject({ role: 'UPLOADER', invitedById: 1 });
    expect(byId.get(3)?.passkey).toMatch(/^[0-9a-f]{32}$/);
    expect(byId.get(4)).toMatchObject({ status: 'DISABLED' });
    expect(byId.get(4)?.passkey).not.toBe(site.users.dave.passkey);
    expect(byId.get(5)).toMatchObject({ role: 'MODERATOR', passkey: site.users.erin.passkey, invitedById: null });
    expect(byId.get(6)).toMatchObject({ status: 'DISABLED' });
    expect(byId.get(7)).toMatchObject({ canLeech: false, email: null });
    expect(byId.get(0)).toMatchObject({ username: '[deleted]', status: 'DISABLED' });
    // The serial goes on after the highest imported id.
    const [next] = await t.db.query<{ n: number }>("SELECT nextval(pg_get_serial_sequence('users', 'id'))::int AS n");
    expect(next?.n).toBe(10);
  });

  it('keeps torrents: ids, info hashes, the stored info byte for byte, promotions as two factors with their ends', async () => {
    const rows = await t.db.prisma.torrent.findMany({ orderBy: { id: 'asc' } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const free = byId.get(1);
    expect(free).toMatchObject({ infoHash: site.torrents.free.infoHash, name: 'Good.Movie.2010.1080p', categoryId: 401, uploaderId: 1, size: 300000n, fileCount: 1, pieceLength: 16384, timesCompleted: 2, status: 'ACTIVE' });
    expect(Buffer.from(free?.info ?? []).equals(site.torrents.free.info)).toBe(true);
    expect(free?.description).toBe('The good one\n\n[b]Good.Movie.2010.1080p[/b] description');
    // sp_state 2, "global" time type: free for torrent.expirefree days after upload (1.6: the setting, 10; 1.5: the default, 60).
    expect(free).toMatchObject({ downloadPercent: 0, uploadPercent: 100, downloadPercentUntil: new Date(at('2023-01-01 08:00:00').getTime() + (variant === '1.6' ? 10 : 60) * DAY), uploadPercentUntil: null });
    const legacy = byId.get(2);
    // Keys out of order in the file: its info is still the file's own bytes, hashed as the old site did.
    expect(createHash('sha1').update(legacy?.info ?? Buffer.alloc(0)).digest('hex')).toBe(site.torrents.legacy.infoHash);
    expect(legacy?.files).toEqual([
      { path: 'Legacy.Pack/disc1/a.mkv', size: '100000' },
      { path: 'Legacy.Pack/b.nfo', size: '1000' },
    ]);
    expect(legacy).toMatchObject({ downloadPercent: 50, uploadPercent: 200, downloadPercentUntil: at('2030-06-01 12:00:00'), uploadPercentUntil: at('2030-06-01 12:00:00'), uploaderId: 3, categoryId: 409 });
    // Missing file: announces, no metadata; file list from the files table; owner gone.
    expect(byId.get(3)).toMatchObject({ info: null, pieceLength: null, uploaderId: 0, downloadPercent: 30, downloadPercentUntil: null, files: [{ path: 'Missing.File', size: '50000' }], size: 50000n });
    expect(byId.get(4)).toMatchObject({ info: null, status: 'DELETED', infoHash: site.torrents.mismatch.infoHash });
    expect(byId.get(5)).toMatchObject({ info: null, downloadPercent: 50 });
    expect(byId.get(6)).toMatchObject({ anonymous: true, categoryId: null, downloadPercent: 0, uploadPercent: 200, downloadPercentUntil: null, uploadPercentUntil: null, uploaderId: 2 });
    expect((await t.db.prisma.category.findMany({ orderBy: { id: 'asc' } })).map((c) => [c.id, c.slug, c.sortIndex])).toEqual([
      [401, 'movies', 0],
      [402, 'tvseries', 3],
      [409, 'misc', 7],
      [410, 'movies-410', 9],
    ]);
  });

  it('keeps snatches (duplicates merged, raw bytes in both columns), thanks, fun with votes, news, invites, secrets, the client allow-list', async () => {
    const snatches = await t.db.query<Record<string, unknown>>('SELECT user_id, torrent_id, uploaded::text, downloaded::text, actual_uploaded::text, seed_time::text, leech_time::text, completed_at, created_at FROM snatches ORDER BY torrent_id, user_id');
    expect(snatches.map((x) => [x.user_id, x.torrent_id, x.uploaded, x.downloaded, x.actual_uploaded, x.seed_time, x.leech_time])).toEqual([
      [1, 1, '600000', '0', '600000', '86400', '0'],
      [2, 1, '150', '300000', '150', '5400', '600'],
      [3, 2, '0', '101000', '0', '0', '100'],
    ]);
    const bob = snatches[1] as { completed_at: Date; created_at: Date };
    expect([new Date(bob.completed_at), new Date(bob.created_at)]).toEqual([at('2023-01-03 01:00:00'), at('2023-01-02 00:00:00')]);
    // Finished with a zero completedat (1.5): completed at its last announce.
    expect(new Date((snatches[0] as { completed_at: Date }).completed_at)).toEqual(variant === '1.5' ? at('2023-01-15 00:00:00') : at('2023-01-15 00:00:00'));
    expect(await t.db.prisma.thanks.count()).toBe(2);
    expect(await t.db.prisma.funEntry.findMany({ orderBy: { id: 'asc' }, select: { id: true, userId: true, status: true, title: true } })).toEqual([
      { id: 7, userId: 2, status: 'FUNNY', title: 'Old joke' },
      { id: 8, userId: 0, status: 'NORMAL', title: 'By a deleted user' },
    ]);
    expect(await t.db.prisma.funVote.findMany({ orderBy: { userId: 'asc' }, select: { userId: true, funny: true } })).toEqual([
      { userId: 1, funny: true },
      { userId: 3, funny: false },
    ]);
    expect(await t.db.prisma.news.findMany({ select: { id: true, authorId: true, title: true } })).toEqual([{ id: 3, authorId: 1, title: 'Site news' }]);
    const invites = await t.db.prisma.invite.findMany({ orderBy: { id: 'asc' } });
    if (variant === '1.6') {
      expect(invites.map((i) => [i.id, i.inviterId, i.inviteeId, i.email, i.usedAt !== null])).toEqual([
        [1, 1, null, 'friend@old.example', false],
        [3, 1, 2, 'bob@old.example', true],
      ]);
      expect(invites[0]?.expiresAt).toEqual(at('2031-01-01 00:00:00'));
      expect(await t.db.prisma.torrentSecret.findMany({ orderBy: { torrentId: 'asc' } })).toEqual([
        { userId: 2, torrentId: 0, secret: 'bobEverySecret' },
        { userId: 2, torrentId: 2, secret: 'newestBobSecret' },
      ]);
    } else {
      // 1.5: the invite timeout is in allconfig.php; NexusPHP's default, 7 days.
      expect(invites.map((i) => [i.id, i.expiresAt.getTime() - i.createdAt.getTime()])).toEqual([[1, 7 * DAY]]);
    }
    expect((await t.db.prisma.clientAllow.findMany({ orderBy: { prefix: 'asc' } })).map((c) => c.prefix)).toEqual(['-TR3', '-WW0', '-lt0D', '-qB4', 'A2-']);
  });

  it('changes nothing when run again, and says so', async () => {
    const again = await runImport(t.db, options());
    expect(again.changes).toBe(0);
    for (const x of again.tables) expect([x.table, x.inserted, x.updated]).toEqual([x.table, 0, 0]);
    expect(again.passkeys.regenerated.map((r) => r.id)).toEqual(report.passkeys.regenerated.map((r) => r.id));
  });

  it('resumes a run that stopped part way when run again, and ends where an uninterrupted run ends', async () => {
    const fresh = await openTestDatabase();
    try {
      // Stopped after the users table committed (batches of 2), before any torrent was written.
      const stop = new Error('stopped part way');
      const out = (line: string) => {
        if (line.trimStart().startsWith('users')) throw stop;
      };
      await expect(runImport(fresh.db, { ...options(), out })).rejects.toBe(stop);
      const passkeys = await fresh.db.prisma.user.findMany({ select: { id: true, passkey: true }, orderBy: { id: 'asc' } });
      expect(passkeys.length).toBeGreaterThan(0);
      expect(await fresh.db.prisma.torrent.count()).toBe(0);

      const resumed = await runImport(fresh.db, options());
      expect(resumed.totals.every((x) => x.equal)).toBe(true);
      expect(resumed.tables.find((x) => x.table === 'torrents')).toMatchObject({ source: 6, inserted: 6 });
      expect(resumed.tables.find((x) => x.table === 'users')).toMatchObject({ source: 8, inserted: 0 });
      const ids = async (db: typeof fresh.db) => ({
        users: (await db.prisma.user.findMany({ select: { id: true, uploaded: true, downloaded: true, status: true, invitedById: true }, orderBy: { id: 'asc' } })).map((u) => [u.id, u.uploaded, u.downloaded, u.status, u.invitedById]),
        torrents: (await db.prisma.torrent.findMany({ select: { id: true, infoHash: true }, orderBy: { id: 'asc' } })).map((x) => [x.id, x.infoHash]),
        snatches: await db.prisma.snatch.count(),
      });
      expect(await ids(fresh.db)).toEqual(await ids(t.db));
      // Passkeys generated by the stopped run are the ones kept (clients may already have them).
      expect(await fresh.db.prisma.user.findMany({ where: { id: { gt: 0 } }, select: { id: true, passkey: true }, orderBy: { id: 'asc' } })).toEqual(passkeys);
      expect((await runImport(fresh.db, options())).changes).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('writes nothing on a dry run, and reports what it would do', async () => {
    const empty = await openTestDatabase();
    try {
      const dry = await runImport(empty.db, { ...options(), dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.changes).toBe(report.changes);
      expect(await empty.db.prisma.user.count()).toBe(0);
      expect(await empty.db.prisma.torrent.count()).toBe(0);
      expect(await empty.db.query('SELECT 1 FROM import_runs')).toEqual([]);
    } finally {
      await empty.close();
    }
  });
});
