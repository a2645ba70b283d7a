/**
 * A JSON reader over the bytes of a WebSocket text frame, for the relay's hot path — pure.
 *
 * It returns what `JSON.parse(frame.toString('utf8'))` would, with one difference: the value of
 * every `"sdp"` and `"offer_id"` member that is a string is left as a `JsonStringToken`, the
 * validated JSON text of the string (quotes included), so the relay can forward an offer or
 * answer by copying bytes instead of decoding and re-encoding a kilobyte of SDP per message.
 *
 * It is deliberately a subset: anything it is not certain about (a `__proto__` key, nesting
 * deeper than MAX_DEPTH, and every kind of invalid JSON) returns SCAN_FAILED, and the caller
 * falls back to `JSON.parse`, which then accepts or rejects the frame exactly as before. Whatever
 * it accepts is valid JSON with the same value (test/tracker/ws/json-scan.test.ts checks this
 * against JSON.parse on valid, mutated and random input).
 *
 * The input must be valid UTF-8 (ws validates text frames; parseFrame checks binary ones):
 * string bytes of 0x80 and above are passed through or decoded as UTF-8, not validated here.
 */

/** A JSON string literal exactly as it appeared in the input (a view of the input's bytes). */
export class JsonStringToken {
  constructor(
    /** The literal, quotes included: valid JSON, valid UTF-8 when the input was. */
    readonly json: Buffer,
  ) {}
}

export const SCAN_FAILED: unique symbol = Symbol('SCAN_FAILED');

/** Objects and arrays nested deeper than this are left to JSON.parse. */
const MAX_DEPTH = 16;

// Bytes inside a string literal: 0 plain ASCII, 1 needs a look (quote, backslash, control
// character: raw control characters are invalid JSON), 2 part of a multi-byte UTF-8 character.
const STRING_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_CLASS[c] = 1;
STRING_CLASS[0x22] = 1;
STRING_CLASS[0x5c] = 1;
for (let c = 0x80; c < 0x100; c++) STRING_CLASS[c] = 2;

// Characters allowed after a backslash, besides `u`.
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const ch of '"\\/bfnrt') SIMPLE_ESCAPE[ch.charCodeAt(0)] = 1;

const isHex = (c: number | undefined): boolean => c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

type Value = unknown;

/** Strings of at most this many bytes (ids, keys) are decoded here rather than by Buffer#toString. */
const SHORT = 64;
const units = new Uint16Array(SHORT);
const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/**
 * Decodes the body of a short, already validated string literal (valid UTF-8, valid escapes)
 * into UTF-16 code units, as JSON.parse would.
 */
