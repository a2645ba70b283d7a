/**
 * Redis swarm store: lets several server processes share swarms (REDIS_URL).
 *
 * Each announce is one Lua script (redis-announce.lua): atomic, one round trip. All keys of a
 * swarm share the hash tag `{<info hash hex>}`, so the store works on Redis Cluster. Peers
 * expire server-side: each announce drops a few stale sessions of its swarm, and `sweep` (run
 * by whichever process takes the sweep lock for the minute) drops the rest; a swarm's keys go
 * with its last session, since Redis deletes empty keys. Site-wide
 * totals and the busiest-swarm index are kept beside the swarms (`<prefix>:totals`,
 * `<prefix>:sizes`), updated only when a swarm's membership changed.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { bytesToIp } from '../../tracker/protocol/ip.ts';
import type { AnnounceResult, PeerAnnounce, PeerWant, PreviousSession, StoreCredit, SwarmCounts, SwarmPeer, SwarmScrape, SwarmStore, SwarmTotals } from '../swarm-store.ts';

const ANNOUNCE_LUA = readFileSync(new URL('./redis-announce.lua', import.meta.url), 'utf8');
const REMOVE_LUA = readFileSync(new URL('./redis-remove.lua', import.meta.url), 'utf8');
const SEED_COMPLETIONS_LUA = readFileSync(new URL('./redis-seed-completions.lua', import.meta.url), 'utf8');
/** Seconds a swarm's completion count and completers are kept without a completion; then seeded again from the database. */
const COMPLETIONS_KEPT_SECONDS = 7 * 86_400;

type Reply = Array<Buffer | number>;

interface ScriptedRedis extends Redis {
  otAnnounceBuffer(...args: Array<string | Buffer | number>): Promise<Reply>;
  otRemoveBuffer(...args: Array<string | Buffer | number>): Promise<Reply>;
  otSeedCompletions(...args: Array<string | Buffer | number>): Promise<number>;
}

export interface RedisStoreOptions {
  url: string;
  peerTtl: number;
  /** Key prefix, so tests and several sites can share one Redis. */
  prefix?: string;
}

function sid(peerId: string, userId: number, keyHash: number): Buffer {
  const b = Buffer.allocUnsafe(28);
  b.write(peerId, 0, 'latin1');
  b.writeInt32BE(userId | 0, 20);
  b.writeUInt32BE(keyHash >>> 0, 24);
  return b;
}

function num(v: Buffer | number | undefined): number {
  if (typeof v === 'number') return v;
  return v === undefined ? 0 : Number(v.toString('latin1'));
}

function buf(v: Buffer | number | undefined): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
}

/** `othersLeeching`: the announce script's answer; a removal has none (it credits nothing). */
function previousFrom(r: Reply, othersLeeching: boolean): PreviousSession | null {
  if (num(r[0]) === 0) return null;
  return { uploaded: num(r[1]), downloaded: num(r[2]), seeder: num(r[3]) === 1, everLeecher: num(r[4]) === 1, lastSeen: num(r[5]), othersLeeching };
}

