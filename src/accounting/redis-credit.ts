/**
 * Credit held in Redis (REDIS_URL): the announce script adds each session's credit to its
 * swarm's pending-credit hash, atomically with the baseline, so a killed process loses none.
 * Any process may flush, one at a time (a lock with expiry). A flush renames the pending
 * hashes of the dirty swarms to batch keys, records the batch, reads it, writes it to the
 * database under its batch id (applied exactly once, see flush.ts), then deletes it. A flusher
 * that dies mid-way leaves the batch recorded; the next one finishes it.
 */
import { randomBytes } from 'node:crypto';
import type { TorrentRegistry } from '../cache/torrent-registry.ts';
import type { RedisSwarmStore } from '../swarm/stores/redis.ts';
import type { CreditSource, PendingCredit } from './credit-source.ts';
import { type LedgerEntry, rowsFromEntries } from './credit-rows.ts';

const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const MAX_SWARMS_PER_BATCH = 5000;
/** How often to look for pending credit whose dirty mark was lost (process killed mid-announce). */
const RESCAN_EVERY_MS = 60_000;

interface Recorded {
  hexes: string[];
}

export class RedisCreditSource implements CreditSource {
  private lastTake = Date.now();
  private lastRescan = 0;
  private dirtyCount = 0;

  constructor(
    private readonly store: RedisSwarmStore,
    private readonly torrents: TorrentRegistry,
    private readonly lockTtlMs = 60_000,
  ) {}

  private get redis() {
    return this.store.redis;
  }

  private key(name: string): string {
    return `${this.store.prefix}:${name}`;
  }

  private batchKey(hex: string, batchId: string): string {
    return `${this.store.creditKey(hex)}:${batchId}`;
  }

  pending(): number {
    return this.dirtyCount;
  }

  lagMs(): number {
    return Date.now() - this.lastTake;
  }

  private async rescan(): Promise<void> {
    const pattern = `${this.store.prefix}:{*}:c`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const hexes = keys.map((k) => /\{([0-9a-f]{40})\}/.exec(k)?.[1]).filter((h): h is string => h !== undefined);
      if (hexes.length > 0) await this.redis.sadd(this.store.dirtyKey, ...hexes);
    } while (cursor !== '0');
  }

  async take(): Promise<PendingCredit | null> {
    const token = randomBytes(8).toString('hex');
    const locked = await this.redis.set(this.key('flush-lock'), token, 'PX', this.lockTtlMs, 'NX');
    if (locked !== 'OK') return null;
    const release = async () => {
      await this.redis.eval(RELEASE_LUA, 1, this.key('flush-lock'), token);
    };
    try {
      const flushing = this.key('flushing');
      const leftover = await this.redis.hgetall(flushing);
      let batchId: string;
      let recorded: Recorded;
      const first = Object.entries(leftover)[0];
      if (first) {
        [batchId, recorded] = [first[0], JSON.parse(first[1]) as Recorded];
      } else {
        if (Date.now() - this.lastRescan > RESCAN_EVERY_MS) {
          this.lastRescan = Date.now();
          await this.rescan();
        }
        const hexes = (await this.redis.spop(this.store.dirtyKey, MAX_SWARMS_PER_BATCH)) ?? [];
        batchId = `${Date.now()}-${randomBytes(6).toString('hex')}`;
        recorded = { hexes };
        if (hexes.length > 0) {
          await this.redis.hset(flushing, batchId, JSON.stringify(recorded));
          const p = this.redis.pipeline();
          for (const hex of hexes) p.renamenx(this.store.creditKey(hex), this.batchKey(hex, batchId));
          await p.exec(); // "no such key" for count-only swarms is expected
        }
      }
      this.dirtyCount = await this.redis.scard(this.store.dirtyKey);
      const read = this.redis.pipeline();
      for (const hex of recorded.hexes) read.hgetall(this.batchKey(hex, batchId));
      const hashes = ((await read.exec()) ?? []).map((r) => (r[1] ?? {}) as Record<string, string>);
      const entries: LedgerEntry[] = [];
      const torrents = new Set<number>();
      recorded.hexes.forEach((hex, i) => {
        const h = hashes[i] ?? {};
        const tid = h.tid !== undefined ? Number(h.tid) : this.torrents.peek(Buffer.from(hex, 'hex').toString('latin1'))?.id;
        if (tid === undefined) return;
        torrents.add(tid);
        const byUser = new Map<number, LedgerEntry>();
        for (const [field, value] of Object.entries(h)) {
          const m = /^(\d+):([udUDslbct])$/.exec(field);
          if (!m) continue;
          const userId = Number(m[1]);
          let e = byUser.get(userId);
          if (!e) {
            e = { userId, torrentId: tid, uploaded: 0, downloaded: 0, rawUploaded: 0, rawDownloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false, lastAnnounce: 0, completedAt: 0 };
            byUser.set(userId, e);
          }
          const v = Number(value);
          switch (m[2]) {
            case 'u':
              e.uploaded = v;
              break;
            case 'd':
              e.downloaded = v;
              break;
            case 'U':
              e.rawUploaded = v;
              break;
            case 'D':
              e.rawDownloaded = v;
              break;
            case 's':
              e.seedSeconds = v;
              break;
            case 'l':
              e.leechSeconds = v;
              break;
            case 'b':
              e.bonus = v;
              break;
            case 'c':
              // The completing announce's time (1 in batches written before it was kept).
              e.completed = v > 0;
              e.completedAt = v;
              break;
            case 't':
              e.lastAnnounce = v;
              break;
          }
        }
        for (const e of byUser.values()) {
          if (e.lastAnnounce === 0) continue;
          if (e.completed && e.completedAt <= 1) e.completedAt = e.lastAnnounce;
          entries.push(e);
        }
      });
      this.lastTake = Date.now();
      return {
        batch: { rows: rowsFromEntries(entries), torrents: [...torrents], oldest: null },
        id: batchId,
        done: async () => {
          const p = this.redis.pipeline();
          for (const hex of recorded.hexes) p.del(this.batchKey(hex, batchId));
          p.hdel(flushing, batchId);
          await p.exec();
          await release();
        },
        // The batch stays recorded and renamed: the next flush (any process) retries all of it;
        // chunks already written are recognised by their ids and skipped.
        failed: release,
      };
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
  }
}
