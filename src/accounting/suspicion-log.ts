/**
 * What the tracker does with an announce whose reported upload was not credited in full
 * (accounting/deltas.ts): counts it, keeps a row for staff review (GraphQL
 * `suspiciousAnnounces`) and, for upload no real link carries, takes leeching away.
 *
 * A client decides how often it announces, and a cheating one may make every announce
 * suspicious: nothing here may cost more than an ordinary announce. So `record` (on the announce
 * path) only counts, in memory; `flush` (run by the accounting flush, on its timer and at
 * shutdown) writes the rows of the interval in one statement, revokes leeching, and logs one
 * summary line with the users seen most. A client that repeats itself costs one row per user,
 * torrent and reason per clock hour (from each process), not one per announce.
 */
import type { Database } from '../db/open-database.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { EventBus } from '../shared/events.ts';
import type { Logger } from '../shared/logger.ts';
import { setUserCanLeech } from '../users/sessions.ts';
import { SUSPICION_IMPOSSIBLE, SUSPICION_NO_LEECHERS, SUSPICION_REASONS, SUSPICION_SPEED, type SuspicionReason } from './deltas.ts';

/** Column `reason` (enum SuspicionReason) for each SUSPICION_* bit. */
const DB_REASON = new Map<number, string>([
  [SUSPICION_SPEED, 'SPEED'],
  [SUSPICION_NO_LEECHERS, 'UPLOAD_WITHOUT_LEECHERS'],
  [SUSPICION_IMPOSSIBLE, 'IMPOSSIBLE_SPEED'],
]);
const HOUR_MS = 3_600_000;
/** Rows held while the database refuses them; beyond it, new rows are counted as dropped. */
const MAX_PENDING_ROWS = 100_000;
/** Users named in a flush's summary line. */
const TOP_USERS = 5;

export interface SuspicionLogDeps {
  db: Database;
  events: EventBus;
  metrics: Metrics;
  logger: Logger;
  nowMs: () => number;
}

/** Called by the announce for each announce whose upload was not credited in full; never throws, never waits. */
export type SuspicionRecorder = (userId: number, torrentId: number, suspicion: number, reportedUploaded: number) => void;

export interface SuspicionLog {
  record: SuspicionRecorder;
  /** Writes what was recorded since the last flush; a failed write is kept for the next one. */
  flush(): Promise<void>;
}

interface PendingRows {
  userId: number[];
  torrentId: number[];
  reason: string[];
  reported: string[];
  /** Unix seconds. */
  at: number[];
}

const noRows = (): PendingRows => ({ userId: [], torrentId: [], reason: [], reported: [], at: [] });