export class RedisSwarmStore implements SwarmStore {
  readonly recordsCredit = true;
  readonly redis: ScriptedRedis;
  readonly prefix: string;
  private readonly peerTtl: number;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.prefix ?? 'ot';
    this.peerTtl = options.peerTtl;
    this.redis = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 2, enableAutoPipelining: true }) as ScriptedRedis;
    this.redis.defineCommand('otAnnounce', { numberOfKeys: 10, lua: ANNOUNCE_LUA });
    this.redis.defineCommand('otRemove', { numberOfKeys: 6, lua: REMOVE_LUA });
    this.redis.defineCommand('otSeedCompletions', { numberOfKeys: 2, lua: SEED_COMPLETIONS_LUA });
  }

  private keys(hex: string): string[] {
    const t = `${this.prefix}:{${hex}}`;
    return [`${t}:p`, `${t}:s`, `${t}:l`, `${t}:rs`, `${t}:rl`, `${t}:t`];
  }

  /** The swarm's pending-credit hash (drained by accounting/redis-credit.ts). */
  creditKey(hex: string): string {
    return `${this.prefix}:{${hex}}:c`;
  }

  /** The swarm's leecher marks (redis-announce.lua: when it last had one and two leechers). */
  private marksKey(hex: string): string {
    return `${this.prefix}:{${hex}}:m`;
  }

  /** The swarm's completers (set of user ids) and times completed (redis-announce.lua). */
  private completionKeys(hex: string): [string, string] {
    return [`${this.prefix}:{${hex}}:cu`, `${this.prefix}:{${hex}}:cn`];
  }

  /** Set of swarms (hex) with credit or count changes not yet flushed. */
  get dirtyKey(): string {
    return `${this.prefix}:dirty`;
  }

  /** Keeps the site totals and the size index in step after a membership change. */
  private async account(hex: string, dPeers: number, dSeeders: number, size: number): Promise<void> {
    if (dPeers === 0 && dSeeders === 0) return;
    const m = this.redis.multi();
    if (dPeers !== 0) m.hincrby(`${this.prefix}:totals`, 'peers', dPeers);
    if (dSeeders !== 0) m.hincrby(`${this.prefix}:totals`, 'seeders', dSeeders);
    if (size > 0) m.zadd(`${this.prefix}:sizes`, size, hex);
    else m.zrem(`${this.prefix}:sizes`, hex);
    await m.exec();
  }

  async announce(peer: PeerAnnounce, want: PeerWant, credit?: StoreCredit): Promise<AnnounceResult> {
    const hex = Buffer.from(peer.infoHash, 'latin1').toString('hex');
    const r = await this.redis.otAnnounceBuffer(
      ...this.keys(hex),
      this.creditKey(hex),
      this.marksKey(hex),
      ...this.completionKeys(hex),
      sid(peer.peerId, peer.userId, peer.keyHash),
      peer.now,
      peer.event,
      peer.ip ?? '',
      peer.port,
      String(peer.uploaded),
      String(peer.downloaded),
      peer.left,
      want.numwant,
      want.peerIds ? 1 : 0,
      this.peerTtl,
      credit?.userId ?? 0,
      credit?.torrentId ?? 0,
      credit?.downloadPercent ?? 100,
      credit?.maxGapSeconds ?? 0,
      credit?.bonusPerSeedHour ?? 0,
      credit?.maxUploadRate ?? 0,
      credit?.revokeLeechRate ?? 0,
      credit?.uploadPercent ?? 100,
      COMPLETIONS_KEPT_SECONDS,
      peer.userId,
    );
    // Not awaited: a lost mark is found again by the flusher's periodic scan of credit keys.
    if (credit) this.redis.sadd(this.dirtyKey, hex).catch(() => undefined);
    const seeders = num(r[6]);
    const leechers = num(r[7]);
    await this.account(hex, num(r[13]), num(r[14]), seeders + leechers);
    const rtc = buf(r[12]);
    const rtcPeerIds: string[] = [];
    const rtcKeys: number[] = [];
    // Session ids (sid): peer id, user id, key.
    for (let o = 0; o + 28 <= rtc.length; o += 28) {
      rtcPeerIds.push(rtc.toString('latin1', o, o + 20));
      rtcKeys.push(rtc.readUInt32BE(o + 24));
    }
    return {
      previous: previousFrom(r, num(r[15]) === 1),
      suspicion: num(r[16]),
      completed: num(r[17]),
      seeders,
      leechers,
      peers4: buf(r[8]),
      peers6: buf(r[9]),
      ids4: want.peerIds ? buf(r[10]) : null,
      ids6: want.peerIds ? buf(r[11]) : null,
      rtcPeerIds,
      rtcKeys,
    };
  }

  async remove(infoHash: string, peerId: string, userId: number, keyHash: number): Promise<PreviousSession | null> {
    const hex = Buffer.from(infoHash, 'latin1').toString('hex');
    const r = await this.redis.otRemoveBuffer(...this.keys(hex), 'sid', sid(peerId, userId, keyHash));
    if (num(r[0]) === 1) this.redis.sadd(this.dirtyKey, hex).catch(() => undefined);
    const [counts] = await this.countsOf([hex]);
    await this.account(hex, num(r[6]), num(r[7]), (counts?.seeders ?? 0) + (counts?.leechers ?? 0));
    return previousFrom(r, false);
  }

  private async countsOf(hexes: string[]): Promise<SwarmScrape[]> {
    if (hexes.length === 0) return [];
    const p = this.redis.pipeline();
    for (const hex of hexes) {
      const k = this.keys(hex);
      p.scard(k[1] as string).scard(k[3] as string).scard(k[2] as string).scard(k[4] as string).get(this.completionKeys(hex)[1]);
    }
    const res = (await p.exec()) ?? [];
    return hexes.map((_, i) => {
      const v = (j: number) => Number(res[i * 5 + j]?.[1] ?? 0);
      const completed = res[i * 5 + 4]?.[1];
      return { seeders: v(0) + v(1), leechers: v(2) + v(3), completed: typeof completed === 'string' ? Number(completed) : -1 };
    });
  }

  scrape(infoHashes: readonly string[]): Promise<SwarmScrape[]> {
    return this.countsOf(infoHashes.map((h) => Buffer.from(h, 'latin1').toString('hex')));
  }

  async seedCompletions(infoHash: string, completed: number, userIds: readonly number[]): Promise<number> {
    const packed = Buffer.allocUnsafe(userIds.length * 4);
    userIds.forEach((u, i) => packed.writeUInt32BE(u, i * 4));
    return Number(await this.redis.otSeedCompletions(...this.completionKeys(Buffer.from(infoHash, 'latin1').toString('hex')), completed, packed, COMPLETIONS_KEPT_SECONDS));
  }

  /** Reads records as redis-announce.lua writes them (struct '>BIIc4HIc16H', then "up:down"). */
  async listPeers(infoHash: string, limit: number): Promise<SwarmPeer[]> {
    const hex = Buffer.from(infoHash, 'latin1').toString('hex');
    const raw = await this.redis.hgetallBuffer(this.keys(hex)[0] as string);
    const out: SwarmPeer[] = [];
    for (const [field, rec] of Object.entries(raw)) {
      const id = Buffer.from(field, 'latin1');
      if (id.length !== 28 || rec.length < 37) continue;
      const flags = rec[0] as number;
      const seen4 = rec.readUInt32BE(5);
      const seen6 = rec.readUInt32BE(15);
      const rtc = (flags & 4) !== 0;
      const has4 = !rtc && seen4 !== 0;
      const has6 = !rtc && seen6 !== 0;
      const [up = '0', down = '0'] = rec.toString('latin1', 37).split(':');
      out.push({
        peerId: id.toString('hex', 0, 20),
        userId: id.readInt32BE(20),
        seeder: (flags & 1) !== 0,
        uploaded: Number(up),
        downloaded: Number(down),
        ip: has4 ? bytesToIp(rec.subarray(9, 13)) : null,
        ipv6: has6 ? bytesToIp(rec.subarray(19, 35)) : null,
        port: has4 ? rec.readUInt16BE(13) : has6 ? rec.readUInt16BE(35) : null,
        lastSeen: rec.readUInt32BE(1),
      });
    }
    out.sort((a, b) => Number(b.seeder) - Number(a.seeder));
    return out.slice(0, limit);
  }

  async sweep(now: number): Promise<number> {
    // Every process sweeps on a timer; one a minute does the work.
    const locked = await this.redis.set(`${this.prefix}:sweep-lock`, String(process.pid), 'PX', 50_000, 'NX');
    if (locked !== 'OK') return 0;
    const cutoff = now - this.peerTtl;
    let removed = 0;
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.zscan(`${this.prefix}:sizes`, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < batch.length; i += 2) {
        const hex = batch[i] as string;
        const r = await this.redis.otRemoveBuffer(...this.keys(hex), 'stale', cutoff);
        const n = num(r[0]);
        if (n > 0) {
          removed += n;
          const [c] = await this.countsOf([hex]);
          await this.account(hex, num(r[6]), num(r[7]), (c?.seeders ?? 0) + (c?.leechers ?? 0));
        }
      }
    } while (cursor !== '0');
    return removed;
  }

  async totals(): Promise<SwarmTotals> {
    const [t, swarms] = await Promise.all([this.redis.hgetall(`${this.prefix}:totals`), this.redis.zcard(`${this.prefix}:sizes`)]);
    const peers = Number(t.peers ?? 0);
    const seeders = Number(t.seeders ?? 0);
    return { swarms, peers, seeders, leechers: peers - seeders };
  }

  async busiest(limit: number): Promise<Array<SwarmCounts & { infoHash: string }>> {
    const hexes = await this.redis.zrevrange(`${this.prefix}:sizes`, 0, limit - 1);
    const counts = await this.countsOf(hexes);
    return hexes.map((hex, i) => ({ infoHash: Buffer.from(hex, 'hex').toString('latin1'), seeders: counts[i]?.seeders ?? 0, leechers: counts[i]?.leechers ?? 0 }));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
