/**
 * Writes drained ledger batches to the database in one transaction of a few set-based
 * statements (unnest arrays), whatever the batch size: snatches upserted (credited and raw
 * bytes), first completions recorded once per user and torrent at the announce that reported them, users' totals and bonus raised, and the swarm counts of
 * changed torrents mirrored for SQL sorting. Runs on a timer and once more on shutdown.
 */
import type { Database } from '../db/open-database.ts';
import type { Logger } from '../shared/logger.ts';
import type { CreditSource, PendingCredit } from './credit-source.ts';
import { concatRows, S_BONUS, S_COMPLETED_AT, S_DOWNLOADED, S_LAST, S_LEECH, S_RAW_DOWNLOADED, S_RAW_UPLOADED, S_SEED, S_UPLOADED, SUM_FIELDS, sliceRows } from './credit-rows.ts';
import type { LedgerBatch } from './ledger.ts';

export interface FlushDeps {
  db: Database;
  source: CreditSource;
  logger: Logger;
  /** Current swarm counts for torrent ids (mirrored into torrents.seeders/leechers). */
  swarmCounts(torrentIds: number[]): Promise<Array<{ seeders: number; leechers: number }>>;
  /** Called with the new times_completed of torrents that gained completions. */
  onCompleted(updates: Array<{ id: number; completed: number }>): void;
  /** Entries per transaction; defaults to the backend's FLUSH_CHUNK (benchmarks vary it). */
  chunkSize?: number;
  /** Unix ms, the clock the credit source stamps `oldest` with (default Date.now). */
  nowMs?: () => number;
}

export interface FlushResult {
  entries: number;
  completions: number;
}

/**
 * Writes one batch in one transaction, on one connection, with plain parameterised SQL: the
 * arrays go to the driver as they are (Prisma's raw queries would serialise every element
 * through its query compiler, several times the cost for a 10,000-entry batch). With a
 * `batchId`, a batch already applied (a retry after the process died between the commit and
 * acknowledging the batch) writes nothing.
 */
