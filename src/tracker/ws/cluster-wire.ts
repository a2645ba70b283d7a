/**
 * Offers and answers on their way between two processes (cluster-relay.ts), as bytes — pure.
 *
 * One message carries every signal one process has for another in one event-loop turn:
 *
 *   u8 version (1) · u32 sending process (its node id)
 *   per signal: u8 kind (0 offer, 1 answer) · swarm key, to peer id, from peer id (20 bytes each,
 *   the binary strings' bytes) · u8 length + offer id · u8 length + SDP type ·
 *   u32 length + SDP, the last three as the JSON the sender's client sent (relay-json.ts copies
 *   them into the receiver's frame without decoding them).
 *
 * A message from Redis is checked as a client's frame is (anyone with access to Redis, or a
 * process of another version, may publish): ids of 20 bytes, the offer id a 20-character JSON
 * literal, the SDP a valid JSON string literal within the SDP limit, the type a short string.
 * Anything else drops the whole message.
 */
import { isUtf8 } from 'node:buffer';
import { isJsonStringLiteral } from './json-scan.ts';
import { isBinary20Literal, sdpWithinLimit, type SdpPayload } from './parse-message.ts';

const VERSION = 1;
const HEAD = 5;
const KIND_OFFER = 0;
const KIND_ANSWER = 1;
/** Longest SDP type accepted (parse-message.ts accepts 16 characters; UTF-8 takes up to 4 bytes each). */
const MAX_TYPE_BYTES = 64;

export type SignalKind = 'offer' | 'answer';

export interface RemoteSignal {
  kind: SignalKind;
  /** The swarm's canonical key (the torrent's first hash), 20 binary characters. */
  key: string;
  /** Peer id of the receiver. */
  to: string;
  /** Peer id of the sender. */
  from: string;
  offerIdJson: Buffer;
  payload: SdpPayload;
}

export interface SignalBatchLimits {
  maxSdpLength: number;
  /** Signals in one message beyond which it is dropped whole. */
  maxSignals: number;
}

/** The signals for one process, appended as they come (`add`) and sent as one message (`bytes`). */
export class SignalBatch {
  private buf: Buffer;
  private len = HEAD;
  count = 0;

  constructor(sender: number) {
    this.buf = Buffer.allocUnsafe(4096);
    this.buf[0] = VERSION;
    this.buf.writeUInt32BE(sender >>> 0, 1);
  }

  get size(): number {
    return this.len;
  }

  add(kind: SignalKind, key: string, to: string, from: string, payload: SdpPayload, offerIdJson: Buffer): void {
    const typeBytes = Buffer.byteLength(payload.type);
    const n = 1 + 60 + 1 + offerIdJson.length + 1 + typeBytes + 4 + payload.sdpJson.length;
    if (this.len + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.len + n, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    const b = this.buf;
    let p = this.len;
    b[p++] = kind === 'offer' ? KIND_OFFER : KIND_ANSWER;
    p += b.write(key, p, 20, 'latin1');
    p += b.write(to, p, 20, 'latin1');
    p += b.write(from, p, 20, 'latin1');
    b[p++] = offerIdJson.length;
    p += offerIdJson.copy(b, p);
    b[p++] = typeBytes;
    p += b.write(payload.type, p, 'utf8');
    b.writeUInt32BE(payload.sdpJson.length, p);
    p += 4;
    p += payload.sdpJson.copy(b, p);
    this.len = p;
    this.count++;
  }

  /** The message (a view of this batch's buffer: send it before adding more). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** A literal's bytes at `p` after its u8 length, or null when they overrun the message. */
function slice(raw: Buffer, p: number, n: number): Buffer | null {
  return p + n <= raw.length ? raw.subarray(p, p + n) : null;
}

/**
 * The sender and the signals of a message, or null when anything in it is malformed or over a
 * limit. The signals' buffers are views of `raw`.
 */
export function readSignalBatch(raw: Buffer, limits: SignalBatchLimits): { sender: number; signals: RemoteSignal[] } | null {
  if (raw.length < HEAD || raw[0] !== VERSION) return null;
  const sender = raw.readUInt32BE(1);
  const signals: RemoteSignal[] = [];
  let p = HEAD;
  while (p < raw.length) {
    if (signals.length >= limits.maxSignals || p + 62 > raw.length) return null;
    const k = raw[p++];
    if (k !== KIND_OFFER && k !== KIND_ANSWER) return null;
    const key = raw.toString('latin1', p, p + 20);
    const to = raw.toString('latin1', p + 20, p + 40);
    const from = raw.toString('latin1', p + 40, p + 60);
    p += 60;
    const offerIdJson = slice(raw, p + 1, raw[p] as number);
    if (offerIdJson === null || offerIdJson[0] !== 0x22 || !isUtf8(offerIdJson) || !isBinary20Literal(offerIdJson)) return null;
    p += 1 + offerIdJson.length;
    const typeBytes = p < raw.length ? (raw[p] as number) : MAX_TYPE_BYTES + 1;
    const typeRaw = typeBytes <= MAX_TYPE_BYTES ? slice(raw, p + 1, typeBytes) : null;
    if (typeRaw === null || !isUtf8(typeRaw)) return null;
    const type = typeRaw.toString('utf8');
    if (type.length > 16) return null;
    p += 1 + typeBytes;
    if (p + 4 > raw.length) return null;
    const sdpJson = slice(raw, p + 4, raw.readUInt32BE(p));
    if (sdpJson === null || !isUtf8(sdpJson) || !isJsonStringLiteral(sdpJson) || !sdpWithinLimit(sdpJson, limits.maxSdpLength)) return null;
    p += 4 + sdpJson.length;
    signals.push({ kind: k === KIND_OFFER ? 'offer' : 'answer', key, to, from, offerIdJson, payload: { type, sdpJson } });
  }
  return { sender, signals };
}
