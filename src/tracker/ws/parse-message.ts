/**
 * WebTorrent tracker messages (JSON text frames), parsed and validated — pure, no I/O.
 *
 * The wire format is the one the `bittorrent-tracker` client sends (and webtorrent uses):
 * info hashes, peer ids and offer ids are 20-character "binary" strings (one char per byte),
 * SDP offers and answers are `{type, sdp}` objects relayed verbatim. Everything a client can
 * send is checked here so the relay never forwards an unbounded or malformed payload.
 *
 * `parseFrame` reads a frame's bytes without decoding them to a string first (json-scan.ts), so
 * the SDP of an offer or answer stays the validated JSON text it arrived as and the relay copies
 * those bytes instead of decoding and re-encoding them; frames the scanner leaves alone go
 * through `JSON.parse`. Both feed the same checks.
 */
import { isUtf8 } from 'node:buffer';
import { AnnounceEvent } from '../protocol/types.ts';
import { idEnd, readHotFrame, type IdCache } from './hot-frames.ts';
import { JsonStringToken, SCAN_FAILED, scanJson } from './json-scan.ts';
import { jsonLiteral } from './relay-json.ts';

export interface SdpPayload {
  type: string;
  /** The SDP as a JSON string literal (quotes included, valid UTF-8), relayed byte for byte. */
  sdpJson: Buffer;
}

export interface WsOffer {
  offer: SdpPayload;
  /** The offer id as a JSON string literal (20 binary characters), relayed byte for byte. */
  offerIdJson: Buffer;
}

export interface WsAnnounce {
  action: 'announce';
  infoHash: string;
  peerId: string;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  offers: WsOffer[];
}

export interface WsAnswer {
  action: 'answer';
  infoHash: string;
  peerId: string;
  toPeerId: string;
  /** As in WsOffer. */
  offerIdJson: Buffer;
  answer: SdpPayload;
}

export interface WsScrape {
  action: 'scrape';
  infoHashes: string[];
}

export type WsMessage = WsAnnounce | WsAnswer | WsScrape;

export interface ParseLimits {
  /** Most offers one announce may carry; more is a flood (the socket is closed). */
  maxOffers: number;
  /** Longest SDP string accepted in an offer or answer. */
  maxSdpLength: number;
  /** Most info hashes in one scrape. */
  maxScrapeHashes: number;
}

/** A message the client can be told about; `flood` means the socket should also be closed. */
export class WsProtocolError extends Error {
  override name = 'WsProtocolError';
  constructor(
    message: string,
    readonly flood = false,
    /** The info hash of the request, when it was readable (the client routes failures by it). */
    readonly infoHash?: string,
  ) {
    super(message);
  }
}

/** A 20-character string of code points 0..255 (what `bittorrent-tracker` sends). */
export function isBinary20(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * Whether a validated JSON string literal (quotes included, valid UTF-8 and escapes, as
 * json-scan.ts accepts them) means a string of 20 code points 0..255, as `isBinary20` of its value.
 */
export function isBinary20Literal(lit: Buffer): boolean {
  return idEnd(lit, 0) === lit.length;
}

function offerIdOf(value: unknown, infoHash: string): Buffer {
  if (value instanceof JsonStringToken) {
    if (!isBinary20Literal(value.json)) throw new WsProtocolError('invalid offer_id: must be 20 bytes', false, infoHash);
    return value.json;
  }
  if (!isBinary20(value)) throw new WsProtocolError('invalid offer_id: must be 20 bytes', false, infoHash);
  return jsonLiteral(value);
}

function counter(value: unknown, name: string, infoHash: string): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'string' && value !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new WsProtocolError(`invalid ${name}: must be a non-negative number`, false, infoHash);
  return Math.floor(Math.min(n, Number.MAX_SAFE_INTEGER));
}

function parseEvent(value: unknown, infoHash: string): AnnounceEvent {
  switch (value) {
    case undefined:
    case null:
    case '':
    case 'update':
    case 'empty':
      return AnnounceEvent.None;
    case 'started':
      return AnnounceEvent.Started;
    case 'completed':
      return AnnounceEvent.Completed;
    case 'stopped':
      return AnnounceEvent.Stopped;
    default:
      throw new WsProtocolError('invalid event: expected started, completed, stopped or none', false, infoHash);
  }
}

function sdp(value: unknown, what: string, limits: ParseLimits, infoHash: string): SdpPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WsProtocolError(`invalid ${what}: expected {type, sdp}`, false, infoHash);
  const { type, sdp: text } = value as Record<string, unknown>;
  if (typeof type !== 'string' || type.length > 16) throw new WsProtocolError(`invalid ${what}: expected {type, sdp}`, false, infoHash);
  // Relay a fresh object: nothing else the client put in it travels on.
  if (text instanceof JsonStringToken) {
    if (!sdpWithinLimit(text.json, limits.maxSdpLength)) throw tooLarge(what, limits, infoHash);
    return { type, sdpJson: text.json };
  }
  if (typeof text !== 'string') throw new WsProtocolError(`invalid ${what}: expected {type, sdp}`, false, infoHash);
  if (text.length > limits.maxSdpLength) throw tooLarge(what, limits, infoHash);
  return { type, sdpJson: Buffer.from(JSON.stringify(text)) };
}

