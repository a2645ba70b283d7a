/**
 * What the tracker does with an announce whose reported upload was not credited in full
 * (accounting/deltas.ts): counts it, logs it, keeps a row for staff review (GraphQL
 * `suspiciousAnnounces`) and, for upload no real link carries, takes leeching away. Runs off
 * the announce path: every write is fire-and-forget, and a client that repeats itself costs one
 * row per user, torrent and reason an hour, not one per announce.
 */
import type { SuspicionReason as DbReason } from '../generated/prisma/enums.ts';
import type { Database } from '../db/open-database.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { EventBus } from '../shared/events.ts';
import type { Logger } from '../shared/logger.ts';
import type { SuspiciousAnnounce } from '../tracker/announce.ts';
import { setUserCanLeech } from '../users/sessions.ts';
import { SUSPICION_IMPOSSIBLE, SUSPICION_REASONS, type SuspicionReason } from './deltas.ts';

const DB_REASON: Record<SuspicionReason, DbReason> = { speed: 'SPEED', upload_without_leechers: 'UPLOAD_WITHOUT_LEECHERS', impossible_speed: 'IMPOSSIBLE_SPEED' };
const ROW_EVERY_MS = 3_600_000;

export interface SuspicionLogDeps {
  db: Database;
  events: EventBus;
  metrics: Metrics;
  logger: Logger;
  nowMs: () => number;
}

export function createSuspicionLog(deps: SuspicionLogDeps): (s: SuspiciousAnnounce) => void {
  /** When each (user, torrent, reason) last got a row, oldest first: only the last hour's are kept. */
  const lastRow = new Map<string, number>();
  const revoking = new Set<number>();

  const keepRow = (s: SuspiciousAnnounce, reason: SuspicionReason): void => {
    const now = deps.nowMs();
    for (const [k, at] of lastRow) {
      if (now - at < ROW_EVERY_MS) break;
      lastRow.delete(k);
    }
    const key = `${s.userId}:${s.torrentId}:${reason}`;
    if (lastRow.has(key)) return;
    lastRow.set(key, now);
    deps.db.prisma.suspiciousAnnounce
      .create({ data: { userId: s.userId, torrentId: s.torrentId, reason: DB_REASON[reason], reportedUploaded: BigInt(s.reportedUploaded) }, select: { id: true } })
      .catch((err: unknown) => deps.logger.error({ err, userId: s.userId, torrentId: s.torrentId }, 'recording a suspicious announce failed'));
  };

  // Written once per user (repeats while the write is pending are dropped); staff restore it
  // with the setUserCanLeech mutation.
  const revokeLeech = (userId: number): void => {
    if (revoking.has(userId)) return;
    revoking.add(userId);
    setUserCanLeech({ prisma: deps.db.prisma, events: deps.events }, userId, false)
      .then(
        () => deps.logger.warn({ userId }, 'download privileges revoked: reported upload faster than TRACKER_REVOKE_LEECH_RATE'),
        (err: unknown) => deps.logger.error({ err, userId }, 'revoking download privileges failed'),
      )
      .finally(() => revoking.delete(userId));
  };

  return (s) => {
    const reasons = SUSPICION_REASONS.filter(([bit]) => s.suspicion & bit).map(([, reason]) => reason);
    deps.logger.warn({ userId: s.userId, torrentId: s.torrentId, reasons, reportedUploaded: s.reportedUploaded }, 'upload not credited in full');
    for (const r of reasons) {
      deps.metrics.suspicious[r].inc();
      keepRow(s, r);
    }
    if (s.suspicion & SUSPICION_IMPOSSIBLE) revokeLeech(s.userId);
  };
}
