/**
 * Announce and scrape request parsing (BEP 3, 7, 23, 48), pure: a URL in, a validated request
 * or a TrackerFailure naming the bad parameter out. Unknown parameters are ignored (clients
 * send extras such as libtorrent's `redundant`); a known one given twice is refused.
 */
import { TrackerFailure } from '../errors.ts';
import { AnnounceEvent, type AnnounceRequest, type ScrapeRequest } from '../protocol/types.ts';
import { ipToBytes, isPublicAddress } from '../protocol/ip.ts';
import { decodeBinary, forEachParam, hashKey, parseCounter } from './query.ts';

export interface ParseOptions {
  numwantDefault: number;
  numwantMax: number;
  allowIpParam: boolean;
  scrapeMaxHashes: number;
  /**
   * The passkey of the user a NexusPHP `authkey` names (`<torrent id>|<user id>|<token>`, API.md
   * §1), from memory; undefined when it names nobody. Without it, authkeys are not accepted.
   */
  authkey?: (authkey: string) => string | undefined;
}

const P_INFO_HASH = 1;
const P_PEER_ID = 2;
const P_PORT = 3;
const P_UPLOADED = 4;
const P_DOWNLOADED = 5;
const P_LEFT = 6;
const P_EVENT = 7;
const P_COMPACT = 8;
const P_NUMWANT = 9;
const P_NO_PEER_ID = 10;
const P_KEY = 11;
const P_PASSKEY = 12;
const P_IP = 13;
const P_AUTHKEY = 14;

/** The announce parameter named by `url[start, end)`, or 0 for one this tracker ignores; no string is made. */
function announceParam(url: string, start: number, end: number): number {
  // The first letter and the length pick at most a few candidates; one comparison settles it.
  const len = end - start;
  switch (url.charCodeAt(start)) {
    case 97: // a
      return len === 7 && url.startsWith('authkey', start) ? P_AUTHKEY : 0;
    case 105: // i
      if (len === 9) return url.startsWith('info_hash', start) ? P_INFO_HASH : 0;
      if (len === 2) return url.charCodeAt(start + 1) === 112 ? P_IP : 0;
      if (len === 4) return url.startsWith('ipv4', start) || url.startsWith('ipv6', start) ? P_IP : 0;
      return 0;
    case 112: // p
      if (len === 7) return url.startsWith('peer_id', start) ? P_PEER_ID : url.startsWith('passkey', start) ? P_PASSKEY : 0;
      return len === 4 && url.startsWith('port', start) ? P_PORT : 0;
    case 117: // u
      return len === 8 && url.startsWith('uploaded', start) ? P_UPLOADED : 0;
    case 100: // d
      return len === 10 && url.startsWith('downloaded', start) ? P_DOWNLOADED : 0;
    case 108: // l
      return len === 4 && url.startsWith('left', start) ? P_LEFT : 0;
    case 101: // e
      return len === 5 && url.startsWith('event', start) ? P_EVENT : 0;
    case 99: // c
      return len === 7 && url.startsWith('compact', start) ? P_COMPACT : 0;
    case 110: // n
      if (len === 7) return url.startsWith('numwant', start) ? P_NUMWANT : 0;
      return len === 10 && url.startsWith('no_peer_id', start) ? P_NO_PEER_ID : 0;
    case 107: // k
      return len === 3 && url.startsWith('key', start) ? P_KEY : 0;
    default:
      return 0;
  }
}

function repeated(name: string): never {
  throw new TrackerFailure(`invalid parameter ${name}: given more than once`);
}

/** 32 hex characters, returned lower-case; one pass, and no new string when already lower-case. */
export function checkPasskey(passkey: string | undefined): string {
  if (passkey === undefined || passkey === '') throw new TrackerFailure('missing passkey: download the .torrent file again from the site');
  let upper = false;
  for (let i = 0; i < passkey.length; i++) {
    const c = passkey.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) continue;
    if (c >= 65 && c <= 70) upper = true;
    else throw new TrackerFailure('invalid passkey: download the .torrent file again from the site');
  }
  if (passkey.length !== 32) throw new TrackerFailure('invalid passkey: download the .torrent file again from the site');
  return upper ? passkey.toLowerCase() : passkey;
}

function twentyBytes(url: string, start: number, end: number, name: string): string {
  const v = decodeBinary(url, start, end, name);
  if (v.length !== 20) throw new TrackerFailure(`invalid parameter ${name}: must be exactly 20 bytes, got ${v.length}`);
  return v;
}

/** A NexusPHP authkey (its `|` may come percent-encoded) as the passkey of its user. */
function authkeyPasskey(value: string, opts: ParseOptions): string {
  const passkey = opts.authkey?.(value.replace(/%7c/gi, '|'));
  if (passkey === undefined) throw new TrackerFailure('invalid authkey: download the .torrent file again from the site', undefined, true);
  return passkey;
}

