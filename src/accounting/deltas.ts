/**
 * Transfer credit for one announce, pure. A user is credited the difference between a peer
 * session's successive announces, never the absolute counters:
 * - a new session only sets the baseline (a "ghost" peer starting with big counters gets 0);
 * - a counter that goes backwards (client restart, reset) starts a new baseline, credit 0;
 * - the torrent's promotion applies: FREE (download not counted), DOUBLE_UP (upload x2),
 *   HALF_DOWN (download halved), FREE_DOUBLE_UP (both), until its end time;
 * - seeding and leeching time accrue for the time since the previous announce, capped at the
 *   announce interval plus grace so a peer that vanished is not paid for its absence;
 * - a completion counts when the session, seen with left > 0 before, reports `completed` or
 *   reaches left = 0 (aria2 stopping right after finishing sends `stopped` with left = 0 and
 *   never `completed`).
 */
import type { Promotion } from '../generated/prisma/enums.ts';
import type { PreviousSession } from '../swarm/swarm-store.ts';
import { AnnounceEvent } from '../tracker/protocol/types.ts';

export interface Credit {
  uploaded: number;
  downloaded: number;
  seedSeconds: number;
  leechSeconds: number;
  completed: boolean;
  bonus: number;
}

export interface CreditInput {
  previous: PreviousSession | null;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** Unix seconds. */
  now: number;
  promotion: Promotion;
  /** Unix ms; null: no end. */
  promotionUntil: number | null;
}

export interface CreditRules {
  /** Longest gap between announces that still accrues time (interval + grace). */
  maxGapSeconds: number;
  bonusPerSeedHour: number;
}

export const NO_CREDIT: Credit = Object.freeze({ uploaded: 0, downloaded: 0, seedSeconds: 0, leechSeconds: 0, completed: false, bonus: 0 });

export function effectivePromotion(promotion: Promotion, until: number | null, nowMs: number): Promotion {
  return until !== null && until <= nowMs ? 'NONE' : promotion;
}

export function computeCredit(input: CreditInput, rules: CreditRules): Credit {
  const prev = input.previous;
  if (prev === null) return NO_CREDIT;
  let up = input.uploaded >= prev.uploaded ? input.uploaded - prev.uploaded : 0;
  let down = input.downloaded >= prev.downloaded ? input.downloaded - prev.downloaded : 0;
  switch (effectivePromotion(input.promotion, input.promotionUntil, input.now * 1000)) {
    case 'FREE':
      down = 0;
      break;
    case 'DOUBLE_UP':
      up *= 2;
      break;
    case 'HALF_DOWN':
      down = Math.floor(down / 2);
      break;
    case 'FREE_DOUBLE_UP':
      up *= 2;
      down = 0;
      break;
    case 'NONE':
      break;
  }
  let gap = input.now - prev.lastSeen;
  if (gap < 0) gap = 0;
  if (gap > rules.maxGapSeconds) gap = rules.maxGapSeconds;
  const seedSeconds = prev.seeder ? gap : 0;
  const leechSeconds = prev.seeder ? 0 : gap;
  return {
    uploaded: up,
    downloaded: down,
    seedSeconds,
    leechSeconds,
    completed: prev.everLeecher && (input.event === AnnounceEvent.Completed || (!prev.seeder && input.left === 0)),
    bonus: (seedSeconds * rules.bonusPerSeedHour) / 3600,
  };
}
