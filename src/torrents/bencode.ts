/**
 * A strict bencode decoder and canonical encoder for uploaded .torrent files.
 *
 * Strict means the decoder accepts exactly the canonical encoding and nothing else: dictionary
 * keys in raw-byte order without duplicates, integers without leading zeros or `-0`, string
 * lengths within the input, no bytes after the value. For every accepted input
 * `encode(decode(x))` is byte-identical to `x`, so a hash of re-encoded bytes equals the hash
 * of the bytes the uploader sent (property-tested in test/torrents).
 *
 * Before decoding, `prescan` walks the bytes once without recursion and enforces a nesting
 * depth and an element-count limit, so bencode bombs (deep nesting, millions of tiny items,
 * huge length prefixes) are refused in linear time and constant stack. The recursive decoder
 * then never goes deeper than the scanned depth.
 *
 * The lenient `bencode` package is used for tracker responses only; never for uploads (it
 * accepts non-canonical input and corrupts the binary keys of BEP 52 `piece layers`).
 */

export type BValue = bigint | Buffer | BValue[] | BDict;

/** A bencoded dictionary: keys are the raw key bytes as latin1 strings, in canonical order. */
export class BDict {
  readonly map = new Map<string, BValue>();
  /** [start, end) byte offsets of each value in the decoded input (empty for built dicts). */
  readonly spans = new Map<string, [number, number]>();

  get(key: string): BValue | undefined {
    return this.map.get(key);
  }

  set(key: string, value: BValue): this {
    this.map.set(key, value);
    return this;
  }

  delete(key: string): void {
    this.map.delete(key);
    this.spans.delete(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }
}

/** Bytes that are already bencoded, spliced verbatim by `encode`. */
export class RawBencode {
  constructor(readonly bytes: Buffer) {}
}

export class BencodeError extends Error {
  override name = 'BencodeError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

export interface ScanLimits {
  maxDepth: number;
  maxElements: number;
}

export const DEFAULT_LIMITS: ScanLimits = { maxDepth: 32, maxElements: 500_000 };

const I = 0x69; // i
const L = 0x6c; // l
const D = 0x64; // d
const E = 0x65; // e
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** Longest accepted integer literal (digits): larger values are never meaningful in a torrent. */
const MAX_INT_DIGITS = 20;
/** Longest accepted string-length prefix (digits). */
const MAX_LEN_DIGITS = 10;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= ZERO && b <= NINE;
}

/** Validates an integer literal at `pos` (pointing at `i`); returns the offset after `e`. */
function scanInt(buf: Buffer, pos: number): number {
  let p = pos + 1;
  const start = p;
  if (buf[p] === MINUS) p += 1;
  const digitsStart = p;
  while (isDigit(buf[p])) p += 1;
  const digits = p - digitsStart;
  if (buf[p] !== E) throw new BencodeError(p >= buf.length ? 'integer not terminated' : 'invalid character in integer', p);
  if (digits === 0) throw new BencodeError('empty integer', pos);
  if (digits > MAX_INT_DIGITS) throw new BencodeError('integer too long', pos);
  if (buf[digitsStart] === ZERO && digits > 1) throw new BencodeError('integer with a leading zero', pos);
  if (buf[digitsStart] === ZERO && digitsStart !== start) throw new BencodeError('negative zero', pos);
  return p + 1;
}

/** Validates a string at `pos` (pointing at its first length digit); returns [dataStart, end]. */
function scanString(buf: Buffer, pos: number): [number, number] {
  let p = pos;
  let len = 0;
  while (isDigit(buf[p])) {
    len = len * 10 + ((buf[p] as number) - ZERO);
    p += 1;
    if (p - pos > MAX_LEN_DIGITS) throw new BencodeError('string length prefix too long', pos);
  }
  if (buf[p] !== COLON) throw new BencodeError(p >= buf.length ? 'string length not terminated' : 'invalid character in string length', p);
  if (buf[pos] === ZERO && p - pos > 1) throw new BencodeError('string length with a leading zero', pos);
  const dataStart = p + 1;
  const end = dataStart + len;
  if (end > buf.length) throw new BencodeError(`string length ${len} runs past the end of the input`, pos);
  return [dataStart, end];
}

/**
 * One linear, non-recursive pass over the structure: nesting depth, element count, integer
 * and length syntax, and no trailing bytes. Dictionary key order is checked by `decode`.
 */
export function prescan(buf: Buffer, limits: ScanLimits = DEFAULT_LIMITS): { depth: number; elements: number } {
  if (buf.length === 0) throw new BencodeError('empty input', 0);
  let pos = 0;
  let depth = 0;
  let maxSeen = 0;
  let elements = 0;
  do {
    const b = buf[pos];
    if (b === E) {
      if (depth === 0) throw new BencodeError('unexpected end marker', pos);
      depth -= 1;
      pos += 1;
      continue;
    }
    elements += 1;
    if (elements > limits.maxElements) throw new BencodeError(`more than ${limits.maxElements} elements`, pos);
    if (b === L || b === D) {
      depth += 1;
      if (depth > limits.maxDepth) throw new BencodeError(`nested deeper than ${limits.maxDepth} levels`, pos);
      if (depth > maxSeen) maxSeen = depth;
      pos += 1;
    } else if (b === I) {
      pos = scanInt(buf, pos);
    } else if (isDigit(b)) {
      pos = scanString(buf, pos)[1];
    } else if (b === undefined) {
      throw new BencodeError('unexpected end of input', pos);
    } else {
      throw new BencodeError(`unexpected byte 0x${b.toString(16).padStart(2, '0')}`, pos);
    }
  } while (depth > 0);
  if (pos !== buf.length) throw new BencodeError(`${buf.length - pos} bytes after the end of the data`, pos);
  return { depth: maxSeen, elements };
}

/**
 * Decodes canonical bencode. Call `prescan` first (decode trusts its depth bound); `decode`
 * itself re-checks everything else, including key order. `unsortedKeys` accepts dictionaries
 * whose keys are out of order (files other trackers wrote, read by src/import/; the spans still
 * locate each value's original bytes), never duplicate keys.
 */
export function decode(buf: Buffer, opts: { unsortedKeys?: boolean } = {}): BValue {
  const [value, end] = decodeAt(buf, 0, opts.unsortedKeys === true);
  if (end !== buf.length) throw new BencodeError(`${buf.length - end} bytes after the end of the data`, end);
  return value;
}

function decodeAt(buf: Buffer, pos: number, unsorted: boolean): [BValue, number] {
  const b = buf[pos];
  if (b === I) {
    const end = scanInt(buf, pos);
    return [BigInt(buf.toString('latin1', pos + 1, end - 1)), end];
  }
  if (isDigit(b)) {
    const [start, end] = scanString(buf, pos);
    return [buf.subarray(start, end), end];
  }
  if (b === L) {
    const list: BValue[] = [];
    let p = pos + 1;
    while (buf[p] !== E) {
      if (p >= buf.length) throw new BencodeError('list not terminated', p);
      const [v, next] = decodeAt(buf, p, unsorted);
      list.push(v);
      p = next;
    }
    return [list, p + 1];
  }
  if (b === D) {
    const dict = new BDict();
    let p = pos + 1;
    let prev: Buffer | null = null;
    while (buf[p] !== E) {
      if (p >= buf.length) throw new BencodeError('dictionary not terminated', p);
      if (!isDigit(buf[p])) throw new BencodeError('dictionary key is not a string', p);
      const [ks, ke] = scanString(buf, p);
      const key = buf.subarray(ks, ke);
      const k = key.toString('latin1');
      if (unsorted) {
        if (dict.map.has(k)) throw new BencodeError(`duplicate dictionary key "${printable(key)}"`, p);
      } else if (prev !== null) {
        const c = Buffer.compare(prev, key);
        if (c === 0) throw new BencodeError(`duplicate dictionary key "${printable(key)}"`, p);
        if (c > 0) throw new BencodeError(`dictionary keys out of order at "${printable(key)}"`, p);
      }
      prev = key;
      if (ke >= buf.length) throw new BencodeError(`dictionary key "${printable(key)}" has no value`, ke);
      const [v, next] = decodeAt(buf, ke, unsorted);
      dict.map.set(k, v);
      dict.spans.set(k, [ke, next]);
      p = next;
    }
    return [dict, p + 1];
  }
  if (b === undefined) throw new BencodeError('unexpected end of input', pos);
  throw new BencodeError(`unexpected byte 0x${b.toString(16).padStart(2, '0')}`, pos);
}

function printable(key: Buffer): string {
  const s = key.toString('latin1');
  return /^[\x20-\x7e]{0,64}$/.test(s) ? s : `0x${key.subarray(0, 32).toString('hex')}`;
}

export type Encodable = BValue | RawBencode | string | number;

/** Canonical encoding: dictionary keys sorted by raw bytes. Strings are UTF-8. */
export function encode(value: Encodable): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts);
  return Buffer.concat(parts);
}

