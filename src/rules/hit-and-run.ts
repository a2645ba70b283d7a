/**
 * Hit-and-run cases, evaluated by the rules tick (engine.ts) in set-based SQL. Every transition
 * is one guarded UPDATE (`WHERE status = ...`), so processes ticking together make each one
 * exactly once, and only the process whose statement made it gets the row back (and tells the
 * user). Per case, as API.md §8 fixes:
 *
 * - opens when the user's raw download (`snatches.actual_downloaded`: before promotions, so free
 *   leech still counts) reaches HNR_TRIGGER_FRACTION of the size, unless the user uploaded the
 *   torrent; a role exempt at that moment gets the case closed as REACHED (EXEMPT), judged once;
 * - its requirement and grace are copied onto the row: a later config change is not retroactive;
 * - REACHED once seeded `required_seed_seconds` in all, or raw upload of `required_ratio` × size;
 *   an UNREACHED case recovers the same way when HNR_RECOVERABLE;
 * - absence from the swarm is counted from the later of the last announce and the opening: past
 *   `prewarn_seconds` the user is warned (again after each return), past `grace_seconds` the case
 *   is UNREACHED. A user still in the swarm (swarm store) is never warned or failed;
 * - an UNREACHED case counts against the user until `expires_at` (HNR_EXPIRE_SECONDS, fixed then);
 * - paying bonus (the user) or a pardon (staff) makes INSPECTING or UNREACHED cases PARDONED, and
 *   a deleted torrent pardons its open cases.
 */
import type { RulesConfig } from '../config.ts';
import type { Database } from '../db/open-database.ts';
import { RulesError } from './errors.ts';
import { NOW, seconds } from './sql.ts';

export type CaseChangeKind = 'OPENED' | 'PREWARNED' | 'REACHED' | 'UNREACHED' | 'PARDONED';

export interface CaseChange {
  id: number;
  userId: number;
  torrentId: number;
  change: CaseChangeKind;
}

/** Is the user in the torrent's swarm now (any live session)? Keys are `${userId}:${torrentId}`. */
export type Presence = (cases: ReadonlyArray<{ userId: number; torrentId: number }>) => Promise<Set<string>>;

type HnrConfig = RulesConfig['hnr'];

interface CaseRow {
  id: number;
  user_id: number;
  torrent_id: number;
}

const changes = (rows: CaseRow[], change: CaseChangeKind): CaseChange[] => rows.map((r) => ({ id: r.id, userId: r.user_id, torrentId: r.torrent_id, change }));

/** The case's requirement is met (joined as s = snatches, t = torrents, h = hit_and_runs). */
const REACHED_SQL = `(s.seed_time >= h.required_seed_seconds OR (h.required_ratio > 0 AND s.actual_uploaded >= h.required_ratio * t.size))`;
/** When the user's absence from the swarm began, for this case. */
const ABSENT_SINCE = `GREATEST(s.last_announce_at, h.opened_at)`;

/** Open cases of deleted torrents are pardoned. */
export async function closeDeletedTorrents(db: Database, nowMs: number): Promise<CaseChange[]> {
  const rows = await db.query<CaseRow>(
    `UPDATE hit_and_runs h SET status = 'PARDONED', resolution = 'TORRENT_DELETED', resolved_at = ${NOW}
     FROM torrents t
     WHERE t.id = h.torrent_id AND t.status = 'DELETED' AND h.status IN ('INSPECTING', 'UNREACHED')
     RETURNING h.id, h.user_id, h.torrent_id`,
    [seconds(nowMs)],
  );
  return changes(rows, 'PARDONED');
}

/**
 * Opens a case for every snatch past the trigger. Only snatches announced within the grace
 * period are looked at: turning HNR_ENABLED on does not open cases for downloads of long ago.
 */
