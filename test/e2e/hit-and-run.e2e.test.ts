/**
 * A hit-and-run in real time with real clients: libtorrent (Debian's python3-libtorrent)
 * downloads a torrent through the tracker from a libtorrent seeder and leaves before seeding it;
 * the server's own timers (accounting flush, rules tick every second) open the case, warn, and
 * after the short grace fail it, and the tracker then refuses that user's next download while
 * the same user's seeding is still answered.
 *
 * Skips with a message when python3-libtorrent is missing, unless CI is set (.ci/run installs it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceUrlFor, buildDownload } from '../../src/torrents/download.ts';
import { registerTorrent } from '../../src/torrents/register.ts';
import { sourceTagFor } from '../../src/torrents/source.ts';
import { aUser, type TestUser } from '../support/factories.ts';
import { hasLibtorrent, killChildren, ltSession, PYTHON, run, writeLtScript } from '../support/libtorrent.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const inCi = Boolean(process.env.CI);
if (!hasLibtorrent && !inCi) process.stderr.write(`hit-and-run e2e skipped: missing ${PYTHON} with libtorrent (apt-get install python3-libtorrent)\n`);

let t: TestApp;
let work: string;
let script: string;

describe.skipIf(!hasLibtorrent && !inCi)('hit-and-run with real clients and real time', () => {
  beforeAll(async () => {
    if (!hasLibtorrent) throw new Error(`CI is set but ${PYTHON} with libtorrent is missing`);
    work = mkdtempSync(join(tmpdir(), 'ot-hnr-e2e-'));
    script = writeLtScript(work);
    t = await startTestApp({
      HNR_ENABLED: 'true',
      HNR_MIN_SEED_SECONDS: '3600',
      HNR_PREWARN_SECONDS: '1',
      HNR_GRACE_SECONDS: '4',
      HNR_MAX_UNREACHED: '1',
      RULES_TICK_SECONDS: '1',
      ACCOUNTING_FLUSH_INTERVAL_MS: '200',
    });
  });

  afterAll(async () => {
    killChildren();
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Content and a .torrent made by libtorrent, registered with the site, and the user's own .torrent file. */
  async function published(name: string, uploader: TestUser) {
    const dir = join(work, `${name}-seed`);
    const made = await run(PYTHON, [script, 'make', dir, `${name}.bin`, String(2 * 1024 * 1024 + 321), join(work, `${name}.torrent`)], 20_000);
    expect(made.code, made.out).toBe(0);
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes: readFileSync(join(work, `${name}.torrent`)), uploaderId: uploader.id, source: sourceTagFor(t.config.publicUrl) });
    const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: reg.id } });
    await expect.poll(() => t.app.ctx.torrents.byId(reg.id)).toBeDefined();
    const fileFor = (u: TestUser) => {
      const path = join(work, `${name}-${u.id}.torrent`);
      writeFileSync(path, buildDownload(row, announceUrlFor(t.config.publicUrl, u.passkey)));
      return path;
    };
    return { id: reg.id, dir, fileFor };
  }

  it('libtorrent downloads and leaves: after the grace its leeching is refused, its seeding still answered', async () => {
    const uploader = await aUser(t.db);
    const user = await aUser(t.db);
    const first = await published('first', uploader);
    const seeder = ltSession(script, first.fileFor(uploader), first.dir);
    await seeder.next((e) => e.event === 'announce_ok', 15_000, 'seeder announce');

    const got = join(work, 'got');
    mkdirSync(got);
    const leecher = ltSession(script, first.fileFor(user), got);
    await leecher.next((e) => e.event === 'finished', 30_000, 'download finished');
    leecher.send('stop'); // gone before seeding: libtorrent announces `stopped`
    await leecher.next((e) => e.event === 'stopped', 10_000, 'leecher stop');

    // The server's timers do the rest: flush, open, warn, fail, block.
    const hnr = () => t.db.prisma.hitAndRun.findFirst({ where: { userId: user.id, torrentId: first.id }, select: { status: true, prewarnedAt: true, resolution: true } });
    await expect.poll(hnr, { timeout: 30_000, interval: 250 }).toMatchObject({ status: 'UNREACHED', prewarnedAt: expect.any(Date) as Date });
    await expect.poll(() => t.db.prisma.leechBlock.count({ where: { userId: user.id } }), { timeout: 10_000 }).toBe(1);

    // A new download by the same user is refused, with the reason libtorrent reports.
    const second = await published('second', uploader);
    const refused = ltSession(script, second.fileFor(user), join(work, 'second-got'));
    const error = await refused.next((e) => e.event === 'announce_error', 20_000, 'refused announce');
    expect(String(error.reason)).toBe('downloading is disabled: 1 unreached hit-and-runs (limit 1); seeding still works: seed them to their requirement or pay bonus points on the site to clear them');

    // Seeding what it downloaded is still answered.
    const reseed = ltSession(script, first.fileFor(user), got);
    await reseed.next((e) => e.event === 'announce_ok', 20_000, 'seeding announce');
    for (const s of [seeder, refused, reseed]) s.send('stop');
    await Promise.all([seeder, refused, reseed].map((s) => s.next((e) => e.event === 'stopped', 10_000, 'stop')));
  });
});
