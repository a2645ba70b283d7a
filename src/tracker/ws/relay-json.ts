/**
 * Outgoing WebSocket frames of the WebTorrent tracker, built as one buffer each — pure.
 *
 * A relayed offer or answer copies the SDP as the sender's frame carried it (a validated JSON
 * string literal, parse-message.ts) and encodes only the small fields, so no string of the
 * whole message is made. Each frame is complete (header and payload in one buffer): ws-tracker
 * writes it straight to the corked TCP socket, one writev entry per frame.
 */
import type { SdpPayload } from './parse-message.ts';

const OFFER_HEAD = '{"action":"announce","offer":{"type":';
const ANSWER_HEAD = '{"action":"announce","answer":{"type":';

/** Header bytes of a server-to-client (unmasked) frame carrying `n` payload bytes. */
function headerLength(n: number): number {
  return n < 126 ? 2 : n < 0x10000 ? 4 : 10;
}

/** Writes the header of a final, unmasked text frame (RFC 6455 §5.2) of `n` payload bytes. */
function writeHeader(out: Buffer, n: number): void {
  out[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) out[1] = n;
  else if (n < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x100000000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
}

/** A text frame carrying `json` (any string; sent as UTF-8). */
export function textFrame(json: string): Buffer {
  const n = Buffer.byteLength(json);
  const h = headerLength(n);
  const out = Buffer.allocUnsafe(h + n);
  writeHeader(out, n);
  out.write(json, h);
  return out;
}

/** A text frame of `{action:"announce", offer|answer: {type, sdp}, offer_id, peer_id, info_hash}`. */
export function relayFrame(kind: 'offer' | 'answer', payload: SdpPayload, offerId: string, peerId: string, infoHash: string): Buffer {
  const head = `${kind === 'offer' ? OFFER_HEAD : ANSWER_HEAD}${JSON.stringify(payload.type)},"sdp":`;
  const tail = `},"offer_id":${JSON.stringify(offerId)},"peer_id":${JSON.stringify(peerId)},"info_hash":${JSON.stringify(infoHash)}}`;
  const headLen = Buffer.byteLength(head);
  const sdpLen = payload.sdpJson.length;
  const n = headLen + sdpLen + Buffer.byteLength(tail);
  const h = headerLength(n);
  const out = Buffer.allocUnsafe(h + n);
  writeHeader(out, n);
  out.write(head, h);
  payload.sdpJson.copy(out, h + headLen);
  out.write(tail, h + headLen + sdpLen);
  return out;
}
