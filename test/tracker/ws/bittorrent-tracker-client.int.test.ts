/**
 * The `bittorrent-tracker` client (what WebTorrent uses) on our WebSocket tracker. Its WebRTC
 * dependency (`webrtc-polyfill`, a native module) cannot be built offline, so it is replaced
 * by a fake RTCPeerConnection that produces offers and answers without networking: enough
 * for the client's real signalling code to run end to end through the tracker (announce,
 * offer forwarded, answer relayed back by to_peer_id, scrape, stopped on destroy).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aTorrent, aUser } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';

vi.mock('webrtc-polyfill', () => {
  class RTCSessionDescription {
    type: string;
    sdp: string;
    constructor(init: { type: string; sdp: string }) {
      this.type = init.type;
      this.sdp = init.sdp;
    }
  }
  let n = 0;
  class RTCPeerConnection {
    localDescription: RTCSessionDescription | null = null;
    remoteDescription: RTCSessionDescription | null = null;
    iceGatheringState = 'new';
    iceConnectionState = 'new';
    connectionState = 'new';
    signalingState = 'stable';
    onicecandidate: ((e: { candidate: null }) => void) | null = null;
    onicegatheringstatechange: (() => void) | null = null;
    createDataChannel(label: string) {
      return { label, readyState: 'connecting', bufferedAmount: 0, close() {}, send() {} };
    }
    createOffer() {
      return Promise.resolve({ type: 'offer', sdp: `v=0\r\no=- ${++n} 2 IN IP4 127.0.0.1\r\na=fake-offer\r\n` });
    }
    createAnswer() {
      return Promise.resolve({ type: 'answer', sdp: `v=0\r\no=- ${++n} 2 IN IP4 127.0.0.1\r\na=fake-answer\r\n` });
    }
    setLocalDescription(d: { type: string; sdp: string }) {
      this.localDescription = new RTCSessionDescription(d);
      setTimeout(() => {
        this.iceGatheringState = 'complete';
        this.onicecandidate?.({ candidate: null });
        this.onicegatheringstatechange?.();
      }, 1);
      return Promise.resolve();
    }
    setRemoteDescription(d: RTCSessionDescription) {
      this.remoteDescription = d;
      return Promise.resolve();
    }
    addIceCandidate() {
      return Promise.resolve();
    }
    getStats() {
      return Promise.resolve(new Map());
    }
    close() {}
  }
  return { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate: class {} };
});

interface FakePeer {
  id?: string;
  remoteDescription?: unknown;
  _pc: { remoteDescription: { type: string; sdp: string } | null };
  destroy(): void;
}

interface TrackerClient {
  on(event: string, fn: (arg: never) => void): void;
  start(): void;
  scrape(): void;
  destroy(cb?: () => void): void;
}

describe('bittorrent-tracker client over WebSocket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { timers: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('announces, exchanges an offer and an answer with another client, scrapes, and leaves on destroy', async () => {
    const { default: Client } = (await import('bittorrent-tracker/client')) as unknown as { default: new (opts: Record<string, unknown>) => TrackerClient };
    const seeder = await aUser(t.db);
    const leecher = await aUser(t.db);
    const tor = await aTorrent(t.db, seeder.id);
    const make = (passkey: string, left: number) =>
      new Client({ infoHash: tor.infoHash, peerId: Buffer.from(`-WW0208-${Math.random().toString(36).slice(2, 14).padEnd(12, '0')}`).toString('hex'), announce: [`ws://127.0.0.1:${t.port}/announce?passkey=${passkey}`], port: 6881, getAnnounceOpts: () => ({ uploaded: 0, downloaded: 0, left }) });
    const a = make(seeder.passkey, 0);
    const b = make(leecher.passkey, 100);
    const warnings: string[] = [];
    const peersA: FakePeer[] = [];
    const peersB: FakePeer[] = [];
    try {
      for (const c of [a, b]) c.on('warning', (e: Error) => warnings.push(e.message));
      a.on('peer', (p: FakePeer) => peersA.push(p));
      b.on('peer', (p: FakePeer) => peersB.push(p));
      const firstUpdate = (c: TrackerClient) => new Promise<{ complete: number; incomplete: number }>((resolve) => c.on('update', resolve));
      const aUpdate = firstUpdate(a);
      a.start();
      expect(await aUpdate).toMatchObject({ complete: 1, incomplete: 0 });
      const bUpdate = firstUpdate(b);
      b.start();
      expect(await bUpdate).toMatchObject({ complete: 1, incomplete: 1 });
      // b's offer reached a (a peer from a remote offer), and a's answer came back to b.
      await vi.waitFor(() => expect(peersA.length).toBe(1));
      await vi.waitFor(() => expect(peersB.length).toBe(1));
      expect(peersA[0]?._pc.remoteDescription?.sdp).toContain('a=fake-offer');
      expect(peersB[0]?._pc.remoteDescription?.sdp).toContain('a=fake-answer');

      const scraped = new Promise<{ complete: number; incomplete: number; downloaded: number }>((resolve) => b.on('scrape', resolve));
      b.scrape();
      expect(await scraped).toMatchObject({ complete: 1, incomplete: 1, downloaded: 0 });
      expect(warnings).toEqual([]);
    } finally {
      for (const p of [...peersA, ...peersB]) p.destroy();
      await new Promise<void>((r) => a.destroy(() => r()));
    }
    // a's socket closed: its session ended, b's remains.
    const key = Buffer.from(tor.infoHash, 'hex').toString('latin1');
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([key]))[0]).toMatchObject({ seeders: 0, leechers: 1 }));
    await new Promise<void>((r) => b.destroy(() => r()));
    await vi.waitFor(async () => expect((await t.app.ctx.swarm.scrape([key]))[0]).toMatchObject({ seeders: 0, leechers: 0 }));
  });
});
