import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../src/shared/clock.ts';
import { aPeerId, aTorrent, aUser, encodeBytes, type TestTorrent, type TestUser } from '../../support/factories.ts';
import { startTestApp, swarmBackends, type TestApp } from '../../support/test-app.ts';
import { announce, announceQuery, compactPeers, failureOf, trackerGet } from '../../support/tracker-client.ts';

describe.each(swarmBackends)('HTTP announce (%s swarm store)', (backend) => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let torrent: TestTorrent;

  beforeAll(async () => {
    t = await startTestApp({}, { timers: false, swarmBackend: backend });
    alice = await aUser(t.db);
    bob = await aUser(t.db);
    torrent = await aTorrent(t.db, alice.id);
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('with valid parameters', () => {
    it('answers a bencoded dictionary with the swarm counts, interval and compact peers', async () => {
      const seeder = aPeerId();
      const leecher = aPeerId();
      await announce(t.url, { passkey: alice.passkey, infoHash: torrent.hashBytes, peerId: seeder, port: 7001, left: 0, event: 'started' });
      const a = await announce(t.url, { passkey: bob.passkey, infoHash: torrent.hashBytes, peerId: leecher, port: 7002, left: 500, event: 'started' });
      expect(a.status).toBe(200);
      expect(a.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(failureOf(a)).toBeUndefined();
      expect(a.body).toMatchObject({ complete: 1, incomplete: 1, downloaded: 0, interval: 1800, 'min interval': 900 });
      expect(compactPeers(a.body.peers as Uint8Array)).toEqual(['127.0.0.1:7001']);
      expect(a.body.peers6).toBeUndefined();
      // The seeder is given the leecher, never itself.
      const s = await announce(t.url, { passkey: alice.passkey, infoHash: torrent.hashBytes, peerId: seeder, port: 7001, left: 0 });
      expect(compactPeers(s.body.peers as Uint8Array)).toEqual(['127.0.0.1:7002']);
      // Both leave, the leecher unfinished: stopped removes at once.
      for (const [u, p, left] of [[alice, seeder, 0], [bob, leecher, 500]] as const) await announce(t.url, { passkey: u.passkey, infoHash: torrent.hashBytes, peerId: p, left, event: 'stopped' });
      const scrape = await trackerGet(`${t.url}/scrape?passkey=${alice.passkey}&info_hash=${encodeBytes(torrent.hashBytes)}`);
      expect(Object.values(scrape.body.files as Record<string, unknown>)).toEqual([{ complete: 0, downloaded: 0, incomplete: 0 }]);
    });

    it('gives seeders leechers only, caps numwant and honours numwant=0', async () => {
      const tor = await aTorrent(t.db, alice.id);
      for (let i = 0; i < 5; i++) await announce(t.url, { passkey: alice.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 8000 + i, left: 0 });
      for (let i = 0; i < 3; i++) await announce(t.url, { passkey: bob.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 9000 + i, left: 10 });
      const seeder = await announce(t.url, { passkey: alice.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 8100, left: 0 });
      expect(compactPeers(seeder.body.peers as Uint8Array).map((p) => p.split(':')[1]).sort()).toEqual(['9000', '9001', '9002']);
      const few = await announce(t.url, { passkey: bob.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, numwant: 2 });
      expect(compactPeers(few.body.peers as Uint8Array)).toHaveLength(2);
      const none = await announce(t.url, { passkey: bob.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, numwant: 0 });
      expect(compactPeers(none.body.peers as Uint8Array)).toHaveLength(0);
      expect(none.body).toMatchObject({ complete: 6, incomplete: 5 });
    });

    it('answers a list of dictionaries for compact=0, without peer ids for no_peer_id', async () => {
      const tor = await aTorrent(t.db, alice.id);
      const p1 = aPeerId();
      await announce(t.url, { passkey: alice.passkey, infoHash: tor.hashBytes, peerId: p1, port: 7100, left: 0 });
      const dict = await announce(t.url, { passkey: bob.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 5, compact: 0 });
      const peers = dict.body.peers as Array<Record<string, unknown>>;
      expect(peers).toHaveLength(1);
      expect(Buffer.from(peers[0]?.ip as Uint8Array).toString()).toBe('127.0.0.1');
      expect(peers[0]?.port).toBe(7100);
      expect(Buffer.from(peers[0]?.['peer id'] as Uint8Array)).toEqual(p1);
      const bare = await announce(t.url, { passkey: bob.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 5, compact: 0, noPeerId: true });
      expect((bare.body.peers as Array<Record<string, unknown>>)[0]?.['peer id']).toBeUndefined();
    });

    it('accepts the passkey in the path, in both URL styles, and the announce.php alias', async () => {
      const q = announceQuery({ infoHash: torrent.hashBytes, peerId: aPeerId(), left: 1 });
      for (const path of [`/announce/${alice.passkey}`, `/${alice.passkey}/announce`]) {
        const a = await trackerGet(`${t.url}${path}?${q}`);
        expect(failureOf(a), path).toBeUndefined();
      }
      const alias = await trackerGet(`${t.url}/announce.php?passkey=${alice.passkey}&${q}`);
      expect(failureOf(alias)).toBeUndefined();
    });
  });

  describe('with bad input', () => {
    const cases: Array<[string, (u: TestUser, tor: TestTorrent) => string, RegExp]> = [
      ['no passkey', (_u, tor) => announceQuery({ infoHash: tor.hashBytes, peerId: aPeerId() }), /missing passkey/],
      ['an unknown passkey', (_u, tor) => announceQuery({ passkey: 'f'.repeat(32), infoHash: tor.hashBytes, peerId: aPeerId() }), /unknown passkey/],
      ['a 19-byte info_hash', (u) => announceQuery({ passkey: u.passkey, infoHash: Buffer.alloc(19, 1), peerId: aPeerId() }), /info_hash: must be exactly 20 bytes/],
      ['a short peer_id', (u, tor) => announceQuery({ passkey: u.passkey, infoHash: tor.hashBytes, peerId: Buffer.from('short') }), /peer_id: must be exactly 20 bytes/],
      ['port 0', (u, tor) => announceQuery({ passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 0 }), /port: must be between 1 and 65535/],
      ['an unregistered torrent', (u) => announceQuery({ passkey: u.passkey, infoHash: Buffer.alloc(20, 7), peerId: aPeerId() }), /torrent not registered/],
      ['a negative counter', (u, tor) => announceQuery({ passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId() }).replace('uploaded=0', 'uploaded=-1'), /uploaded: expected a non-negative integer/],
    ];
    for (const [name, build, reason] of cases) {
      it(`refuses ${name} with HTTP 200 and a failure reason, and keeps serving`, async () => {
        const a = await trackerGet(`${t.url}/announce?${build(alice, torrent)}`);
        expect(a.status).toBe(200);
        expect(failureOf(a)).toMatch(reason);
        const ok = await announce(t.url, { passkey: alice.passkey, infoHash: torrent.hashBytes, peerId: aPeerId(), left: 1 });
        expect(failureOf(ok)).toBeUndefined();
      });
    }

    it('refuses disabled and banned accounts, and leeching when it is taken away', async () => {
      const disabled = await aUser(t.db, { status: 'DISABLED' });
      const banned = await aUser(t.db, { status: 'BANNED' });
      const noLeech = await aUser(t.db, { canLeech: false });
      expect(failureOf(await announce(t.url, { passkey: disabled.passkey, infoHash: torrent.hashBytes, peerId: aPeerId() }))).toMatch(/account is disabled/);
      expect(failureOf(await announce(t.url, { passkey: banned.passkey, infoHash: torrent.hashBytes, peerId: aPeerId() }))).toMatch(/account is banned/);
      expect(failureOf(await announce(t.url, { passkey: noLeech.passkey, infoHash: torrent.hashBytes, peerId: aPeerId(), left: 10 }))).toMatch(/downloading is disabled/);
      expect(failureOf(await announce(t.url, { passkey: noLeech.passkey, infoHash: torrent.hashBytes, peerId: aPeerId(), left: 0 }))).toBeUndefined();
    });

    it('refuses a user banned while the server runs, as soon as the change is published', async () => {
      const u = await aUser(t.db);
      expect(failureOf(await announce(t.url, { passkey: u.passkey, infoHash: torrent.hashBytes, peerId: aPeerId() }))).toBeUndefined();
      await t.db.prisma.user.update({ where: { id: u.id }, data: { status: 'BANNED' } });
      t.app.ctx.events.publish({ type: 'user.changed', userId: u.id });
      // The cache reloads the row in the background: no fixed wait (a busy machine outlasts any).
      await expect.poll(async () => failureOf(await announce(t.url, { passkey: u.passkey, infoHash: torrent.hashBytes, peerId: aPeerId() }))).toMatch(/banned/);
    });

    it('refuses pending and deleted torrents', async () => {
      const pending = await aTorrent(t.db, alice.id, { status: 'PENDING' });
      const deleted = await aTorrent(t.db, alice.id, { status: 'DELETED' });
      expect(failureOf(await announce(t.url, { passkey: alice.passkey, infoHash: pending.hashBytes, peerId: aPeerId() }))).toMatch(/awaiting moderation/);
      expect(failureOf(await announce(t.url, { passkey: alice.passkey, infoHash: deleted.hashBytes, peerId: aPeerId() }))).toMatch(/not registered/);
    });

    it('refuses clients missing from a non-empty allow-list', async () => {
      await t.db.prisma.clientAllow.create({ data: { prefix: '-qB', name: 'qBittorrent' } });
      await t.app.ctx.clients.load();
      try {
        expect(failureOf(await announce(t.url, { passkey: alice.passkey, infoHash: torrent.hashBytes, peerId: aPeerId('-XX1000-') }))).toMatch(/client is not allowed/);
        expect(failureOf(await announce(t.url, { passkey: alice.passkey, infoHash: torrent.hashBytes, peerId: aPeerId('-qB4630-') }))).toBeUndefined();
      } finally {
        await t.db.prisma.clientAllow.deleteMany();
        await t.app.ctx.clients.load();
      }
    });
  });

  describe('scrape', () => {
    it('returns counts for known hashes, leaves unknown ones out, and refuses a full scrape', async () => {
      const tor = await aTorrent(t.db, alice.id);
      await announce(t.url, { passkey: alice.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 });
      const q = (b: Buffer) => `info_hash=${encodeBytes(b)}`;
      const s = await trackerGet(`${t.url}/scrape/${alice.passkey}?${q(tor.hashBytes)}&${q(Buffer.alloc(20, 3))}`);
      const files = s.body.files as Record<string, unknown>;
      expect(Object.keys(files)).toHaveLength(1);
      expect(Object.values(files)[0]).toEqual({ complete: 1, downloaded: 0, incomplete: 0 });
      expect(failureOf(await trackerGet(`${t.url}/scrape?passkey=${alice.passkey}`))).toMatch(/full scrape is disabled/);
      expect(failureOf(await trackerGet(`${t.url}/scrape?${q(tor.hashBytes)}`))).toMatch(/missing passkey/);
    });
  });
});

describe.each(swarmBackends)('HTTP announce rate limit (%s)', (backend) => {
  it('answers HTTP 429 with BEP 31 retry in after the per-passkey budget, per minute', async () => {
    const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    const t = await startTestApp({ TRACKER_ANNOUNCE_RATE_LIMIT: '5' }, { timers: false, clock, swarmBackend: backend });
    try {
      const u = await aUser(t.db);
      const other = await aUser(t.db);
      const tor = await aTorrent(t.db, u.id);
      const peerId = aPeerId();
      for (let i = 0; i < 5; i++) expect((await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId })).status).toBe(200);
      const limited = await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('60');
      expect(failureOf(limited)).toMatch(/too many announces/);
      expect(limited.body['retry in']).toBe(1);
      // Other passkeys are unaffected, and the budget comes back next minute.
      expect((await announce(t.url, { passkey: other.passkey, infoHash: tor.hashBytes, peerId: aPeerId() })).status).toBe(200);
      if (backend === 'redis') return; // Redis keeps its own time: the window is not fast-forwarded
      clock.advance(60_000);
      expect((await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
