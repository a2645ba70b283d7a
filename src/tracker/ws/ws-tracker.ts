/**
 * The WebTorrent tracker: WebSocket upgrades on `/announce` speaking the JSON protocol of the
 * `bittorrent-tracker` client (API.md §2), on the same swarms, gates and accounting as HTTP
 * (through tracker/announce.ts, with `ip: null` so WebRTC and HTTP peers are never mixed).
 *
 * It owns the socket registry (which socket holds which peer of which swarm) and the signal
 * relay: an announce's offers go to distinct other WebRTC peers of the swarm, an answer goes
 * back only to a peer registered in the same swarm under `to_peer_id`.
 *
 * With REDIS_URL the swarm may span processes: offers are sent to peers the shared swarm store
 * picks, whichever process holds them, and signals for a peer on another process travel over
 * Redis (cluster-relay.ts). A WebRTC session's key in the store is this process's node id, so
 * a pick says where the peer is. An answer to a peer on another process goes back to the
 * process its offer came from.
 *
 * Nothing a client sends can take the server down or grow memory without bound: frames are
 * capped (`maxPayload`, close 1009), offers per announce, SDP size, swarms per socket,
 * messages and announces per socket per minute and sockets per address are bounded, a relay to
 * a socket that does not read is dropped (its send buffer is capped), and every socket's
 * entries are removed when it closes. The passkey is checked before the upgrade completes:
 * an unknown one is refused with HTTP 401 before the socket can join anything.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppContext } from '../../app-context.ts';
import type { ServerModule } from '../../server/module.ts';
import type { Logger } from '../../shared/logger.ts';
import { dropSession, runAnnounce, scrape, type AnnounceOutcome, type TrackerDeps } from '../announce.ts';
import { TrackerFailure } from '../errors.ts';
import { AnnounceEvent } from '../protocol/types.ts';
import { parseFrame, type ParseLimits, type SdpPayload, type WsProtocolError, type WsAnnounce, type WsAnswer, type WsMessage, type WsScrape } from './parse-message.ts';
import type { CachedTorrent } from '../../cache/torrent-registry.ts';
import { newIdCache, type IdCache } from './hot-frames.ts';
import { announceReplySize, jsonLiteral, relayFrameSize, textFrame, writeAnnounceReply, writeRelayFrame } from './relay-json.ts';
import { createClusterRelay, type ClusterRelayStats } from './cluster-relay.ts';
import type { RemoteSignal } from './cluster-wire.ts';

export interface WsTrackerOptions {
  /** Largest frame accepted; bigger closes the socket with 1009. */
  maxPayload: number;
  /** Offers per announce (the WebTorrent client sends at most 5); more closes the socket. */
  maxOffers: number;
  /** Longest SDP in an offer or answer. */
  maxSdpLength: number;
  /** Announces per socket per minute: over it → failure reason; over twice it → close. */
  announcesPerMinute: number;
  /** Any messages per socket per minute (answers included): over it → close. */
  messagesPerMinute: number;
  /** Swarms one socket may be in at once. */
  swarmsPerSocket: number;
  /** Open sockets per remote address. */
  socketsPerIp: number;
  /** Malformed messages tolerated per socket (each answered) before it is closed. */
  maxStrikes: number;
  /** A relay to a socket with more than this many bytes unsent is dropped. */
  maxBufferedBytes: number;
  /** Announce interval sent to WebTorrent clients, seconds (they re-announce for new offers). */
  interval: number;
  /** Sockets that have not sent a message for this long are closed, ms (0 = never). */
  idleTimeoutMs: number;
}

export const DEFAULT_WS_TRACKER_OPTIONS: WsTrackerOptions = {
  maxPayload: 64 * 1024,
  maxOffers: 10,
  maxSdpLength: 16 * 1024,
  announcesPerMinute: 120,
  messagesPerMinute: 1200,
  swarmsPerSocket: 100,
  socketsPerIp: 128,
  maxStrikes: 10,
  maxBufferedBytes: 1024 * 1024,
  interval: 120,
  idleTimeoutMs: 0,
};

/** Close codes: 1008 policy violation (floods, abuse), 1009 too big (ws itself), 1001 going away. */
const CLOSE_POLICY = 1008;

