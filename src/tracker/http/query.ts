/**
 * Byte-exact query-string decoding for tracker requests. `info_hash` and `peer_id` are raw
 * bytes percent-encoded one by one (BEP 3), so they are decoded to "binary" strings (one
 * char per byte) rather than UTF-8 text; `+` is a space as in form encoding.
 */
import { TrackerFailure } from '../errors.ts';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const scratch = Buffer.allocUnsafe(1024);

/** Decodes `s[start, end)` to a binary string; throws a TrackerFailure naming `name` on bad escapes. */
export function decodeBinary(s: string, start: number, end: number, name: string): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43 || c > 127) {
      plain = false;
      break;
    }
  }
  if (plain) return s.slice(start, end);
  // Decoded bytes go to a scratch buffer and become one flat string at the end: no cons
  // strings, so the Map lookups that follow hash it once. Long values fall back to a Buffer.
  const out = end - start <= scratch.length ? scratch : Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const hi = i + 2 < end ? hexValue(s.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < end ? hexValue(s.charCodeAt(i + 2)) : -1;
      if (hi < 0 || lo < 0) throw new TrackerFailure(`invalid parameter ${name}: bad percent-encoding`);
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c === 43) out[n++] = 32;
    else if (c > 127) throw new TrackerFailure(`invalid parameter ${name}: raw non-ASCII byte (must be percent-encoded)`);
    else out[n++] = c;
  }
  return out.toString('latin1', 0, n);
}

/** Calls `visit(key, valueStart, valueEnd)` for each `key=value` pair of `url` after `from`. */
export function forEachParam(url: string, from: number, visit: (key: string, start: number, end: number) => void): void {
  let i = from;
  const n = url.length;
  while (i < n) {
    let amp = url.indexOf('&', i);
    if (amp < 0) amp = n;
    if (amp > i) {
      const eq = url.indexOf('=', i);
      if (eq < 0 || eq > amp) visit(url.slice(i, amp), amp, amp);
      else visit(url.slice(i, eq), eq + 1, amp);
    }
    i = amp + 1;
  }
}

/** A non-negative decimal integer no larger than 2^53 - 1. */
export function parseCounter(url: string, start: number, end: number, name: string): number {
  if (end === start) throw new TrackerFailure(`invalid parameter ${name}: empty (expected a non-negative integer)`);
  if (end - start > 16) throw new TrackerFailure(`invalid parameter ${name}: too large`);
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = url.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new TrackerFailure(`invalid parameter ${name}: expected a non-negative integer`);
    v = v * 10 + d;
  }
  if (v > Number.MAX_SAFE_INTEGER) throw new TrackerFailure(`invalid parameter ${name}: too large`);
  return v;
}

/** 32-bit FNV-1a of a binary string; 0 is reserved for "no key". */
export function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}
