/**
 * Leech blocks: one row per user and reason (HIT_AND_RUN, RATIO_WATCH) while a rule refuses the
 * user's leeching announces, holding the failure reason the tracker answers with. Separate from
 * `users.can_leech`, which staff and the anti-cheat write: a rule lifting its block never gives
 * back what staff took away, and the other way round.
 *
 * Each rule describes the blocks it wants with a query of (user_id, message); `syncBlocks`
 * makes the rows of that reason match it in one statement: new ones inserted, messages updated
 * (the count in them changed), the rest deleted. Syncs take a transaction-level advisory lock,
 * so a sync after a payment and a tick's sync never interleave on stale snapshots. The caller
 * refreshes the caches of the users returned (engine.ts), which is how the announce path,
 * reading only its cache, learns of blocks.
 */
import type { Database } from '../db/open-database.ts';
import type { LeechBlockReason } from '../generated/prisma/enums.ts';
import { seconds } from './sql.ts';

export interface BlockChange {
  userId: number;
  reason: LeechBlockReason;
  /** BLOCKED: a new block; UPDATED: its message changed; LIFTED: removed. */
  change: 'BLOCKED' | 'UPDATED' | 'LIFTED';
}

/** A query of the wanted blocks: `$1` is the time (Unix seconds), `params` are `$2`... */
export interface WantedBlocks {
  sql: string;
  params: unknown[];
}

const LOCK_KEY = 0x72756c6573; // "rules"

/**
 * Makes the blocks of `reason` match `wanted` (null: none wanted), for every user or only
 * `onlyUser`; returns what changed.
 */
export async function syncBlocks(db: Database, nowMs: number, reason: LeechBlockReason, wanted: WantedBlocks | null, onlyUser: number | null = null): Promise<BlockChange[]> {
  const params: unknown[] = [seconds(nowMs), ...(wanted?.params ?? [])];
  const reasonAt = params.push(reason);
  const userAt = params.push(onlyUser);
  const inner = wanted?.sql ?? 'SELECT NULL::int AS user_id, NULL::text AS message WHERE false';
  const rows = await db.withSession(async (s) => {
    await s.exec('BEGIN');
    try {
      await s.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCK_KEY]);
      const out = await s.query<{ user_id: number; change: BlockChange['change'] }>(
        `WITH want AS MATERIALIZED (
           SELECT user_id, message FROM (${inner}) w WHERE $${userAt}::int IS NULL OR w.user_id = $${userAt}::int
         ), put AS (
           INSERT INTO leech_blocks (user_id, reason, message, created_at)
           SELECT user_id, $${reasonAt}::"LeechBlockReason", message, to_timestamp($1::float8) AT TIME ZONE 'UTC' FROM want
           ON CONFLICT (user_id, reason) DO UPDATE SET message = EXCLUDED.message WHERE leech_blocks.message <> EXCLUDED.message
           RETURNING user_id, (xmax = 0) AS inserted
         ), lifted AS (
           DELETE FROM leech_blocks b
           WHERE b.reason = $${reasonAt}::"LeechBlockReason" AND ($${userAt}::int IS NULL OR b.user_id = $${userAt}::int)
             AND NOT EXISTS (SELECT 1 FROM want WHERE want.user_id = b.user_id)
           RETURNING b.user_id
         )
         SELECT user_id, CASE WHEN inserted THEN 'BLOCKED' ELSE 'UPDATED' END AS change FROM put
         UNION ALL SELECT user_id, 'LIFTED' FROM lifted`,
        params,
      );
      await s.exec('COMMIT');
      return out;
    } catch (err) {
      await s.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
  return rows.map((r) => ({ userId: r.user_id, reason, change: r.change }));
}