interface Membership {
  /** The info hash as this socket announced it (v1, or a hybrid's truncated v2): relays use it. */
  infoHash: string;
  peerId: string;
  /** Both as JSON string literals, encoded once and copied into every frame that names them. */
  infoHashJson: Buffer;
  peerIdJson: Buffer;
  peer: Peer;
  /** As of its latest announce (a seeder's offers go to leechers only, as HTTP peer lists). */
  seeder: boolean;
  /** Position in its room's `list`. */
  index: number;
  /** Peers on other processes that sent this one an offer lately → their process (answers go there). */
  offerers: Map<string, number> | null;
}

/** The WebRTC peers of one swarm on this process: by peer id (answers), and as a list (offers go to random ones). */
interface Room {
  byId: Map<string, Peer>;
  list: Membership[];
}

interface Peer {
  ws: WebSocket;
  passkey: string;
  userId: number;
  ip: string;
  /** Canonical swarm key (torrent.keys[0]) → this socket's peer in it. */
  swarms: Map<string, Membership>;
  /** Swarm keys with an announce in flight (counted against swarmsPerSocket). */
  pending: Set<string>;
  minute: number;
  announces: number;
  messages: number;
  strikes: number;
  closed: boolean;
  /** Frames for this socket written during this event-loop turn (see `reserve`), or null. */
  out: Buffer | null;
  /** Bytes of `out` used. */
  outLen: number;
  /** The info hash and peer id this socket sent last, decoded (hot-frames.ts). */
  ids: IdCache;
}

interface TcpSocket {
  write(data: Buffer): boolean;
  readonly writable: boolean;
}

export interface WsTrackerStats {
  sockets: number;
  swarms: number;
  /** Offers and answers written to a socket of this process (from a peer here or on another process). */
  offersRelayed: number;
  answersRelayed: number;
  /** Relays to a socket over its unsent-bytes cap. */
  relaysDropped: number;
  /** Offers and answers sent to a peer on another process. */
  offersForwarded: number;
  answersForwarded: number;
  /** Signals from another process for a peer this process does not hold (it left). */
  remoteUnknown: number;
  /** Between processes (REDIS_URL), else null. */
  cluster: ClusterRelayStats | null;
}

export interface WsTracker extends ServerModule {
  /** Resolves once signals from other processes reach this one (at once without REDIS_URL). */
  ready: Promise<void>;
  stats(): WsTrackerStats;
}

const PASSKEY_RE = /^[0-9a-fA-F]{32}$/;
/** Unknown or malformed passkeys per address and minute before the address is refused. */
const FAILED_PASSKEYS_PER_MINUTE = 30;
/** Offerers on other processes remembered per membership, for their answers (the oldest go first). */
const REMOTE_OFFERERS = 32;

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ 'failure reason': reason });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 429 ? 'Too Many Requests' : 'Bad Request'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  } else socket.destroy();
}

function passkeyOf(req: IncomingMessage, path: string): string | null {
  if (path.startsWith('/announce/')) return path.slice(10);
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return null;
  return new URLSearchParams(url.slice(q + 1)).get('passkey');
}

/**
 * Works around a GC nepotism in ws 8's receiver, which cost about 2 MB/s of promoted garbage
 * and a mark-compact every 2-4 s at 1,000 announces/s. For every message, ws's Receiver
 * replaces its `_fragments` array with a new one and emits the message built from the old
 * one. A socket's array lives until its next message; on a socket idle for a second it has
 * been promoted to the old generation by then. The next frame is pushed into it (an
 * old-to-young pointer), and when ws drops the array, that dead old array still points at the
 * young frame: scavenges treat old-to-young pointers as roots, so the frame survives and is
 * promoted, and with it what it references, until the next mark-compact. At 1,000 announces/s
 * this kept about 1.3 MB alive per scavenge. Emptying the replaced array once ws is done with
 * it (its message was already concatenated and is being emitted) removes the pointer; with it,
 * about 40 KB survive a scavenge (bench/RESULTS.md).
 *
 * The hook is one accessor for `_fragments` on Receiver.prototype, installed when this module
 * loads (before any receiver exists: ws's constructor then stores through it), and it keeps the
 * arrays in two symbol-keyed fields. An accessor defined on each receiver instead (as before)
 * turned every receiver into a dictionary-mode object, so all of ws's property reads and writes
 * on it went through slow lookups (about 12 us of server CPU per announce, bench/RESULTS.md).
 * Receivers that no tracker socket opted into (graphql-ws, clients) only store through it: their
 * spent arrays are never touched, so a binaryType 'fragments' message stays intact.
 */