export async function openCases(db: Database, nowMs: number, hnr: HnrConfig): Promise<CaseChange[]> {
  const rows = await db.query<CaseRow & { status: string }>(
    `INSERT INTO hit_and_runs (user_id, torrent_id, status, opened_at, required_seed_seconds, required_ratio, prewarn_seconds, grace_seconds, resolution, resolved_at)
     SELECT s.user_id, s.torrent_id,
            CASE WHEN x.exempt THEN 'REACHED' ELSE 'INSPECTING' END::"HitAndRunStatus",
            ${NOW}, $2::int, $3::float8, $4::int, $5::int,
            CASE WHEN x.exempt THEN 'EXEMPT'::"HitAndRunResolution" END,
            CASE WHEN x.exempt THEN ${NOW} END
     FROM snatches s
     JOIN torrents t ON t.id = s.torrent_id
     JOIN users u ON u.id = s.user_id
     CROSS JOIN LATERAL (SELECT u.role::text = ANY($6::text[]) AS exempt) x
     WHERE s.last_announce_at >= ${NOW} - make_interval(secs => $5::int)
       AND t.status = 'ACTIVE' AND t.uploader_id <> s.user_id AND t.size > 0
       AND s.actual_downloaded >= t.size * $7::float8
       AND NOT EXISTS (SELECT 1 FROM hit_and_runs h WHERE h.user_id = s.user_id AND h.torrent_id = s.torrent_id)
     ON CONFLICT (user_id, torrent_id) DO NOTHING
     RETURNING id, user_id, torrent_id, status`,
    [seconds(nowMs), hnr.minSeedSeconds, hnr.ratioExempt, hnr.prewarnSeconds, hnr.graceSeconds, hnr.exemptRoles, hnr.triggerFraction],
  );
  return changes(
    rows.filter((r) => r.status === 'INSPECTING'),
    'OPENED',
  );
}

/** Cases whose requirement is met become REACHED (UNREACHED ones too when `recoverable`). */
export async function reachCases(db: Database, nowMs: number, recoverable: boolean): Promise<CaseChange[]> {
  const from = recoverable ? `('INSPECTING', 'UNREACHED')` : `('INSPECTING')`;
  const rows = await db.query<CaseRow>(
    `UPDATE hit_and_runs h SET status = 'REACHED', resolved_at = ${NOW},
       resolution = (CASE WHEN s.seed_time >= h.required_seed_seconds THEN 'SEED_TIME' ELSE 'RATIO' END)::"HitAndRunResolution"
     FROM snatches s, torrents t
     WHERE h.status IN ${from} AND s.user_id = h.user_id AND s.torrent_id = h.torrent_id AND t.id = h.torrent_id
       AND ${REACHED_SQL}
     RETURNING h.id, h.user_id, h.torrent_id`,
    [seconds(nowMs)],
  );
  return changes(rows, 'REACHED');
}

/**
 * Absent users are warned, then failed: cases past their prewarn or grace time are read, the
 * users still in the swarm are left out, and the rest move in two guarded updates (the warning
 * first, so a case past both gets both, in order). A warning is taken back when the user
 * announced again after it, so every absence is warned before it fails.
 */
export async function judgeAbsences(db: Database, nowMs: number, hnr: HnrConfig, present: Presence): Promise<CaseChange[]> {
  const now = seconds(nowMs);
  await db.query(
    `UPDATE hit_and_runs h SET prewarned_at = NULL
     FROM snatches s
     WHERE h.status = 'INSPECTING' AND h.prewarned_at IS NOT NULL AND s.user_id = h.user_id AND s.torrent_id = h.torrent_id
       AND s.last_announce_at > h.prewarned_at`,
    [],
  );
  const due = await db.query<CaseRow>(
    `SELECT h.id, h.user_id, h.torrent_id
     FROM hit_and_runs h JOIN snatches s ON s.user_id = h.user_id AND s.torrent_id = h.torrent_id
     WHERE h.status = 'INSPECTING'
       AND ${ABSENT_SINCE} + make_interval(secs => (CASE WHEN h.prewarned_at IS NULL THEN h.prewarn_seconds ELSE h.grace_seconds END)::float8) <= ${NOW}`,
    [now],
  );
  if (due.length === 0) return [];
  const here = await present(due.map((r) => ({ userId: r.user_id, torrentId: r.torrent_id })));
  const absent = due.filter((r) => !here.has(`${r.user_id}:${r.torrent_id}`)).map((r) => r.id);
  if (absent.length === 0) return [];
  const warned = await db.query<CaseRow>(
    `UPDATE hit_and_runs h SET prewarned_at = ${NOW}
     FROM snatches s
     WHERE h.id = ANY($2::int[]) AND h.status = 'INSPECTING' AND h.prewarned_at IS NULL
       AND s.user_id = h.user_id AND s.torrent_id = h.torrent_id
       AND ${ABSENT_SINCE} + make_interval(secs => h.prewarn_seconds::float8) <= ${NOW}
     RETURNING h.id, h.user_id, h.torrent_id`,
    [now, absent],
  );
  const failed = await db.query<CaseRow>(
    `UPDATE hit_and_runs h SET status = 'UNREACHED', unreached_at = ${NOW},
       expires_at = CASE WHEN $3::int > 0 THEN ${NOW} + make_interval(secs => $3::int) END
     FROM snatches s, torrents t
     WHERE h.id = ANY($2::int[]) AND h.status = 'INSPECTING'
       AND s.user_id = h.user_id AND s.torrent_id = h.torrent_id AND t.id = h.torrent_id
       AND ${ABSENT_SINCE} + make_interval(secs => h.grace_seconds::float8) <= ${NOW}
       AND NOT ${REACHED_SQL}
     RETURNING h.id, h.user_id, h.torrent_id`,
    [now, absent, hnr.expireSeconds],
  );
  return [...changes(warned, 'PREWARNED'), ...changes(failed, 'UNREACHED')];
}

