/**
 * Transport-agnostic tracker logic (HTTP and WebSocket share it): private-tracker gates,
 * the swarm update, and credit appended to the ledger. No database access on a warm path:
 * users, torrents and the client allow-list are in-memory caches; a cold miss costs one
 * lookup, remembered either way.
 */
import { computeCredit, type CreditRules } from '../accounting/deltas.ts';
import type { Ledger } from '../accounting/ledger.ts';
import type { SuspicionRecorder } from '../accounting/suspicion-log.ts';
import type { CompletionSeeder } from '../accounting/completion-seeder.ts';
import type { ClientAllowList } from '../cache/client-allow-list.ts';
import { liveCompleted, type TorrentRegistry, type CachedTorrent } from '../cache/torrent-registry.ts';
import { GATE_ACTIVE, GATE_BANNED, GATE_CAN_LEECH, GATE_LEECH_BLOCKED, GATE_PERSONAL_FREE } from '../cache/passkey-index.ts';
import type { UserDirectory } from '../cache/user-directory.ts';
import type { AnnounceResult, PeerAnnounce, StoreCredit, SwarmStore } from '../swarm/swarm-store.ts';
import type { Clock } from '../shared/clock.ts';
import { percentInForce } from '../torrents/promotion.ts';
import type { AnnounceLimiter } from './announce-limiter.ts';
import { TrackerFailure } from './errors.ts';
import { AnnounceEvent } from './protocol/types.ts';

export interface TrackerDeps {
  users: UserDirectory;
  torrents: TorrentRegistry;
  clients: ClientAllowList;
  swarm: SwarmStore;
  ledger: Ledger;
  clock: Clock;
  rules: CreditRules;
  /** For messages; the budget itself is kept by `limiter`. */
  announceRateLimit: number;
  limiter: AnnounceLimiter;
  /** Called after a swarm changed (subscriptions coalesce these). */
  onSwarmChange?: (torrent: CachedTorrent) => void;
  /** Called when an announce's reported upload was not credited in full (metrics, staff log). */
  onSuspicious?: SuspicionRecorder;
  /** Seeds a swarm's live completion count the store does not know yet (from the database). */
  completions?: CompletionSeeder;
  /** Called when a leeching announce is refused (staff revocation or a site rule's leech block). */
  onLeechRefused?: (userId: number) => void;
}

export interface PeerInput {
  passkey: string;
  infoHash: string;
  peerId: string;
  keyHash: number;
  ip: Buffer | null;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  numwant: number;
  peerIds: boolean;
}

export interface AnnounceOutcome {
  torrent: CachedTorrent;
  result: AnnounceResult;
}


/** What the announce needs of an admitted user. */
export interface AdmittedUser {
  id: number;
  canLeech: boolean;
  /** Unix ms until which the user's personal free leech lasts (0: none). */
  freeUntil: number;
}

/**
 * The user behind a passkey, gated and rate-limited: from the gate index (one row, no await)
 * when cached, else after one lookup.
 */
export function resolveUser(deps: TrackerDeps, passkey: string): AdmittedUser | Promise<AdmittedUser> {
  const row = deps.users.gates.find(passkey);
  if (row >= 0) return admitUser(deps, row);
  return deps.users.byPasskeyOrLoad(passkey).then((u) => {
    const loaded = u ? deps.users.gates.find(passkey) : -1;
    if (loaded < 0) throw new TrackerFailure('unknown passkey: download the .torrent file again from the site (your passkey may have been reset)', undefined, true);
    return admitUser(deps, loaded);
  });
}