// Registered symbols: a second copy of this module (test runners) finds the hook already there.
const FRAGMENTS = Symbol.for('opentracker.ws.fragments');
const SPENT = Symbol.for('opentracker.ws.spentFragments');
const HOOKED = Symbol.for('opentracker.ws.fragmentsHook');

interface HookedReceiver {
  [FRAGMENTS]: unknown[];
  /** The array that held the message being emitted; undefined on receivers not opted in. */
  [SPENT]?: unknown[] | null;
}

const fragmentsHooked = ((): boolean => {
  const Receiver = (wsModule as unknown as { Receiver?: { prototype: Record<symbol, unknown> } & (new () => { _fragments?: unknown }) }).Receiver;
  if (Receiver === undefined) return false;
  const proto = Receiver.prototype;
  if (proto[HOOKED] === true) return true;
  if (Object.getOwnPropertyDescriptor(proto, '_fragments') !== undefined) return false;
  // The hook relies on ws 8's receiver keeping its fragment list in `_fragments` (ws is pinned).
  const probe = new Receiver();
  if (!Array.isArray(probe._fragments) || !Object.getOwnPropertyDescriptor(probe, '_fragments')?.writable) return false;
  Object.defineProperty(proto, '_fragments', {
    configurable: true,
    get(this: HookedReceiver) {
      return this[FRAGMENTS];
    },
    set(this: HookedReceiver, next: unknown[]) {
      const spent = this[SPENT];
      if (spent !== undefined) {
        if (spent !== null) spent.length = 0; // a message that was never emitted (e.g. invalid UTF-8)
        this[SPENT] = this[FRAGMENTS];
      }
      this[FRAGMENTS] = next;
    },
  });
  proto[HOOKED] = true;
  return true;
})();

/**
 * Opts a socket's receiver into the GC workaround above. Returns the function to call at the
 * start of each 'message' event, or null when this ws does not have the internals it relies on
 * (then nothing is changed).
 */
export function fragmentReleaser(ws: WebSocket): (() => void) | null {
  const receiver = (ws as unknown as { _receiver?: HookedReceiver })._receiver;
  if (!fragmentsHooked || receiver === undefined || !Array.isArray(receiver[FRAGMENTS])) return null;
  receiver[SPENT] = null;
  return () => {
    const spent = receiver[SPENT];
    if (spent !== null && spent !== undefined) {
      spent.length = 0;
      receiver[SPENT] = null;
    }
  };
}

