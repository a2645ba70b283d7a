import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPeerId, aTorrent, aUser } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';
import { announce, compactPeers, trackerGet, announceQuery } from '../../support/tracker-client.ts';

describe('dual-stack announces (libtorrent, qBittorrent)', () => {
  let t: TestApp;
  let v6: string;
  beforeAll(async () => {
    t = await startTestApp({}, { timers: false, host: '::' });
    v6 = `http://[::1]:${t.port}`;
  });
  afterAll(async () => {
    await t.stop();
  });

  it('merges the IPv4 and IPv6 announces of one peer session: counted and credited once, both addresses to others, never to itself', async () => {
    const s = await aUser(t.db);
    const l = await aUser(t.db);
    const tor = await aTorrent(t.db, s.id);
    const seeder = aPeerId('-lt2080-');
    const both = { passkey: s.passkey, infoHash: tor.hashBytes, peerId: seeder, left: 0, key: '1A2B3C4D', port: 6881 };
    await announce(t.url, { ...both, event: 'started' });
    await announce(v6, { ...both, event: 'started' });
    const leecher = await announce(t.url, { passkey: l.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, port: 7000 });
    expect(leecher.body).toMatchObject({ complete: 1, incomplete: 1 });
    expect(compactPeers(leecher.body.peers as Uint8Array)).toEqual(['127.0.0.1:6881']);
    expect(compactPeers(leecher.body.peers6 as Uint8Array, 18)).toEqual([`${'0'.repeat(31)}1:6881`]);
    // The seeder's own announces over either family never list itself.
    const self6 = await trackerGet(`${v6}/announce?${announceQuery({ ...both })}`);
    expect(compactPeers(self6.body.peers as Uint8Array)).toEqual(['127.0.0.1:7000']);
    expect(self6.body.peers6).toBeUndefined();
    // Same totals over both families: credited once.
    await announce(t.url, { ...both, uploaded: 1000 });
    await announce(v6, { ...both, uploaded: 1000 });
    await t.app.ctx.flusher.flush();
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: s.id } });
    expect(Number(row.uploaded)).toBe(1000);
    // Stopping one family keeps the session on the other.
    await announce(v6, { ...both, event: 'stopped', uploaded: 1000 });
    const after = await announce(t.url, { passkey: l.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 10, port: 7001 });
    expect(after.body).toMatchObject({ complete: 1 });
    expect(after.body.peers6).toBeUndefined();
  });
});