function admitUser(deps: TrackerDeps, row: number): AdmittedUser | Promise<AdmittedUser> {
  const gates = deps.users.gates;
  const flags = gates.flags(row);
  if ((flags & GATE_ACTIVE) === 0) throw new TrackerFailure(flags & GATE_BANNED ? 'your account is banned' : 'your account is disabled: contact the staff');
  // Read before the limiter may wait: a row moves when the index grows.
  const id = gates.userId(row);
  const freeUntil = flags & GATE_PERSONAL_FREE ? (deps.users.byId(id)?.freeleechUntil ?? 0) : 0;
  const user: AdmittedUser = { id, canLeech: (flags & (GATE_CAN_LEECH | GATE_LEECH_BLOCKED)) === GATE_CAN_LEECH, freeUntil };
  const wait = deps.limiter.consume(gates, row, deps.clock.now());
  if (typeof wait === 'number') {
    if (wait > 0) throw rateLimited(deps, wait);
    return user;
  }
  return wait.then((w) => {
    if (w > 0) throw rateLimited(deps, w);
    return user;
  });
}

/** Seeding is never refused: only announces with left > 0, so cases can always be cleared. */
function leechRefused(deps: TrackerDeps, userId: number): TrackerFailure {
  deps.onLeechRefused?.(userId);
  return new TrackerFailure(deps.users.leechRefusal(userId));
}

function rateLimited(deps: TrackerDeps, minutes: number): TrackerFailure {
  return new TrackerFailure(`too many announces: at most ${deps.announceRateLimit} per minute per passkey`, minutes);
}

/** The registered, announceable torrent for a 20-byte key, from the cache (no await on a hit). */
export function resolveTorrent(deps: TrackerDeps, infoHash: string): CachedTorrent | Promise<CachedTorrent> {
  const hit = deps.torrents.peek(infoHash);
  return hit ? admitTorrent(hit) : deps.torrents.getOrLoad(infoHash).then(admitTorrent);
}

function admitTorrent(torrent: CachedTorrent | undefined): CachedTorrent {
  if (!torrent || torrent.status === 'DELETED') throw new TrackerFailure('torrent not registered with this tracker');
  if (torrent.status === 'PENDING') throw new TrackerFailure('torrent is awaiting moderation and cannot be announced yet');
  return torrent;
}

/**
 * The announce, synchronous when everything it needs is at hand (cached user and torrent, an
 * in-process rate budget, a swarm store with `announceSync`): the HTTP hot path then answers
 * without a Promise or a microtask. Otherwise a Promise. Gate failures are thrown (sync) or
 * rejected (async) TrackerFailures.
 */
export function runAnnounce(deps: TrackerDeps, input: PeerInput): AnnounceOutcome | Promise<AnnounceOutcome> {
  const user = resolveUser(deps, input.passkey);
  return user instanceof Promise ? user.then((u) => withUser(deps, input, u)) : withUser(deps, input, user);
}

/** runAnnounce, always as a Promise (the WebSocket tracker and tests). */
export async function announce(deps: TrackerDeps, input: PeerInput): Promise<AnnounceOutcome> {
  return runAnnounce(deps, input);
}

function withUser(deps: TrackerDeps, input: PeerInput, user: AdmittedUser): AnnounceOutcome | Promise<AnnounceOutcome> {
  if (!deps.clients.allows(input.peerId)) throw new TrackerFailure('your BitTorrent client is not allowed on this tracker: see the site rules for allowed clients');
  const torrent = resolveTorrent(deps, input.infoHash);
  return torrent instanceof Promise ? torrent.then((t) => record(deps, input, user, t)) : record(deps, input, user, torrent);
}

