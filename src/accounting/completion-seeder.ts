/**
 * Gives swarms their live completion count from the database (SwarmStore.seedCompletions):
 * the first announce of a torrent whose count the store does not know yet asks for it, and
 * requests are read in batches, one statement per batch (a torrent's count and completers in
 * one snapshot), off the announce path. Until then the announce answers the count the torrent
 * cache holds, which is the database's.
 */
import type { CachedTorrent, TorrentRegistry } from '../cache/torrent-registry.ts';
import type { Database } from '../db/open-database.ts';
import type { Logger } from '../shared/logger.ts';
import type { SwarmStore } from '../swarm/swarm-store.ts';

/** Torrents read per statement. */
const BATCH = 500;
/** After a failed read, the next waits this long (a database that is down is not asked per announce). */
const RETRY_MS = 5_000;

export class CompletionSeeder {
  private readonly waiting = new Map<number, string>();
  private readonly inFlight = new Set<number>();
  private running: Promise<void> | null = null;
  private retryAt = 0;

  constructor(
    private readonly db: Database,
    private readonly swarm: SwarmStore,
    private readonly torrents: TorrentRegistry,
    private readonly logger: Logger,
  ) {}

  /** Asks for the torrent's count to be seeded; repeated asks while it is pending cost a lookup. */
  request(torrent: CachedTorrent): void {
    if (this.waiting.has(torrent.id) || this.inFlight.has(torrent.id)) return;
    this.waiting.set(torrent.id, torrent.keys[0] as string);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when everything asked for so far was seeded (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // Let the announces of this turn ask too: one statement for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    const wait = this.retryAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    while (this.waiting.size > 0) {
      const batch = [...this.waiting].slice(0, BATCH);
      for (const [id] of batch) {
        this.waiting.delete(id);
        this.inFlight.add(id);
      }
      try {
        await this.seed(new Map(batch));
      } catch (err) {
        this.logger.error({ err, torrents: batch.length }, 'reading completion counts failed; the announces ask again');
        this.retryAt = Date.now() + RETRY_MS;
        return;
      } finally {
        for (const [id] of batch) this.inFlight.delete(id);
      }
    }
  }

  private async seed(keys: Map<number, string>): Promise<void> {
    const rows = await this.db.query<{ id: number; completed: number; users: number[] }>(
      `SELECT t.id, t.times_completed AS completed,
         COALESCE(array_agg(s.user_id) FILTER (WHERE s.user_id IS NOT NULL), '{}') AS users
       FROM torrents t
       LEFT JOIN snatches s ON s.torrent_id = t.id AND s.completed_at IS NOT NULL
       WHERE t.id = ANY($1::int[])
       GROUP BY t.id`,
      [[...keys.keys()]],
    );
    for (const row of rows) {
      const key = keys.get(row.id);
      if (key === undefined) continue;
      const n = await this.swarm.seedCompletions(key, row.completed, row.users);
      this.torrents.setCompleted(row.id, n);
    }
  }
}
