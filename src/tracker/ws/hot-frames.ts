/**
 * The two frames that make up nearly all WebTorrent tracker traffic, read straight from their
 * bytes — pure.
 *
 * An announce with offers (`{"action":"announce","info_hash":…,"peer_id":…,"numwant":…,
 * "uploaded":…,"downloaded":…,"left":…,"event":…,"offers":[{"offer":{"type":"offer","sdp":…},
 * "offer_id":…},…]}`) and an answer (`{"action":"announce","info_hash":…,"peer_id":…,
 * "to_peer_id":…,"offer_id":…,"answer":{"type":"answer","sdp":…}}`), keys in any order, as
 * compact JSON. `readHotFrame` dispatches on each key's bytes and fills the message directly
 * (no generic object, no second validation pass); the SDP and the offer id stay views of the
 * frame's bytes, as parse-message.ts keeps them.
 *
 * It is a strict subset of `parseFrame`: it returns null for anything else or anything unusual
 * (whitespace, an unknown or repeated key, a scrape, an escape or number form it does not
 * read, any value parseFrame would refuse), and the caller then parses the frame the general
 * way, which accepts or refuses it exactly as before. Whatever it returns equals what
 * parseFrame returns for the same bytes (test/tracker/ws/hot-frames.test.ts compares the two on
 * typical, mutated and hostile frames).
 *
 * The input must be valid UTF-8 (a text frame, which ws has checked).
 */
import { AnnounceEvent } from '../protocol/types.ts';
import { string20 } from './json-scan.ts';
import type { ParseLimits, WsAnnounce, WsAnswer, WsOffer } from './parse-message.ts';

/**
 * The last info hash and peer id a socket sent, as their JSON literals (copied, never a view of
 * a read buffer) and decoded: a socket repeats them in every frame, so they are compared
 * instead of decoded, and the same string (hash already computed) goes to every Map lookup.
 */
export interface IdCache {
  infoHash: CachedId;
  peerId: CachedId;
}

export interface CachedId {
  /** The JSON literal, quotes included; null until the first frame. */
  lit: Buffer | null;
  value: string;
}

export const newIdCache = (): IdCache => ({ infoHash: { lit: null, value: '' }, peerId: { lit: null, value: '' } });

const Q = 0x22; // "
const BS = 0x5c; // \

// Bytes that end the plain run of a string: control characters (invalid raw), quote, backslash.
const STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STOP[c] = 1;
STOP[Q] = 1;
STOP[BS] = 1;
// Escapes standing for one character (their value), besides \u.
const ESCAPED = new Int16Array(256).fill(-1);
for (const [ch, v] of [['"', 0x22], ['\\', 0x5c], ['/', 0x2f], ['b', 8], ['f', 12], ['n', 10], ['r', 13], ['t', 9]] as const) ESCAPED[ch.charCodeAt(0)] = v;
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

// An Int32Array over the last ArrayBuffer scanned (the frames of one socket read share one),
// for reading a string's bytes four at a time at aligned offsets.
let wordsOf: ArrayBufferLike | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * At an opening quote: the index of the closing quote of a valid JSON string, or -1. The plain
 * run between escapes (most of an SDP) is read a 32-bit word at a time while none of its four
 * bytes is a control character, a quote or a backslash (SWAR; bytes >= 0x80 pass, the frame is
 * valid UTF-8); the word that holds one is read byte by byte.
 */
