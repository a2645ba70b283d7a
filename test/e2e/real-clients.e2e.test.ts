/**
 * A real transfer between real BitTorrent clients through our tracker, loopback only:
 * libtorrent 2.0 (Debian's python3-libtorrent) seeds, aria2 downloads, each announcing with
 * its own user's passkey from the .torrent the site serves. Proves the whole chain: upload
 * rewrite (private + source), download splice with the passkey, announce parsing as these
 * clients really send it (libtorrent's hex `key`, aria2's raw binary `key`), peer exchange
 * through the tracker, and the transfer credited to both users after a flush.
 *
 * Skips with a message when aria2c or python3-libtorrent is missing, unless CI is set (then
 * missing tools are a failure: .ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceUrlFor, buildDownload } from '../../src/torrents/download.ts';
import { registerTorrent } from '../../src/torrents/register.ts';
import { sourceTagFor } from '../../src/torrents/source.ts';
import { aUser, type TestUser } from '../support/factories.ts';
import { freePort } from '../support/free-port.ts';
import { hasLibtorrent, killChildren, ltSession, PYTHON, run, writeLtScript } from '../support/libtorrent.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const hasAria2 = spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status === 0;
const missing = [!hasAria2 && 'aria2c (apt-get install aria2)', !hasLibtorrent && `${PYTHON} with libtorrent (apt-get install python3-libtorrent)`].filter(Boolean);
const inCi = Boolean(process.env.CI);
if (missing.length > 0 && !inCi) process.stderr.write(`real-clients e2e skipped: missing ${missing.join(' and ')}\n`);

let t: TestApp;
let work: string;

describe.skipIf(missing.length > 0 && !inCi)('real BitTorrent clients through the tracker', () => {
  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`CI is set but ${missing.join(' and ')} is missing`);
    work = mkdtempSync(join(tmpdir(), 'ot-e2e-'));
    writeLtScript(work);
    t = await startTestApp();
  });

  afterAll(async () => {
    killChildren();
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('libtorrent seeds, aria2 downloads: the file arrives byte-identical and both users are credited', async () => {
    const size = 3 * 1024 * 1024 + 12345;
    const seedDir = join(work, 'seed');
    const getDir = join(work, 'get');
    mkdirSync(getDir);
    const made = await run(PYTHON, [join(work, 'lt.py'), 'make', seedDir, 'payload.bin', String(size), join(work, 'original.torrent')], 20_000);
    expect(made.code, made.out).toBe(0);

    const seederUser: TestUser = await aUser(t.db);
    const leecherUser: TestUser = await aUser(t.db);
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes: readFileSync(join(work, 'original.torrent')), uploaderId: seederUser.id, source: sourceTagFor(t.config.publicUrl) });
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id } });
    await expect.poll(() => t.app.ctx.torrents.byId(reg.id)).toBeDefined();
    const forUser = (u: TestUser) => buildDownload(row, announceUrlFor(t.config.publicUrl, u.passkey));
    writeFileSync(join(work, 'seeder.torrent'), forUser(seederUser));
    writeFileSync(join(work, 'leecher.torrent'), forUser(leecherUser));
    expect(announceUrlFor(t.config.publicUrl, leecherUser.passkey)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/announce\?passkey=[0-9a-f]{32}$/);

    const seeder = ltSession(join(work, 'lt.py'), join(work, 'seeder.torrent'), seedDir);
    await seeder.next((e) => e.event === 'announce_ok', 15_000, 'successful announce');
    const swarm = (await t.app.ctx.swarm.scrape([Buffer.from(row.infoHash, 'hex').toString('latin1')]))[0];
    expect(swarm?.seeders).toBe(1);

    const port = await freePort();
    const aria = await run(
      'aria2c',
      [
        '--dir', getDir,
        '--seed-time=0.1', // minutes: seed 6 s, so aria2 announces `completed` (with 0 it sends only `stopped`)
        '--enable-dht=false', '--enable-dht6=false', '--enable-peer-exchange=false', '--bt-enable-lpd=false',
        `--listen-port=${port}`,
        '--bt-stop-timeout=30',
        '--file-allocation=none',
        '--summary-interval=0', '--console-log-level=warn', '--no-conf=true',
        join(work, 'leecher.torrent'),
      ],
      40_000,
    );
    expect(aria.code, aria.out).toBe(0);
    expect(readFileSync(join(getDir, 'payload.bin')).equals(readFileSync(join(seedDir, 'payload.bin')))).toBe(true);

    // The seeder reports its upload on the next announce; aria2 reported on completed/stopped.
    const before = seeder.events.filter((e) => e.event === 'announce_ok').length;
    seeder.send('reannounce');
    const reply = await seeder.next((e) => e.event === 'announce_ok' && (e.replies as number) > before, 10_000, 're-announce reply');
    expect(reply.uploaded as number).toBeGreaterThanOrEqual(size);

    await t.app.ctx.flusher.flush();
    const [seederRow, leecherRow] = await Promise.all([
      t.db.prisma.user.findUniqueOrThrow({ where: { id: seederUser.id } }),
      t.db.prisma.user.findUniqueOrThrow({ where: { id: leecherUser.id } }),
    ]);
    expect(leecherRow.downloaded).toBeGreaterThanOrEqual(BigInt(size));
    expect(seederRow.uploaded).toBeGreaterThanOrEqual(BigInt(size));
    const snatch = await t.db.prisma.snatch.findUnique({ where: { userId_torrentId: { userId: leecherUser.id, torrentId: reg.id } } });
    const torrentRow = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id }, select: { timesCompleted: true } });
    expect(torrentRow.timesCompleted).toBe(1);
    expect(snatch?.completedAt).not.toBeNull();

    seeder.send('stop');
    await seeder.next((e) => e.event === 'stopped', 10_000, 'stop');
  });
  it('hybrid (v1 + v2) between two libtorrent sessions: registered under both hashes, transferred, credited once (not per hash)', async () => {
    const size = 2 * 1024 * 1024 + 777;
    const seedDir = join(work, 'hseed');
    const getDir = join(work, 'hget');
    mkdirSync(getDir);
    const made = await run(PYTHON, [join(work, 'lt.py'), 'make', seedDir, 'hybrid.bin', String(size), join(work, 'hybrid.torrent'), 'hybrid'], 20_000);
    expect(made.code, made.out).toBe(0);
    const seederUser = await aUser(t.db);
    const leecherUser = await aUser(t.db);
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes: readFileSync(join(work, 'hybrid.torrent')), uploaderId: seederUser.id, source: sourceTagFor(t.config.publicUrl) });
    expect(reg.parsed.version).toBe('hybrid');
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id } });
    await expect.poll(() => t.app.ctx.torrents.byId(reg.id)?.keys.length).toBe(2);
    writeFileSync(join(work, 'hseeder.torrent'), buildDownload(row, announceUrlFor(t.config.publicUrl, seederUser.passkey)));
    writeFileSync(join(work, 'hleecher.torrent'), buildDownload(row, announceUrlFor(t.config.publicUrl, leecherUser.passkey)));

    const seeder = ltSession(join(work, 'lt.py'), join(work, 'hseeder.torrent'), seedDir);
    await seeder.next((e) => e.event === 'announce_ok', 15_000, 'seeder announce');
    const leecher = ltSession(join(work, 'lt.py'), join(work, 'hleecher.torrent'), getDir);
    await leecher.next((e) => e.event === 'finished', 30_000, 'download finished');
    expect(readFileSync(join(getDir, 'hybrid.bin')).equals(readFileSync(join(seedDir, 'hybrid.bin')))).toBe(true);

    // Both report their totals; libtorrent announces a hybrid under the v1 and the v2 hash.
    for (const client of [leecher, seeder]) {
      const before = client.events.filter((e) => e.event === 'announce_ok').length;
      client.send('reannounce');
      await client.next((e) => e.event === 'announce_ok' && (e.replies as number) > before, 10_000, 're-announce reply');
    }
    await t.app.ctx.flusher.flush();
    const [s, l] = await Promise.all([seederUser, leecherUser].map((u) => t.db.prisma.user.findUniqueOrThrow({ where: { id: u.id } })));
    expect(l?.downloaded).toBeGreaterThanOrEqual(BigInt(size));
    expect(s?.uploaded).toBeGreaterThanOrEqual(BigInt(size));
    // Credited once, not once per hash (allow protocol slack, never double).
    expect(l?.downloaded).toBeLessThan(BigInt(Math.ceil(size * 1.5)));
    expect(s?.uploaded).toBeLessThan(BigInt(Math.ceil(size * 1.5)));
    for (const client of [leecher, seeder]) client.send('stop');
    await Promise.all([leecher, seeder].map((c) => c.next((e) => e.event === 'stopped', 10_000, 'stop')));
  });
});
