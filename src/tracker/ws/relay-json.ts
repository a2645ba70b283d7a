/**
 * Outgoing WebSocket frames of the WebTorrent tracker, built from bytes — pure.
 *
 * A relayed offer or answer is assembled from JSON literals that already exist as bytes: the
 * SDP and the offer id as the sender's frame carried them (validated, parse-message.ts), the
 * sender's peer id and the receiver's info hash as encoded once per swarm membership
 * (`jsonLiteral`). Nothing is decoded, stringified or UTF-8 encoded per message. Frames are
 * written into a caller's buffer (`writeRelayFrame`, ws-tracker appends every frame of one turn
 * for one socket to one buffer) or returned as one (`relayFrame`, `textFrame`): the WebSocket
 * header and the JSON, ready for the TCP socket.
 */
import type { SdpPayload } from './parse-message.ts';

/** The JSON text of a string, as bytes (for ids encoded once and copied into many frames). */
export function jsonLiteral(s: string): Buffer {
  return Buffer.from(JSON.stringify(s), 'utf8');
}

const bytes = (s: string) => Buffer.from(s, 'utf8');
const OFFER_OPEN = bytes('{"action":"announce","offer":{"type":');
const ANSWER_OPEN = bytes('{"action":"announce","answer":{"type":');
const SDP_KEY = bytes(',"sdp":');
/** The usual heads, type included: `{"action":"announce","offer":{"type":"offer","sdp":`. */
const OFFER_HEAD = Buffer.concat([OFFER_OPEN, bytes('"offer"'), SDP_KEY]);
const ANSWER_HEAD = Buffer.concat([ANSWER_OPEN, bytes('"answer"'), SDP_KEY]);
const OFFER_ID_KEY = bytes('},"offer_id":');
const PEER_ID_KEY = bytes(',"peer_id":');
const INFO_HASH_KEY = bytes(',"info_hash":');
const FIXED = OFFER_ID_KEY.length + PEER_ID_KEY.length + INFO_HASH_KEY.length + 1; // + the closing brace

/** Header bytes of a server-to-client (unmasked) frame carrying `n` payload bytes. */
export function headerLength(n: number): number {
  return n < 126 ? 2 : n < 0x10000 ? 4 : 10;
}

/** Writes the header of a final, unmasked text frame (RFC 6455 §5.2) of `n` payload bytes at `at`; returns where the payload starts. */
export function writeHeader(out: Buffer, at: number, n: number): number {
  out[at] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) {
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at + 1] = 126;
    out[at + 2] = n >>> 8;
    out[at + 3] = n & 0xff;
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeUInt32BE(Math.floor(n / 0x100000000), at + 2);
  out.writeUInt32BE(n >>> 0, at + 6);
  return at + 10;
}

/** A text frame carrying `json` (any string; sent as UTF-8). */
export function textFrame(json: string): Buffer {
  const n = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(headerLength(n) + n);
  out.write(json, writeHeader(out, 0, n));
  return out;
}

/** `{"action":"announce","offer"|"answer":{"type":…,"sdp":` for this kind and type. */
function headOf(kind: 'offer' | 'answer', type: string): Buffer {
  if (kind === 'offer') return type === 'offer' ? OFFER_HEAD : Buffer.concat([OFFER_OPEN, jsonLiteral(type), SDP_KEY]);
  return type === 'answer' ? ANSWER_HEAD : Buffer.concat([ANSWER_OPEN, jsonLiteral(type), SDP_KEY]);
}

function put(out: Buffer, at: number, src: Buffer): number {
  const n = src.length;
  if (n <= 32) for (let k = 0; k < n; k++) out[at + k] = src[k] as number;
  else out.set(src, at);
  return at + n;
}

/**
 * A relayed offer or answer: `{"action":"announce", offer|answer: {type, sdp}, offer_id, peer_id,
 * info_hash}` with every value given as its JSON literal. Its size (header included) is
 * `relayFrameSize`; it is written at `at` in `out`, which must have the room. Returns the end.
 */
