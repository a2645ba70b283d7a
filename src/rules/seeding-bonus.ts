/**
 * NexusPHP's seeding bonus (BONUS_FORMULA=nexus), in points per hour for the torrents a user
 * seeds at payout time:
 *
 *   A = Σ (1 − 10^(−T/T0)) · S · (1 + √2 · 10^(−(N−1)/(N0−1)))     T age in weeks, S size in GiB, N seeders
 *   B = B0 · (2/π) · arctan(A / L) + perSeed · min(count, maxSeed)
 *
 * paid every BONUS_TICK_SECONDS as B × period / 1 h. The period is claimed in `rule_runs` by the
 * statement that pays it, so whichever processes tick, each period is paid once. "Seeding now"
 * is read from the snatches (announced within the peer lifetime, with seeding time) and N from
 * the torrent's mirrored seeder count. With this formula the accounting's flat accrual is off
 * (config.ts sets its rate to 0).
 */
import type { RulesConfig } from '../config.ts';
import type { Database } from '../db/open-database.ts';
import { NOW, seconds } from './sql.ts';

type NexusConfig = Extract<RulesConfig['bonus'], { formula: 'nexus' }>;

const GIB = 2 ** 30;
const WEEK = 7 * 86400;

/** One user's points per hour for the torrents they seed (the same formula as the SQL, for docs and tests). */
export function nexusPointsPerHour(c: NexusConfig, seeded: ReadonlyArray<{ sizeBytes: number; ageSeconds: number; seeders: number }>): number {
  let a = 0;
  for (const t of seeded) a += (1 - 10 ** (-Math.max(t.ageSeconds, 0) / WEEK / c.t0Weeks)) * (t.sizeBytes / GIB) * (1 + Math.SQRT2 * 10 ** (-(Math.max(t.seeders, 1) - 1) / (c.n0 - 1)));
  return c.b0 * (2 / Math.PI) * Math.atan(a / c.l) + c.perSeed * Math.min(seeded.length, c.maxSeed);
}

/** Pays the current period if no process did yet; returns the users paid (empty when already paid). */
export async function payNexusBonus(db: Database, nowMs: number, c: NexusConfig, peerTtlSeconds: number): Promise<number[]> {
  const period = Math.floor(nowMs / 1000 / c.tickSeconds);
  const rows = await db.query<{ id: number }>(
    `WITH claim AS (
       INSERT INTO rule_runs (id, applied_at) VALUES ($2::text, ${NOW}) ON CONFLICT (id) DO NOTHING RETURNING id
     ), seeding AS (
       SELECT s.user_id, t.size::float8 AS size, EXTRACT(EPOCH FROM (${NOW} - t.created_at))::float8 AS age, GREATEST(t.seeders, 1)::float8 AS n
       FROM snatches s JOIN torrents t ON t.id = s.torrent_id AND t.status = 'ACTIVE'
       WHERE EXISTS (SELECT 1 FROM claim) AND s.seed_time > 0 AND s.last_announce_at >= ${NOW} - make_interval(secs => $3::float8)
     ), per_user AS (
       SELECT user_id,
              SUM((1 - power(10::float8, -GREATEST(age, 0) / ${WEEK} / $4::float8)) * (size / ${GIB}) * (1 + sqrt(2::float8) * power(10::float8, -(n - 1) / ($5::float8 - 1)))) AS a,
              COUNT(*) AS c
       FROM seeding GROUP BY user_id
     ), paid AS (
       UPDATE users u SET bonus = u.bonus + p.points
       FROM (SELECT user_id, ($6::float8 * 2 / pi() * atan(a / $7::float8) + $8::float8 * LEAST(c, $9::int)) * $10::float8 AS points FROM per_user) p
       WHERE u.id = p.user_id AND p.points > 0
       RETURNING u.id
     )
     SELECT id FROM paid`,
    [seconds(nowMs), `seeding-bonus:${c.tickSeconds}:${period}`, peerTtlSeconds, c.t0Weeks, c.n0, c.b0, c.l, c.perSeed, c.maxSeed, c.tickSeconds / 3600],
  );
  return rows.map((r) => r.id);
}