export function createWsTracker(ctx: Pick<AppContext, 'tracker' | 'users' | 'logger' | 'clientIp' | 'config' | 'metrics' | 'redis'>, overrides: Partial<WsTrackerOptions> = {}): WsTracker {
  const opts: WsTrackerOptions = { ...DEFAULT_WS_TRACKER_OPTIONS, ...overrides };
  const deps: TrackerDeps = ctx.tracker;
  const logger: Logger = ctx.logger.child({ module: 'ws-tracker' });
  const limits: ParseLimits = { maxOffers: opts.maxOffers, maxSdpLength: opts.maxSdpLength, maxScrapeHashes: ctx.config.tracker.scrapeMaxHashes };
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false, clientTracking: false });
  /** Swarm key → peer id → the socket holding it. */
  const registry = new Map<string, Room>();
  const sockets = new Set<Peer>();
  const perIp = new Map<string, number>();
  const counters = { offersRelayed: 0, answersRelayed: 0, relaysDropped: 0, offersForwarded: 0, answersForwarded: 0, remoteUnknown: 0 };
  let closing = false;
  const { redisUrl, redisPrefix } = ctx.config;
  const relay =
    redisUrl === null
      ? null
      : createClusterRelay({
          url: redisUrl,
          prefix: redisPrefix,
          logger,
          publisher: ctx.redis,
          // A message holds at most 256 KiB of signals plus one, each at least 77 bytes.
          limits: { maxSdpLength: opts.maxSdpLength, maxSignals: 8192 },
          onSignals: (sender, signals) => receive(sender, signals),
        });
  /** The key of this process's WebRTC sessions in the swarm store: the process, with REDIS_URL (cluster-relay.ts). */
  const sessionKey = relay?.node ?? 0;

  // Every frame sent to one socket within one event-loop turn (its announce reply, offers and
  // answers relayed from many peers) is written into one buffer, and that buffer is written to
  // ws's TCP socket once, after the poll phase: one write (one syscall, one stream request) per
  // socket and turn instead of one per frame. Buffers are cut from a shared slab, never reused
  // (a write may hold its buffer until the kernel takes it).
  const dirty: Peer[] = [];
  let flushScheduled = false;
  const SLAB = 256 * 1024;
  let slab = Buffer.allocUnsafeSlow(SLAB);
  let slabUsed = 0;
  const cut = (n: number): Buffer => {
    if (n > SLAB / 4) return Buffer.allocUnsafeSlow(n);
    if (slabUsed + n > SLAB) {
      slab = Buffer.allocUnsafeSlow(SLAB);
      slabUsed = 0;
    }
    const b = slab.subarray(slabUsed, slabUsed + n);
    slabUsed += (n + 7) & ~7;
    return b;
  };
  const tcpOf = (peer: Peer) => (peer.ws as unknown as { _socket?: TcpSocket })._socket;
  const flushPeer = (p: Peer): void => {
    const out = p.out;
    const n = p.outLen;
    p.out = null;
    p.outLen = 0;
    if (out === null || n === 0 || p.ws.readyState !== 1) return;
    const tcp = tcpOf(p);
    if (tcp?.writable) tcp.write(n === out.length ? out : out.subarray(0, n));
  };
  const flushAll = () => {
    flushScheduled = false;
    for (let k = 0; k < dirty.length; k++) flushPeer(dirty[k] as Peer);
    dirty.length = 0;
  };

  /**
   * Whether a frame may be sent to `peer` now: open (ws's readyState 1, so never after ws
   * started closing), not closed by us, and not over its unsent-bytes cap (then counted dropped).
   */
  const writable = (peer: Peer): boolean => {
    if (peer.closed || peer.ws.readyState !== 1) return false;
    if (peer.ws.bufferedAmount + peer.outLen > opts.maxBufferedBytes) {
      counters.relaysDropped++;
      return false;
    }
    return true;
  };

  /** Reserves `n` bytes at the end of this turn's output for `peer`; returns their offset in `peer.out`. */
  const reserve = (peer: Peer, n: number): number => {
    const at = peer.outLen;
    const out = peer.out;
    if (out === null) {
      peer.out = cut(n < 2048 ? 2048 : n);
      dirty.push(peer);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    } else if (at + n > out.length) {
      const grown = cut(Math.max(at + n, out.length * 2));
      out.copy(grown, 0, 0, at);
      peer.out = grown;
    }
    peer.outLen = at + n;
    return at;
  };

  /** Sends one text frame carrying a message object (replies other than the hot ones). */
  const send = (peer: Peer, msg: object): boolean => {
    if (!writable(peer)) return false;
    const frame = textFrame(JSON.stringify(msg));
    const at = reserve(peer, frame.length);
    frame.copy(peer.out as Buffer, at);
    return true;
  };

  const sendRelay = (target: Peer, kind: 'offer' | 'answer', payload: SdpPayload, offerIdJson: Buffer, peerIdJson: Buffer, infoHashJson: Buffer): boolean => {
    if (!writable(target)) return false;
    const at = reserve(target, relayFrameSize(kind, payload, offerIdJson, peerIdJson, infoHashJson));
    writeRelayFrame(target.out as Buffer, at, kind, payload, offerIdJson, peerIdJson, infoHashJson);
    return true;
  };

  const kill = (peer: Peer, code: number, reason: string): void => {
    if (peer.closed) return;
    logger.debug({ userId: peer.userId, code, reason }, 'closing WebTorrent socket');
    flushPeer(peer); // what was sent (a failure reason) goes before the close frame
    peer.ws.close(code, reason);
    // A peer that never reads its close frame must not hold the slot.
    setTimeout(() => peer.ws.terminate(), 2000).unref();
    cleanup(peer);
  };

  function leave(peer: Peer, key: string, m: Membership): void {
    peer.swarms.delete(key);
    const room = registry.get(key);
    if (room === undefined) return;
    if (room.byId.get(m.peerId) === peer) room.byId.delete(m.peerId);
    if (room.list[m.index] === m) {
      const last = room.list.pop() as Membership;
      if (last !== m) {
        room.list[m.index] = last;
        last.index = m.index;
      }
    }
    if (room.byId.size === 0 && room.list.length === 0) registry.delete(key);
  }

  function cleanup(peer: Peer): void {
    if (peer.closed) return;
    peer.closed = true;
    sockets.delete(peer);
    const n = (perIp.get(peer.ip) ?? 1) - 1;
    if (n <= 0) perIp.delete(peer.ip);
    else perIp.set(peer.ip, n);
    for (const [key, m] of [...peer.swarms]) {
      leave(peer, key, m);
      // Stopped on close: the session leaves the swarm; no new credit (no final counters).
      void dropSession(deps, m.infoHash, m.peerId, peer.userId, sessionKey).catch((err: unknown) => logger.error({ err }, 'dropping a WebTorrent session failed'));
    }
  }

  /** Counts a message; false when the socket was closed for flooding. */
  function tick(peer: Peer): boolean {
    const minute = Math.floor(deps.clock.now() / 60_000);
    if (minute !== peer.minute) {
      peer.minute = minute;
      peer.announces = 0;
      peer.messages = 0;
    }
    if (++peer.messages > opts.messagesPerMinute) {
      kill(peer, CLOSE_POLICY, 'too many messages');
      return false;
    }
    return true;
  }

  function failure(peer: Peer, action: 'announce' | 'scrape', reason: string, infoHash?: string): void {
    // The client routes announce replies by info_hash; without one it only sees a warning.
    send(peer, infoHash === undefined ? { 'failure reason': reason } : { action, 'failure reason': reason, info_hash: infoHash });
  }

  /** Synchronous on a warm path (cached torrent and user, in-process swarm store); else a Promise. */
  function onAnnounce(peer: Peer, msg: WsAnnounce): void | Promise<void> {
    if (++peer.announces > opts.announcesPerMinute) {
      if (peer.announces > opts.announcesPerMinute * 2) return kill(peer, CLOSE_POLICY, 'too many announces');
      return failure(peer, 'announce', `too many announces on this connection: at most ${opts.announcesPerMinute} per minute`, msg.infoHash);
    }
    const torrent = deps.torrents.peek(msg.infoHash);
    if (torrent === undefined) return deps.torrents.getOrLoad(msg.infoHash).then((t) => announceIn(peer, msg, t));
    return announceIn(peer, msg, torrent);
  }

  function announceIn(peer: Peer, msg: WsAnnounce, torrent: CachedTorrent | undefined): void | Promise<void> {
    const key = torrent?.keys[0] ?? msg.infoHash;
    const stopping = msg.event === AnnounceEvent.Stopped;
    const current = peer.swarms.get(key);
    if (!current && !stopping) {
      if (peer.swarms.size + peer.pending.size >= opts.swarmsPerSocket && !peer.pending.has(key)) {
        return failure(peer, 'announce', `too many torrents on this connection: at most ${opts.swarmsPerSocket}`, msg.infoHash);
      }
      const holder = registry.get(key)?.byId.get(msg.peerId);
      if (holder && holder !== peer) return failure(peer, 'announce', 'peer_id already in use in this swarm', msg.infoHash);
    }
    const outcome = runAnnounce(deps, {
      passkey: peer.passkey,
      infoHash: msg.infoHash,
      peerId: msg.peerId,
      keyHash: sessionKey,
      ip: null,
      port: 0,
      uploaded: msg.uploaded,
      downloaded: msg.downloaded,
      left: msg.left,
      event: msg.event,
      // One process: offers go to peers of this process's room, chosen below. Several: to peers
      // the shared store picks, wherever they are; twice the offers, as some may have just left.
      numwant: relay === null ? 0 : msg.offers.length * 2,
      peerIds: false,
    });
    if (!(outcome instanceof Promise)) return announced(peer, msg, key, stopping, outcome);
    // Counted against swarmsPerSocket while the announce is in flight.
    peer.pending.add(key);
    return outcome.then(
      (o) => {
        peer.pending.delete(key);
        return announced(peer, msg, key, stopping, o);
      },
      (err: unknown) => {
        peer.pending.delete(key);
        throw err;
      },
    );
  }

  function announced(peer: Peer, msg: WsAnnounce, key: string, stopping: boolean, outcome: AnnounceOutcome): void | Promise<void> {
    if (peer.closed) {
      // Closed while the announce ran: the session it created must not linger.
      if (!stopping) return dropSession(deps, msg.infoHash, msg.peerId, peer.userId, sessionKey);
      return;
    }
    const { result } = outcome;
    const prior = peer.swarms.get(key);
    let mine: Membership | undefined;
    if (stopping) {
      if (prior) leave(peer, key, prior);
    } else {
      if (prior && prior.peerId !== msg.peerId) {
        // Same socket, same swarm, new peer id: the old session ends.
        leave(peer, key, prior);
        void dropSession(deps, prior.infoHash, prior.peerId, peer.userId, sessionKey).catch(() => undefined);
      }
      let room = registry.get(key);
      if (!room) {
        room = { byId: new Map<string, Peer>(), list: [] };
        registry.set(key, room);
      }
      const holder = room.byId.get(msg.peerId);
      if (holder !== peer) {
        if (holder) {
          void dropSession(deps, msg.infoHash, msg.peerId, peer.userId, sessionKey).catch(() => undefined);
          return failure(peer, 'announce', 'peer_id already in use in this swarm', msg.infoHash);
        }
        room.byId.set(msg.peerId, peer);
      }
      // A re-announce keeps its membership (and the encoded ids); a different peer id left above.
      mine = peer.swarms.get(key);
      if (mine === undefined) {
        mine = { infoHash: msg.infoHash, peerId: msg.peerId, infoHashJson: jsonLiteral(msg.infoHash), peerIdJson: jsonLiteral(msg.peerId), peer, seeder: false, index: room.list.length, offerers: null };
        room.list.push(mine);
        peer.swarms.set(key, mine);
      } else if (mine.infoHash !== msg.infoHash) {
        // The same torrent announced under its other hash (v1 / truncated v2): relays name this one.
        mine.infoHash = msg.infoHash;
        mine.infoHashJson = jsonLiteral(msg.infoHash);
      }
      mine.seeder = msg.left === 0;
    }
    if (writable(peer)) {
      const ihJson = mine?.infoHashJson ?? jsonLiteral(msg.infoHash);
      const at = reserve(peer, announceReplySize(opts.interval, ihJson, result.seeders, result.leechers));
      writeAnnounceReply(peer.out as Buffer, at, opts.interval, ihJson, result.seeders, result.leechers);
    }
    if (mine === undefined || msg.offers.length === 0) return;
    const rtcKeys = result.rtcKeys;
    if (relay !== null && rtcKeys !== undefined) return offerAcross(peer, msg, key, mine, result.rtcPeerIds, rtcKeys);
    // Each offer to a different other peer of the room, from a random start (as the swarm
    // store walks its peer lists); a seeder's only to leechers.
    const list = (registry.get(key) as Room).list;
    const n = list.length;
    const start = Math.floor(Math.random() * n);
    let i = 0;
    for (let k = 0; k < n && i < msg.offers.length; k++) {
      const m = list[(start + k) % n] as Membership;
      if (m.peer === peer || (mine.seeder && m.seeder)) continue;
      const offer = msg.offers[i++] as (typeof msg.offers)[number];
      if (sendRelay(m.peer, 'offer', offer.offer, offer.offerIdJson, mine.peerIdJson, m.infoHashJson)) counters.offersRelayed++;
    }
  }

  /**
   * Each offer to a different peer of the store's pick (already random, a seeder's leechers
   * only): written to its socket when it is here, else queued for its process. Picks that are
   * gone (no socket here, or a process that stopped listening) are passed over.
   */
  function offerAcross(peer: Peer, msg: WsAnnounce, key: string, mine: Membership, ids: string[], keys: number[]): void {
    const cluster = relay as NonNullable<typeof relay>;
    const room = registry.get(key) as Room;
    let i = 0;
    for (let k = 0; k < ids.length && i < msg.offers.length; k++) {
      const id = ids[k] as string;
      const node = keys[k] as number;
      if (id === msg.peerId) continue;
      if (node === sessionKey) {
        const target = room.byId.get(id);
        const m = target?.swarms.get(key);
        if (target === undefined || target === peer || m === undefined) continue;
        const offer = msg.offers[i++] as (typeof msg.offers)[number];
        if (sendRelay(target, 'offer', offer.offer, offer.offerIdJson, mine.peerIdJson, m.infoHashJson)) counters.offersRelayed++;
      } else if (cluster.reachable(node)) {
        const offer = msg.offers[i++] as (typeof msg.offers)[number];
        cluster.send(node, 'offer', key, id, msg.peerId, offer.offer, offer.offerIdJson);
        counters.offersForwarded++;
      }
    }
  }

  /** Signals another process sent to peers here; those for peers no longer here are dropped. */
  function receive(sender: number, signals: RemoteSignal[]): void {
    for (const s of signals) {
      const target = registry.get(s.key)?.byId.get(s.to);
      const m = target?.swarms.get(s.key);
      if (target === undefined || m === undefined) {
        counters.remoteUnknown++;
        continue;
      }
      if (s.kind === 'offer') {
        // Remembered for the answer (the newest offerers, at most REMOTE_OFFERERS).
        const offerers = (m.offerers ??= new Map());
        offerers.delete(s.from);
        if (offerers.size >= REMOTE_OFFERERS) offerers.delete(offerers.keys().next().value as string);
        offerers.set(s.from, sender);
        if (sendRelay(target, 'offer', s.payload, s.offerIdJson, jsonLiteral(s.from), m.infoHashJson)) counters.offersRelayed++;
      } else if (sendRelay(target, 'answer', s.payload, s.offerIdJson, jsonLiteral(s.from), m.infoHashJson)) counters.answersRelayed++;
    }
  }

  function onAnswer(peer: Peer, msg: WsAnswer): void {
    const torrent = deps.torrents.peek(msg.infoHash);
    const key = torrent?.keys[0] ?? msg.infoHash;
    const mine = peer.swarms.get(key);
    // Only a peer of the swarm may answer, as itself, and only to a peer of the same swarm.
    if (!mine || mine.peerId !== msg.peerId) return failure(peer, 'announce', 'answer for a swarm this connection has not announced', msg.infoHash);
    const target = registry.get(key)?.byId.get(msg.toPeerId);
    if (!target) {
      // On another process if its offer came from there; else gone: the offerer times out, as with any lost answer.
      const node = mine.offerers?.get(msg.toPeerId);
      if (node === undefined || relay === null) return;
      relay.send(node, 'answer', key, msg.toPeerId, msg.peerId, msg.answer, msg.offerIdJson);
      counters.answersForwarded++;
      return;
    }
    if (target === peer) return;
    const m = target.swarms.get(key);
    if (!m) return;
    if (sendRelay(target, 'answer', msg.answer, msg.offerIdJson, mine.peerIdJson, m.infoHashJson)) counters.answersRelayed++;
  }

  async function onScrape(peer: Peer, msg: WsScrape): Promise<void> {
    if (++peer.announces > opts.announcesPerMinute) {
      if (peer.announces > opts.announcesPerMinute * 2) return kill(peer, CLOSE_POLICY, 'too many requests');
      return failure(peer, 'scrape', `too many requests on this connection: at most ${opts.announcesPerMinute} per minute`);
    }
    const rows = await scrape(deps, peer.passkey, msg.infoHashes);
    const files: Record<string, { complete: number; incomplete: number; downloaded: number }> = {};
    for (const r of rows) files[r.infoHash] = { complete: r.seeders, incomplete: r.leechers, downloaded: r.completed };
    send(peer, { action: 'scrape', files });
  }

  function onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    if (peer.closed || !tick(peer)) return;
    const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    let msg;
    try {
      // ws has checked that a text frame is UTF-8; a binary one is checked by parseFrame.
      msg = parseFrame(frame, limits, !isBinary, peer.ids);
    } catch (err) {
      const e = err as WsProtocolError;
      failure(peer, 'announce', e.message, e.infoHash);
      if (e.flood) kill(peer, CLOSE_POLICY, e.message.slice(0, 100));
      else if (++peer.strikes > opts.maxStrikes) kill(peer, CLOSE_POLICY, 'too many invalid messages');
      return;
    }
    let work: void | Promise<void>;
    try {
      work = msg.action === 'announce' ? onAnnounce(peer, msg) : msg.action === 'scrape' ? onScrape(peer, msg) : onAnswer(peer, msg);
    } catch (err) {
      return requestFailed(peer, msg, err);
    }
    if (work instanceof Promise) work.catch((err: unknown) => requestFailed(peer, msg, err));
  }

  function requestFailed(peer: Peer, msg: WsMessage, err: unknown): void {
    const action = msg.action === 'scrape' ? 'scrape' : 'announce';
    const infoHash = msg.action === 'scrape' ? undefined : msg.infoHash;
    if (err instanceof TrackerFailure) {
      ctx.metrics.announces.failure.inc();
      return failure(peer, action, err.message, infoHash);
    }
    ctx.metrics.announces.error.inc();
    logger.error({ err }, 'WebTorrent request failed');
    failure(peer, action, 'internal server error, please retry later', infoHash);
  }

  function accept(req: IncomingMessage, socket: Duplex, head: Buffer, passkey: string, userId: number, ip: string): void {
    if (closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    const count = perIp.get(ip) ?? 0;
    if (count >= opts.socketsPerIp) return refuse(socket, 429, `too many WebSocket connections from your address: at most ${opts.socketsPerIp}`);
    perIp.set(ip, count + 1);
    let reserved = true;
    const release = () => {
      if (!reserved) return;
      reserved = false;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', release);
      reserved = false;
      const peer: Peer = { ws, passkey, userId, ip, swarms: new Map(), pending: new Set(), minute: 0, announces: 0, messages: 0, strikes: 0, closed: false, out: null, outLen: 0, ids: newIdCache() };
      sockets.add(peer);
      const releaseFragments = fragmentReleaser(ws);
      ws.on('message', (data, isBinary) => {
        releaseFragments?.();
        try {
          onMessage(peer, data, isBinary);
        } catch (err) {
          logger.error({ err }, 'WebTorrent message handler failed');
          kill(peer, 1011, 'internal error');
        }
      });
      // ws emits 'error' for oversized frames (then closes 1009) and protocol errors.
      ws.on('error', (err) => logger.debug({ err: err.message }, 'WebTorrent socket error'));
      ws.on('close', () => cleanup(peer));
    });
  }

  // Guessing passkeys costs the guesser (as on HTTP): after FAILED_PASSKEYS_PER_MINUTE unknown
  // or malformed ones, the address is refused for the rest of the minute before any lookup.
  const failedPasskeys = new Map<string, { minute: number; count: number }>();
  const minuteNow = () => Math.floor(deps.clock.now() / 60_000);
  const guessing = (ip: string): boolean => {
    const e = failedPasskeys.get(ip);
    return e !== undefined && e.minute === minuteNow() && e.count >= FAILED_PASSKEYS_PER_MINUTE;
  };
  const failedPasskey = (ip: string): void => {
    const minute = minuteNow();
    let e = failedPasskeys.get(ip);
    if (!e || e.minute !== minute) {
      if (failedPasskeys.size >= 100_000) failedPasskeys.clear();
      e = { minute, count: 0 };
      failedPasskeys.set(ip, e);
    }
    e.count++;
  };

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    if (path !== '/announce' && !path.startsWith('/announce/')) return false;
    socket.on('error', () => socket.destroy());
    const ip = ctx.clientIp.text(req);
    if (guessing(ip)) {
      refuse(socket, 429, 'too many unknown passkeys from your address: wait a minute');
      return true;
    }
    const passkey = passkeyOf(req, path);
    if (!passkey || !PASSKEY_RE.test(passkey)) {
      failedPasskey(ip);
      refuse(socket, 401, 'missing or malformed passkey: use the announce URL from your .torrent file');
      return true;
    }
    const cached = deps.users.peekPasskey(passkey);
    const check = cached ? Promise.resolve(cached) : deps.users.byPasskeyOrLoad(passkey);
    check.then(
      (user) => {
        if (!user) {
          failedPasskey(ip);
          return refuse(socket, 401, 'unknown passkey: download the .torrent file again from the site');
        }
        if (user.status !== 'ACTIVE') return refuse(socket, 403, user.status === 'BANNED' ? 'your account is banned' : 'your account is disabled: contact the staff');
        accept(req, socket, head, passkey, user.id, ip);
      },
      (err: unknown) => {
        logger.error({ err }, 'passkey lookup failed on WebSocket upgrade');
        refuse(socket, 503, 'internal server error, please retry later');
      },
    );
    return true;
  }

  return {
    name: 'ws-tracker',
    upgrade,
    ready: relay?.ready ?? Promise.resolve(),
    stats: () => ({ sockets: sockets.size, swarms: registry.size, ...counters, cluster: relay?.stats() ?? null }),
    close: async () => {
      closing = true;
      const peers = [...sockets];
      for (const p of peers) {
        p.ws.close(1001, 'server shutting down');
        cleanup(p);
      }
      // Sessions are ending; let the drops reach the store before it closes.
      await new Promise((r) => setImmediate(r));
      for (const p of peers) p.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await relay?.close();
    },
  };
}

/** Module factory for server/modules.ts: ready once it receives signals from other processes. */
export const wsTrackerModule = async (ctx: AppContext): Promise<WsTracker> => {
  const tracker = createWsTracker(ctx);
  await tracker.ready;
  return tracker;
};