export function writeRelayFrame(out: Buffer, at: number, kind: 'offer' | 'answer', payload: SdpPayload, offerIdJson: Buffer, peerIdJson: Buffer, infoHashJson: Buffer): number {
  const head = headOf(kind, payload.type);
  const n = relayPayloadSize(head, payload, offerIdJson, peerIdJson, infoHashJson);
  let p = writeHeader(out, at, n);
  p = put(out, p, head);
  p = put(out, p, payload.sdpJson);
  p = put(out, p, OFFER_ID_KEY);
  p = put(out, p, offerIdJson);
  p = put(out, p, PEER_ID_KEY);
  p = put(out, p, peerIdJson);
  p = put(out, p, INFO_HASH_KEY);
  p = put(out, p, infoHashJson);
  out[p] = 0x7d; // }
  return p + 1;
}

/** The JSON bytes of a relayed frame whose head is `head` (WebSocket header not included). */
function relayPayloadSize(head: Buffer, payload: SdpPayload, offerIdJson: Buffer, peerIdJson: Buffer, infoHashJson: Buffer): number {
  return head.length + payload.sdpJson.length + offerIdJson.length + peerIdJson.length + infoHashJson.length + FIXED;
}

/** Bytes `writeRelayFrame` writes for these values, WebSocket header included. */
export function relayFrameSize(kind: 'offer' | 'answer', payload: SdpPayload, offerIdJson: Buffer, peerIdJson: Buffer, infoHashJson: Buffer): number {
  const n = relayPayloadSize(headOf(kind, payload.type), payload, offerIdJson, peerIdJson, infoHashJson);
  return headerLength(n) + n;
}

/** `writeRelayFrame` into a buffer of its own. */
export function relayFrame(kind: 'offer' | 'answer', payload: SdpPayload, offerIdJson: Buffer, peerIdJson: Buffer, infoHashJson: Buffer): Buffer {
  const out = Buffer.allocUnsafe(relayFrameSize(kind, payload, offerIdJson, peerIdJson, infoHashJson));
  writeRelayFrame(out, 0, kind, payload, offerIdJson, peerIdJson, infoHashJson);
  return out;
}

const ANNOUNCE_REPLY_OPEN = bytes('{"action":"announce","interval":');
const COMPLETE_KEY = bytes(',"complete":');
const INCOMPLETE_KEY = bytes(',"incomplete":');

/** Decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function putInt(out: Buffer, at: number, n: number, d: number): number {
  for (let k = at + d - 1; k >= at; k--) {
    out[k] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + d;
}

/** The JSON bytes of an announce reply with numbers of these digit counts (WebSocket header not included). */
function announceReplyPayloadSize(intervalDigits: number, infoHashJson: Buffer, completeDigits: number, incompleteDigits: number): number {
  return ANNOUNCE_REPLY_OPEN.length + intervalDigits + INFO_HASH_KEY.length + infoHashJson.length + COMPLETE_KEY.length + completeDigits + INCOMPLETE_KEY.length + incompleteDigits + 1;
}

/** Bytes of `writeAnnounceReply` for these values, header included. */
export function announceReplySize(interval: number, infoHashJson: Buffer, complete: number, incomplete: number): number {
  const n = announceReplyPayloadSize(digits(interval), infoHashJson, digits(complete), digits(incomplete));
  return headerLength(n) + n;
}

/**
 * `{"action":"announce","interval":…,"info_hash":…,"complete":…,"incomplete":…}` (what
 * JSON.stringify gives for that object; the numbers are non-negative integers) at `at`.
 */
export function writeAnnounceReply(out: Buffer, at: number, interval: number, infoHashJson: Buffer, complete: number, incomplete: number): number {
  const di = digits(interval);
  const dc = digits(complete);
  const dn = digits(incomplete);
  const n = announceReplyPayloadSize(di, infoHashJson, dc, dn);
  let p = writeHeader(out, at, n);
  p = put(out, p, ANNOUNCE_REPLY_OPEN);
  p = putInt(out, p, interval, di);
  p = put(out, p, INFO_HASH_KEY);
  p = put(out, p, infoHashJson);
  p = put(out, p, COMPLETE_KEY);
  p = putInt(out, p, complete, dc);
  p = put(out, p, INCOMPLETE_KEY);
  p = putInt(out, p, incomplete, dn);
  out[p] = 0x7d;
  return p + 1;
}
