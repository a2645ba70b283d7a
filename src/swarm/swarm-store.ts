/**
 * Live peer state per torrent. Knows nothing of users beyond their id, of HTTP, or of the
 * database. Implementations (stores/memory.ts, stores/redis.ts) MUST all pass the contract
 * suite in test/swarm/swarm-store.contract.ts:
 *
 * - A peer session is identified by (infoHash, peerId, userId, keyHash). Announces of one
 *   session over IPv4 and IPv6 (dual stack) update the same session: it holds up to one
 *   address per family, is counted once in seeders/leechers, and is never returned to itself.
 * - `announce` stores the announced counters as the session's new baseline and returns the
 *   previous baseline (`previous`, null for a new session) so the caller can credit deltas.
 * - `event=stopped` removes the announcing family's address at once; the session ends when it
 *   has no address left (WebRTC sessions, which have none, end at once).
 * - A seeder is given leechers only; a leecher is given seeders and leechers. HTTP sessions are
 *   only ever given HTTP peers and WebRTC sessions WebRTC peers; counts include both.
 * - `sweep(now)` drops addresses not announced for `peerTtl` seconds, and sessions left with
 *   none. Counts always equal the stored sessions.
 * - Calls for one info hash are atomic with respect to each other.
 * - Times completed are counted live, per swarm, once per user: an announce that completes
 *   (accounting/deltas.ts `isCompletion`) adds its user to the swarm's completers and, when the
 *   user is new there, adds one to the count, which the same and every later announce and
 *   scrape report. A swarm's count starts unknown (-1): `seedCompletions` gives it the
 *   database's count and completers once (completers recorded meanwhile that the database does
 *   not hold yet are added to it); afterwards the store's count is the count. Completion counts
 *   outlive the swarm's peers (a completed download often leaves the swarm at once).
 */
import type { CreditRules } from '../accounting/deltas.ts';
import type { TransferFactors } from '../torrents/promotion.ts';
import type { AnnounceEvent } from '../tracker/protocol/types.ts';

export interface PeerAnnounce {
  /** 20-byte binary string. */
  infoHash: string;
  /** 20-byte binary string. */
  peerId: string;
  userId: number;
  keyHash: number;
  /** 4 or 16 address bytes; null for a WebRTC (WebSocket tracker) peer. */
  ip: Buffer | null;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** Unix seconds. */
  now: number;
}

export interface PeerWant {
  numwant: number;
  /** Also return the peer ids aligned with the compact lists (non-compact responses). */
  peerIds: boolean;
}

export interface PreviousSession {
  uploaded: number;
  downloaded: number;
  seeder: boolean;
  /** The session announced left > 0 at some point (a later `completed` is genuine). */
  everLeecher: boolean;
  /** Unix seconds of the session's previous announce. */
  lastSeen: number;
  /**
   * A leecher other than this session was in the swarm at an announce (of any peer) since this
   * session's previous one, or is now: without one, nobody could have downloaded what the
   * session reports uploading (ECOSYSTEM.md 2.4, "upload without leechers").
   */
  othersLeeching: boolean;
}

export interface SwarmCounts {
  seeders: number;
  leechers: number;
}

export interface SwarmScrape extends SwarmCounts {
  /** Times completed; -1 while the swarm's count is not seeded. */
  completed: number;
}

export interface AnnounceResult extends SwarmCounts {
  previous: PreviousSession | null;
  /** Times completed after this announce; -1 while the swarm's count is not seeded (`seedCompletions`). */
  completed: number;
  /** Compact IPv4 peers, 6 bytes each. */
  peers4: Buffer;
  /** Compact IPv6 peers, 18 bytes each. */
  peers6: Buffer;
  /** With want.peerIds: 20 bytes per entry of peers4 / peers6. */
  ids4: Buffer | null;
  ids6: Buffer | null;
  /** For WebRTC sessions: peer ids (binary strings) of other WebRTC peers to send offers to. */
  rtcPeerIds: string[];
  /**
   * Stores shared between processes: the keyHash of each of those sessions, in the same order
   * (the WebSocket tracker keys a WebRTC session by the process that holds its socket).
   */
  rtcKeys?: number[];
  /** A store that records credit itself: the SUSPICION_* bits of that credit (accounting/deltas.ts). */
  suspicion?: number;
}

/** What a store that records credit itself needs to compute it: the same rules as accounting/deltas.ts, and whose credit it is. */
export interface StoreCredit extends CreditRules, TransferFactors {
  userId: number;
  torrentId: number;
}

/** One live peer session as a torrent page lists it (`SwarmStore.listPeers`). */
export interface SwarmPeer {
  /** 40 hex characters. */
  peerId: string;
  userId: number;
  seeder: boolean;
  uploaded: number;
  downloaded: number;
  /** Address text per family; null when the session has none (or is a WebRTC peer). */
  ip: string | null;
  ipv6: string | null;
  /** Port of the IPv4 address, else of the IPv6 one; null for WebRTC peers. */
  port: number | null;
  /** Unix seconds of the last announce. */
  lastSeen: number;
}

export interface SwarmTotals {
  swarms: number;
  peers: number;
  seeders: number;
  leechers: number;
}

export interface SwarmStore {
  /**
   * True when `announce` records the session's credit itself, atomically with moving its
   * baseline (the Redis store: credit survives a killed process). Otherwise the caller
   * computes credit from `previous` and keeps it (the in-process ledger).
   */
  readonly recordsCredit: boolean;
  /** The same as `announce` without credit, answered synchronously: only in-process stores have it. */
  announceSync?(peer: PeerAnnounce, want: PeerWant): AnnounceResult;
  announce(peer: PeerAnnounce, want: PeerWant, credit?: StoreCredit): Promise<AnnounceResult>;
  /** Ends a session (WebSocket closed); returns its last baseline, if it existed. */
  remove(infoHash: string, peerId: string, userId: number, keyHash: number): Promise<PreviousSession | null>;
  /** Counts for each hash, in order; zero counts for swarms without peers. */
  scrape(infoHashes: readonly string[]): Promise<SwarmScrape[]>;
  /**
   * Gives a swarm whose completion count is not seeded the database's count and the users it
   * knows completed (read together, in one snapshot); a seeded swarm is left as it is. Returns
   * the swarm's count.
   */
  seedCompletions(infoHash: string, completed: number, userIds: readonly number[]): Promise<number>;
  /**
   * Up to `limit` sessions of one swarm, seeders first (the torrent page's seeding status).
   * Optional: a store without it lists no peers. Read-only; never called on the announce path.
   */
  listPeers?(infoHash: string, limit: number): Promise<SwarmPeer[]>;
  /** Drops expired addresses and sessions; returns the number of sessions removed. */
  sweep(now: number): Promise<number>;
  totals(): Promise<SwarmTotals>;
  /** The `limit` swarms with the most peers, busiest first. */
  busiest(limit: number): Promise<Array<SwarmCounts & { infoHash: string }>>;
  close(): Promise<void>;
}
