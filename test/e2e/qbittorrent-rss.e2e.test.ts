/**
 * qBittorrent's RSS auto-downloader against our /rss feed, as a user sets it up: Debian's
 * qbittorrent-nox (its own temporary profile and ports) is given the feed URL and a download
 * rule through its WebUI API v2; a torrent uploaded afterwards is fetched from the item's
 * enclosure, added, and announces to our tracker with the user's passkey.
 *
 * Skips with a message when qbittorrent-nox is missing, unless CI is set (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBinary } from '../../src/cache/torrent-registry.ts';
import { makeV1Torrent } from '../../src/torrents/make.ts';
import { registerTorrent } from '../../src/torrents/register.ts';
import { sourceTagFor } from '../../src/torrents/source.ts';
import { aUser, type TestUser } from '../support/factories.ts';
import { freePort } from '../support/free-port.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const hasQbt = spawnSync('qbittorrent-nox', ['--version'], { stdio: 'ignore' }).status === 0;
const inCi = Boolean(process.env.CI);
if (!hasQbt && !inCi) process.stderr.write('qBittorrent RSS e2e skipped: qbittorrent-nox is missing (apt-get install qbittorrent-nox)\n');


async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>, every = 250): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

let t: TestApp;
let work: string;
let qbt: ChildProcess | null = null;
let qbtOut = '';
let webui: string;
let alice: TestUser;

/** A WebUI API v2 call (POST, form-encoded); localhost needs no login in this profile. */
async function qb(path: string, form: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${webui}/api/v2/${path}`, { method: 'POST', body: new URLSearchParams(form) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return text;
}

describe.skipIf(!hasQbt && !inCi)('qBittorrent RSS auto-downloader', () => {
  beforeAll(async () => {
    if (!hasQbt) throw new Error('CI is set but qbittorrent-nox is missing');
    const port = await freePort();
    t = await startTestApp({ PUBLIC_URL: `http://127.0.0.1:${port}` }, { port });
    alice = await aUser(t.db);
    await t.app.ctx.users.reload(alice.id);

    work = mkdtempSync(join(tmpdir(), 'ot-qbt-'));
    const [webPort, peerPort] = [await freePort(), await freePort()];
    webui = `http://127.0.0.1:${webPort}`;
    mkdirSync(join(work, 'qBittorrent', 'config'), { recursive: true });
    writeFileSync(
      join(work, 'qBittorrent', 'config', 'qBittorrent.conf'),
      [
        '[LegalNotice]',
        'Accepted=true',
        '',
        '[Preferences]',
        `WebUI\\Port=${webPort}`,
        'WebUI\\Address=127.0.0.1',
        'WebUI\\LocalHostAuth=false',
        'WebUI\\CSRFProtection=false',
        'WebUI\\HostHeaderValidation=false',
        '',
      ].join('\n'),
    );
    qbt = spawn('qbittorrent-nox', [`--profile=${work}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    qbt.stdout?.on('data', (d: Buffer) => (qbtOut += d.toString()));
    qbt.stderr?.on('data', (d: Buffer) => (qbtOut += d.toString()));
    await until('the qBittorrent WebUI', 20_000, async () => ((await fetch(`${webui}/api/v2/app/version`)).ok ? true : undefined));
    await qb('app/setPreferences', {
      json: JSON.stringify({
        rss_processing_enabled: true,
        rss_auto_downloading_enabled: true,
        rss_refresh_interval: 1,
        listen_port: peerPort,
        dht: false,
        pex: false,
        lsd: false,
        upnp: false,
        save_path: join(work, 'downloads'),
      }),
    });
  });

  afterAll(async () => {
    if (qbt && qbt.exitCode === null) {
      qbt.kill('SIGTERM');
      await Promise.race([new Promise((r) => qbt?.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (qbt.exitCode === null) qbt.kill('SIGKILL');
    }
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a torrent uploaded after the feed and rule are set is downloaded, added, and announces with the user’s passkey', async () => {
    const feedUrl = `${t.url}/rss?passkey=${alice.passkey}`;
    await qb('rss/addFeed', { url: feedUrl, path: 'tracker' });
    await qb('rss/setRule', {
      ruleName: 'episodes',
      ruleDef: JSON.stringify({ enabled: true, mustContain: 'Feeds.Test.Show', affectedFeeds: [feedUrl], savePath: join(work, 'downloads'), addPaused: false }),
    });
    // The feed is read once before the upload: its articles are known, none matches the rule.
    await qb('rss/refreshItem', { itemPath: 'tracker' });
    await until('the first read of the feed', 15_000, async () => {
      const items = JSON.parse(await qb('rss/items', { withData: 'true' })) as Record<string, { isLoading?: boolean; lastBuildDate?: string; articles?: unknown[] }>;
      const feed = items.tracker;
      return feed && feed.isLoading === false ? feed : undefined;
    });

    const uploader = await aUser(t.db, { role: 'UPLOADER' });
    const bytes = makeV1Torrent({ name: 'Feeds.Test.Show.S01E02.1080p.WEB-DL', length: 5_000_000 });
    const reg = await registerTorrent(t.db.prisma, t.app.ctx.events, { bytes, uploaderId: uploader.id, source: sourceTagFor(t.app.ctx.config.publicUrl) });
    await t.app.ctx.torrents.reload(reg.id);

    const added = await until(
      'qBittorrent to add the torrent from the feed',
      45_000,
      async () => {
        await qb('rss/refreshItem', { itemPath: 'tracker' });
        const list = JSON.parse(await qb('torrents/info')) as Array<{ hash: string; name: string }>;
        return list.find((x) => x.hash === reg.infoHash);
      },
      2000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nqbittorrent-nox output:\n${qbtOut}`);
    });
    expect(added.name).toBe('Feeds.Test.Show.S01E02.1080p.WEB-DL');

    const trackers = JSON.parse(await qb('torrents/trackers', { hash: reg.infoHash })) as Array<{ url: string }>;
    expect(trackers.map((x) => x.url)).toContain(`${t.app.ctx.config.publicUrl}/announce?passkey=${alice.passkey}`);
    // The announce reached the tracker: a leecher session of alice's in the swarm.
    const peer = await until('qBittorrent’s announce', 30_000, async () => {
      const peers = (await t.app.ctx.swarm.listPeers?.(hexToBinary(reg.infoHash), 10)) ?? [];
      return peers.find((p) => p.userId === alice.id);
    });
    expect(peer.seeder).toBe(false);
    expect(Buffer.from(peer.peerId, 'hex').toString('latin1')).toMatch(/^-qB4/);
  });
});
