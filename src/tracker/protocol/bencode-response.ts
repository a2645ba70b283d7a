/**
 * Bencoded tracker responses, written straight into one Buffer: the announce answer is on the
 * hot path and has a fixed shape (keys in raw-byte order, as BEP 3 requires). Rarer shapes
 * (non-compact peer lists) go through the `bencode` package.
 */
import bencode from 'bencode';

export interface AnnounceBody {
  complete: number;
  downloaded: number;
  incomplete: number;
  interval: number;
  minInterval: number;
  /** Compact IPv4 peers (6 bytes each) or, in non-compact mode, bencoded list bytes. */
  peers: Buffer;
  /** Compact IPv6 peers (18 bytes each); omitted when empty. */
  peers6: Buffer;
  /** True when `peers` already holds a bencoded list (non-compact mode). */
  peersEncoded: boolean;
}

function intToken(key: string, value: number): string {
  return `${key.length}:${key}i${Math.trunc(value)}e`;
}

export function encodeAnnounce(b: AnnounceBody): Buffer {
  const head = `d${intToken('complete', b.complete)}${intToken('downloaded', b.downloaded)}${intToken('incomplete', b.incomplete)}${intToken('interval', b.interval)}${intToken('min interval', b.minInterval)}5:peers`;
  const peersPrefix = b.peersEncoded ? '' : `${b.peers.length}:`;
  const v6Prefix = b.peers6.length > 0 ? `6:peers6${b.peers6.length}:` : '';
  const headLen = head.length + peersPrefix.length;
  const out = Buffer.allocUnsafe(headLen + b.peers.length + v6Prefix.length + b.peers6.length + 1);
  let o = out.write(head + peersPrefix, 0, 'latin1');
  o += b.peers.copy(out, o);
  if (v6Prefix) {
    o += out.write(v6Prefix, o, 'latin1');
    o += b.peers6.copy(out, o);
  }
  out[o] = 0x65; // 'e'
  return out;
}

export function encodeFailure(reason: string, retryInMinutes?: number): Buffer {
  return Buffer.from(bencode.encode(retryInMinutes === undefined ? { 'failure reason': reason } : { 'failure reason': reason, 'retry in': retryInMinutes }));
}

export interface ScrapeEntry {
  infoHash: string;
  complete: number;
  downloaded: number;
  incomplete: number;
}

/** Entries must be unique; they are sorted here by raw info-hash bytes as bencoding requires. */
export function encodeScrape(entries: ScrapeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0));
  let s = 'd5:filesd';
  for (const e of sorted) s += `20:${e.infoHash}d${intToken('complete', e.complete)}${intToken('downloaded', e.downloaded)}${intToken('incomplete', e.incomplete)}e`;
  s += 'ee';
  return Buffer.from(s, 'latin1');
}

export interface DictPeer {
  ip: string;
  port: number;
  peerId: string | null;
}

/** Non-compact peer list (BEP 3 original form): a bencoded list of {ip, peer id, port}. */
export function encodePeerList(peers: DictPeer[]): Buffer {
  return Buffer.from(
    bencode.encode(peers.map((p) => (p.peerId === null ? { ip: p.ip, port: p.port } : { ip: p.ip, 'peer id': Buffer.from(p.peerId, 'latin1'), port: p.port }))),
  );
}
