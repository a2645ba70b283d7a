/**
 * A stand-in for `webrtc-polyfill` (the native WebRTC module of the `bittorrent-tracker`
 * client, which cannot be built offline): RTCPeerConnections that produce offers and answers
 * without networking, enough for the client's real signalling code to run end to end through
 * the tracker. Use it as `vi.mock('webrtc-polyfill', () => import('../support/fake-webrtc.ts'))`.
 */
export class RTCSessionDescription {
  type: string;
  sdp: string;
  constructor(init: { type: string; sdp: string }) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
}

let n = 0;

export class RTCPeerConnection {
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

export class RTCIceCandidate {}

/** A peer the client emits for a connection (the fields the tests read). */
export interface FakePeer {
  _pc: { remoteDescription: { type: string; sdp: string } | null };
  destroy(): void;
}

/** The part of the `bittorrent-tracker` client the tests drive. */
export interface TrackerClient {
  on(event: string, fn: (arg: never) => void): void;
  start(): void;
  scrape(): void;
  destroy(cb?: () => void): void;
}

/** A `bittorrent-tracker` client for `infoHash` (hex) announcing to `announce` with `left` bytes to go. */
export async function trackerClient(infoHash: string, announce: string, left: number): Promise<TrackerClient> {
  const { default: Client } = (await import('bittorrent-tracker/client')) as unknown as { default: new (opts: Record<string, unknown>) => TrackerClient };
  const peerId = Buffer.from(`-WW0208-${Math.random().toString(36).slice(2, 14).padEnd(12, '0')}`).toString('hex');
  return new Client({ infoHash, peerId, announce: [announce], port: 6881, getAnnounceOpts: () => ({ uploaded: 0, downloaded: 0, left }) });
}

/** What a client did: the peers it made (for an offer it received, or an answer to its own) and its warnings. */
export function watch(c: TrackerClient): { peers: FakePeer[]; warnings: string[] } {
  const seen = { peers: [] as FakePeer[], warnings: [] as string[] };
  c.on('peer', (p: FakePeer) => seen.peers.push(p));
  c.on('warning', (e: Error) => seen.warnings.push(e.message));
  return seen;
}

/** Starts `c`; resolves with the counts of its first announce reply. */
export function started(c: TrackerClient): Promise<{ complete: number; incomplete: number }> {
  const update = new Promise<{ complete: number; incomplete: number }>((resolve) => c.on('update', resolve));
  c.start();
  return update;
}

/** Destroys `c` (it announces stopped and closes its socket). */
export function destroyed(c: TrackerClient): Promise<void> {
  return new Promise((resolve) => c.destroy(() => resolve()));
}
