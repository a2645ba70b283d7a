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

function unmap(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

export function createClientIpResolver(trusted: string[]): ClientIpResolver {
  const perSocket = new WeakMap<Socket, { text: string; bytes: Buffer }>();
  const trust = trusted.length > 0 ? proxyAddr.compile(trusted) : null;
  const fromSocket = (req: ClientRequest) => {
    const socket = req.socket;
    let hit = perSocket.get(socket);
    if (!hit) {
      const text = unmap(socket.remoteAddress ?? '0.0.0.0');
      hit = { text, bytes: ipToBytes(text) ?? UNKNOWN };
      perSocket.set(socket, hit);
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