/** `query` is the index of the first char after `?` (or url.length). `pathPasskey` from `/announce/{passkey}`. */
export function parseAnnounce(url: string, query: number, pathPasskey: string | undefined, opts: ParseOptions): AnnounceRequest {
  let passkey = pathPasskey;
  let authkey: string | undefined;
  let infoHash: string | undefined;
  let peerId: string | undefined;
  let port = -1;
  let uploaded = -1;
  let downloaded = -1;
  let left = -1;
  let event = AnnounceEvent.None;
  let compact = true;
  let numwant = opts.numwantDefault;
  let noPeerId = false;
  let keyHash = 0;
  let ipParam: Buffer | null = null;
  let seen = 0;
  // One pass over the query without a callback or a key string per parameter (the hot path).
  const n = url.length;
  for (let i = query; i < n; ) {
    let amp = url.indexOf('&', i);
    if (amp < 0) amp = n;
    let eq = url.indexOf('=', i);
    if (eq < 0 || eq > amp) eq = amp;
    const s = eq < amp ? eq + 1 : amp;
    const e = amp;
    switch (amp > i ? announceParam(url, i, eq) : -1) {
      case P_INFO_HASH:
        if (seen & 1) repeated('info_hash');
        seen |= 1;
        infoHash = twentyBytes(url, s, e, 'info_hash');
        break;
      case P_PEER_ID:
        if (seen & 2) repeated('peer_id');
        seen |= 2;
        peerId = twentyBytes(url, s, e, 'peer_id');
        break;
      case P_PORT: {
        if (seen & 4) repeated('port');
        seen |= 4;
        const p = parseCounter(url, s, e, 'port');
        if (p < 1 || p > 65535) throw new TrackerFailure('invalid parameter port: must be between 1 and 65535');
        port = p;
        break;
      }
      case P_UPLOADED:
        if (seen & 8) repeated('uploaded');
        seen |= 8;
        uploaded = parseCounter(url, s, e, 'uploaded');
        break;
      case P_DOWNLOADED:
        if (seen & 16) repeated('downloaded');
        seen |= 16;
        downloaded = parseCounter(url, s, e, 'downloaded');
        break;
      case P_LEFT:
        if (seen & 32) repeated('left');
        seen |= 32;
        left = parseCounter(url, s, e, 'left');
        break;
      case P_EVENT: {
        if (seen & 64) repeated('event');
        seen |= 64;
        const v = url.slice(s, e);
        if (v === '' || v === 'empty' || v === 'paused') event = AnnounceEvent.None;
        else if (v === 'started') event = AnnounceEvent.Started;
        else if (v === 'completed') event = AnnounceEvent.Completed;
        else if (v === 'stopped') event = AnnounceEvent.Stopped;
        else throw new TrackerFailure('invalid parameter event: must be started, completed, stopped or empty');
        break;
      }
      case P_COMPACT:
        compact = !(e === s + 1 && url.charCodeAt(s) === 48);
        break;
      case P_NUMWANT: {
        const w = parseCounter(url, s, e, 'numwant');
        numwant = w > opts.numwantMax ? opts.numwantMax : w;
        break;
      }
      case P_NO_PEER_ID:
        noPeerId = !(e === s + 1 && url.charCodeAt(s) === 48);
        break;
      case P_KEY:
        keyHash = e > s ? hashKey(decodeBinary(url, s, e, 'key')) : 0;
        break;
      case P_PASSKEY:
        if (pathPasskey === undefined) passkey = url.slice(s, e);
        break;
      case P_AUTHKEY:
        authkey = url.slice(s, e);
        break;
      case P_IP:
        if (opts.allowIpParam) {
          const bytes = ipToBytes(decodeURIComponent(url.slice(s, e)));
          if (bytes && isPublicAddress(bytes)) ipParam = bytes;
        }
        break;
      default:
        break;
    }
    i = amp + 1;
  }
  const pk = checkPasskey(passkey === undefined && authkey !== undefined ? authkeyPasskey(authkey, opts) : passkey);
  if (infoHash === undefined) throw new TrackerFailure('missing parameter info_hash');
  if (peerId === undefined) throw new TrackerFailure('missing parameter peer_id');
  if (port < 0) throw new TrackerFailure('missing parameter port');
  if (uploaded < 0) throw new TrackerFailure('missing parameter uploaded');
  if (downloaded < 0) throw new TrackerFailure('missing parameter downloaded');
  if (left < 0) throw new TrackerFailure('missing parameter left');
  return { passkey: pk, infoHash, peerId, port, uploaded, downloaded, left, event, compact, numwant, noPeerId, keyHash, ipParam };
}

export function parseScrape(url: string, query: number, pathPasskey: string | undefined, opts: ParseOptions): ScrapeRequest {
  let passkey = pathPasskey;
  let authkey: string | undefined;
  const infoHashes: string[] = [];
  forEachParam(url, query, (key, s, e) => {
    if (key === 'info_hash') {
      if (infoHashes.length >= opts.scrapeMaxHashes) throw new TrackerFailure(`too many info_hash values: at most ${opts.scrapeMaxHashes} per scrape`);
      infoHashes.push(twentyBytes(url, s, e, key));
    } else if (key === 'passkey' && pathPasskey === undefined) passkey = url.slice(s, e);
    else if (key === 'authkey') authkey = url.slice(s, e);
  });
  const pk = checkPasskey(passkey === undefined && authkey !== undefined ? authkeyPasskey(authkey, opts) : passkey);
  if (infoHashes.length === 0) throw new TrackerFailure('full scrape is disabled on this private tracker: name the torrents with info_hash');
  return { passkey: pk, infoHashes };
}