function record(deps: TrackerDeps, input: PeerInput, user: AdmittedUser, torrent: CachedTorrent): AnnounceOutcome | Promise<AnnounceOutcome> {
  if (input.left > 0 && !user.canLeech && input.event !== AnnounceEvent.Stopped) throw leechRefused(deps, user.id);
  const nowMs = deps.clock.now();
  const now = Math.floor(nowMs / 1000);
  const peer: PeerAnnounce = {
    // One swarm per torrent, whichever of its hashes (v1, truncated v2) the client announced.
    infoHash: torrent.keys[0] as string,
    peerId: input.peerId,
    userId: user.id,
    keyHash: input.keyHash,
    ip: input.ip,
    port: input.port,
    uploaded: input.uploaded,
    downloaded: input.downloaded,
    left: input.left,
    event: input.event,
    now,
  };
  const want = { numwant: input.numwant, peerIds: input.peerIds };
  const swarm = deps.swarm;
  if (swarm.recordsCredit) {
    const credit: StoreCredit = {
      userId: user.id,
      torrentId: torrent.id,
      downloadPercent: downloadPercent(user, torrent, nowMs),
      uploadPercent: percentInForce(torrent.uploadPercent, torrent.uploadUntil, nowMs),
      ...deps.rules,
    };
    return swarm.announce(peer, want, credit).then((result) => {
      if (result.suspicion) deps.onSuspicious?.(user.id, torrent.id, result.suspicion, input.uploaded);
      return finish(deps, torrent, result);
    });
  }
  if (swarm.announceSync) return credit(deps, input, user, torrent, nowMs, swarm.announceSync(peer, want));
  return swarm.announce(peer, want).then((result) => credit(deps, input, user, torrent, nowMs, result));
}

function credit(deps: TrackerDeps, input: PeerInput, user: AdmittedUser, torrent: CachedTorrent, nowMs: number, result: AnnounceResult): AnnounceOutcome {
  const now = Math.floor(nowMs / 1000);
  const c = computeCredit(
    {
      previous: result.previous,
      uploaded: input.uploaded,
      downloaded: input.downloaded,
      left: input.left,
      event: input.event,
      now,
      downloadPercent: downloadPercent(user, torrent, nowMs),
      uploadPercent: percentInForce(torrent.uploadPercent, torrent.uploadUntil, nowMs),
    },
    deps.rules,
  );
  deps.ledger.append(user.id, torrent.id, c, now);
  if (c.suspicion !== 0) deps.onSuspicious?.(user.id, torrent.id, c.suspicion, input.uploaded);
  return finish(deps, torrent, result);
}

/** The share of download counted: none while the user's personal free leech (bought in the bonus shop) lasts. */
function downloadPercent(user: AdmittedUser, torrent: CachedTorrent, nowMs: number): number {
  return user.freeUntil > nowMs ? 0 : percentInForce(torrent.downloadPercent, torrent.downloadUntil, nowMs);
}

function finish(deps: TrackerDeps, torrent: CachedTorrent, result: AnnounceResult): AnnounceOutcome {
  if (result.completed < 0) deps.completions?.request(torrent);
  else liveCompleted(torrent, result.completed);
  deps.onSwarmChange?.(torrent);
  return { torrent, result };
}

/** A peer session that ended without an announce (WebSocket closed): credit nothing new, free its slot. */
export async function dropSession(deps: TrackerDeps, infoHash: string, peerId: string, userId: number, keyHash: number): Promise<void> {
  const torrent = deps.torrents.peek(infoHash);
  if (!torrent) return;
  const prev = await deps.swarm.remove(torrent.keys[0] as string, peerId, userId, keyHash);
  if (prev) {
    deps.ledger.touch(torrent.id);
    deps.onSwarmChange?.(torrent);
  }
}

export interface ScrapeOutcome {
  infoHash: string;
  seeders: number;
  leechers: number;
  completed: number;
}

export async function scrape(deps: TrackerDeps, passkey: string, infoHashes: string[]): Promise<ScrapeOutcome[]> {
  await resolveUser(deps, passkey);
  const unique = [...new Set(infoHashes)];
  const known: Array<{ key: string; torrent: CachedTorrent }> = [];
  for (const key of unique) {
    const torrent = deps.torrents.peek(key) ?? (await deps.torrents.getOrLoad(key));
    if (torrent && torrent.status === 'ACTIVE') known.push({ key, torrent });
  }
  const counts = await deps.swarm.scrape(known.map((k) => k.torrent.keys[0] as string));
  return known.map((k, i) => ({ infoHash: k.key, seeders: counts[i]?.seeders ?? 0, leechers: counts[i]?.leechers ?? 0, completed: liveCompleted(k.torrent, counts[i]?.completed ?? -1) }));
}
