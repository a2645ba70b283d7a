/**
 * Ratio watch as Gazelle's rules page defines it, evaluated by the rules tick:
 *
 * - required ratio = max(min, max × (1 − seeding / snatched)), with max and min from the bracket
 *   of the user's total downloaded (RATIO_WATCH_TABLE; Gazelle's table by default: 0 below
 *   5 GiB). `snatched` counts completed snatches of torrents that still exist, `seeding` the
 *   torrents the user seeds now (announced within the peer lifetime, with seeding time);
 *   Gazelle averages seeding over a week instead;
 * - below it (and not of an exempt role), the user is put on watch until now +
 *   RATIO_WATCH_SECONDS; back at or above it, the watch ends (and with it any block);
 * - past the deadline, or after downloading more than RATIO_WATCH_GAMBLE_BYTES while on watch,
 *   leeching is refused (a RATIO_WATCH leech block) until the ratio is back.
 *
 * Each step is one set-based statement whose WHERE re-checks the state it changes, so ticks of
 * several processes make each change once.
 */
import type { RatioBracket, RulesConfig } from '../config.ts';
import type { Database } from '../db/open-database.ts';
import type { WantedBlocks } from './leech-blocks.ts';
import { NOW, seconds } from './sql.ts';

type WatchConfig = RulesConfig['ratioWatch'];

export interface WatchChange {
  userId: number;
  change: 'WATCH_STARTED' | 'WATCH_ENDED';
}

/** The required ratio for a user's totals (the same rule as the SQL below, for docs and tests). */
export function requiredRatio(table: readonly RatioBracket[], downloaded: number, seeding: number, snatched: number): number {
  let bracket: RatioBracket | undefined;
  for (const b of table) if (b.fromBytes <= downloaded) bracket = b;
  if (!bracket) return 0;
  const share = snatched > 0 ? Math.min(seeding / snatched, 1) : 0;
  return Math.round(Math.max(bracket.min, bracket.max * (1 - share)) * 100) / 100;
}

/**
 * Recomputes the required ratio of every user with a download in the table (or a watch row),
 * writing only the ratios that changed.
 */
export async function updateRequiredRatios(db: Database, nowMs: number, watch: WatchConfig, peerTtlSeconds: number): Promise<void> {
  const first = watch.table[0];
  if (!first) return;
  await db.query(
    `WITH b AS (SELECT * FROM unnest($2::float8[], $3::float8[], $4::float8[]) AS b(from_bytes, hi, lo)),
     cand AS (
       SELECT u.id, br.hi, br.lo
       FROM users u
       LEFT JOIN LATERAL (SELECT hi, lo FROM b WHERE b.from_bytes <= u.downloaded ORDER BY b.from_bytes DESC LIMIT 1) br ON true
       WHERE u.downloaded >= $5::float8 OR EXISTS (SELECT 1 FROM ratio_watches w WHERE w.user_id = u.id)
     ), k AS (
       SELECT s.user_id,
              COUNT(*) FILTER (WHERE s.completed_at IS NOT NULL) AS snatched,
              COUNT(*) FILTER (WHERE s.seed_time > 0 AND s.last_announce_at >= ${NOW} - make_interval(secs => $6::float8)) AS seeding
       FROM snatches s JOIN torrents t ON t.id = s.torrent_id AND t.status <> 'DELETED'
       WHERE s.user_id IN (SELECT id FROM cand)
       GROUP BY s.user_id
     ), req AS (
       SELECT cand.id AS user_id,
              COALESCE(ROUND(GREATEST(cand.lo, cand.hi * (1 - COALESCE(LEAST(k.seeding::float8 / NULLIF(k.snatched, 0), 1), 0)))::numeric, 2)::float8, 0) AS r
       FROM cand LEFT JOIN k ON k.user_id = cand.id
     )
     INSERT INTO ratio_watches (user_id, required_ratio) SELECT user_id, r FROM req
     ON CONFLICT (user_id) DO UPDATE SET required_ratio = EXCLUDED.required_ratio WHERE ratio_watches.required_ratio <> EXCLUDED.required_ratio`,
    [seconds(nowMs), watch.table.map((b) => b.fromBytes), watch.table.map((b) => b.max), watch.table.map((b) => b.min), first.fromBytes, peerTtlSeconds],
  );
}

/** Users below their required ratio go on watch; those back at it (or now exempt) come off. */
export async function moveWatches(db: Database, nowMs: number, watch: WatchConfig): Promise<WatchChange[]> {
  const now = seconds(nowMs);
  const started = await db.query<{ user_id: number }>(
    `UPDATE ratio_watches w SET ends_at = ${NOW} + make_interval(secs => $2::float8), downloaded_at_start = u.downloaded, times = w.times + 1
     FROM users u
     WHERE u.id = w.user_id AND w.ends_at IS NULL AND w.required_ratio > 0 AND u.downloaded > 0 AND u.status = 'ACTIVE'
       AND u.uploaded::float8 < w.required_ratio * u.downloaded::float8 AND NOT (u.role::text = ANY($3::text[]))
     RETURNING w.user_id`,
    [now, watch.seconds, watch.exemptRoles],
  );
  const ended = await db.query<{ user_id: number }>(
    `UPDATE ratio_watches w SET ends_at = NULL, downloaded_at_start = NULL
     FROM users u
     WHERE u.id = w.user_id AND w.ends_at IS NOT NULL
       AND (u.uploaded::float8 >= w.required_ratio * u.downloaded::float8 OR u.role::text = ANY($1::text[]))
     RETURNING w.user_id`,
    [watch.exemptRoles],
  );
  return [...started.map((r) => ({ userId: r.user_id, change: 'WATCH_STARTED' as const })), ...ended.map((r) => ({ userId: r.user_id, change: 'WATCH_ENDED' as const }))];
}

/** Watches past their deadline, or gambled on: the leech-block query of RATIO_WATCH (leech-blocks.ts). */
export function watchBlocksSql(watch: WatchConfig): WantedBlocks {
  const gamble = watch.gambleBytes;
  return {
    sql: `SELECT w.user_id,
            CASE WHEN w.ends_at <= ${NOW}
              THEN 'downloading is disabled: your ratio watch ended below the required ratio '
              ELSE 'downloading is disabled: you downloaded more than ' || $3::text || ' while on ratio watch, below the required ratio '
            END || to_char(w.required_ratio, 'FM990.00') || '; seeding still works: upload until your ratio reaches it' AS message
          FROM ratio_watches w JOIN users u ON u.id = w.user_id
          WHERE w.ends_at IS NOT NULL AND (w.ends_at <= ${NOW} OR ($2::float8 > 0 AND u.downloaded - w.downloaded_at_start > $2::float8))`,
    params: [gamble, formatBytes(gamble)],
  };
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30} GiB` : n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`;
}