function stringEnd(b: Buffer, at: number): number {
  const buffer = b.buffer;
  if (buffer !== wordsOf) {
    wordsOf = buffer;
    words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  const base = b.byteOffset;
  const lastWord = (base + b.length) >>> 2; // words below it lie wholly inside b
  let i = at + 1;
  for (;;) {
    let c = b[i] as number;
    while (STOP[c] === 0) {
      i++;
      if (((base + i) & 3) === 0) {
        let w = (base + i) >>> 2;
        for (; w < lastWord; w++) {
          const x = words[w] as number;
          const q = x ^ 0x22222222;
          const s = x ^ 0x5c5c5c5c;
          // High bit of a byte set where it is < 0x20, a quote or a backslash (exact for "any").
          if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
        }
        i = w * 4 - base;
      }
      c = b[i] as number; // past the end: undefined → STOP[NaN] is undefined, stops
    }
    if (c === Q) return i;
    if (c !== BS) return -1; // a raw control character, or the end of the frame
    const e = b[i + 1] as number;
    if (e === 0x75) {
      if ((HEX[b[i + 2] as number] as number) < 0 || (HEX[b[i + 3] as number] as number) < 0 || (HEX[b[i + 4] as number] as number) < 0 || (HEX[b[i + 5] as number] as number) < 0) return -1;
      i += 6;
    } else if ((ESCAPED[e] as number) >= 0) i += 2;
    else return -1;
  }
}

const units = new Uint16Array(20);

/**
 * At an opening quote: the end (index after the closing quote) of a string literal meaning 20
 * code points 0..255 (a binary id), decoded into `units`; or -1 (not such a literal, or not one
 * this reader decodes).
 */
export function idEnd(b: Buffer, at: number): number {
  let i = at + 1;
  let n = 0;
  for (;;) {
    const c = b[i] as number;
    let u: number;
    if (c === Q) break;
    if (c >= 0x20 && c < 0x80 && c !== BS) {
      u = c;
      i++;
    } else if (c === 0xc2 || c === 0xc3) {
      // U+0080..U+00FF (valid UTF-8: the continuation byte is there)
      u = ((c & 0x1f) << 6) | ((b[i + 1] as number) & 0x3f);
      i += 2;
    } else if (c === BS) {
      const e = b[i + 1] as number;
      if (e === 0x75) {
        // \u00XX only (anything above 0xff is not a binary id)
        if (b[i + 2] !== 0x30 || b[i + 3] !== 0x30) return -1;
        const h = HEX[b[i + 4] as number] as number;
        const l = HEX[b[i + 5] as number] as number;
        if (h < 0 || l < 0) return -1;
        u = (h << 4) | l;
        i += 6;
      } else {
        u = ESCAPED[e] as number;
        if (u < 0) return -1;
        i += 2;
      }
    } else return -1; // a control character, a code point above 0xff, the end of the frame
    if (n === 20) return -1;
    units[n++] = u;
  }
  return n === 20 ? i + 1 : -1;
}

/** The id read by the last `readId` that succeeded. */
let idValue = '';

/**
 * At an opening quote: the end of an id literal (see `idEnd`), its value left in `idValue`, or
 * -1. With a cache slot, bytes equal to the slot's literal take its value without decoding, and
 * a literal decoded afresh replaces the slot's (copied: `b` is a read buffer that is reused).
 */
function readId(b: Buffer, at: number, slot: CachedId | null): number {
  if (slot !== null && slot.lit !== null && startsWith(b, at, slot.lit)) {
    idValue = slot.value;
    return at + slot.lit.length;
  }
  const end = idEnd(b, at);
  if (end < 0) return -1;
  idValue = string20(units);
  if (slot !== null) {
    slot.lit = Buffer.from(b.subarray(at, end));
    slot.value = idValue;
  }
  return end;
}

/** Whether `lit` occurs in `b` at `at`. */
function startsWith(b: Buffer, at: number, lit: Buffer): boolean {
  const n = lit.length;
  if (at + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[at + k] !== lit[k]) return false;
  return true;
}

// Keys, by their bytes between the quotes.
const K_ACTION = 1;
const K_INFO_HASH = 2;
const K_PEER_ID = 3;
const K_NUMWANT = 4;
const K_UPLOADED = 5;
const K_DOWNLOADED = 6;
const K_LEFT = 7;
const K_EVENT = 8;
const K_OFFERS = 9;
const K_TO_PEER_ID = 10;
const K_OFFER_ID = 11;
const K_ANSWER = 12;
const K_OFFER = 13;
const K_TYPE = 14;
const K_SDP = 15;
const KEYS: Array<[string, number]> = [
  ['action', K_ACTION],
  ['info_hash', K_INFO_HASH],
  ['peer_id', K_PEER_ID],
  ['numwant', K_NUMWANT],
  ['uploaded', K_UPLOADED],
  ['downloaded', K_DOWNLOADED],
  ['left', K_LEFT],
  ['event', K_EVENT],
  ['offers', K_OFFERS],
  ['to_peer_id', K_TO_PEER_ID],
  ['offer_id', K_OFFER_ID],
  ['answer', K_ANSWER],
  ['offer', K_OFFER],
  ['type', K_TYPE],
  ['sdp', K_SDP],
];
const KEY_BYTES: Array<Array<[Buffer, number]>> = [];
for (const [k, id] of KEYS) (KEY_BYTES[k.length] ??= []).push([Buffer.from(`"${k}":`, 'latin1'), id]);

/** At an opening quote: the key there (with its colon), or 0; `keyEnd` is set past the colon. */
let keyEnd = 0;
function keyAt(b: Buffer, at: number): number {
  let i = at + 1;
  while (i - at <= 11 && b[i] !== Q) i++;
  const list = KEY_BYTES[i - at - 1];
  if (list === undefined) return 0;
  for (let k = 0; k < list.length; k++) {
    const [bytes, id] = list[k] as [Buffer, number];
    if (startsWith(b, at, bytes)) {
      keyEnd = at + bytes.length;
      return id;
    }
  }
  return 0;
}

const ANNOUNCE_LIT = Buffer.from('"announce"');
const OFFER_LIT = Buffer.from('"offer"');
const ANSWER_LIT = Buffer.from('"answer"');
const NULL_LIT = Buffer.from('null');
const EVENTS: Array<[Buffer, AnnounceEvent]> = [
  [Buffer.from('"started"'), AnnounceEvent.Started],
  [Buffer.from('"completed"'), AnnounceEvent.Completed],
  [Buffer.from('"stopped"'), AnnounceEvent.Stopped],
  [Buffer.from('"update"'), AnnounceEvent.None],
  [Buffer.from('"empty"'), AnnounceEvent.None],
  [Buffer.from('""'), AnnounceEvent.None],
  [NULL_LIT, AnnounceEvent.None],
];

/** Set by `intEnd`: the value of the integer read. */
let intValue = 0;
/** At a number: the end of a plain non-negative integer of at most 15 digits (no fraction, exponent or sign), or -1. */
function intEnd(b: Buffer, at: number): number {
  let i = at;
  let c = b[i] as number;
  if (c === 0x30) {
    intValue = 0;
    i++;
  } else if (c > 0x30 && c <= 0x39) {
    let v = 0;
    do {
      v = v * 10 + (c - 0x30);
      c = b[++i] as number;
    } while (c >= 0x30 && c <= 0x39 && i - at < 16);
    if (i - at > 15) return -1;
    intValue = v;
  } else return -1;
  c = b[i] as number;
  return c === 0x2c || c === 0x7d ? i : -1; // followed by , or }: no fraction or exponent
}

// Per message: the SDP of the `{type, sdp}` object last read.
let sdpType = '';
let sdpLit: Buffer | null = null;

/** At `{`: a `{"type":"offer"|"answer","sdp":"…"}` object (either order); its end, or -1. */
function sdpObjectEnd(b: Buffer, at: number, limits: ParseLimits): number {
  if (b[at] !== 0x7b) return -1;
  let i = at + 1;
  let type = '';
  let sdp: Buffer | null = null;
  for (;;) {
    if (b[i] !== Q) return -1;
    const key = keyAt(b, i);
    i = keyEnd;
    if (key === K_TYPE && type === '') {
      if (startsWith(b, i, OFFER_LIT)) {
        type = 'offer';
        i += OFFER_LIT.length;
      } else if (startsWith(b, i, ANSWER_LIT)) {
        type = 'answer';
        i += ANSWER_LIT.length;
      } else return -1;
    } else if (key === K_SDP && sdp === null) {
      if (b[i] !== Q) return -1;
      const end = stringEnd(b, i);
      // Over the limit in bytes may still be within it in characters: left to parseFrame.
      if (end < 0 || end - i - 1 > limits.maxSdpLength) return -1;
      sdp = b.subarray(i, end + 1);
      i = end + 1;
    } else return -1;
    const c = b[i];
    if (c === 0x2c) i++;
    else if (c === 0x7d) break;
    else return -1;
  }
  if (type === '' || sdp === null) return -1;
  sdpType = type;
  sdpLit = sdp;
  return i + 1;
}

/**
 * An announce with offers or an answer read from `b` (a text frame, valid UTF-8), equal to what
 * `parseFrame(b, limits, true)` returns; or null: parse it that way.
 */
export function readHotFrame(b: Buffer, limits: ParseLimits, cache: IdCache | null): WsAnnounce | WsAnswer | null {
  if (b[0] !== 0x7b) return null;
  let seen = 0;
  let infoHash = '';
  let peerId = '';
  let toPeerId = '';
  let offerIdJson: Buffer | null = null;
  let uploaded = 0;
  let downloaded = 0;
  let left = Number.MAX_SAFE_INTEGER;
  let event = AnnounceEvent.None;
  let offers: WsOffer[] | null = null;
  let answerType = '';
  let answerSdp: Buffer | null = null;
  let i = 1;
  for (;;) {
    if (b[i] !== Q) return null;
    const key = keyAt(b, i);
    if (key === 0 || (seen & (1 << key)) !== 0) return null; // unknown or repeated: parseFrame
    seen |= 1 << key;
    i = keyEnd;
    switch (key) {
      case K_ACTION:
        if (!startsWith(b, i, ANNOUNCE_LIT)) return null;
        i += ANNOUNCE_LIT.length;
        break;
      case K_INFO_HASH: {
        if (b[i] !== Q) return null;
        const end = readId(b, i, cache === null ? null : cache.infoHash);
        if (end < 0) return null;
        infoHash = idValue;
        i = end;
        break;
      }
      case K_PEER_ID: {
        if (b[i] !== Q) return null;
        const end = readId(b, i, cache === null ? null : cache.peerId);
        if (end < 0) return null;
        peerId = idValue;
        i = end;
        break;
      }
      case K_TO_PEER_ID: {
        if (b[i] !== Q) return null;
        const end = readId(b, i, null);
        if (end < 0) return null;
        toPeerId = idValue;
        i = end;
        break;
      }
      case K_OFFER_ID: {
        if (b[i] !== Q) return null;
        const end = idEnd(b, i);
        if (end < 0) return null;
        offerIdJson = b.subarray(i, end);
        i = end;
        break;
      }
      case K_NUMWANT:
        // Not used (offers go to as many peers as there are offers); any plain integer.
        i = intEnd(b, i);
        if (i < 0) return null;
        break;
      case K_UPLOADED:
        i = intEnd(b, i);
        if (i < 0) return null;
        uploaded = intValue;
        break;
      case K_DOWNLOADED:
        i = intEnd(b, i);
        if (i < 0) return null;
        downloaded = intValue;
        break;
      case K_LEFT:
        if (startsWith(b, i, NULL_LIT)) i += NULL_LIT.length; // unknown (a magnet link without metadata): a leecher
        else {
          i = intEnd(b, i);
          if (i < 0) return null;
          left = intValue;
        }
        break;
      case K_EVENT: {
        let k = 0;
        for (; k < EVENTS.length; k++) {
          const [lit, ev] = EVENTS[k] as [Buffer, AnnounceEvent];
          if (startsWith(b, i, lit)) {
            event = ev;
            i += lit.length;
            break;
          }
        }
        if (k === EVENTS.length) return null;
        break;
      }
      case K_ANSWER:
        i = sdpObjectEnd(b, i, limits);
        if (i < 0) return null;
        answerType = sdpType;
        answerSdp = sdpLit;
        break;
      case K_OFFERS: {
        if (b[i] !== 0x5b) return null;
        i++;
        offers = [];
        if (b[i] === 0x5d) {
          i++;
          break;
        }
        for (;;) {
          if (offers.length === limits.maxOffers) return null; // too many: parseFrame closes the socket
          // {"offer":{…},"offer_id":"…"}, either order
          if (b[i] !== 0x7b) return null;
          i++;
          let type = '';
          let sdp: Buffer | null = null;
          let id: Buffer | null = null;
          for (;;) {
            if (b[i] !== Q) return null;
            const k = keyAt(b, i);
            i = keyEnd;
            if (k === K_OFFER && sdp === null) {
              i = sdpObjectEnd(b, i, limits);
              if (i < 0) return null;
              type = sdpType;
              sdp = sdpLit;
            } else if (k === K_OFFER_ID && id === null) {
              if (b[i] !== Q) return null;
              const end = idEnd(b, i);
              if (end < 0) return null;
              id = b.subarray(i, end);
              i = end;
            } else return null;
            const c = b[i];
            i++;
            if (c === 0x7d) break;
            if (c !== 0x2c) return null;
          }
          if (sdp === null || id === null) return null;
          offers.push({ offer: { type, sdpJson: sdp }, offerIdJson: id });
          const c = b[i];
          i++;
          if (c === 0x5d) break;
          if (c !== 0x2c) return null;
        }
        break;
      }
      default:
        return null;
    }
    const c = b[i];
    i++;
    if (c === 0x7d) break;
    if (c !== 0x2c) return null;
  }
  if (i !== b.length || (seen & (1 << K_ACTION)) === 0 || infoHash === '' || peerId === '') return null;
  if (answerSdp !== null) {
    // An answer: nothing of an announce beside it (parseFrame would ignore it; left to parseFrame).
    if (toPeerId === '' || offerIdJson === null || (seen & ((1 << K_NUMWANT) | (1 << K_UPLOADED) | (1 << K_DOWNLOADED) | (1 << K_LEFT) | (1 << K_EVENT) | (1 << K_OFFERS))) !== 0) return null;
    return { action: 'answer', infoHash, peerId, toPeerId, offerIdJson, answer: { type: answerType, sdpJson: answerSdp } };
  }
  if ((seen & ((1 << K_TO_PEER_ID) | (1 << K_OFFER_ID))) !== 0) return null;
  return { action: 'announce', infoHash, peerId, uploaded, downloaded, left, event, offers: offers ?? [] };
}