export async function writeBatch(
  db: Database,
  batch: LedgerBatch,
  counts: Array<{ seeders: number; leechers: number }>,
  batchId: string | null = null,
): Promise<{ completions: Array<{ id: number; completed: number }> }> {
  const r = batch.rows;
  const n = r.length;
  const userIds = Array.from(r.userId);
  const torrentIds = Array.from(r.torrentId);
  // Integers beyond 2^31 go to bigint columns as decimal strings.
  const column = (field: number, asInt: boolean) => {
    const out = new Array<string | number>(n);
    for (let i = 0; i < n; i++) {
      const v = r.sums[i * SUM_FIELDS + field] as number;
      out[i] = asInt ? String(Math.round(v)) : v;
    }
    return out;
  };
  const up = column(S_UPLOADED, true);
  const down = column(S_DOWNLOADED, true);
  const rawUp = column(S_RAW_UPLOADED, true);
  const rawDown = column(S_RAW_DOWNLOADED, true);
  const seed = column(S_SEED, true);
  const leech = column(S_LEECH, true);
  const bonus = column(S_BONUS, false);
  const last = column(S_LAST, false);
  const doneUsers: number[] = [];
  const doneTorrents: number[] = [];
  const doneAt: number[] = [];
  for (let i = 0; i < n; i++) {
    if (r.completed[i] === 1) {
      doneUsers.push(r.userId[i] as number);
      doneTorrents.push(r.torrentId[i] as number);
      doneAt.push(r.sums[i * SUM_FIELDS + S_COMPLETED_AT] as number);
    }
  }
  return db.withSession(async (s) => {
    // PGlite holds every page in memory: at the default random_page_cost (4, for disks) its
    // planner prefers scanning all users to looking up a chunk's few hundred by key.
    await s.exec(db.kind === 'pglite' ? 'BEGIN; SET LOCAL random_page_cost = 1.1' : 'BEGIN');
    try {
      if (batchId !== null) {
        const inserted = await s.query('INSERT INTO credit_batches (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id', [batchId]);
        if (inserted.length === 0) {
          await s.exec('ROLLBACK');
          return { completions: [] };
        }
      }
      if (n > 0) {
        // One statement: users' totals raised (the CTE), and the snatches of the users it found
        // upserted; entries of deleted users or torrents are skipped. One set of arrays, parsed
        // once, and no second lookup of each user. Torrents are looked up by key (`= ANY`):
        // otherwise the planner may merge-join the chunk against the whole torrents index.
        await s.query(
          `WITH v AS MATERIALIZED (
             SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::float8[], $8::float8[], $9::bigint[], $10::bigint[])
               AS v(user_id, torrent_id, up, down, seed, leech, bonus, last, raw_up, raw_down)
           ), credited AS (
             UPDATE users SET
               uploaded = users.uploaded + a.up,
               downloaded = users.downloaded + a.down,
               bonus = users.bonus + a.bonus,
               last_announce_at = GREATEST(COALESCE(users.last_announce_at, a.last), a.last)
             FROM (
               SELECT v.user_id, SUM(v.up)::bigint AS up, SUM(v.down)::bigint AS down, SUM(v.bonus) AS bonus, to_timestamp(MAX(v.last)) AT TIME ZONE 'UTC' AS last
               FROM v GROUP BY v.user_id
             ) a
             WHERE users.id = a.user_id
             RETURNING users.id
           )
           INSERT INTO snatches (user_id, torrent_id, uploaded, downloaded, actual_uploaded, actual_downloaded, seed_time, leech_time, last_announce_at)
           SELECT v.user_id, v.torrent_id, v.up, v.down, v.raw_up, v.raw_down, v.seed, v.leech, to_timestamp(v.last) AT TIME ZONE 'UTC'
           FROM v
           JOIN credited c ON c.id = v.user_id
           JOIN torrents t ON t.id = v.torrent_id AND t.id = ANY($2::int[])
           ON CONFLICT (user_id, torrent_id) DO UPDATE SET
             uploaded = snatches.uploaded + EXCLUDED.uploaded,
             downloaded = snatches.downloaded + EXCLUDED.downloaded,
             actual_uploaded = snatches.actual_uploaded + EXCLUDED.actual_uploaded,
             actual_downloaded = snatches.actual_downloaded + EXCLUDED.actual_downloaded,
             seed_time = snatches.seed_time + EXCLUDED.seed_time,
             leech_time = snatches.leech_time + EXCLUDED.leech_time,
             last_announce_at = GREATEST(snatches.last_announce_at, EXCLUDED.last_announce_at)`,
          [userIds, torrentIds, up, down, seed, leech, bonus, last, rawUp, rawDown],
        );
      }
      let completions: Array<{ id: number; completed: number }> = [];
      if (doneUsers.length > 0) {
        completions = await s.query<{ id: number; completed: number }>(
          `WITH firsts AS (
             UPDATE snatches SET completed_at = to_timestamp(v.at) AT TIME ZONE 'UTC'
             FROM unnest($1::int[], $2::int[], $3::float8[]) AS v(user_id, torrent_id, at)
             WHERE snatches.user_id = v.user_id AND snatches.torrent_id = v.torrent_id AND snatches.completed_at IS NULL
             RETURNING snatches.torrent_id
           ), per_torrent AS (
             SELECT torrent_id, COUNT(*)::int AS n FROM firsts GROUP BY torrent_id
           )
           UPDATE torrents SET times_completed = torrents.times_completed + per_torrent.n
           FROM per_torrent WHERE torrents.id = per_torrent.torrent_id
           RETURNING torrents.id, torrents.times_completed AS completed`,
          [doneUsers, doneTorrents, doneAt],
        );
      }
      if (batch.torrents.length > 0) {
        await s.query(
          `UPDATE torrents SET seeders = v.seeders, leechers = v.leechers
           FROM unnest($1::int[], $2::int[], $3::int[]) AS v(id, seeders, leechers)
           WHERE torrents.id = v.id AND (torrents.seeders <> v.seeders OR torrents.leechers <> v.leechers)`,
          [batch.torrents, counts.map((c) => c.seeders), counts.map((c) => c.leechers)],
        );
      }
      await s.exec('COMMIT');
      return { completions };
    } catch (err) {
      await s.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/**
 * Entries per flush transaction. Neither backend runs SQL on the event loop (PGlite has its
 * worker thread), so a chunk only bounds how long the flush holds the database: other
 * statements (a cache miss, a GraphQL query) wait behind the chunk in progress, about 40 ms for
 * 1,000 entries on PGlite. Each chunk has a fixed cost (planning, round trips, the torrents it
 * carries), so smaller chunks cost more CPU per entry (bench/flush-cost.ts: 200 -> 1000 entries
 * took PGlite from ~56 to ~38 us per entry).
 */
const FLUSH_CHUNK = { pglite: 1000, postgres: 2000 } as const;

function chunkBatch(batch: LedgerBatch, size: number): LedgerBatch[] {
  const n = Math.max(1, Math.ceil(batch.rows.length / size), Math.ceil(batch.torrents.length / size));
  return Array.from({ length: n }, (_, i) => ({
    rows: sliceRows(batch.rows, i * size, (i + 1) * size),
    torrents: batch.torrents.slice(i * size, (i + 1) * size),
    oldest: batch.oldest,
  }));
}

function mergeBatches(batches: LedgerBatch[]): LedgerBatch {
  return { rows: concatRows(batches.map((b) => b.rows)), torrents: batches.flatMap((b) => b.torrents), oldest: batches[0]?.oldest ?? null };
}

export class AccountingFlusher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<FlushResult> | null = null;
  /** Unix ms of the last successful flush. */
  lastSuccess = Date.now();
  /** Credit taken from the source and not yet written: the write in progress. */
  private inFlight: { entries: number; oldest: number | null } | null = null;
  /**
   * Called after a batch was written (live `myTransfer` and `completed` updates); must not throw.
   * `userIds` is the written chunk's own column (never changed afterwards), not a copy.
   */
  onFlushed?: (flushed: { userIds: Iterable<number>; completions: Array<{ id: number; completed: number }> }) => void;
  /**
   * Other counts kept in memory on the announce path and written at each flush, after the credit
   * (suspicion-log.ts); must not throw (it keeps what it could not write).
   */
  alsoWrite?: () => Promise<void>;

  constructor(private readonly deps: FlushDeps) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      void this.flush().catch(() => undefined);
    }, intervalMs);
    this.timer.unref();
  }

  /** Credit not yet in the database: waiting in the source, or taken by the write in progress. */
  pendingEntries(): number {
    return this.deps.source.pending() + (this.inFlight?.entries ?? 0);
  }

  /** Age in ms of the oldest credit not yet in the database, including the write in progress. */
  lagMs(): number {
    const oldest = this.inFlight?.oldest ?? null;
    const inFlight = oldest === null ? 0 : (this.deps.nowMs ?? Date.now)() - oldest;
    return Math.max(this.deps.source.lagMs(), inFlight);
  }

  /** Writes everything pending; concurrent calls share one write. */
  flush(): Promise<FlushResult> {
    if (this.running) return this.running.then(() => this.flush());
    this.running = this.flushOnce()
      .finally(() => this.alsoWrite?.())
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async flushOnce(): Promise<FlushResult> {
    const pending = await this.deps.source.take();
    if (!pending) return { entries: 0, completions: 0 };
    const { batch } = pending;
    if (batch.rows.length === 0 && batch.torrents.length === 0) {
      await pending.done();
      this.lastSuccess = Date.now();
      return { entries: 0, completions: 0 };
    }
    // Written in chunks, each its own transaction, yielding in between so that other statements
    // waiting for the database get their turn. Chunks of a retried batch keep their ids (the
    // chunk size of a backend never changes between attempts).
    const chunks = chunkBatch(batch, this.deps.chunkSize ?? FLUSH_CHUNK[this.deps.db.kind]);
    const inFlight = { entries: batch.rows.length, oldest: batch.oldest };
    this.inFlight = inFlight;
    try {
      return await this.writeChunks(pending, chunks, inFlight);
    } finally {
      this.inFlight = null;
    }
  }

  private async writeChunks(pending: PendingCredit, chunks: LedgerBatch[], inFlight: { entries: number }): Promise<FlushResult> {
    const batch = pending.batch;
    let written = 0;
    let completed = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as LedgerBatch;
      try {
        const counts = await this.deps.swarmCounts(chunk.torrents);
        const { completions } = await writeBatch(this.deps.db, chunk, counts, pending.id === null ? null : `${pending.id}#${i}`);
        this.deps.onCompleted(completions);
        this.onFlushed?.({ userIds: chunk.rows.userId, completions });
        written += chunk.rows.length;
        inFlight.entries -= chunk.rows.length;
        completed += completions.length;
      } catch (err) {
        inFlight.entries = 0; // back in the source: counted there
        await pending.failed(mergeBatches(chunks.slice(i))).catch(() => undefined);
        this.deps.logger.error({ err, entries: batch.rows.length - written }, 'accounting flush failed; credit kept for the next attempt');
        throw err;
      }
      if (i + 1 < chunks.length) await new Promise((resolve) => setImmediate(resolve));
    }
    await pending.done();
    this.lastSuccess = Date.now();
    return { entries: written, completions: completed };
  }

  async stop(): Promise<FlushResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.flush();
  }
}
