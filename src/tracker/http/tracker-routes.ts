/**
 * HTTP announce and scrape: parse (pure), run the tracker logic, answer bencoded. Failures a
 * client can act on are `failure reason` with HTTP 200 (what clients display); the rate limit
 * is HTTP 429 with BEP 31 `retry in`; anything unexpected is logged and answered generically.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LatencyTimer } from '../../metrics/fast-metrics.ts';
import type { Metrics } from '../../metrics/registry.ts';
import type { ClientIpResolver, ClientRequest } from '../../server/client-ip.ts';
import type { Logger } from '../../shared/logger.ts';
import { redactPath } from '../../shared/logger.ts';
import { runAnnounce, scrape, type AnnounceOutcome, type TrackerDeps } from '../announce.ts';
import { TrackerFailure } from '../errors.ts';
import { encodeAnnounce, encodeFailure, encodePeerList, encodeScrape, type DictPeer } from '../protocol/bencode-response.ts';
import { bytesToIp } from '../protocol/ip.ts';
import { AnnounceEvent, type AnnounceRequest } from '../protocol/types.ts';
import { parseAnnounce, parseScrape, type ParseOptions } from './parse-announce.ts';

export interface TrackerHttpOptions extends ParseOptions {
  interval: number;
  minInterval: number;
}

/** A tracker request as both transports give it (server/tracker-connections.ts, or node:http). */
export interface TrackerRequest extends ClientRequest {
  url: string;
}

/** Sends the one response of a tracker request: bencoded, `text/plain`, never cached. */
export interface TrackerReply {
  /** 200, or 429 with `Retry-After` seconds. */
  send(status: 200 | 429, body: Buffer, retryAfterSeconds?: number): void;
}

function send(reply: TrackerReply, status: 200 | 429, body: Buffer, timer: LatencyTimer, started: number, retryAfterSeconds?: number): void {
  reply.send(status, body, retryAfterSeconds);
  timer.observe((performance.now() - started) / 1000);
}

function announceBody(req: AnnounceRequest, { torrent, result }: AnnounceOutcome, opts: TrackerHttpOptions): Buffer {
  let peers = result.peers4;
  let peers6 = result.peers6;
  let encoded = false;
  if (!req.compact) {
    peers = encodePeerList([...dictPeers(result.peers4, result.ids4, 6, req.noPeerId), ...dictPeers(result.peers6, result.ids6, 18, req.noPeerId)]);
    peers6 = Buffer.alloc(0);
    encoded = true;
  }
  return encodeAnnounce({
    complete: result.seeders,
    downloaded: torrent.completed,
    incomplete: result.leechers,
    interval: opts.interval,
    minInterval: opts.minInterval,
    peers,
    peers6,
    peersEncoded: encoded,
  });
}

function dictPeers(compact: Buffer, ids: Buffer | null, width: number, noPeerId: boolean): DictPeer[] {
  const out: DictPeer[] = [];
  for (let o = 0, n = 0; o < compact.length; o += width, n++) {
    const addr = compact.subarray(o, o + width - 2);
    out.push({ ip: bytesToIp(addr), port: compact.readUInt16BE(o + width - 2), peerId: noPeerId || !ids ? null : ids.subarray(n * 20, n * 20 + 20).toString('latin1') });
  }
  return out;
}

export interface TrackerHttp {
  /** `query`: index of the query string in req.url; `started`: performance.now() when the request arrived (latency histogram). */
  announce(req: TrackerRequest, reply: TrackerReply, query: number, pathPasskey: string | undefined, started: number): void;
  scrape(req: TrackerRequest, reply: TrackerReply, query: number, pathPasskey: string | undefined, started: number): void;
}

/** Unknown passkeys allowed per address and minute before the address is refused outright. */
const FAILED_LOOKUPS_PER_MINUTE = 30;

