/**
 * The client's address. By default the socket's peer address; `X-Forwarded-For` counts only
 * when the socket peer is a configured trusted proxy, and then the rightmost untrusted entry
 * is taken (proxy-addr), never the spoofable leftmost one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import proxyAddr from 'proxy-addr';
import { ipToBytes } from '../tracker/protocol/ip.ts';

/** What the resolver reads of a request: node:http's IncomingMessage, or the tracker's raw-socket requests. */
export interface ClientRequest {
  socket: Socket;
  headers: IncomingHttpHeaders;
}

export interface ClientIpResolver {
  /** Address text, IPv4-mapped IPv6 unwrapped. */
  text(req: ClientRequest): string;
  /** 4 or 16 address bytes. */
  bytes(req: ClientRequest): Buffer;
}

const UNKNOWN = Buffer.from([0, 0, 0, 0]);

interface PeerAddress {
  text: string;
  bytes: Buffer;
}
/**
 * The socket's address, kept on the socket itself: a WeakMap keyed by sockets made every
 * garbage collection walk the entries of connections long closed (ephemerons), which cost
 * `Connection: close` clients tens of microseconds per request.
 */
const PEER = Symbol('peerAddress');

function unmap(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

export function createClientIpResolver(trusted: string[]): ClientIpResolver {
  const trust = trusted.length > 0 ? proxyAddr.compile(trusted) : null;
  const fromSocket = (req: ClientRequest) => {
    const socket = req.socket as Socket & { [PEER]?: PeerAddress };
    let hit = socket[PEER];
    if (!hit) {
      const text = unmap(socket.remoteAddress ?? '0.0.0.0');
      hit = { text, bytes: ipToBytes(text) ?? UNKNOWN };
      socket[PEER] = hit;
    }
    return hit;
  };
  if (!trust) return { text: (req) => fromSocket(req).text, bytes: (req) => fromSocket(req).bytes };
  const resolve = (req: ClientRequest) => {
    if (req.headers['x-forwarded-for'] === undefined) return fromSocket(req);
    // proxy-addr reads only socket.remoteAddress and the x-forwarded-for header.
    const text = unmap(proxyAddr(req as Parameters<typeof proxyAddr>[0], trust));
    return { text, bytes: ipToBytes(text) ?? UNKNOWN };
  };
  return { text: (req) => resolve(req).text, bytes: (req) => resolve(req).bytes };
}
