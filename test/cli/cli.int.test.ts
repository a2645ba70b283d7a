/**
 * The CLI as an operator runs it: each command is a child process (`tsx src/cli/main.ts`)
 * against a temporary DATA_DIR (or, in the postgres project, a fresh PostgreSQL database);
 * the test then opens the same database to check what was written.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/passwords.ts';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { makeV1Torrent } from '../../src/torrents/make.ts';
import { parseTorrentUpload } from '../../src/torrents/metainfo.ts';
import { runCli, type CliRun } from '../support/cli-process.ts';
import { freshPostgres } from '../support/test-app.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/torrents');

let dataDir: string;
let pg: Awaited<ReturnType<typeof freshPostgres>>;

function cli(...args: string[]): Promise<CliRun> {
  return runCli(args, { DATA_DIR: dataDir, PUBLIC_URL: 'http://tracker.test:8080', ...(pg ? { DATABASE_URL: pg.url } : {}) });
}

/** Opens the CLI's database (the child has exited and closed it) for one check. */
async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(pg ? { kind: 'postgres', url: pg.url } : { kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ot-cli-'));
  pg = await freshPostgres();
});

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await pg?.drop();
});

// Each command is a fresh process (tsx start-up, migrations check): give the tests room on a
// loaded machine. The tests share one database and run in order (seed-demo creates the users).
describe('cli', { timeout: 180_000 }, () => {
  it('lists the commands', async () => {
    const r = await cli();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/torrent add <file.torrent> --owner <name>/);
    expect(r.stdout).toMatch(/seed-demo/);
    expect(r.stdout).toMatch(/bench-fixture --pools <dir>/);
    expect(r.stdout).toMatch(/setup-link/);
  });

  it('setup-link prints the first admin\'s one-time link on an empty site, the same one again, and nothing once a user exists', async () => {
    const first = await cli('setup-link');
    expect(first.code, first.stderr).toBe(0);
    const link = /^(http:\/\/tracker\.test:8080\/setup#token=[A-Za-z0-9_-]{43})\n\(a new link, also in (.*setup-link); any earlier link no longer works\)\n$/.exec(first.stdout);
    expect(link, first.stdout).not.toBeNull();
    expect(readFileSync(link?.[2] as string, 'utf8')).toBe(`${link?.[1]}\n`);
    const again = await cli('setup-link');
    expect(again.stdout).toBe(`${link?.[1]}\n(also in ${link?.[2]})\n`);
    expect(await cli('user', 'add', 'setup-tester', '--password', 'tester-password')).toMatchObject({ code: 0 });
    const none = await cli('setup-link');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/this site already has an account/);
  });

  it('seed-demo creates categories, users with working printed passwords, torrents, news and fun; a second run adds nothing', async () => {
    const first = await cli('seed-demo', '--torrents', '8');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/torrents: 8 added, 0 already present/);
    const m = /admin\s+admin\s+password (\S+)\s+passkey ([0-9a-f]{32})/.exec(first.stdout);
    expect(m).not.toBeNull();
    const [, password, passkey] = m as RegExpExecArray;
    await withDb(async (db) => {
      const admin = await db.prisma.user.findUniqueOrThrow({ where: { usernameLower: 'admin' } });
      expect(admin.role).toBe('ADMIN');
      expect(admin.passkey).toBe(passkey);
      expect(await verifyPassword(admin.passwordHash, password as string)).toBe(true);
      expect(await db.prisma.category.count()).toBe(8);
      expect(await db.prisma.torrent.count()).toBe(8);
      expect(await db.prisma.news.count()).toBe(3);
      expect(await db.prisma.funEntry.count()).toBe(5);
      const t = await db.prisma.torrent.findFirstOrThrow({ orderBy: { id: 'asc' } });
      expect(Buffer.from(t.info ?? []).includes(Buffer.from('6:source12:tracker.test'))).toBe(true);
      expect(t.categoryId).not.toBeNull();
    });
    const second = await cli('seed-demo', '--torrents', '8');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/torrents: 0 added, 8 already present/);
    expect(second.stdout).toMatch(/admin\s+admin\s+\(already existed/);
    expect(second.stdout).not.toMatch(/news:/);
  });

  it('torrent add registers a .torrent (libtorrent hybrid) and prints its id and info hash', async () => {
    const r = await cli('torrent', 'add', join(FIXTURES, 'hybrid.torrent'), '--owner', 'alice', '--category', 'music', '--name', 'Hybrid fixture');
    expect(r.code, r.stderr).toBe(0);
    const expected = parseTorrentUpload(readFileSync(join(FIXTURES, 'hybrid.torrent')), { source: 'tracker.test' });
    const m = /registered torrent (\d+): infohash ([0-9a-f]{40}) \(v2 ([0-9a-f]{64})\)/.exec(r.stdout);
    expect(m?.[2]).toBe(expected.infoHash);
    expect(m?.[3]).toBe(expected.infoHashV2);
    await withDb(async (db) => {
      const row = await db.prisma.torrent.findUniqueOrThrow({ where: { id: Number(m?.[1]) }, include: { category: true, uploader: true } });
      expect(row.name).toBe('Hybrid fixture');
      expect(row.category?.slug).toBe('music');
      expect(row.uploader.username).toBe('alice');
      expect(row.pieceLayers?.length).toBe(expected.pieceLayers?.length);
    });
    const again = await cli('torrent', 'add', join(FIXTURES, 'hybrid.torrent'), '--owner', 'bob');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`already registered as torrent ${m?.[1]}`));
  });

  it('torrent add refuses hostile files, unknown owners and categories, with a message', async () => {
    const evil = join(dataDir, 'evil.torrent');
    writeFileSync(evil, makeV1Torrent({ name: 'evil', files: [{ path: ['..', '..', 'etc', 'passwd'], length: 10 }] }));
    const bad = await cli('torrent', 'add', evil, '--owner', 'alice');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/path component "\.\."/);
    const bomb = join(dataDir, 'bomb.torrent');
    writeFileSync(bomb, Buffer.concat([Buffer.alloc(50_000, 'l'), Buffer.alloc(50_000, 'e')]));
    expect((await cli('torrent', 'add', bomb, '--owner', 'alice')).stderr).toMatch(/nested deeper than 32/);
    expect((await cli('torrent', 'add', join(FIXTURES, 'v1-single.torrent'), '--owner', 'nobody')).stderr).toMatch(/no user named nobody/);
    expect((await cli('torrent', 'add', join(FIXTURES, 'v1-single.torrent'), '--owner', 'alice', '--category', 'nope')).stderr).toMatch(/no category with slug nope/);
    expect((await cli('torrent', 'add', join(dataDir, 'missing.torrent'), '--owner', 'alice')).stderr).toMatch(/cannot read/);
    const usage = await cli('torrent', 'add', join(FIXTURES, 'v1-single.torrent'));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--owner is required/);
  });

  it('bench-fixture loads 100k pool peers as users (passkey = first 32 hex) and the torrents, and says how long it took', async () => {
    const pools = mkdtempSync(join(tmpdir(), 'ot-pools-'));
    const line = (kind: string, i: number) => createHash('sha1').update(`${kind}:test:${i}`).digest('hex');
    const peers = Array.from({ length: 100_000 }, (_, i) => line('peer', i));
    const torrents = Array.from({ length: 10_000 }, (_, i) => line('torrent', i));
    writeFileSync(join(pools, 'peers.hex'), `${peers.join('\n')}\n`);
    writeFileSync(join(pools, 'torrents.hex'), `${torrents.join('\n')}\n`);
    try {
      const r = await cli('bench-fixture', '--pools', pools);
      expect(r.code, r.stderr).toBe(0);
      const m = /100000 users and 10000 torrents added .* in ([\d.]+) s/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      await withDb(async (db) => {
        for (const p of [0, 4242, 99_999]) {
          const u = await db.prisma.user.findUniqueOrThrow({ where: { passkey: (peers[p] as string).slice(0, 32) } });
          expect(u.username).toBe(`bench${p}`);
        }
        expect(await db.prisma.torrent.count({ where: { infoHash: { in: [torrents[0] as string, torrents[9999] as string] } } })).toBe(2);
      });
      const again = await cli('bench-fixture', '--pools', pools);
      expect(again.stdout).toMatch(/0 users and 0 torrents added/);
    } finally {
      rmSync(pools, { recursive: true, force: true });
    }
  });

  it('bench-fixture explains a missing pools directory', async () => {
    const r = await cli('bench-fixture', '--pools', join(dataDir, 'nowhere'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*peers.hex/);
  });
});