export function createTrackerHttp(deps: TrackerDeps, opts: TrackerHttpOptions, ip: ClientIpResolver, metrics: Metrics, logger: Logger): TrackerHttp {
  // Guessing passkeys costs the guesser: after too many unknown ones, the address is refused
  // before any lookup for the rest of the minute. Checked with one Map read on the hot path.
  const failedLookups = new RateLimiterMemory({ points: FAILED_LOOKUPS_PER_MINUTE, duration: 60 });
  const blockedUntil = new Map<string, number>();
  const refusedAddress = (req: TrackerRequest): boolean => {
    if (blockedUntil.size === 0) return false;
    const until = blockedUntil.get(ip.text(req));
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    blockedUntil.delete(ip.text(req));
    return false;
  };
  const fail = (reply: TrackerReply, err: unknown, url: string, counters: { failure: { inc(): void } }, timer: LatencyTimer, started: number, req?: TrackerRequest) => {
    if (err instanceof TrackerFailure && err.suspicious && req) {
      const addr = ip.text(req);
      failedLookups.consume(addr).catch((r: unknown) => {
        if (r instanceof RateLimiterRes) blockedUntil.set(addr, Date.now() + r.msBeforeNext);
      });
    }
    if (err instanceof TrackerFailure) {
      if (err.retryInMinutes !== undefined) {
        metrics.announces.rateLimited.inc();
        send(reply, 429, encodeFailure(err.message, err.retryInMinutes), timer, started, err.retryInMinutes * 60);
      } else {
        counters.failure.inc();
        send(reply, 200, encodeFailure(err.message), timer, started);
      }
      return;
    }
    metrics.announces.error.inc();
    logger.error({ err, url: redactPath(url) }, 'tracker request failed');
    send(reply, 200, encodeFailure('internal server error, please retry later'), timer, started);
  };

  return {
    announce(req, reply, query, pathPasskey, started) {
      const timer = metrics.routeTimers.announce;
      const url = req.url;
      if (refusedAddress(req)) {
        fail(reply, new TrackerFailure('too many unknown passkeys from your address: wait a minute, then use the passkey from a fresh .torrent download'), url, metrics.announces, timer, started);
        return;
      }
      let parsed;
      try {
        parsed = parseAnnounce(url, query, pathPasskey, opts);
      } catch (err) {
        fail(reply, err, url, metrics.announces, timer, started, req);
        return;
      }
      const input = {
        passkey: parsed.passkey,
        infoHash: parsed.infoHash,
        peerId: parsed.peerId,
        keyHash: parsed.keyHash,
        ip: parsed.ipParam ?? ip.bytes(req),
        port: parsed.port,
        uploaded: parsed.uploaded,
        downloaded: parsed.downloaded,
        left: parsed.left,
        event: parsed.event,
        numwant: parsed.event === AnnounceEvent.Stopped ? 0 : parsed.numwant,
        peerIds: !parsed.compact,
      };
      let outcome;
      try {
        outcome = runAnnounce(deps, input);
      } catch (err) {
        fail(reply, err, url, metrics.announces, timer, started, req);
        return;
      }
      if (outcome instanceof Promise) {
        const request = parsed;
        outcome.then(
          (o) => {
            metrics.announces.ok.inc();
            send(reply, 200, announceBody(request, o, opts), timer, started);
          },
          (err: unknown) => fail(reply, err, url, metrics.announces, timer, started, req),
        );
        return;
      }
      metrics.announces.ok.inc();
      send(reply, 200, announceBody(parsed, outcome, opts), timer, started);
    },

    scrape(req, reply, query, pathPasskey, started) {
      const timer = metrics.routeTimers.scrape;
      const url = req.url;
      if (refusedAddress(req)) {
        fail(reply, new TrackerFailure('too many unknown passkeys from your address: wait a minute, then use the passkey from a fresh .torrent download'), url, metrics.scrapes, timer, started);
        return;
      }
      let parsed;
      try {
        parsed = parseScrape(url, query, pathPasskey, opts);
      } catch (err) {
        fail(reply, err, url, metrics.scrapes, timer, started, req);
        return;
      }
      scrape(deps, parsed.passkey, parsed.infoHashes).then(
        (rows) => {
          metrics.scrapes.ok.inc();
          send(reply, 200, encodeScrape(rows.map((r) => ({ infoHash: r.infoHash, complete: r.seeders, incomplete: r.leechers, downloaded: r.completed }))), timer, started);
        },
        (err: unknown) => {
          fail(reply, err, url, metrics.scrapes, timer, started, req);
        },
      );
    },
  };
}
