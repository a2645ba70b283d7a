/**
 * The `bittorrent-tracker` client library (what WebTorrent uses) announcing over HTTP.
 * Its WebRTC dependency is a native module that cannot be built offline; the client never
 * touches it for HTTP trackers, so that module alone is replaced at the boundary.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aPeerId, aTorrent, aUser } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';

vi.mock('webrtc-polyfill', () => ({ RTCPeerConnection: undefined, RTCSessionDescription: undefined, RTCIceCandidate: undefined }));

interface TrackerClient {
  on(event: string, fn: (arg: never) => void): void;
  start(): void;
  update(opts?: Record<string, unknown>): void;
  stop(): void;
  destroy(): void;
  scrape(): void;
}

describe('bittorrent-tracker client over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { timers: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('announces, receives the other peer, and scrapes', async () => {
    const { default: Client } = (await import('bittorrent-tracker/client')) as unknown as { default: new (opts: Record<string, unknown>) => TrackerClient };
    const seeder = await aUser(t.db);
    const leecher = await aUser(t.db);
    const tor = await aTorrent(t.db, seeder.id);
    const make = (passkey: string, port: number, left: number) =>
      new Client({ infoHash: tor.infoHash, peerId: aPeerId('-WW0208-').toString('hex'), announce: [`${t.url}/announce?passkey=${passkey}`], port, getAnnounceOpts: () => ({ uploaded: 0, downloaded: 0, left }) });
    const a = make(seeder.passkey, 6001, 0);
    const b = make(leecher.passkey, 6002, 100);
    try {
      const errors: string[] = [];
      for (const c of [a, b]) c.on('warning', (e: Error) => errors.push(e.message));
      const firstUpdate = (c: TrackerClient) => new Promise<{ complete: number; incomplete: number }>((resolve) => c.on('update', resolve));
      const aUpdate = firstUpdate(a);
      a.start();
      expect(await aUpdate).toMatchObject({ complete: 1, incomplete: 0 });
      const peers: string[] = [];
      b.on('peer', (addr: string) => peers.push(addr));
      const bUpdate = firstUpdate(b);
      b.start();
      expect(await bUpdate).toMatchObject({ complete: 1, incomplete: 1 });
      await vi.waitFor(() => expect(peers).toContain('127.0.0.1:6001'));
      const scraped = new Promise<{ complete: number; incomplete: number; downloaded: number }>((resolve) => b.on('scrape', resolve));
      b.scrape();
      expect(await scraped).toMatchObject({ complete: 1, incomplete: 1, downloaded: 0 });
      expect(errors).toEqual([]);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
