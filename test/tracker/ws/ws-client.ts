/**
 * A raw WebTorrent tracker client for tests: JSON over `ws`, with a queue of received
 * messages and `next(predicate)` to await the next matching one.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

export type Msg = Record<string, unknown>;

export interface RawPeer {
  ws: WebSocket;
  peerId: string;
  received: Msg[];
  send(msg: Msg | string): void;
  next(pred?: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export const bin = (hex: string): string => Buffer.from(hex, 'hex').toString('latin1');
export const randomId = (prefix = '-WW0208-'): string => prefix + randomBytes(20 - prefix.length).toString('latin1');

export function connect(url: string, peerId = randomId()): Promise<RawPeer> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const received: Msg[] = [];
  const waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  ws.on('message', (data) => {
    const m = JSON.parse((data as Buffer).toString('utf8')) as Msg;
    const i = waiters.findIndex((w) => w.pred(m));
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      w?.resolve(m);
    } else received.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        peerId,
        received,
        closed,
        send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
        next: (pred = () => true, timeoutMs = 5000) => {
          const i = received.findIndex(pred);
          if (i >= 0) return Promise.resolve(received.splice(i, 1)[0] as Msg);
          return new Promise<Msg>((res, rej) => {
            const w = { pred, resolve: (m: Msg) => (clearTimeout(timer), res(m)) };
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(w), 1);
              rej(new Error(`no matching message within ${timeoutMs} ms; queued: ${JSON.stringify(received).slice(0, 500)}`));
            }, timeoutMs);
            waiters.push(w);
          });
        },
        close: async () => {
          if (ws.readyState === WebSocket.CLOSED) return;
          ws.close();
          await closed;
        },
      }),
    );
  });
}

export function announceMsg(infoHash: string, peerId: string, extra: Msg = {}): Msg {
  return { action: 'announce', info_hash: infoHash, peer_id: peerId, numwant: 0, uploaded: 0, downloaded: 0, left: 100, ...extra };
}

export function offers(n: number): Array<{ offer: { type: string; sdp: string }; offer_id: string }> {
  return Array.from({ length: n }, (_, i) => ({ offer: { type: 'offer', sdp: `v=0\r\no=- ${i} 2 IN IP4 127.0.0.1\r\n` }, offer_id: randomId('') }));
}