/** Whether the string a valid JSON string literal stands for has at most `max` characters. */
export function sdpWithinLimit(json: Buffer, max: number): boolean {
  // Every UTF-16 code unit of the string takes at least one byte of its JSON text: a literal
  // within the limit in bytes is within it in characters; only a longer one is decoded.
  return json.length - 2 <= max || (JSON.parse(json.toString('utf8')) as string).length <= max;
}

const tooLarge = (what: string, limits: ParseLimits, infoHash: string) => new WsProtocolError(`${what} too large: at most ${limits.maxSdpLength} characters of SDP`, true, infoHash);

/**
 * Parses one frame as received (text frames are valid UTF-8, ws checks them; `utf8Checked`
 * false makes this check it). Throws WsProtocolError as `parseMessage` does, for the same frames.
 * The usual announce and answer frames are read by hot-frames.ts (with the socket's `ids`
 * cache); everything else, and everything that reader leaves alone, by the general path below.
 */
export function parseFrame(frame: Buffer, limits: ParseLimits, utf8Checked: boolean, ids: IdCache | null = null): WsMessage {
  if (utf8Checked) {
    const hot = readHotFrame(frame, limits, ids);
    if (hot !== null) return hot;
  }
  if (utf8Checked || isUtf8(frame)) {
    const raw = scanJson(frame);
    if (raw !== SCAN_FAILED) return validate(raw, limits);
  }
  return parseMessage(frame.toString('utf8'), limits);
}

/** Parses one text frame. Throws WsProtocolError for anything the client should be told about. */
export function parseMessage(text: string, limits: ParseLimits): WsMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WsProtocolError('invalid message: expected a JSON object');
  }
  return validate(raw, limits);
}

function validate(raw: unknown, limits: ParseLimits): WsMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new WsProtocolError('invalid message: expected a JSON object');
  const msg = raw as Record<string, unknown>;

  if (msg.action === 'scrape') {
    const ih = msg.info_hash;
    const list = typeof ih === 'string' ? [ih] : Array.isArray(ih) ? (ih as unknown[]) : null;
    if (list === null || list.length === 0) throw new WsProtocolError('scrape needs info_hash: a full scrape is not allowed on a private tracker');
    if (list.length > limits.maxScrapeHashes) throw new WsProtocolError(`too many info_hash values in one scrape: at most ${limits.maxScrapeHashes}`);
    if (!list.every(isBinary20)) throw new WsProtocolError('invalid info_hash: must be 20 bytes');
    return { action: 'scrape', infoHashes: list };
  }
  if (msg.action !== 'announce') throw new WsProtocolError('invalid action: expected announce or scrape');

  if (!isBinary20(msg.info_hash)) throw new WsProtocolError('invalid info_hash: must be 20 bytes');
  const infoHash = msg.info_hash;
  if (!isBinary20(msg.peer_id)) throw new WsProtocolError('invalid peer_id: must be 20 bytes', false, infoHash);
  const peerId = msg.peer_id;

  if (msg.answer !== undefined) {
    if (!isBinary20(msg.to_peer_id)) throw new WsProtocolError('invalid to_peer_id (required with answer): must be 20 bytes', false, infoHash);
    const offerIdJson = offerIdOf(msg.offer_id, infoHash);
    return { action: 'answer', infoHash, peerId, toPeerId: msg.to_peer_id, offerIdJson, answer: sdp(msg.answer, 'answer', limits, infoHash) };
  }

  const event = parseEvent(msg.event, infoHash);
  const offers: WsOffer[] = [];
  if (msg.offers !== undefined && msg.offers !== null) {
    if (!Array.isArray(msg.offers)) throw new WsProtocolError('invalid offers: expected a list', false, infoHash);
    if (msg.offers.length > limits.maxOffers) throw new WsProtocolError(`too many offers: at most ${limits.maxOffers} per announce`, true, infoHash);
    for (const o of msg.offers as unknown[]) {
      if (typeof o !== 'object' || o === null) throw new WsProtocolError('invalid offer: expected {offer, offer_id}', false, infoHash);
      const { offer, offer_id: offerId } = o as Record<string, unknown>;
      const offerIdJson = offerIdOf(offerId, infoHash);
      offers.push({ offer: sdp(offer, 'offer', limits, infoHash), offerIdJson });
    }
  }
  // `left` is unknown (null, from Infinity) while a magnet link has no metadata: a leecher.
  const left = msg.left === null || msg.left === undefined ? Number.MAX_SAFE_INTEGER : counter(msg.left, 'left', infoHash);
  return {
    action: 'announce',
    infoHash,
    peerId,
    uploaded: counter(msg.uploaded, 'uploaded', infoHash),
    downloaded: counter(msg.downloaded, 'downloaded', infoHash),
    left,
    event,
    offers,
  };
}