function encodeInto(value: Encodable, out: Buffer[]): void {
  if (value instanceof RawBencode) {
    out.push(value.bytes);
  } else if (typeof value === 'bigint') {
    out.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`cannot bencode ${value}`);
    out.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    out.push(Buffer.from(`${b.length}:`, 'latin1'), b);
  } else if (Buffer.isBuffer(value)) {
    out.push(Buffer.from(`${value.length}:`, 'latin1'), value);
  } else if (Array.isArray(value)) {
    out.push(Buffer.from('l', 'latin1'));
    for (const v of value) encodeInto(v, out);
    out.push(Buffer.from('e', 'latin1'));
  } else {
    out.push(Buffer.from('d', 'latin1'));
    const keys = [...value.map.keys()].map((k) => Buffer.from(k, 'latin1')).sort((a, b) => Buffer.compare(a, b));
    for (const key of keys) {
      out.push(Buffer.from(`${key.length}:`, 'latin1'), key);
      encodeInto(value.map.get(key.toString('latin1')) as BValue, out);
    }
    out.push(Buffer.from('e', 'latin1'));
  }
}

/** A dictionary from plain entries (string keys are UTF-8; values may be raw bencode). */
export function encodeDict(entries: Record<string, Encodable | undefined | null>): Buffer {
  const keys = Object.keys(entries)
    .filter((k) => entries[k] !== undefined && entries[k] !== null)
    .map((k) => [Buffer.from(k, 'utf8'), entries[k] as Encodable] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [Buffer.from('d', 'latin1')];
  for (const [key, v] of keys) {
    parts.push(Buffer.from(`${key.length}:`, 'latin1'), key);
    encodeInto(v, parts);
  }
  parts.push(Buffer.from('e', 'latin1'));
  return Buffer.concat(parts);
}
