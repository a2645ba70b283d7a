/**
 * IP address text to bytes: 4 bytes for IPv4 (including IPv4-mapped IPv6 such as
 * `::ffff:127.0.0.1`, which is how a dual-stack socket reports IPv4 peers), 16 for IPv6.
 */
import { isIPv4, isIPv6 } from 'node:net';

function parseV4(text: string, out: Buffer, offset: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[offset + i] = n;
  }
  return true;
}

/** Returns the address bytes, or null when `text` is not an IP address. */
export function ipToBytes(text: string): Buffer | null {
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  if (isIPv4(addr)) {
    const out = Buffer.allocUnsafe(4);
    return parseV4(addr, out, 0) ? out : null;
  }
  if (!isIPv6(addr)) return null;
  const lower = addr.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return ipToBytes(lower.slice(7));
  const out = Buffer.alloc(16);
  let head = lower;
  let tail = '';
  const dbl = lower.indexOf('::');
  if (dbl >= 0) {
    head = lower.slice(0, dbl);
    tail = lower.slice(dbl + 2);
  }
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const words: number[] = [];
  const push = (list: string[], into: number[]) => {
    for (const g of list) {
      if (g.includes('.')) {
        const v4 = Buffer.alloc(4);
        parseV4(g, v4, 0);
        into.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else into.push(parseInt(g, 16));
    }
  };
  const hw: number[] = [];
  const tw: number[] = [];
  push(h, hw);
  push(t, tw);
  words.push(...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i] ?? 0, i * 2);
  // IPv4-mapped in any spelling (`::ffff:7f00:1`, `0:0:0:0:0:ffff:1.2.3.4`) is the IPv4 peer.
  if (words[5] === 0xffff && words.slice(0, 5).every((w) => w === 0)) return out.subarray(12);
  return out;
}

export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** Addresses a tracker must never hand out when a client names them itself. */
export function isPublicAddress(bytes: Buffer): boolean {
  if (bytes.length === 4) {
    const [a = 0, b = 0] = bytes;
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    return true;
  }
  const first = bytes[0] ?? 0;
  if (bytes.every((x, i) => (i === 15 ? x <= 1 : x === 0))) return false; // :: and ::1
  if (first === 0xff) return false; // multicast
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return false; // link-local
  if ((first & 0xfe) === 0xfc) return false; // unique local
  return true;
}
