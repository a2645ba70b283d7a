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

/** `query` is the index of the first char after `?` (or url.length). `pathPasskey` from `/announce/{passkey}`. */
export function parseAnnounce(url: string, query: number, pathPasskey: string | undefined, opts: ParseOptions): AnnounceRequest {
  let passkey = pathPasskey;
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
  forEachParam(url, query, (key, s, e) => {
    switch (key) {
      case 'info_hash':
        if (seen & 1) repeated(key);
        seen |= 1;
        infoHash = twentyBytes(url, s, e, key);
        break;
      case 'peer_id':
        if (seen & 2) repeated(key);
        seen |= 2;
        peerId = twentyBytes(url, s, e, key);
        break;
      case 'port': {
        if (seen & 4) repeated(key);
        seen |= 4;
        const p = parseCounter(url, s, e, key);
        if (p < 1 || p > 65535) throw new TrackerFailure('invalid parameter port: must be between 1 and 65535');
        port = p;
        break;
      }
      case 'uploaded':
        if (seen & 8) repeated(key);
        seen |= 8;
        uploaded = parseCounter(url, s, e, key);
        break;
      case 'downloaded':
        if (seen & 16) repeated(key);
        seen |= 16;
        downloaded = parseCounter(url, s, e, key);
        break;
      case 'left':
        if (seen & 32) repeated(key);
        seen |= 32;
        left = parseCounter(url, s, e, key);
        break;
      case 'event': {
        if (seen & 64) repeated(key);
        seen |= 64;
        const v = url.slice(s, e);
        if (v === '' || v === 'empty' || v === 'paused') event = AnnounceEvent.None;
        else if (v === 'started') event = AnnounceEvent.Started;
        else if (v === 'completed') event = AnnounceEvent.Completed;
        else if (v === 'stopped') event = AnnounceEvent.Stopped;
        else throw new TrackerFailure('invalid parameter event: must be started, completed, stopped or empty');
        break;
      }
      case 'compact':
        compact = url.slice(s, e) !== '0';
        break;
      case 'numwant': {
        const n = parseCounter(url, s, e, key);
        numwant = n > opts.numwantMax ? opts.numwantMax : n;
        break;
      }
      case 'no_peer_id':
        noPeerId = url.slice(s, e) !== '0';
        break;
      case 'key':
        keyHash = e > s ? hashKey(decodeBinary(url, s, e, key)) : 0;
        break;
      case 'passkey':
        if (pathPasskey === undefined) passkey = url.slice(s, e);
        break;
      case 'ip':
      case 'ipv4':
      case 'ipv6':
        if (opts.allowIpParam) {
          const bytes = ipToBytes(decodeURIComponent(url.slice(s, e)));
          if (bytes && isPublicAddress(bytes)) ipParam = bytes;
        }
        break;
      default:
        break;
    }
  });
  const pk = checkPasskey(passkey);
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
  const infoHashes: string[] = [];
  forEachParam(url, query, (key, s, e) => {
    if (key === 'info_hash') {
      if (infoHashes.length >= opts.scrapeMaxHashes) throw new TrackerFailure(`too many info_hash values: at most ${opts.scrapeMaxHashes} per scrape`);
      infoHashes.push(twentyBytes(url, s, e, key));
    } else if (key === 'passkey' && pathPasskey === undefined) passkey = url.slice(s, e);
  });
  const pk = checkPasskey(passkey);
  if (infoHashes.length === 0) throw new TrackerFailure('full scrape is disabled on this private tracker: name the torrents with info_hash');
  return { passkey: pk, infoHashes };
}
