/**
 * The `bittorrent-tracker` client (what WebTorrent uses) on our WebSocket tracker. Its WebRTC
 * dependency (`webrtc-polyfill`, a native module) cannot be built offline, so it is replaced
 * by fake RTCPeerConnections (test/support/fake-webrtc.ts) that produce offers and answers
 * without networking: enough for the client's real signalling code to run end to end through
 * the tracker (announce, offer forwarded, answer relayed back by to_peer_id, scrape, stopped on
 * destroy).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aTorrent, aUser } from '../../support/factories.ts';
import { destroyed, started, trackerClient, watch } from '../../support/fake-webrtc.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';

vi.mock('webrtc-polyfill', () => import('../../support/fake-webrtc.ts'));

describe('bittorrent-tracker client over WebSocket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { timers: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('announces, exchanges an offer and an answer with another client, scrapes, and leaves on destroy', async () => {
    const seeder = await aUser(t.db);
    const leecher = await aUser(t.db);
    const tor = await aTorrent(t.db, seeder.id);
    const make = (passkey: string, left: number) => trackerClient(tor.infoHash, `ws://127.0.0.1:${t.port}/announce?passkey=${passkey}`, left);
    const a = await make(seeder.passkey, 0);
    const b = await make(leecher.passkey, 100);
    const seenA = watch(a);
    const seenB = watch(b);
    try {
      expect(await started(a)).toMatchObject({ complete: 1, incomplete: 0 });
      expect(await started(b)).toMatchObject({ complete: 1, incomplete: 1 });
      // b's offer reached a (a peer from a remote offer), and a's answer came back to b.
      await vi.waitFor(() => expect(seenA.peers.length).toBe(1));
      await vi.waitFor(() => expect(seenB.peers.length).toBe(1));
      expect(seenA.peers[0]?._pc.remoteDescription?.sdp).toContain('a=fake-offer');
      expect(seenB.peers[0]?._pc.remoteDescription?.sdp).toContain('a=fake-answer');

      const scraped = new Promise<{ complete: number; incomplete: number; downloaded: number }>((resolve) => b.on('scrape', resolve));
      b.scrape();
      expect(await scraped).toMatchObject({ complete: 1, incomplete: 1, downloaded: 0 });
      expect([...seenA.warnings, ...seenB.warnings]).toEqual([]);
    } finally {
      for (const p of [...seenA.peers, ...seenB.peers]) p.destroy();
      await destroyed(a);
    }
    // a's socket closed: its session ended, b's remains.
    const key = Buffer.from(tor.infoHash, 'hex').toString('latin1');
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([key]))[0]).toMatchObject({ seeders: 0, leechers: 1 }));
    await destroyed(b);
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([key]))[0]).toMatchObject({ seeders: 0, leechers: 0 }));
  });
});
