/**
 * Writes drained ledger batches to the database in one transaction of a few set-based
 * statements (unnest arrays), whatever the batch size: snatches upserted, first completions
 * recorded once per user and torrent, users' totals and bonus raised, and the swarm counts of
 * changed torrents mirrored for SQL sorting. Runs on a timer and once more on shutdown.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../shared/logger.ts';
import type { CreditSource } from './credit-source.ts';
import type { LedgerBatch } from './ledger.ts';

export interface FlushDeps {
  prisma: PrismaClient;
  source: CreditSource;
  logger: Logger;
  /** Current swarm counts for torrent ids (mirrored into torrents.seeders/leechers). */
  swarmCounts(torrentIds: number[]): Promise<Array<{ seeders: number; leechers: number }>>;
  /** Called with the new times_completed of torrents that gained completions. */
  onCompleted(updates: Array<{ id: number; completed: number }>): void;
}

export interface FlushResult {
  entries: number;
  completions: number;
}

/**
 * Writes one batch in one transaction. With a `batchId`, a batch already applied (a retry
 * after the process died between the commit and acknowledging the batch) writes nothing.
 */
export async function writeBatch(
  prisma: PrismaClient,
  batch: LedgerBatch,
  counts: Array<{ seeders: number; leechers: number }>,
  batchId: string | null = null,
): Promise<{ completions: Array<{ id: number; completed: number }> }> {
  const e = batch.entries;
  const userIds = e.map((x) => x.userId);
  const torrentIds = e.map((x) => x.torrentId);
  const up = e.map((x) => BigInt(Math.round(x.uploaded)));
  const down = e.map((x) => BigInt(Math.round(x.downloaded)));
  const seed = e.map((x) => BigInt(Math.round(x.seedSeconds)));
  const leech = e.map((x) => BigInt(Math.round(x.leechSeconds)));
  const bonus = e.map((x) => x.bonus);
  const last = e.map((x) => new Date(x.lastAnnounce * 1000));
  const doneUsers = e.filter((x) => x.completed).map((x) => x.userId);
  const doneTorrents = e.filter((x) => x.completed).map((x) => x.torrentId);
  return prisma.$transaction(async (tx) => {
    if (batchId !== null) {
      const inserted = await tx.$executeRaw`INSERT INTO credit_batches (id) VALUES (${batchId}) ON CONFLICT (id) DO NOTHING`;
      if (inserted === 0) return { completions: [] };
    }
    if (e.length > 0) {
      await tx.$executeRaw`
        INSERT INTO snatches (user_id, torrent_id, uploaded, downloaded, seed_time, leech_time, last_announce_at)
        SELECT v.user_id, v.torrent_id, v.up, v.down, v.seed, v.leech, v.last
        FROM unnest(${userIds}::int[], ${torrentIds}::int[], ${up}::bigint[], ${down}::bigint[], ${seed}::bigint[], ${leech}::bigint[], ${last}::timestamp[])
          AS v(user_id, torrent_id, up, down, seed, leech, last)
        JOIN users u ON u.id = v.user_id
        JOIN torrents t ON t.id = v.torrent_id
        ON CONFLICT (user_id, torrent_id) DO UPDATE SET
          uploaded = snatches.uploaded + EXCLUDED.uploaded,
          downloaded = snatches.downloaded + EXCLUDED.downloaded,
          seed_time = snatches.seed_time + EXCLUDED.seed_time,
          leech_time = snatches.leech_time + EXCLUDED.leech_time,
          last_announce_at = GREATEST(snatches.last_announce_at, EXCLUDED.last_announce_at)`;
      await tx.$executeRaw`
        UPDATE users SET
          uploaded = users.uploaded + s.up,
          downloaded = users.downloaded + s.down,
          bonus = users.bonus + s.bonus,
          last_announce_at = GREATEST(COALESCE(users.last_announce_at, s.last), s.last)
        FROM (
          SELECT v.user_id, SUM(v.up)::bigint AS up, SUM(v.down)::bigint AS down, SUM(v.bonus) AS bonus, MAX(v.last) AS last
          FROM unnest(${userIds}::int[], ${up}::bigint[], ${down}::bigint[], ${bonus}::float8[], ${last}::timestamp[]) AS v(user_id, up, down, bonus, last)
          GROUP BY v.user_id
        ) s
        WHERE users.id = s.user_id`;
    }
    let completions: Array<{ id: number; completed: number }> = [];
    if (doneUsers.length > 0) {
      completions = await tx.$queryRaw<Array<{ id: number; completed: number }>>`
        WITH firsts AS (
          UPDATE snatches SET completed_at = now()
          FROM unnest(${doneUsers}::int[], ${doneTorrents}::int[]) AS v(user_id, torrent_id)
          WHERE snatches.user_id = v.user_id AND snatches.torrent_id = v.torrent_id AND snatches.completed_at IS NULL
          RETURNING snatches.torrent_id
        ), per_torrent AS (
          SELECT torrent_id, COUNT(*)::int AS n FROM firsts GROUP BY torrent_id
        )
        UPDATE torrents SET times_completed = torrents.times_completed + per_torrent.n
        FROM per_torrent WHERE torrents.id = per_torrent.torrent_id
        RETURNING torrents.id, torrents.times_completed AS completed`;
    }
    if (batch.torrents.length > 0) {
      const seeders = counts.map((c) => c.seeders);
      const leechers = counts.map((c) => c.leechers);
      await tx.$executeRaw`
        UPDATE torrents SET seeders = v.seeders, leechers = v.leechers
        FROM unnest(${batch.torrents}::int[], ${seeders}::int[], ${leechers}::int[]) AS v(id, seeders, leechers)
        WHERE torrents.id = v.id AND (torrents.seeders <> v.seeders OR torrents.leechers <> v.leechers)`;
    }
    return { completions };
  });
}

export class AccountingFlusher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<FlushResult> | null = null;
  /** Unix ms of the last successful flush. */
  lastSuccess = Date.now();
  /** Called after a batch was written (live `myTransfer` and `completed` updates); must not throw. */
  onFlushed?: (flushed: { userIds: number[]; completions: Array<{ id: number; completed: number }> }) => void;

  constructor(private readonly deps: FlushDeps) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      void this.flush().catch(() => undefined);
    }, intervalMs);
    this.timer.unref();
  }

  /** Writes everything pending; concurrent calls share one write. */
  flush(): Promise<FlushResult> {
    if (this.running) return this.running.then(() => this.flush());
    this.running = this.flushOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async flushOnce(): Promise<FlushResult> {
    const pending = await this.deps.source.take();
    if (!pending) return { entries: 0, completions: 0 };
    const { batch } = pending;
    if (batch.entries.length === 0 && batch.torrents.length === 0) {
      await pending.done();
      this.lastSuccess = Date.now();
      return { entries: 0, completions: 0 };
    }
    try {
      const counts = await this.deps.swarmCounts(batch.torrents);
      const { completions } = await writeBatch(this.deps.prisma, batch, counts, pending.id);
      await pending.done();
      this.deps.onCompleted(completions);
      this.lastSuccess = Date.now();
      this.onFlushed?.({ userIds: batch.entries.map((e) => e.userId), completions });
      return { entries: batch.entries.length, completions: completions.length };
    } catch (err) {
      await pending.failed().catch(() => undefined);
      this.deps.logger.error({ err, entries: batch.entries.length }, 'accounting flush failed; credit kept for the next attempt');
      throw err;
    }
  }

  async stop(): Promise<FlushResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.flush();
  }
}