function decodeShort(b: Buffer, from: number, to: number): string {
  let n = 0;
  let i = from;
  while (i < to) {
    const c = b[i] as number;
    if (c === 0x5c) {
      const e = b[i + 1] as number;
      if (e === 0x75) {
        units[n++] = (hexValue(b[i + 2] as number) << 12) | (hexValue(b[i + 3] as number) << 8) | (hexValue(b[i + 4] as number) << 4) | hexValue(b[i + 5] as number);
        i += 6;
        continue;
      }
      units[n++] = e === 0x62 ? 8 : e === 0x66 ? 12 : e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e; // \" \\ \/ stand for themselves
      i += 2;
    } else if (c < 0x80) {
      units[n++] = c;
      i++;
    } else if (c < 0xe0) {
      units[n++] = ((c & 0x1f) << 6) | ((b[i + 1] as number) & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      units[n++] = ((c & 0x0f) << 12) | (((b[i + 1] as number) & 0x3f) << 6) | ((b[i + 2] as number) & 0x3f);
      i += 3;
    } else {
      const cp = ((c & 0x07) << 18) | (((b[i + 1] as number) & 0x3f) << 12) | (((b[i + 2] as number) & 0x3f) << 6) | ((b[i + 3] as number) & 0x3f);
      units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      i += 4;
    }
  }
  return fromUnits(n);
}

/** The string of the first 20 code units of `u` (an id) without an array: several times faster than apply. */
export function string20(u: Uint16Array): string {
  return String.fromCharCode(u[0] as number, u[1] as number, u[2] as number, u[3] as number, u[4] as number, u[5] as number, u[6] as number, u[7] as number, u[8] as number, u[9] as number, u[10] as number, u[11] as number, u[12] as number, u[13] as number, u[14] as number, u[15] as number, u[16] as number, u[17] as number, u[18] as number, u[19] as number);
}

/** The string of `units[0..n)`. */
function fromUnits(n: number): string {
  if (n === 20) return string20(units);
  return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
}

// The keys and usual string values of WebTorrent messages, matched on their bytes so that no
// string is made for them.
const KEYS_BY_LENGTH: Array<Array<{ key: string; bytes: Buffer }>> = [];
for (const key of ['action', 'info_hash', 'peer_id', 'numwant', 'uploaded', 'downloaded', 'left', 'event', 'offers', 'offer', 'offer_id', 'type', 'sdp', 'answer', 'to_peer_id', 'trackerid', 'announce', 'scrape', 'started', 'stopped', 'completed', 'update']) {
  (KEYS_BY_LENGTH[key.length] ??= []).push({ key, bytes: Buffer.from(key, 'latin1') });
}

function knownKey(b: Buffer, from: number, to: number): string | undefined {
  const list = KEYS_BY_LENGTH[to - from];
  if (list === undefined) return undefined;
  next: for (const k of list) {
    for (let j = 0; j < k.bytes.length; j++) if (b[from + j] !== k.bytes[j]) continue next;
    return k.key;
  }
  return undefined;
}

// A DataView of the last ArrayBuffer scanned: frames of one socket read share one (and making
// a DataView costs more than scanning a short frame).
let viewBuffer: ArrayBufferLike | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(b: Buffer): DataView {
  if (b.buffer !== viewBuffer) {
    viewBuffer = b.buffer;
    view = new DataView(b.buffer);
  }
  return view;
}

class Scanner {
  pos = 0;
  constructor(readonly b: Buffer) {}

  skipSpace(): void {
    const b = this.b;
    let i = this.pos;
    for (;;) {
      const c = b[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  value(depth: number, keep: boolean): unknown {
    this.skipSpace();
    const c = this.b[this.pos];
    if (c === 0x22) return this.string(keep);
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x2d || isDigit(c)) return this.number();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    return SCAN_FAILED;
  }

  /** At an opening quote: the string's value, or its token when `keep`. */
  string(keep: boolean): string | JsonStringToken | typeof SCAN_FAILED {
    const b = this.b;
    const start = this.pos;
    let i = start + 1;
    let kind = 0; // bit 0: escapes seen, bit 1: non-ASCII bytes seen
    const words = viewOf(b);
    const base = b.byteOffset;
    const last = b.length - 8;
    for (;;) {
      // Eight bytes at a time while none of them is a quote, a backslash, a control character
      // or non-ASCII (SWAR: a byte's high bit is set in t when it is any of those).
      while (i <= last) {
        const w = words.getUint32(base + i, true);
        const v = words.getUint32(base + i + 4, true);
        const wq = w ^ 0x22222222;
        const ws = w ^ 0x5c5c5c5c;
        const vq = v ^ 0x22222222;
        const vs = v ^ 0x5c5c5c5c;
        const t = ((wq - 0x01010101) & ~wq) | ((ws - 0x01010101) & ~ws) | ((w - 0x20202020) & ~w) | w | ((vq - 0x01010101) & ~vq) | ((vs - 0x01010101) & ~vs) | ((v - 0x20202020) & ~v) | v;
        if ((t & 0x80808080) !== 0) break;
        i += 8;
      }
      let c = b[i] as number;
      // Plain printable ASCII other than the quote and the backslash: the bulk of an SDP.
      while (c > 0x5c ? c < 0x80 : c >= 0x20 && c !== 0x22 && c !== 0x5c) c = b[++i] as number;
      if (c === 0x22) break;
      if (c >= 0x80) {
        kind |= 2;
        i++;
        continue;
      }
      if (c !== 0x5c) return SCAN_FAILED; // a raw control character, or the end of the input
      kind |= 1;
      const e = b[i + 1];
      if (e === 0x75) {
        if (!isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return SCAN_FAILED;
        i += 6;
      } else if (e !== undefined && SIMPLE_ESCAPE[e] === 1) i += 2;
      else return SCAN_FAILED;
    }
    const end = i; // the closing quote
    this.pos = end + 1;
    if (keep) return new JsonStringToken(b.subarray(start, end + 1));
    if (end - start <= SHORT) return kind === 0 ? knownKey(b, start + 1, end) ?? decodeShort(b, start + 1, end) : decodeShort(b, start + 1, end);
    if (kind === 0) return b.toString('latin1', start + 1, end);
    if (kind === 2) return b.toString('utf8', start + 1, end);
    return JSON.parse(b.toString('utf8', start, end + 1)) as string;
  }

  object(depth: number): Record<string, Value> | typeof SCAN_FAILED {
    if (depth > MAX_DEPTH) return SCAN_FAILED;
    const b = this.b;
    this.pos++;
    const obj: Record<string, Value> = {};
    this.skipSpace();
    if (b[this.pos] === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipSpace();
      if (b[this.pos] !== 0x22) return SCAN_FAILED;
      const key = this.string(false) as string | typeof SCAN_FAILED;
      // `obj[key] = ` would set the prototype where JSON.parse defines a property.
      if (key === SCAN_FAILED || key === '__proto__') return SCAN_FAILED;
      this.skipSpace();
      if (b[this.pos] !== 0x3a) return SCAN_FAILED;
      this.pos++;
      const v = this.value(depth, key === 'sdp' || key === 'offer_id');
      if (v === SCAN_FAILED) return SCAN_FAILED;
      obj[key] = v; // a repeated key: the last one wins, as in JSON.parse
      this.skipSpace();
      const c = b[this.pos];
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x7d) return obj;
      return SCAN_FAILED;
    }
  }

  array(depth: number): Value[] | typeof SCAN_FAILED {
    if (depth > MAX_DEPTH) return SCAN_FAILED;
    const b = this.b;
    this.pos++;
    const list: Value[] = [];
    this.skipSpace();
    if (b[this.pos] === 0x5d) {
      this.pos++;
      return list;
    }
    for (;;) {
      const v = this.value(depth, false);
      if (v === SCAN_FAILED) return SCAN_FAILED;
      list.push(v);
      this.skipSpace();
      const c = b[this.pos];
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return list;
      return SCAN_FAILED;
    }
  }

  /** JSON's number grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  number(): number | typeof SCAN_FAILED {
    const b = this.b;
    const start = this.pos;
    let i = start;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else return SCAN_FAILED;
    let plain = b[start] !== 0x2d && i - start <= 15;
    if (b[i] === 0x2e) {
      plain = false;
      i++;
      if (!isDigit(b[i])) return SCAN_FAILED;
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      plain = false;
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) return SCAN_FAILED;
      while (isDigit(b[i])) i++;
    }
    this.pos = i;
    if (!plain) return Number(b.toString('latin1', start, i));
    let v = 0;
    for (let k = start; k < i; k++) v = v * 10 + ((b[k] as number) - 0x30);
    return v;
  }

  literal<T>(word: string, v: T): T | typeof SCAN_FAILED {
    const b = this.b;
    for (let k = 0; k < word.length; k++) if (b[this.pos + k] !== word.charCodeAt(k)) return SCAN_FAILED;
    this.pos += word.length;
    return v;
  }
}

/**
 * The JSON value of `frame` (valid UTF-8), with `"sdp"` and `"offer_id"` string members as JsonStringToken; or
 * SCAN_FAILED when the frame is not JSON or uses something this reader leaves to JSON.parse.
 */
export function scanJson(frame: Buffer): unknown {
  const s = new Scanner(frame);
  const v = s.value(0, false);
  if (v === SCAN_FAILED) return SCAN_FAILED;
  s.skipSpace();
  return s.pos === frame.length ? v : SCAN_FAILED;
}

/** Whether `b` (valid UTF-8) is exactly one JSON string literal, quotes included, as `scanJson` accepts one. */
export function isJsonStringLiteral(b: Buffer): boolean {
  if (b[0] !== 0x22) return false;
  const s = new Scanner(b);
  return s.string(true) !== SCAN_FAILED && s.pos === b.length;
}
