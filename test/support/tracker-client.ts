/**
 * A minimal HTTP tracker client for tests: builds announce/scrape URLs the way real clients
 * encode them and decodes the bencoded answer.
 */
import bencode from 'bencode';
import { encodeBytes } from './factories.ts';

export interface AnnounceParams {
  passkey?: string;
  infoHash: Buffer;
  peerId: Buffer;
  port?: number;
  uploaded?: number;
  downloaded?: number;
  left?: number;
  event?: 'started' | 'completed' | 'stopped' | '';
  compact?: 0 | 1;
  numwant?: number;
  key?: string;
  noPeerId?: boolean;
  extra?: string;
}

export function announceQuery(p: AnnounceParams): string {
  const parts = [`info_hash=${encodeBytes(p.infoHash)}`, `peer_id=${encodeBytes(p.peerId)}`, `port=${p.port ?? 6881}`, `uploaded=${p.uploaded ?? 0}`, `downloaded=${p.downloaded ?? 0}`, `left=${p.left ?? 0}`];
  if (p.passkey !== undefined) parts.unshift(`passkey=${p.passkey}`);
  if (p.event) parts.push(`event=${p.event}`);
  if (p.compact !== undefined) parts.push(`compact=${p.compact}`);
  if (p.numwant !== undefined) parts.push(`numwant=${p.numwant}`);
  if (p.key !== undefined) parts.push(`key=${p.key}`);
  if (p.noPeerId) parts.push('no_peer_id=1');
  if (p.extra) parts.push(p.extra);
  return parts.join('&');
}

export interface TrackerAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  raw: Buffer;
}

export async function trackerGet(url: string): Promise<TrackerAnswer> {
  const res = await fetch(url);
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, raw, body: bencode.decode(raw) as Record<string, unknown> };
}

export function announce(base: string, p: AnnounceParams): Promise<TrackerAnswer> {
  return trackerGet(`${base}/announce?${announceQuery(p)}`);
}

export function failureOf(a: TrackerAnswer): string | undefined {
  const f = a.body['failure reason'];
  return f === undefined ? undefined : Buffer.from(f as Uint8Array).toString('utf8');
}

/** Compact peers → ["ip:port", ...]. */
export function compactPeers(buf: Uint8Array | undefined, width = 6): string[] {
  if (!buf) return [];
  const b = Buffer.from(buf);
  const out: string[] = [];
  for (let o = 0; o + width <= b.length; o += width) {
    if (width === 6) out.push(`${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}:${b.readUInt16BE(o + 4)}`);
    else out.push(`${b.subarray(o, o + 16).toString('hex')}:${b.readUInt16BE(o + 16)}`);
  }
  return out;
}