export function createSuspicionLog(deps: SuspicionLogDeps): SuspicionLog {
  const counters = deps.metrics.suspicious;
  /** The clock hour `rowsThisHour` is for. */
  let hour = -1;
  /** user -> torrent -> SUSPICION_* bits that already have a row this clock hour. */
  let rowsThisHour = new Map<number, Map<number, number>>();
  let rows = noRows();
  let dropped = 0;
  /** Since the last flush: announces per reason bit, and per user. */
  const byReason = new Map<number, number>();
  let byUser = new Map<number, number>();
  /** Users to revoke at the next flush, and those revoked this clock hour (no second write). */
  let revoke = new Set<number>();
  let revokedThisHour = new Set<number>();

  const record: SuspicionRecorder = (userId, torrentId, suspicion, reportedUploaded) => {
    const now = deps.nowMs();
    const h = Math.floor(now / HOUR_MS);
    if (h !== hour) {
      hour = h;
      rowsThisHour = new Map();
      revokedThisHour = new Set();
    }
    byUser.set(userId, (byUser.get(userId) ?? 0) + 1);
    let torrents = rowsThisHour.get(userId);
    if (!torrents) {
      torrents = new Map();
      rowsThisHour.set(userId, torrents);
    }
    const had = torrents.get(torrentId) ?? 0;
    for (const [bit, reason] of SUSPICION_REASONS) {
      if ((suspicion & bit) === 0) continue;
      counters[reason].inc();
      byReason.set(bit, (byReason.get(bit) ?? 0) + 1);
      if (had & bit) continue;
      if (rows.userId.length >= MAX_PENDING_ROWS) {
        dropped += 1;
        continue;
      }
      rows.userId.push(userId);
      rows.torrentId.push(torrentId);
      rows.reason.push(DB_REASON.get(bit) as string);
      rows.reported.push(String(reportedUploaded));
      rows.at.push(now / 1000);
    }
    if (had !== (had | suspicion)) torrents.set(torrentId, had | suspicion);
    if (suspicion & SUSPICION_IMPOSSIBLE && !revokedThisHour.has(userId)) {
      revokedThisHour.add(userId);
      revoke.add(userId);
    }
  };

  const writeRows = async (batch: PendingRows): Promise<void> => {
    if (batch.userId.length === 0) return;
    // Rows of users or torrents deleted meanwhile are skipped (the joins), not an error.
    await deps.db.query(
      `INSERT INTO suspicious_announces (user_id, torrent_id, reason, reported_uploaded, created_at)
       SELECT v.user_id, v.torrent_id, v.reason::"SuspicionReason", v.reported, to_timestamp(v.at) AT TIME ZONE 'UTC'
       FROM unnest($1::int[], $2::int[], $3::text[], $4::bigint[], $5::float8[]) AS v(user_id, torrent_id, reason, reported, at)
       JOIN users u ON u.id = v.user_id
       JOIN torrents t ON t.id = v.torrent_id`,
      [batch.userId, batch.torrentId, batch.reason, batch.reported, batch.at],
    );
  };

  // Staff restore leeching with the setUserCanLeech mutation; every process's cache learns of
  // both through user.changed.
  const revokeLeech = async (users: Set<number>): Promise<void> => {
    for (const userId of users) {
      await setUserCanLeech({ prisma: deps.db.prisma, events: deps.events }, userId, false).catch((err: unknown) => {
        revokedThisHour.delete(userId); // tried again at its next impossible announce
        deps.logger.error({ err, userId }, 'revoking download privileges failed');
      });
    }
  };

  /** A failed batch goes back in front of the rows recorded since, up to the cap. */
  const requeue = (failed: PendingRows, newer: PendingRows): PendingRows => {
    const keep = Math.max(0, MAX_PENDING_ROWS - newer.userId.length);
    dropped += Math.max(0, failed.userId.length - keep);
    const out = noRows();
    for (const k of Object.keys(out) as Array<keyof PendingRows>) (out[k] as unknown[]) = [...failed[k].slice(0, keep), ...newer[k]];
    return out;
  };

  const summarise = (written: number, revoked: Set<number>): void => {
    if (byUser.size === 0) return;
    const reasons: Partial<Record<SuspicionReason, number>> = {};
    for (const [bit, reason] of SUSPICION_REASONS) {
      const n = byReason.get(bit);
      if (n) reasons[reason] = n;
    }
    let announces = 0;
    for (const n of byUser.values()) announces += n;
    const top = topUsers(byUser, TOP_USERS);
    deps.logger.warn(
      { announces, users: byUser.size, reasons, topUsers: top, rowsWritten: written, rowsDropped: dropped, leechingRevoked: [...revoked] },
      'upload not credited in full since the last flush',
    );
    byReason.clear();
    byUser = new Map();
    dropped = 0;
  };

  return {
    record,
    async flush() {
      const batch = rows;
      rows = noRows();
      const revoked = revoke;
      revoke = new Set();
      let written = 0;
      try {
        await writeRows(batch);
        written = batch.userId.length;
      } catch (err) {
        deps.logger.error({ err, rows: batch.userId.length }, 'recording suspicious announces failed; kept for the next flush');
        rows = requeue(batch, rows);
      }
      await revokeLeech(revoked);
      summarise(written, revoked);
    },
  };
}

/** The `k` users with the most announces, most first: one pass, since the map may hold every user of the site. */
export function topUsers(byUser: ReadonlyMap<number, number>, k: number): Array<{ userId: number; announces: number }> {
  const top: Array<{ userId: number; announces: number }> = [];
  for (const [userId, announces] of byUser) {
    if (top.length === k && announces <= (top[k - 1] as { announces: number }).announces) continue;
    let i = top.length < k ? top.length : k - 1;
    while (i > 0 && (top[i - 1] as { announces: number }).announces < announces) i--;
    top.splice(i, 0, { userId, announces });
    if (top.length > k) top.pop();
  }
  return top;
}