/** Unreached cases that count against users now: the leech-block query of HIT_AND_RUN (leech-blocks.ts). */
export function unreachedBlocksSql(hnr: HnrConfig): { sql: string; params: unknown[] } {
  const how = hnr.recoverable ? 'seed them to their requirement or pay bonus points on the site to clear them' : 'pay bonus points on the site to clear them';
  return {
    sql: `SELECT user_id, 'downloading is disabled: ' || COUNT(*) || ' unreached hit-and-runs (limit ' || $2::int || '); seeding still works: ' || $3::text AS message
          FROM hit_and_runs
          WHERE status = 'UNREACHED' AND (expires_at IS NULL OR expires_at > ${NOW})
          GROUP BY user_id HAVING COUNT(*) >= $2::int`,
    params: [hnr.maxUnreached, how],
  };
}

/** The case a user pays for or staff pardon: open ones only. */
function notClearable(status: string | undefined): RulesError {
  if (status === undefined) return new RulesError('NOT_FOUND', 'hit-and-run not found');
  return new RulesError('BAD_USER_INPUT', `this hit-and-run is ${status.toLowerCase()}: only inspecting or unreached ones can be cleared`);
}

/**
 * Clears the user's own open case for `price` bonus points: the debit, the case and the ledger
 * row in one statement, so concurrent payments never overspend or pay twice.
 */
export async function payCase(db: Database, nowMs: number, input: { userId: number; caseId: number; price: number }): Promise<{ balance: number; torrentId: number }> {
  if (!(input.price > 0)) throw new RulesError('BAD_USER_INPUT', 'hit-and-runs cannot be cleared with bonus points on this site');
  const rows = await db.query<{ status: string; torrent_id: number; balance: number | null }>(
    `WITH c AS (
       SELECT id, user_id, torrent_id, status FROM hit_and_runs WHERE id = $2::int AND user_id = $3::int FOR UPDATE
     ), debit AS (
       UPDATE users SET bonus = bonus - $4::float8
       WHERE id = $3::int AND bonus >= $4::float8 AND EXISTS (SELECT 1 FROM c WHERE c.status IN ('INSPECTING', 'UNREACHED'))
       RETURNING id, bonus
     ), pardon AS (
       UPDATE hit_and_runs h SET status = 'PARDONED', resolution = 'PAID', resolved_at = ${NOW}
       FROM c WHERE h.id = c.id AND EXISTS (SELECT 1 FROM debit)
       RETURNING h.id
     ), ledger AS (
       INSERT INTO bonus_transactions (user_id, amount, kind, torrent_id, note, created_at)
       SELECT debit.id, -$4::float8, 'SHOP', c.torrent_id, 'hit-and-run #' || c.id || ' cleared', ${NOW} FROM debit, c
       RETURNING id
     )
     SELECT c.status, c.torrent_id, (SELECT bonus FROM debit) AS balance FROM c`,
    [seconds(nowMs), input.caseId, input.userId, input.price],
  );
  const row = rows[0];
  if (!row || (row.status !== 'INSPECTING' && row.status !== 'UNREACHED')) throw notClearable(row?.status);
  if (row.balance === null) throw new RulesError('BAD_USER_INPUT', `not enough bonus points: clearing a hit-and-run costs ${input.price}`);
  return { balance: Number(row.balance), torrentId: row.torrent_id };
}

/** Staff pardon an open case. */
export async function pardonCase(db: Database, nowMs: number, caseId: number): Promise<CaseChange> {
  const rows = await db.query<CaseRow>(
    `UPDATE hit_and_runs h SET status = 'PARDONED', resolution = 'STAFF', resolved_at = ${NOW}
     WHERE h.id = $2::int AND h.status IN ('INSPECTING', 'UNREACHED')
     RETURNING h.id, h.user_id, h.torrent_id`,
    [seconds(nowMs), caseId],
  );
  const row = rows[0];
  if (row) return { id: row.id, userId: row.user_id, torrentId: row.torrent_id, change: 'PARDONED' };
  const found = await db.query<{ status: string }>('SELECT status FROM hit_and_runs WHERE id = $1', [caseId]);
  throw notClearable(found[0]?.status);
}
