/**
 * Bad input gets a clear error and changes nothing: an unreachable or wrong source, a schema
 * that is not the site's (the missing table or column named), names that collide once
 * lower-cased, numbers out of range, unusable .torrent files under --on-bad-file abort, a
 * target that is not empty, another kind of site over an import, accounts made here since.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport, type ImportOptions } from '../../src/import/run.ts';
import { createUser } from '../../src/users/accounts.ts';
import { openTestDatabase } from '../support/test-app.ts';
import { mariadbAvailable, MYSQL_URL, scratchMariaDb, type Scratch } from './fixtures.ts';
import { buildNexusSite, type NexusSite } from './nexusphp-site.ts';

const available = await mariadbAvailable();

describe.skipIf(!available)('import refusals', () => {
  let site: NexusSite;
  let other: Scratch;
  let t: Awaited<ReturnType<typeof openTestDatabase>>;
  const nexus = (extra: Partial<ImportOptions> = {}): ImportOptions => ({ kind: 'nexusphp', from: site.url, torrentsDir: site.torrentsDir, sourceTz: '+08:00', ...extra });
  const nothingWritten = async () => {
    const [c] = await t.db.query<{ n: number }>('SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM torrents) + (SELECT COUNT(*) FROM categories) + (SELECT COUNT(*) FROM import_runs) AS n');
    expect(Number(c?.n)).toBe(0);
  };

  beforeAll(async () => {
    site = await buildNexusSite('1.6');
    other = await scratchMariaDb('ot_other');
    await other.conn.query('CREATE TABLE users (id INT PRIMARY KEY, username VARCHAR(40)); CREATE TABLE torrents (id INT PRIMARY KEY)');
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await site?.drop();
    await other?.drop();
  });

  it('names an unreachable server, a missing database and refused credentials', async () => {
    await expect(runImport(t.db, nexus({ from: 'mysql://root@127.0.0.1:1/site' }))).rejects.toThrow('cannot reach the source database 127.0.0.1:1/site: connection refused');
    await expect(runImport(t.db, nexus({ from: `${MYSQL_URL}/no_such_site_db` }))).rejects.toThrow('the source server has no database no_such_site_db');
    const u = new URL(MYSQL_URL);
    await expect(runImport(t.db, nexus({ from: `mysql://nobody:wrong@${u.host}/x` }))).rejects.toThrow(/the source database .* refused user nobody/);
    await expect(runImport(t.db, nexus({ from: 'postgres://x/y' }))).rejects.toThrow('--from must be a mysql:// URL');
    await expect(runImport(t.db, nexus({ from: 'mysql://root@127.0.0.1:3306' }))).rejects.toThrow('--from must name the database');
    await nothingWritten();
  });

  it('names what is missing from a database that is not the site it claims to be', async () => {
    await expect(runImport(t.db, nexus({ from: other.url }))).rejects.toThrow('the source database does not look like a NexusPHP site: table users has no column passhash');
    await expect(runImport(t.db, { kind: 'unit3d', from: site.url, torrentsDir: site.torrentsDir })).rejects.toThrow('the source database does not look like a UNIT3D site: table users has no column password');
    await other.conn.query('ALTER TABLE users ADD passhash VARCHAR(32), ADD secret VARBINARY(20), ADD email VARCHAR(80)');
    await expect(runImport(t.db, nexus({ from: other.url }))).rejects.toThrow('table users has no column status');
    await nothingWritten();
  });

  it('refuses bad options: a time zone, the torrents folder', async () => {
    await expect(runImport(t.db, nexus({ sourceTz: 'Mars/Olympus' }))).rejects.toThrow('--source-tz Mars/Olympus: not an offset (+08:00) nor a time zone name (Asia/Shanghai)');
    await expect(runImport(t.db, nexus({ torrentsDir: '/nonexistent/torrents' }))).rejects.toThrow('--torrents-dir /nonexistent/torrents is not a directory');
    await nothingWritten();
  });

  it('refuses usernames that collide once lower-cased, and counters above 2^63 - 1, before writing anything', async () => {
    await site.conn.query("ALTER TABLE users DROP INDEX username; INSERT INTO users (id, username, secret, editsecret, stafffor) VALUES (10, 'ALICE', '', '', '')");
    await expect(runImport(t.db, nexus())).rejects.toThrow('usernames collide here (names are unique ignoring case): "ALICE" (user 10) and user 1 are the same name once lower-cased. Rename them on the old site first');
    await site.conn.query('DELETE FROM users WHERE id = 10');
    await site.conn.query('UPDATE users SET uploaded = 18446744073709551615 WHERE id = 2');
    await expect(runImport(t.db, nexus())).rejects.toThrow('user 2 has uploaded = 18446744073709551615, above 2^63 - 1: correct it on the old site first');
    await site.conn.query('UPDATE users SET uploaded = 1000 WHERE id = 2');
    await nothingWritten();
  });

  it('stops before writing when a .torrent file cannot be kept and --on-bad-file abort is given', async () => {
    await expect(runImport(t.db, nexus({ onBadFile: 'abort' }))).rejects.toThrow(/^3 \.torrent file\(s\) cannot be kept, so nothing was imported \(--on-bad-file abort\): torrent 3: missing: .*3\.torrent; torrent 4: hash mismatch: .*; torrent 5: corrupt: .*not valid bencode/);
    await nothingWritten();
  });

  it('imports into an empty site only; over an import, only the same kind of site, and not over accounts made here since', async () => {
    const mine = await createUser(t.db.prisma, { username: 'admin', password: 'correct horse battery' });
    await expect(runImport(t.db, nexus())).rejects.toThrow('this site already has 1 users: an import keeps the old site\'s ids, so it goes into a new, empty site (a fresh DATA_DIR or database)');
    await t.db.prisma.user.delete({ where: { id: mine.id } });

    const skipped = await runImport(t.db, nexus({ onBadFile: 'skip' }));
    expect(skipped.tables.find((x) => x.table === 'torrents')?.skipped).toEqual({ '.torrent file not usable (--on-bad-file skip): missing': 1, '.torrent file not usable (--on-bad-file skip): hash mismatch': 1, '.torrent file not usable (--on-bad-file skip): corrupt': 1 });
    expect(await t.db.prisma.torrent.count()).toBe(3);
    await expect(runImport(t.db, { kind: 'unit3d', from: site.url, torrentsDir: site.torrentsDir })).rejects.toThrow(/^this site was imported from nexusphp .*; it cannot also take a unit3d site$/);

    // An account made here takes the next id; the old site then gets a user with that id.
    const here = await createUser(t.db.prisma, { username: 'newcomer', password: 'correct horse battery' });
    await site.conn.query("INSERT INTO users (id, username, secret, editsecret, stafffor, passkey) VALUES (?, 'latecomer', '', '', '', '')", [here.id]);
    await expect(runImport(t.db, nexus())).rejects.toThrow(`user ${here.id} (newcomer) was created on this site after the last import, and the old site has a user ${here.id} too: the import cannot keep both ids`);
    await site.conn.query('DELETE FROM users WHERE id = ?', [here.id]);
  });
});
