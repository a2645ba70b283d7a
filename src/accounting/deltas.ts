/**
 * Transfer credit for one announce, pure. A user is credited the difference between a peer
 * session's successive announces, never the absolute counters:
 * - a new session only sets the baseline (a "ghost" peer starting with big counters gets 0);
 * - a counter that goes backwards (client restart, reset) starts a new baseline, credit 0;
 * - the torrent's promotion applies as two factors in force at the announce
 *   (torrents/promotion.ts): a percent of downloaded bytes counted, a percent of uploaded
 *   bytes credited; the bytes before it are kept too (`rawUploaded`/`rawDownloaded`), since
 *   site rules judge what was really transferred (free leech must not exempt a download);
 * - seeding and leeching time accrue for the time since the previous announce, capped at the
 *   announce interval plus grace so a peer that vanished is not paid for its absence;
 * - a completion counts when the session, seen with left > 0 before, reports `completed` or
 *   reaches left = 0 (aria2 stopping right after finishing sends `stopped` with left = 0 and
 *   never `completed`);
 * - ratio cheating (ECOSYSTEM.md 2.4): upload is credited at most `maxUploadRate` bytes per
 *   second since the previous announce, and not at all when no other leecher was in the swarm
 *   meanwhile (nobody could have received it). Either is reported in `suspicion`; the client
 *   gets its normal answer, so a cheating tool learns nothing from it. Upload reported faster
 *   than `revokeLeechRate` (no real link carries it) is reported too: the caller takes the
 *   user's download privileges away.
 */
import { applyPercent } from '../torrents/promotion.ts';
import type { PreviousSession } from '../swarm/swarm-store.ts';
import { AnnounceEvent } from '../tracker/protocol/types.ts';

export interface Credit {
  /** Credited: after the anti-cheat rules and the promotion. */
  uploaded: number;
  downloaded: number;
  /** Really transferred: after the anti-cheat rules, before the promotion. */
  rawUploaded: number;
  rawDownloaded: number;
  seedSeconds: number;
  leechSeconds: number;
  completed: boolean;
  bonus: number;
  /** SUSPICION_* bits: why reported upload was not credited in full (0: it was). */
  suspicion: number;
}

/** What a ledger adds up for one announce. */
export type CreditAmounts = Omit<Credit, 'suspicion'>;

/** Reported upload exceeded `maxUploadRate` over the time since the previous announce (credit capped). */
export const SUSPICION_SPEED = 1;
/** Upload reported while no other leecher was in the swarm (no upload credited). */
export const SUSPICION_NO_LEECHERS = 2;
/** Reported upload exceeded `revokeLeechRate`: certainly cheating (the caller revokes leeching). */
export const SUSPICION_IMPOSSIBLE = 4;
/** Upload without leechers below this is not reported (timing at the edges of a swarm's life). */
export const NO_LEECHERS_REPORT_BYTES = 10 * 1024 * 1024;

export type SuspicionReason = 'speed' | 'upload_without_leechers' | 'impossible_speed';
/** Each SUSPICION_* bit with its name in metrics and logs. */
export const SUSPICION_REASONS: ReadonlyArray<readonly [number, SuspicionReason]> = [
  [SUSPICION_SPEED, 'speed'],
  [SUSPICION_NO_LEECHERS, 'upload_without_leechers'],
  [SUSPICION_IMPOSSIBLE, 'impossible_speed'],
];

export interface CreditInput {
  previous: PreviousSession | null;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** Unix seconds. */
  now: number;
  /** The torrent's factors in force now (torrents/promotion.ts `factorsInForce`). */
  downloadPercent: number;
  uploadPercent: number;
}

export interface CreditRules {
  /** Longest gap between announces that still accrues time (interval + grace). */
  maxGapSeconds: number;
  bonusPerSeedHour: number;
  /** Most upload bytes per second a session is credited (0: no cap). */
  maxUploadRate: number;
  /** Reported upload bytes per second above which leeching is revoked (0: never). */
  revokeLeechRate: number;
}

export const NO_CREDIT: Credit = Object.freeze({ uploaded: 0, downloaded: 0, rawUploaded: 0, rawDownloaded: 0, seedSeconds: 0, leechSeconds: 0, completed: false, bonus: 0, suspicion: 0 });

/**
 * Whether an announce completes the session's download: a session seen leeching reports
 * `completed`, or reaches left = 0. The swarm stores count completions with the same rule
 * (redis-announce.lua repeats it).
 */
export function isCompletion(prev: PreviousSession, event: AnnounceEvent, left: number): boolean {
  return prev.everLeecher && (event === AnnounceEvent.Completed || (!prev.seeder && left === 0));
}

export function computeCredit(input: CreditInput, rules: CreditRules): Credit {
  const prev = input.previous;
  if (prev === null) return NO_CREDIT;
  let up = input.uploaded >= prev.uploaded ? input.uploaded - prev.uploaded : 0;
  const down = input.downloaded >= prev.downloaded ? input.downloaded - prev.downloaded : 0;
  let suspicion = 0;
  // Bytes really sent, before any promotion. Announces within one second count as one second.
  const elapsed = input.now - prev.lastSeen > 1 ? input.now - prev.lastSeen : 1;
  if (rules.revokeLeechRate > 0 && up > rules.revokeLeechRate * elapsed) suspicion |= SUSPICION_IMPOSSIBLE;
  if (rules.maxUploadRate > 0 && up > rules.maxUploadRate * elapsed) {
    up = rules.maxUploadRate * elapsed;
    suspicion |= SUSPICION_SPEED;
  }
  if (up > 0 && !prev.othersLeeching) {
    if (up >= NO_LEECHERS_REPORT_BYTES) suspicion |= SUSPICION_NO_LEECHERS;
    up = 0;
  }
  let gap = input.now - prev.lastSeen;
  if (gap < 0) gap = 0;
  if (gap > rules.maxGapSeconds) gap = rules.maxGapSeconds;
  const seedSeconds = prev.seeder ? gap : 0;
  const leechSeconds = prev.seeder ? 0 : gap;
  return {
    uploaded: applyPercent(up, input.uploadPercent),
    downloaded: applyPercent(down, input.downloadPercent),
    rawUploaded: up,
    rawDownloaded: down,
    seedSeconds,
    leechSeconds,
    completed: isCompletion(prev, input.event, input.left),
    bonus: (seedSeconds * rules.bonusPerSeedHour) / 3600,
    suspicion,
  };
}
